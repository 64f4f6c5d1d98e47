"""``edscan verify``: does an evidence bundle hold, and do its findings follow from its data?

Checks, in order, each adding a line to ``checked`` or to ``problems``:

1. every file the manifest lists is in the zip with its SHA-256 and size, and no other file;
2. ``result.json``, ``evidence.json`` and the manifest name the same capture, score and
   findings (fingerprint, rule, severity);
3. each request a finding cites is in the redacted capture, with the same method and host,
   and each recipient's hosts were contacted there;
4. scanning the redacted capture again (bundled lists only) gives what the manifest's replay
   says: the same recipients, observation count and findings.

A file that is not a bundle at all is an input error (``EdscanError``, exit 2).
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from edscan.errors import EdscanError
from edscan.publish.bundle import BUNDLE_SCHEMA
from edscan.publish.replay import REDACTED_CAPTURE, replay

MANIFEST = "MANIFEST.json"
MAX_MEMBER_BYTES = 1 << 30  # a member larger than this is not one edscan wrote


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    checked: tuple[str, ...] = ()
    problems: tuple[str, ...] = field(default=())

    @property
    def holds(self) -> bool:
        return not self.problems


def verify(path: str | Path, *, data_dir: Path | None = None) -> Report:
    """Every check on the bundle at ``path`` (``data_dir`` is unused: replays use bundled lists)."""
    members = _read(Path(path))
    checked: list[str] = []
    problems: list[str] = []
    manifest = _json(members, MANIFEST, problems)
    if not isinstance(manifest, dict) or manifest.get("schema") != BUNDLE_SCHEMA:
        raise EdscanError(f"{path}: not an edscan evidence bundle (no {BUNDLE_SCHEMA} manifest)")
    _hashes(manifest, members, checked, problems)
    result = _json(members, "result.json", problems)
    evidence = _json(members, "evidence.json", problems)
    if isinstance(result, dict):
        _agree(manifest, result, evidence, checked, problems)
        _cited(manifest, result, members, checked, problems)
    _replay(manifest, members, checked, problems)
    return Report(checked=tuple(checked), problems=tuple(problems))


def _read(path: Path) -> dict[str, bytes]:
    try:
        with zipfile.ZipFile(path) as zf:
            out: dict[str, bytes] = {}
            for info in zf.infolist():
                if info.is_dir():
                    continue
                if info.file_size > MAX_MEMBER_BYTES:
                    raise EdscanError(f"{path}: {info.filename} is too large for a bundle")
                out[info.filename] = zf.read(info)
            return out
    except (zipfile.BadZipFile, OSError, EOFError, zipfile.LargeZipFile) as exc:
        raise EdscanError(f"{path}: not a readable zip ({exc})") from None
    except ValueError as exc:  # e.g. a bad compression method
        raise EdscanError(f"{path}: not a readable zip ({exc})") from None


def _json(members: Mapping[str, bytes], name: str, problems: list[str]) -> Any:
    if name not in members:
        problems.append(f"{name} is missing")
        return None
    try:
        return json.loads(members[name].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        problems.append(f"{name} is not valid JSON ({exc})")
        return None


def _hashes(
    manifest: Mapping[str, Any],
    members: Mapping[str, bytes],
    checked: list[str],
    problems: list[str],
) -> None:
    listed = {str(f.get("name")): f for f in manifest.get("files") or () if isinstance(f, dict)}
    bad = 0
    for name, entry in sorted(listed.items()):
        data = members.get(name)
        if data is None:
            problems.append(f"{name}: listed in the manifest but not in the bundle")
            bad += 1
            continue
        digest = hashlib.sha256(data).hexdigest()
        if digest != entry.get("sha256") or len(data) != entry.get("bytes"):
            problems.append(
                f"{name}: SHA-256 {digest} ({len(data)} bytes), the manifest says "
                f"{entry.get('sha256')} ({entry.get('bytes')} bytes)"
            )
            bad += 1
    for name in sorted(set(members) - set(listed) - {MANIFEST}):
        problems.append(f"{name}: in the bundle but not in the manifest")
        bad += 1
    if not bad:
        checked.append(f"{len(listed)} files match the manifest's SHA-256 and sizes")


def _findings(items: Any) -> list[tuple[str, str, str]]:
    return sorted(
        (str(f.get("fingerprint")), str(f.get("rule")), str(f.get("severity")))
        for f in items or ()
        if isinstance(f, dict)
    )


def _differ(what: str, published: Any, found: Any, problems: list[str]) -> bool:
    if published == found:
        return False
    if isinstance(published, list) and isinstance(found, list):
        gone = [x for x in published if x not in found]
        new = [x for x in found if x not in published]
        problems.append(f"{what}: only in the first: {gone}; only in the second: {new}")
    else:
        problems.append(f"{what}: {published!r} against {found!r}")
    return True


def _agree(
    manifest: Mapping[str, Any],
    result: Mapping[str, Any],
    evidence: Any,
    checked: list[str],
    problems: list[str],
) -> None:
    before = len(problems)
    published = _findings(manifest.get("findings"))
    _differ(
        "findings (manifest, result.json)", published, _findings(result.get("findings")), problems
    )
    if isinstance(evidence, dict):
        _differ(
            "findings (manifest, evidence.json)",
            published,
            _findings(evidence.get("findings")),
            problems,
        )
    score = result.get("score") or None
    mine = (
        {k: score.get(k) for k in ("grade", "value", "verdict")}
        if isinstance(score, dict)
        else None
    )
    _differ("score (manifest, result.json)", manifest.get("score"), mine, problems)
    cap_m, cap_r = manifest.get("capture") or {}, result.get("capture") or {}
    _differ(
        "capture SHA-256 (manifest, result.json)",
        cap_m.get("sha256"),
        cap_r.get("sha256"),
        problems,
    )
    if len(problems) == before:
        checked.append(
            f"result.json, evidence.json and the manifest agree: {len(published)} findings, "
            f"grade {(manifest.get('score') or {}).get('grade', '?')}"
        )


def _cited(
    manifest: Mapping[str, Any],
    result: Mapping[str, Any],
    members: Mapping[str, bytes],
    checked: list[str],
    problems: list[str],
) -> None:
    content = members.get(REDACTED_CAPTURE)
    if content is None:
        return
    flows: dict[int, tuple[str, str]] = {}
    hosts: set[str] = set()
    try:
        for line in content.decode("utf-8").splitlines()[1:]:
            rec = json.loads(line)
            host = (urlsplit(str(rec.get("url", ""))).hostname or "").lower()
            flows[int(rec["index"])] = (str(rec.get("method")), host)
            hosts.add(host)
    except (UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        problems.append(f"{REDACTED_CAPTURE}: not a readable capture ({exc})")
        return
    before = len(problems)
    cited = 0
    for f in result.get("findings") or ():
        for e in f.get("evidence") or ():
            cited += 1
            want = (str(e.get("method")), (urlsplit(str(e.get("url", ""))).hostname or "").lower())
            got = flows.get(int(e.get("flow", -1)))
            if got != want:
                problems.append(
                    f"finding {f.get('fingerprint')} cites request {e.get('flow')} "
                    f"{want[0]} {want[1]}, the redacted capture has {got or 'no such request'}"
                )
    for r in result.get("recipients") or ():
        missing = [h for h in r.get("hosts") or () if h.lower() not in hosts]
        if missing:
            problems.append(
                f"recipient {r.get('domain')}: {missing} never contacted in the capture"
            )
    if len(problems) == before:
        checked.append(
            f"the redacted capture holds all {cited} cited requests and every recipient's hosts"
        )
    flows_m = (manifest.get("capture") or {}).get("flows")
    _differ("requests (manifest, redacted capture)", flows_m, len(flows), problems)


def _replay(
    manifest: Mapping[str, Any],
    members: Mapping[str, bytes],
    checked: list[str],
    problems: list[str],
) -> None:
    recorded = manifest.get("replay")
    content = members.get(REDACTED_CAPTURE)
    if not isinstance(recorded, dict) or content is None:
        problems.append(
            f"no redacted capture to scan again ({REDACTED_CAPTURE}); the bundle was made by an "
            "edscan before 0.2, or it was removed"
        )
        return
    domains = tuple(((manifest.get("first_party") or {}).get("domains")) or ())
    try:
        found = replay(content, tuple(str(d) for d in domains))
    except EdscanError as exc:
        problems.append(f"{REDACTED_CAPTURE}: cannot be scanned ({exc.message})")
        return
    before = len(problems)
    for key in ("recipients", "observations", "flows"):
        _differ(f"replay {key} (manifest, scan now)", recorded.get(key), found[key], problems)
    _differ(
        "replay findings (manifest, scan now)",
        _findings(recorded.get("findings")),
        _findings(found["findings"]),
        problems,
    )
    if len(problems) == before:
        checked.append(
            f"scanning the redacted capture again gives the recorded {len(found['findings'])} "
            f"findings, {found['observations']} observations and "
            f"{len(found['recipients'])} recipients"
        )
