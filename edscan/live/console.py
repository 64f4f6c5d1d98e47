"""What ``edscan capture`` prints about live analysis: the status totals and the summary."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import Path

from edscan.live.alert import Alert
from edscan.live.analyser import AnalyserStats


def status_suffix(stats: AnalyserStats | None) -> str:
    """The live part of the status line: `` · alerts: 3 · analysed: 120`` (and drops)."""
    if stats is None:
        return ""
    dropped = f" · not analysed: {stats.dropped}" if stats.dropped else ""
    return f" · alerts: {stats.alerts} · analysed: {stats.analysed}{dropped}"


def summary_lines(
    found: Sequence[Alert],
    *,
    dropped: int,
    analysed: int,
    alerts_on: bool,
    unfinished: int = 0,
) -> list[str]:
    """The findings so far, one line each, for the summary printed at Ctrl-C."""
    if not alerts_on:
        return []
    if not found:
        lines = [f"  Live alerts: none ({analysed} flows analysed)"]
    else:
        lines = [f"  Live alerts ({len(found)}, each element × recipient once):"]
        lines += [f"    {a.line()}" for a in found]
    if dropped:
        lines.append(
            f"  {dropped} flow(s) were recorded but not analysed live (the analyser fell "
            "behind); the report below covers every flow"
        )
    if unfinished:
        lines.append(
            f"  {unfinished} flow(s) were recorded but not analysed live before the stop; "
            "the report below covers every flow"
        )
    return lines


def report_command(path: Path, persona: Path | None, first_party: Sequence[str] = ()) -> str:
    """The exact ``edscan report`` command for this capture (quoted for a POSIX shell)."""
    words = ["edscan", "report", str(path)]
    if persona is not None:
        words += ["--persona", str(persona)]
    for d in first_party:
        words += ["--first-party", d]
    words += ["-o", "report.html"]
    return " ".join(shlex.quote(w) for w in words)
