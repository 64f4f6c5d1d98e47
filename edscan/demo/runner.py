"""``edscan demo``: record the scripted classroom session through a real proxy, scan, report.

1. a fresh test persona (the student's seeded values), saved as ``persona.toml``;
2. the classroom app on a loopback port, a real mitmdump with the demo addon and the recorder
   on another;
3. the scripted session through the proxy, one phase mark per phase;
4. the proxy stopped (the capture closed), the capture scanned with the persona and the app's
   domain as first party, and ``report.html``, ``result.json`` and the CSV tables written.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from edscan.demo.app import ClassroomServer
from edscan.demo.client import DemoClient
from edscan.demo.manifest import APP_NAME, FIRST_PARTY_DOMAIN
from edscan.demo.persona import fresh_persona
from edscan.demo.proxy import DemoProxy
from edscan.errors import EdscanError

CAPTURE_NAME = "session.edscan.jsonl"
PERSONA_NAME = "persona.toml"
PAUSE = 0.8  # seconds between phases in `edscan demo`

Echo = Callable[[str], None]


@dataclass(slots=True, kw_only=True)
class DemoRun:
    """What a demo run produced."""

    out: Path
    capture: Path
    persona: Path
    requests: int
    seconds: float
    files: dict[str, Path] = field(default_factory=dict)  # "report", "json", "csv:findings"...
    result: Any = None  # the ScanResult


def record_session(
    out: Path, *, echo: Echo = lambda _: None, port: int | None = None, pause: float = 0.0
) -> DemoRun:
    """Steps 1-3: a fresh persona, the app, the proxy, the session (phases ``pause`` seconds
    apart). Returns the capture."""
    started = time.monotonic()
    out.mkdir(parents=True, exist_ok=True)
    student, persona_path = fresh_persona(out / PERSONA_NAME)
    capture = out / CAPTURE_NAME
    with (
        tempfile.TemporaryDirectory(prefix="edscan-demo-") as confdir,
        ClassroomServer(student) as app,
    ):
        proxy = DemoProxy(capture=capture, app_port=app.port, confdir=Path(confdir), port=port)
        echo(f"proxy: mitmdump with the recorder on {proxy.url}")
        with proxy:
            client = DemoClient(proxy_url=proxy.url, ca_file=proxy.ca_file, student=student)
            try:
                requests = client.run(on_phase=lambda p: echo(f"phase: {p}"), pause=pause)
            except httpx.HTTPError as e:
                raise EdscanError(
                    f"the demo session failed through the proxy at {proxy.url}: {e}"
                ) from None
            finally:
                client.close()
    return DemoRun(
        out=out,
        capture=capture,
        persona=persona_path,
        requests=requests,
        seconds=time.monotonic() - started,
    )


def scan_and_report(run: DemoRun) -> None:
    """Step 4: scan the capture and write the report, the JSON result and the CSV tables."""
    from edscan import report
    from edscan.detect.persona import load_persona
    from edscan.pipeline import scan

    result = scan(run.capture, persona=load_persona(run.persona), first_party=(FIRST_PARTY_DOMAIN,))
    run.result = result
    (html_path,) = report.write(result, "html", run.out / "report.html")
    (json_path,) = report.write(result, "json", run.out / "result.json")
    csvs = report.write(result, "csv", run.out / "result.csv")
    run.files = {"report": html_path, "json": json_path}
    for path in csvs:
        run.files["csv:" + path.name.split(".")[-2]] = path


def summary(run: DemoRun, top: int = 6) -> str:
    """The grade, the top findings and where the files are, for the terminal."""
    from edscan.models import Finding, Party, ScanResult

    result: ScanResult = run.result
    lines = []
    if result.score is not None:
        s = result.score
        lines.append(f"{APP_NAME} (simulated): grade {s.grade}, risk {s.value}/100 - {s.verdict}")
    third = [r for r in result.recipients if r.party is Party.THIRD]
    companies = {r.organization or r.domain for r in third}
    lines.append(
        f"{len(result.flows)} flows, {len(third)} third-party domains of {len(companies)} "
        f"companies, {len(result.findings)} findings"
    )
    # one line per rule: its worst finding, and every recipient it names
    by_rule: dict[str, list[Finding]] = {}
    for f in result.findings:
        by_rule.setdefault(f.rule, []).append(f)
    ranked = sorted(
        by_rule.values(),
        key=lambda fs: (max(f.severity for f in fs), len(fs), fs[0].rule),
        reverse=True,
    )
    if ranked:
        lines.append("Top findings:")
        for fs in ranked[:top]:
            worst = max(fs, key=lambda f: (f.severity, f.confidence))
            where = sorted({d for f in fs for d in f.recipients})
            named = ", ".join(where[:4]) + (f" +{len(where) - 4}" if len(where) > 4 else "")
            lines.append(
                f"  {worst.severity.value.upper():8} {worst.rule}  {worst.title}"
                + (f" ({named})" if named else "")
            )
    lines.append("Files:")
    paths = {"capture": run.capture, "persona": run.persona, **run.files}
    width = max(len(k) for k in paths)
    lines.extend(f"  {k:{width}}  {p}" for k, p in paths.items())
    return "\n".join(lines)
