"""What ``edscan lists status`` and ``edscan lists show`` say: the installed and bundled lists
with their provenance, and one host's attribution with every list's opinion."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from edscan.errors import EdscanError
from edscan.recipients import upstream
from edscan.recipients.domains import normalize_host, registrable_domain
from edscan.recipients.trackers import BUNDLED_FILES, OVERRIDES_FILE, TrackerDB, bundled_layer
from edscan.recipients.upstream import SOURCES


def status(base: Path) -> dict[str, Any]:
    """What is installed (and bundled), with provenance; problems are reported, not raised."""
    bundled = [bundled_layer(n).info.to_dict() for n in BUNDLED_FILES]
    installed = []
    for name, source in SOURCES.items():
        meta = upstream.read_meta(base, name)
        row: dict[str, Any] = {
            "name": name,
            "title": source.title,
            "licence": source.licence,
            "noncommercial": source.noncommercial,
            "default": name in upstream.DEFAULT_SOURCES,
            "installed": meta is not None and "error" not in meta,
            "urls": [url for _f, url in source.files],
        }
        if meta is not None:
            problem = meta.get("error")
            if not problem:
                try:
                    upstream.read_installed_files(base, name, meta)
                except (OSError, ValueError, KeyError) as exc:
                    problem = str(exc)
            row.update(
                {
                    k: meta.get(k)
                    for k in ("version", "fetched", "origin", "records", "sha256")
                    if k in meta
                }
            )
            row["files"] = [
                {k: f.get(k) for k in ("name", "url", "size", "sha256", "date")}
                for f in meta.get("files", [])
                if isinstance(f, dict)
            ]
            if problem:
                row["problem"] = f"{problem}; run `edscan lists update` to repair it"
        installed.append(row)
    overrides = base / OVERRIDES_FILE
    return {
        "data_dir": str(base),
        "overrides": str(overrides) if overrides.is_file() else None,
        "bundled": bundled,
        "upstream": installed,
        "precedence": ["user-overrides", *[i["name"] for i in bundled], *upstream.PRECEDENCE],
    }


def format_status(st: Mapping[str, Any]) -> str:
    lines = [f"data directory: {st['data_dir']}"]
    lines.append(f"overrides file: {st['overrides'] or '(none: ' + OVERRIDES_FILE + ' absent)'}")
    lines.append("")
    lines.append("bundled lists:")
    for b in st["bundled"]:
        lines.append(
            f"  {b['name']:<22} {b['version']:<12} {b['records']:>6} records  {b['licence']}"
        )
    lines.append("")
    lines.append("upstream lists:")
    for u in st["upstream"]:
        flags = []
        if u["noncommercial"]:
            flags.append("non-commercial: used only with --accept-noncommercial")
        if u["default"]:
            flags.append("default")
        head = f"  {u['name']:<22} "
        if u["installed"]:
            head += (
                f"{u.get('version', ''):<12} {u.get('records', 0):>6} records  {u['licence']}"
                f"  fetched {u.get('fetched', '?')}"
            )
        else:
            head += f"{'not installed':<12}        {u['licence']}"
        lines.append(head + (f"  [{'; '.join(flags)}]" if flags else ""))
        if u.get("installed"):
            lines.append(f"  {'':<22} sha256 {u.get('sha256', '')}  ({u.get('origin', '')})")
        if u.get("problem"):
            lines.append(f"  {'':<22} PROBLEM: {u['problem']}")
    lines.append("")
    lines.append("precedence: " + " > ".join(st["precedence"]))
    return "\n".join(lines) + "\n"


def show(db: TrackerDB, host: str, path: str = "") -> dict[str, Any]:
    """The attribution of ``host`` (and ``path``) and every list's opinion, with provenance."""
    h = normalize_host(host)
    if not h:
        raise EdscanError(f"{host!r} is not a host name")
    attribution = db.attribute(h, path)
    opinions = []
    for op in db.opinions(h):
        e = op.entry
        row: dict[str, Any] = {
            "list": op.layer,
            "version": op.info.version,
            "licence": op.info.licence,
            "noncommercial": op.info.noncommercial,
            "used": op.used,
            "source": op.info.source,
            "match": None,
        }
        if e is not None:
            row["match"] = {
                "key": e.suffix,
                "organization": e.organization,
                "parent": e.parent,
                "categories": list(e.categories),
                "names": list(e.names),
                "basis": e.basis,
            }
        opinions.append(row)
    sdk = db.sdk_opinions(h, path)
    installed = {o["list"] for o in opinions}
    missing = [n for n in upstream.PRECEDENCE if n not in installed]
    return {
        "host": h,
        "path": path,
        "domain": registrable_domain(h),
        "attribution": attribution.to_dict(),
        "opinions": opinions,
        "sdk_rules": sdk,
        "not_installed": missing,
    }


def format_show(s: Mapping[str, Any]) -> str:
    a = s["attribution"]
    target = s["host"] + (s["path"] or "")
    lines = [f"{target}  (registrable domain {s['domain']})"]
    if a["organization"]:
        org = a["organization"] + (f" (parent: {a['parent']})" if a["parent"] else "")
    else:
        org = "unknown owner"
    lines.append(f"  organisation: {org}")
    lines.append(f"  categories:   {', '.join(a['categories']) or '-'}")
    lines.append(f"  SDK/product:  {', '.join(a['sdk']) or '-'}")
    lines.append(f"  decided by:   {', '.join(a['sources']) or 'no list knows this host'}")
    lines.append("")
    lines.append("every list's opinion, highest precedence first:")
    for o in s["opinions"]:
        lic = o["licence"] + (", non-commercial" if o["noncommercial"] else "")
        head = f"  {o['list']} {o['version']}" + (f" [{lic}]" if lic else "")
        if not o["used"]:
            head += " (installed, not used: add --accept-noncommercial)"
        m = o["match"]
        if m is None:
            lines.append(f"{head}: no opinion")
            continue
        desc = m["organization"] or "owner not named"
        if m["parent"]:
            desc += f" (parent: {m['parent']})"
        extra = []
        if m["categories"]:
            extra.append(", ".join(m["categories"]))
        if m["names"]:
            extra.append("names it " + ", ".join(m["names"]))
        if m["basis"]:
            extra.append("basis: " + m["basis"])
        lines.append(f"{head}: {m['key']} -> {desc}" + (f"; {'; '.join(extra)}" if extra else ""))
    for r in s["sdk_rules"]:
        lines.append(f"  {r['list']} SDK table: {r['name']} ({r['rule']})")
    if s["not_installed"]:
        lines.append(
            "  not installed: " + ", ".join(s["not_installed"]) + " (see `edscan lists update`)"
        )
    return "\n".join(lines) + "\n"
