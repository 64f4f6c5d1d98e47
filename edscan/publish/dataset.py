"""``edscan dataset``: results as one table for a study, one row per app × recipient × element.

Built from result documents (``edscan scan -f json``, a bundle's ``result.json``, or what
``edscan batch`` scans), so a dataset can be rebuilt from published results alone. A row says:
this app sent this data element to this recipient (a registrable domain), with who owns it and
which list said so, how sure the detection was, which rules fired on it, and when and in which
phase of the test it was first seen. ``COLUMNS`` is the data dictionary (docs: the dataset page).

Aggregation happens once, at the end, on this small table (pandas; Parquet through pyarrow).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

from edscan.errors import EdscanError

if TYPE_CHECKING:
    import pandas as pd

# name -> what it holds (the data dictionary; the docs print the same table)
COLUMNS: dict[str, str] = {
    "app": "the app: its capture's file name without suffixes (batch: the name on the index)",
    "capture": "the capture's file name",
    "capture_sha256": "SHA-256 of the capture file, which identifies the data behind the row",
    "grade": "the app's grade, A (least risk) to F",
    "recipient": "the registrable domain that received the data (e.g. doubleclick.net)",
    "organization": "the company the lists name as the recipient's owner (empty: unknown)",
    "parent": "that company's parent company (empty: none known)",
    "categories": "what the recipient does, per the lists, joined with '; ' (e.g. ads; analytics)",
    "party": "first (the app's own domains) or third",
    "element": "the data element's taxonomy id (e.g. student.email)",
    "element_label": "the data element's name (e.g. Student e-mail)",
    "tier": "the element's sensitivity tier (0 least .. 3 most; empty: not in the taxonomy)",
    "confidence": "the best detection confidence among the observations: low, medium or high",
    "detectors": "how it was detected, joined with '; ': persona, pattern, keyname",
    "observations": "how many times the element was seen going to the recipient",
    "requests": "in how many requests",
    "rule_ids": "the rules whose findings name this element and recipient, joined with '; '",
    "first_seen": "when it was first sent (UTC; empty when the capture has no times)",
    "phase": "the test phase of that first request (e.g. signup; empty: no phases marked)",
    "list": "the list(s) that named the recipient's owner, with version, joined with '; '",
    "edscan_version": "the edscan version that made the result",
}
_JOINED = ("categories", "detectors", "rule_ids", "list")
_RANK = {"low": 0, "medium": 1, "high": 2}


def rows(doc: Mapping[str, Any], *, app: str | None = None) -> list[dict[str, Any]]:
    """The dataset rows of one result document."""
    from edscan.report._common import element_info

    capture = doc.get("capture") or {}
    file_name = PurePath(str(capture.get("path", ""))).name
    if app is None:
        from edscan.publish.batch import base_name

        app = base_name(file_name)
    by_host: dict[str, Mapping[str, Any]] = {}
    for r in doc.get("recipients") or ():
        for host in r.get("hosts") or ():
            by_host[host] = r
    findings = doc.get("findings") or ()
    score = doc.get("score") or {}
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for o in doc.get("observations") or ():
        rec = by_host.get(o["host"])
        domain = str(rec["domain"]) if rec else str(o["host"])
        key = (domain, str(o["element"]))
        g = groups.get(key)
        if g is None:
            info = element_info(key[1])
            g = groups[key] = {
                "app": app,
                "capture": file_name,
                "capture_sha256": capture.get("sha256", ""),
                "grade": score.get("grade", "") if score else "",
                "recipient": domain,
                "organization": (rec or {}).get("organization") or "",
                "parent": (rec or {}).get("parent") or "",
                "categories": list((rec or {}).get("categories") or ()),
                "party": o.get("party") or (rec or {}).get("party") or "",
                "element": key[1],
                "element_label": info.label,
                "tier": info.tier,
                "confidence": o["confidence"],
                "detectors": [],
                "observations": 0,
                "_requests": set(),
                "rule_ids": sorted(
                    {
                        str(f["rule"])
                        for f in findings
                        if key[1] in (f.get("elements") or ())
                        and domain in (f.get("recipients") or ())
                    }
                ),
                "_time": None,
                "phase": "",
                "list": list((rec or {}).get("sources") or ()),
                "edscan_version": (doc.get("tool") or {}).get("version", ""),
            }
        g["observations"] += 1
        g["_requests"].add(o.get("flow"))
        if o["detector"] not in g["detectors"]:
            g["detectors"].append(o["detector"])
        if _RANK.get(o["confidence"], -1) > _RANK.get(g["confidence"], -1):
            g["confidence"] = o["confidence"]
        when = o.get("time")
        if when is not None and (g["_time"] is None or when < g["_time"]):
            g["_time"], g["phase"] = when, o.get("phase") or ""
        elif g["_time"] is None and not g["phase"]:
            g["phase"] = o.get("phase") or ""
    out = []
    for key in sorted(groups):
        g = groups.pop(key)
        g["requests"] = len(g.pop("_requests"))
        when = g.pop("_time")
        g["first_seen"] = (
            dt.datetime.fromtimestamp(when, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            if when is not None
            else ""
        )
        g["detectors"] = sorted(g["detectors"])
        for name in _JOINED:
            g[name] = "; ".join(g[name])
        out.append({c: g[c] for c in COLUMNS})
    return out


def load_result(path: str | Path) -> dict[str, Any]:
    """A result document from a file; anything else is an input error."""
    p = Path(path)
    try:
        doc = json.loads(p.read_bytes().decode("utf-8-sig"))
    except OSError as exc:
        raise EdscanError(f"{p}: cannot read ({exc.strerror or exc})") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise EdscanError(f"{p}: not a valid result JSON ({exc})") from None
    if not (isinstance(doc, dict) and str(doc.get("schema", "")).startswith("edscan-result/")):
        raise EdscanError(
            f"{p}: not an edscan result (make one with `edscan scan CAPTURE -f json -o "
            "result.json`, or give a bundle's result.json)"
        )
    return doc


def frame(table: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """The rows as a DataFrame with the dictionary's columns and types."""
    import pandas as pd

    df = pd.DataFrame(list(table), columns=list(COLUMNS))
    df["tier"] = df["tier"].astype("Int64")
    for name in ("observations", "requests"):
        df[name] = df[name].astype("int64")
    df["first_seen"] = pd.to_datetime(df["first_seen"].replace("", None), utc=True)
    return df


def write(df: pd.DataFrame, path: str | Path) -> None:
    """Write ``df`` as Parquet (``.parquet``) or CSV (anything else), all at once."""
    import os
    import tempfile

    import pandas as pd

    target = Path(path)
    parquet = target.suffix.lower() in (".parquet", ".pq")
    directory = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise EdscanError(f"cannot write {target}: {exc.strerror or exc}") from None
    os.close(fd)
    try:
        if parquet:
            df.to_parquet(tmp, index=False, engine="pyarrow")
        else:
            out = df.copy()
            out["first_seen"] = out["first_seen"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
            for name in out.columns:
                if pd.api.types.is_string_dtype(out[name]) or out[name].dtype == object:
                    out[name] = out[name].map(_cell)
            out.to_csv(tmp, index=False, lineterminator="\n")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _cell(value: Any) -> Any:
    from edscan.publish.batch import FORMULA_START

    # captured names are hostile: a cell a spreadsheet would run as a formula is quoted
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value


def from_results(paths: Sequence[str | Path]) -> pd.DataFrame:
    table: list[dict[str, Any]] = []
    for p in paths:
        table.extend(rows(load_result(p)))
    return frame(table)
