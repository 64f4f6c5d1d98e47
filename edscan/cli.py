"""The ``edscan`` command line: argument parsing, I/O and exit codes only.

Heavy modules (mitmproxy, jinja2) are imported inside commands so ``--help`` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from edscan import __version__
from edscan.errors import EXIT_FINDINGS, EXIT_USAGE

if TYPE_CHECKING:
    from edscan.models import ScanResult

F = TypeVar("F", bound=Callable[..., Any])


def output_options(formats: tuple[str, ...], default: str) -> Callable[[F], F]:
    """The ``-f/--format`` and ``-o/--output`` pair shared by every command that emits results."""

    def decorate(func: F) -> F:
        func = click.option(
            "-o",
            "--output",
            type=click.Path(dir_okay=False, writable=True),
            default=None,
            help="Write the result to this file (default: standard output).",
        )(func)
        func = click.option(
            "-f",
            "--format",
            "fmt",
            type=click.Choice(formats),
            default=default,
            show_default=True,
            help="Output format.",
        )(func)
        return func

    return decorate


def emit(text: str, output: str | None) -> None:
    """Results go to ``-o`` when given (a clear error if it cannot be written), else stdout."""
    if output is None:
        click.echo(text, nl=False)
    else:
        from edscan.report import save_text

        save_text(output, text)


@click.group(
    context_settings={"auto_envvar_prefix": "EDSCAN", "help_option_names": ["-h", "--help"]}
)
@click.version_option(__version__, prog_name="edscan")
def cli() -> None:
    """edscan: find the student data an ed-tech app sends, and who receives it.

    Record a session with `edscan capture`, or bring a HAR or .mitm file, then run
    `edscan report CAPTURE -o report.html`.

    \b
    Exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage or input error.
    """


# --- demo


@cli.command("demo")
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, writable=True),
    default=None,
    help="Directory for the capture, persona and report (default: a new edscan-demo-* directory).",
)
@click.option("--open", "open_report", is_flag=True, help="Open the report in the default browser.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Loopback port for the proxy (0: any free port).",
)
def demo_command(out: str | None, open_report: bool, port: int) -> None:
    """Audit a simulated classroom app end to end, without internet or a phone.

    Starts "Brindlewick Classroom" (a fictional app) on loopback, a real mitmdump with the
    recorder, and a scripted student session through it: single sign-on, roster, assignment,
    quiz, essay, video, logout, with the third-party SDK traffic such apps send (answered on
    this machine: nothing leaves it). Then scans the capture with a fresh test persona and
    writes report.html, result.json and CSV tables.

    \b
    Example:
        edscan demo --out demo-out --open
    """
    import time
    import webbrowser
    from pathlib import Path

    from edscan.demo import runner

    target = Path(out) if out else Path(time.strftime("edscan-demo-%Y%m%d-%H%M%S"))

    def progress(line: str) -> None:
        click.echo(line, err=True)

    run = runner.record_session(target, echo=progress, port=port or None, pause=runner.PAUSE)
    progress(f"recorded {run.requests} requests in {run.seconds:.1f} s; scanning")
    runner.scan_and_report(run)
    click.echo(runner.summary(run))
    if open_report:
        webbrowser.open(run.files["report"].resolve().as_uri())


# --- capture


def _size(ctx: click.Context, param: click.Parameter, value: str) -> int:
    from edscan.capture.session import parse_size

    try:
        return parse_size(value)
    except ValueError as e:
        raise click.BadParameter(str(e)) from e


@cli.command("capture")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, writable=True),
    help="The capture file to create (*.edscan.jsonl; readable by you only).",
)
@click.option(
    "--listen-host",
    default="127.0.0.1",
    show_default=True,
    help="Address the proxy listens on; 0.0.0.0 for a phone on the same (trusted) network.",
)
@click.option(
    "--listen-port", type=click.IntRange(0, 65535), default=8080, show_default=True,
    help="Port the proxy listens on (0: any free port).",
)  # fmt: skip
@click.option("--phase", default=None, help="The phase label to start with, e.g. login.")
@click.option(
    "--max-body",
    callback=_size,
    default="8m",
    metavar="SIZE",
    show_default=True,
    help="Keep at most this much of each body (bytes, or with k/m/g); longer ones are cut "
    "and marked truncated.",
)
@click.option(
    "--confdir",
    type=click.Path(file_okay=False),
    default="~/.mitmproxy",
    show_default=True,
    help="mitmproxy's folder: its CA certificate is created and kept here.",
)
@click.option(
    "--grace", type=click.FloatRange(min=0), default=3.0, show_default=True, metavar="SECONDS",
    help="At the stop, how long requests in flight get to finish; the rest are recorded as "
    "sent and marked cut off.",
)  # fmt: skip
def capture_command(
    output: str,
    listen_host: str,
    listen_port: int,
    phase: str | None,
    max_body: int,
    confdir: str,
    grace: float,
) -> None:
    """Record a session: run a proxy that records every request into a capture file.

    Point the device under test at the proxy, install its CA certificate (the file it prints,
    or http://mitm.it through the proxy), and use the app as a student would. Type a phase
    label and Enter (or open http://edscan.mark/LABEL on the device) to mark what you are
    doing. Stop with Ctrl-C; then run `edscan report FILE -o report.html`.

    \b
    Example:
        edscan capture -o session.edscan.jsonl --phase login
        edscan capture -o phone.edscan.jsonl --listen-host 0.0.0.0 --listen-port 8080
    """
    import sys
    from pathlib import Path

    from edscan.capture.session import CaptureOptions, run_capture, summary_text

    summary = run_capture(
        CaptureOptions(
            output=Path(output),
            listen_host=listen_host,
            listen_port=listen_port,
            phase=phase,
            max_body=max_body,
            confdir=Path(confdir).expanduser(),
            grace=grace,
        ),
        out=sys.stderr,
        stdin=sys.stdin,
    )
    click.echo(summary_text(summary), err=True)


# --- import


def _import_report(warnings: tuple[str, ...] | list[str]) -> None:
    for w in warnings:
        click.echo(f"warning: {w}", err=True)


@cli.command("convert")
@click.argument("source", metavar="CAPTURE", type=click.Path(dir_okay=True))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False),
    help="The file to write: *.har or *.edscan.jsonl (the name picks the format).",
)
def convert_command(source: str, output: str) -> None:
    """Convert a capture, HAR or .mitm dump into a HAR or an edscan capture.

    The input format is recognised from the content, the output format from the output's name.
    The output is created readable by you only (it holds children's data), and only once the
    whole input was read.

    \b
    Example:
        edscan convert session.edscan.jsonl -o session.har
        edscan convert devtools-export.har -o session.edscan.jsonl
        edscan convert dump.mitm -o dump.har
    """
    from pathlib import Path

    from edscan.capture.convert import convert, target_format
    from edscan.capture.source import open_source

    target_format(Path(output))  # a bad output name fails before any reading
    result = convert(open_source(source), Path(output))
    _import_report(result.warnings)
    skipped = ", ".join(f"{n} {kind}" for kind, n in sorted(result.skipped.items()))
    click.echo(
        f"wrote {result.flows} flow{'' if result.flows == 1 else 's'} to {output} "
        f"({result.target_format}, from "
        f"{result.source_format})" + (f"; skipped {skipped}" if skipped else ""),
        err=True,
    )


@cli.command("info")
@click.argument("capture", type=click.Path(dir_okay=True))
@output_options(("text", "json"), "text")
def info_command(capture: str, fmt: str, output: str | None) -> None:
    """Show what a capture, HAR or .mitm dump holds: flows, time span, hosts, phases.

    Also lists the flows that were skipped (TCP, UDP, DNS, browser-cache hits) and anything
    wrong with the file (a cut-off last flow, unreadable entries).

    \b
    Example:
        edscan info session.edscan.jsonl
        edscan info devtools-export.har -f json | jq .hosts
    """
    import json

    from edscan.capture.overview import overview, render_text
    from edscan.capture.source import open_source

    o = overview(open_source(capture))
    text = render_text(o) if fmt == "text" else json.dumps(o.to_dict(), indent=2) + "\n"
    emit(text, output)


# --- rules


@cli.command("rules")
@output_options(("text", "json"), "text")
def rules_command(fmt: str, output: str | None) -> None:
    """List every rule edscan applies: id, base severity and title.

    With `-f json`, each rule also has its plain-language explanation, escalations, the
    concerns it touches, the provisions it may implicate, and the questions to ask the vendor.

    \b
    Example:
        edscan rules
        edscan rules -f json | jq '.rules[] | select(.severity == "critical") | .id'
    """

    from edscan.rules.listing import rules_json, rules_text

    text = rules_json() if fmt == "json" else rules_text()
    emit(text, output)


# --- persona


@cli.group("persona")
def persona_group() -> None:
    """Seeded test identities: make a persona file, check one.

    A persona holds the values of one test student account. With `edscan scan CAPTURE
    --persona FILE` every place those values went is found with high confidence, even
    hashed, encoded or compressed.
    """


@persona_group.command("new")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Write the persona to this file, mode 0600 (default: standard output).",
)
@click.option("--force", is_flag=True, help="Overwrite the output file if it exists.")
@click.option("--seed", type=int, default=None, hidden=True, help="Reproducible values (tests).")
def persona_new_command(output: str | None, force: bool, seed: int | None) -> None:
    """Write a new persona with unique canary values and how to use each one.

    The names belong to nobody, the e-mail is unique (on example.org), the phone numbers are
    in the 555-01xx block reserved for fiction, the IP is in a documentation range, the ids
    have the right shape and the date of birth makes a 10 to 14 year old. Create the test
    account with these values, then scan with `--persona`.

    \b
    Example:
        edscan persona new -o persona.toml
        edscan persona check persona.toml
    """
    import os
    import random

    from edscan.capture.capture_file import open_private
    from edscan.detect.persona_new import new_persona_values, render_persona
    from edscan.errors import EdscanError

    rng = random.Random(seed) if seed is not None else None
    text = render_persona(new_persona_values(rng))
    if output is None:
        click.echo(text, nl=False)
        return
    if os.path.lexists(output) and not force:
        raise EdscanError(f"{output}: already exists; use --force to overwrite it")
    with open_private(output) as f:
        f.write(text)
    click.echo(f"wrote a new persona to {output} (readable by you only)", err=True)


@persona_group.command("check")
@click.argument("persona", type=click.Path(dir_okay=False))
@output_options(("text", "json"), "text")
def persona_check_command(persona: str, fmt: str, output: str | None) -> None:
    """Validate a persona file and list its keys (never the values) and what they match.

    For each key: the student-data element it is reported as, how many variants (encodings,
    hashes, formats) are searched, and whether it only counts under an agreeing key name.

    \b
    Example:
        edscan persona check persona.toml
        edscan persona check persona.toml -f json | jq '.fields[].key'
    """
    import json

    from edscan.detect.persona import load_persona
    from edscan.detect.variants import value_variants

    p = load_persona(persona)
    rows = []
    for key, value in p.values.items():
        variants = value_variants(key, value)
        rows.append(
            {
                "key": key,
                "element": p.spec(key).element,
                "variants": len(variants),
                "gated": all(v.gated or v.encodings for v in variants),
            }
        )
    if fmt == "json":
        text = json.dumps({"persona": persona, "fields": rows}, indent=2) + "\n"
    else:
        lines = [f"{persona}: {len(rows)} values"]
        for r in rows:
            gated = "  (only under an agreeing key, or hashed)" if r["gated"] else ""
            lines.append(f"  {r['key']:<26} {r['element']:<20} {r['variants']:>4} variants{gated}")
        text = "\n".join(lines) + "\n"
    emit(text, output)


# --- detect


@cli.command("elements")
@output_options(("text", "json", "markdown"), "text")
def elements_command(fmt: str, output: str | None) -> None:
    """List the student-data elements edscan detects: id, tier, COPPA flag, Exhibit B row.

    Ids are stable (reports and rules refer to them). Tiers: T0 technical, T1 identifier or
    contact, T2 education record, T3 sensitive. `coppa` marks what 16 CFR 312.2 names as
    personal information on its own.

    \b
    Example:
        edscan elements
        edscan elements -f json | jq '.elements[] | select(.tier == "T3") | .id'
    """
    import json

    from edscan.detect.taxonomy import CATEGORIES, ELEMENTS

    if fmt == "json":
        text = (
            json.dumps(
                {
                    "categories": [
                        {"id": c.id, "name": c.name, "exhibit_b": c.exhibit_b}
                        for c in CATEGORIES.values()
                    ],
                    "elements": [e.to_dict() for e in ELEMENTS.values()],
                },
                indent=2,
            )
            + "\n"
        )
    elif fmt == "markdown":
        lines = [
            "| id | element | category | tier | COPPA PI | Exhibit B row |",
            "|---|---|---|---|---|---|",
        ]
        for e in ELEMENTS.values():
            lines.append(
                f"| `{e.id}` | {e.name} | {CATEGORIES[e.category].name} | {e.tier} | "
                f"{'yes' if e.coppa_pi else 'no'} | {'' if e.in_exhibit_b else f'`{e.exhibit_b}`'} |"
            )
        text = "\n".join(lines) + "\n"
    else:
        lines = []
        for c in CATEGORIES.values():
            lines.append(f"{c.name}{'' if c.exhibit_b else '  (not in Exhibit B)'}")
            for eid in c.elements:
                e = ELEMENTS[eid]
                coppa = "coppa" if e.coppa_pi else "     "
                lines.append(f"  {e.id:<24} {e.tier}  {coppa}  {e.name}")
        text = "\n".join(lines) + "\n"
    emit(text, output)


# --- lists


def data_dir_option(func: F) -> F:
    """``--data-dir`` (or ``$EDSCAN_DATA_DIR``): where upstream lists and overrides.toml live."""
    return click.option(
        "--data-dir",
        type=click.Path(file_okay=False),
        envvar="EDSCAN_DATA_DIR",
        default=None,
        help="Where upstream lists and overrides.toml are kept "
        "(default: $EDSCAN_DATA_DIR, else the per-user data directory).",
    )(func)


def _noncommercial_option(func: F) -> F:
    return click.option(
        "--accept-noncommercial",
        is_flag=True,
        help="Also use the lists licensed for non-commercial use only (DuckDuckGo, "
        "Disconnect, Ghostery; CC BY-NC-SA 4.0). Their licence is shown wherever they "
        "decided an attribution.",
    )(func)


@cli.group("lists")
def lists_group() -> None:
    """Tracker lists: install upstream lists, show what is installed, explain one host.

    Attribution works on the lists bundled with edscan alone; upstream lists add coverage.
    Precedence: your overrides.toml > bundled lists > AdGuard companiesdb > DuckDuckGo >
    Disconnect > Ghostery > Exodus (the non-commercial three only with
    --accept-noncommercial).

    \b
    Example:
        edscan lists update
        edscan lists status
        edscan lists show connect.facebook.net
    """


@lists_group.command("update")
@click.option(
    "--from",
    "from_paths",
    multiple=True,
    type=click.Path(exists=True),
    help="Import list files downloaded by hand (a file or a folder; repeatable) instead of "
    "downloading. Same validation and provenance; the file's own date is its version.",
)
@click.option(
    "--only",
    multiple=True,
    type=click.Choice(
        [
            "adguard-companiesdb",
            "exodus",
            "publicsuffix",
            "duckduckgo-tds",
            "disconnect",
            "ghostery-trackerdb",
        ]
    ),
    help="Update only this list (repeatable). Default: AdGuard companiesdb, Exodus and the "
    "Public Suffix List, plus the non-commercial lists with --accept-noncommercial.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=1.0),
    default=30.0,
    show_default=True,
    help="Seconds to wait for each read from the server.",
)
@_noncommercial_option
@data_dir_option
def lists_update_command(
    from_paths: tuple[str, ...],
    only: tuple[str, ...],
    timeout: float,
    accept_noncommercial: bool,
    data_dir: str | None,
) -> None:
    """Download (or import) upstream tracker lists into the data directory.

    Each file is fetched over HTTPS with TLS verification, a size cap and conditional GET
    (unchanged lists are not downloaded again), validated, and only then replaces the
    installed copy; a failed download leaves what is installed untouched. The source URL,
    date, sha256, licence and record count are recorded (see `edscan lists status`).

    Schools often block the hosts the lists live on: download the files elsewhere and import
    them with --from. Set EDSCAN_DATA_DIR (or --data-dir) to prepare an audit laptop offline.

    \b
    Example:
        edscan lists update
        edscan lists update --accept-noncommercial
        edscan lists update --from ~/Downloads/tracker-lists/ --data-dir ./audit-lists
    """
    from pathlib import Path

    from edscan.recipients import update, upstream

    base = upstream.resolve_data_dir(data_dir)
    if from_paths:
        outcomes = update.import_files(
            base, [Path(p) for p in from_paths], accept_noncommercial=accept_noncommercial
        )
    else:
        sources = update.selected_sources(only, accept_noncommercial)
        outcomes = update.update(base, sources, read_timeout=timeout)
    for o in outcomes:
        detail = o.message
        if o.info is not None:
            detail = f"{o.info.version}, {o.info.records} records, {o.info.licence}"
        click.echo(f"{o.name}: {o.status}" + (f" ({detail})" if detail else ""), err=True)
    failed = [o.name for o in outcomes if o.status == "failed"]
    if failed:
        from edscan.errors import EdscanError

        raise EdscanError(
            f"{len(failed)} list(s) not updated ({', '.join(failed)}); the copies already "
            "installed are unchanged. If the network blocks these hosts, download the files "
            "elsewhere and use `edscan lists update --from PATH`."
        )
    click.echo(f"lists are in {base}", err=True)


@lists_group.command("status")
@output_options(("text", "json"), "text")
@data_dir_option
def lists_status_command(fmt: str, output: str | None, data_dir: str | None) -> None:
    """Show the bundled lists and every upstream list: installed or not, version, provenance.

    \b
    Example:
        edscan lists status
        edscan lists status -f json | jq '.upstream[] | select(.installed) | .name'
    """
    import json

    from edscan.recipients import show, upstream

    st = show.status(upstream.resolve_data_dir(data_dir))
    emit(show.format_status(st) if fmt == "text" else json.dumps(st, indent=2) + "\n", output)


@lists_group.command("show")
@click.argument("host")
@click.option("--path", default="", help="A URL path, to also name the SDK (e.g. /tr).")
@_noncommercial_option
@output_options(("text", "json"), "text")
@data_dir_option
def lists_show_command(
    host: str,
    path: str,
    accept_noncommercial: bool,
    fmt: str,
    output: str | None,
    data_dir: str | None,
) -> None:
    """Explain who HOST belongs to: the attribution, and every list's opinion with provenance.

    HOST may also be a URL (scheme optional); its path then names the SDK (Meta Pixel for
    facebook.com/tr).

    \b
    Example:
        edscan lists show analytics.tiktok.com
        edscan lists show https://www.facebook.com/tr/ -f json
    """
    import json
    from pathlib import Path
    from urllib.parse import urlsplit

    from edscan.recipients import show
    from edscan.recipients.trackers import load_trackers

    if "/" in host:  # a URL, with or without its scheme: its path names the SDK
        parts = urlsplit(host if "://" in host else "//" + host)
        host, path = parts.netloc, path or parts.path
    db = load_trackers(
        Path(data_dir) if data_dir else None, accept_noncommercial=accept_noncommercial
    )
    s = show.show(db, host, path)
    emit(show.format_show(s) if fmt == "text" else json.dumps(s, indent=2) + "\n", output)


# --- scan


def analysis_options(func: F) -> F:
    """The options every command that analyses a capture shares (scan, report)."""
    for option in reversed(
        (
            click.option(
                "--persona",
                type=click.Path(exists=True, dir_okay=False),
                default=None,
                help="The test student's persona file (edscan persona new): its values are "
                "found in any encoding, with high confidence.",
            ),
            click.option(
                "--first-party",
                "first_party",
                multiple=True,
                metavar="DOMAIN",
                help="A domain of the audited app (repeatable). Without it, the first party is "
                "inferred from the traffic and the output says so.",
            ),
            click.option(
                "--reveal",
                is_flag=True,
                help="Show detected values as sent instead of labels. The output then holds "
                "personal data and is written readable by you only; credentials, cookies and "
                "tokens are never shown.",
            ),
            _noncommercial_option,
            data_dir_option,
            declared_option,
        )
    ):
        func = option(func)
    return func


def declared_option(func: F) -> F:
    """``--declared FILE``: the vendor's agreement, compared with what the capture shows."""
    return click.option(
        "--declared",
        type=click.Path(exists=True, dir_okay=False),
        default=None,
        metavar="VENDOR.TOML",
        help="What the vendor's signed agreement declares: Exhibit B data elements and "
        "subprocessors (edscan declared new). Adds a declared-vs-observed comparison and "
        "findings for what the agreement does not list.",
    )(func)


def run_scan(
    capture: str,
    persona: str | None,
    first_party: tuple[str, ...],
    accept_noncommercial: bool,
    data_dir: str | None,
    declared: str | None = None,
) -> ScanResult:
    from pathlib import Path

    from edscan.declared.declaration import load_declaration
    from edscan.detect.persona import load_persona
    from edscan.pipeline import scan

    return scan(
        capture,
        persona=load_persona(persona) if persona else None,
        first_party=first_party,
        data_dir=Path(data_dir) if data_dir else None,
        accept_noncommercial=accept_noncommercial,
        declared=load_declaration(declared) if declared else None,
    )


FAIL_ON = ("critical", "high", "medium", "low", "info", "never")


@cli.command("scan")
@click.argument("capture", type=click.Path(exists=True))
@analysis_options
@output_options(("text", "json", "csv", "sarif", "html"), "text")
@click.option(
    "--fail-on",
    type=click.Choice(FAIL_ON),
    default="never",
    show_default=True,
    help="Exit with code 1 when a finding has this severity or higher (for CI).",
)
def scan_command(
    capture: str,
    persona: str | None,
    first_party: tuple[str, ...],
    reveal: bool,
    accept_noncommercial: bool,
    data_dir: str | None,
    declared: str | None,
    fmt: str,
    output: str | None,
    fail_on: str,
) -> None:
    """Scan CAPTURE (an edscan capture, a HAR or a .mitm dump) and print what it found.

    The student data that left the device (observations), who received it (recipients),
    the findings and the risk score. Data goes to standard output or -o; progress and the
    one-line summary go to standard error, so `-f json | jq` works. With `-f csv -o x.csv`
    the three tables are written as x.findings.csv, x.recipients.csv and x.observations.csv.

    \b
    Example:
        edscan scan seesaw.edscan.jsonl --persona maya.toml
        edscan scan teacher-login.har -f json | jq '.recipients[].organization'
        edscan scan app.edscan.jsonl -f sarif -o app.sarif --fail-on high
        edscan scan app.edscan.jsonl --declared vendor.toml
    """
    from edscan import report
    from edscan.models import Severity

    result = run_scan(capture, persona, first_party, accept_noncommercial, data_dir, declared)
    written = report.write(result, fmt, output, reveal=reveal)
    for path in written:
        click.echo(f"wrote {path}", err=True)
    for warning in result.capture.warnings[:5]:
        click.echo(f"warning: {warning}", err=True)
    grade = f"grade {result.score.grade}, risk {result.score.value}/100; " if result.score else ""
    third = sum(1 for r in result.recipients if r.party.value == "third")
    click.echo(
        f"{result.capture.flows} flows, {len(result.observations)} observations, "
        f"{third} third-party recipients, {len(result.findings)} findings ({grade.rstrip('; ')})",
        err=True,
    )
    if fail_on != "never":
        threshold = Severity(fail_on)
        if any(f.severity >= threshold for f in result.findings):
            raise SystemExit(EXIT_FINDINGS)


# --- report


@cli.command("report")
@click.argument("capture", type=click.Path(exists=True))
@click.option(
    "--persona",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="The test student's persona file (edscan persona new): its values are found in any "
    "encoding, with high confidence.",
)
@click.option(
    "--first-party",
    "first_party",
    multiple=True,
    metavar="DOMAIN",
    help="A domain of the audited app (repeatable). Without it, the first party is inferred "
    "from the traffic and the report says so.",
)
@click.option(
    "--reveal",
    is_flag=True,
    help="Show detected values as sent instead of labels. The report then holds personal data "
    "and is written readable by you only; credentials, cookies and tokens are never shown.",
)
@click.option(
    "--json",
    "json_sidecar",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    metavar="SIDECAR",
    help="Also write the whole result as JSON (schema edscan-result/1) to this file.",
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, writable=True),
    help="Where to write the HTML report.",
)
@_noncommercial_option
@data_dir_option
@declared_option
def report_command(
    capture: str,
    persona: str | None,
    first_party: tuple[str, ...],
    reveal: bool,
    json_sidecar: str | None,
    output: str,
    accept_noncommercial: bool,
    data_dir: str | None,
    declared: str | None,
) -> None:
    """Write the HTML risk report for CAPTURE (an edscan capture, a HAR or a .mitm dump).

    One self-contained file: the grade and verdict, what leaves the device and to whom, the
    findings with their evidence, questions to ask the vendor, and how the report was made.
    It opens offline in any browser and prints cleanly to PDF. Values are redacted unless
    --reveal is given.

    \b
    Example:
        edscan report seesaw.edscan.jsonl --persona maya.toml -o seesaw.html
        edscan report teacher-login.har --first-party classdojo.com \\
            -o dojo.html --json dojo.json
        edscan report seesaw.edscan.jsonl --declared vendor.toml -o seesaw.html
    """
    from edscan import report

    result = run_scan(capture, persona, first_party, accept_noncommercial, data_dir, declared)
    # render everything before opening any file: a failure leaves nothing half-written
    html = report.render(result, "html", reveal=reveal)
    sidecar = report.render(result, "json", reveal=reveal) if json_sidecar else None
    report.save_text(output, html, private=reveal)
    if json_sidecar and sidecar is not None:
        report.save_text(json_sidecar, sidecar, private=reveal)
    grade = f"grade {result.score.grade}, risk {result.score.value}/100, " if result.score else ""
    mode = "REVEALED: holds personal data, readable by you only" if reveal else "redacted"
    click.echo(f"wrote {output} ({grade}{len(result.findings)} findings; {mode})", err=True)
    if json_sidecar:
        click.echo(f"wrote {json_sidecar}", err=True)


# --- declared


@cli.group("declared")
def declared_group() -> None:
    """The vendor's declaration: what its signed agreement lists, to compare with the traffic.

    A small TOML file with the Exhibit B data elements the vendor declared and the third
    parties (subprocessors) it lists. Give it to `edscan scan` or `edscan report` with
    `--declared FILE` to see what the app sent that the agreement does not list.
    """


@declared_group.command("new")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Write the template to this file (default: standard output).",
)
@click.option("--force", is_flag=True, help="Overwrite the output file if it exists.")
def declared_new_command(output: str | None, force: bool) -> None:
    """Write a commented declaration template that lists every data element id.

    Uncomment the Exhibit B elements the vendor checked and add a [[third_party]] table for
    each subprocessor the agreement lists, then use the file with --declared.

    \b
    Example:
        edscan declared new -o vendor.toml
        edscan declared check vendor.toml
        edscan report session.edscan.jsonl --declared vendor.toml -o report.html
    """
    import os
    from pathlib import Path

    from edscan.declared.template import render_template
    from edscan.errors import EdscanError

    text = render_template()
    if output is None:
        click.echo(text, nl=False)
        return
    if os.path.lexists(output) and not force:
        raise EdscanError(f"{output}: already exists; use --force to overwrite it")
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as e:
        raise EdscanError(f"cannot write {output}: {e.strerror or e}") from None
    click.echo(f"wrote a declaration template to {output}", err=True)


@declared_group.command("check")
@click.argument("declaration", type=click.Path(exists=True, dir_okay=False))
@output_options(("text", "json"), "text")
def declared_check_command(declaration: str, fmt: str, output: str | None) -> None:
    """Validate a declaration file and show what it declares, as edscan reads it.

    Categories are expanded into their elements; third parties are shown with the domains
    and names they will be matched by.

    \b
    Example:
        edscan declared check vendor.toml
        edscan declared check vendor.toml -f json | jq '.elements'
    """
    import json

    from edscan.declared.declaration import load_declaration
    from edscan.detect.taxonomy import ELEMENTS

    d = load_declaration(declaration)
    doc = {
        "source": d.source,
        "sha256": d.sha256,
        "vendor": d.vendor,
        "agreement": d.agreement,
        "elements": list(d.elements) if d.elements is not None else None,
        "third_parties": [p.to_dict() for p in d.parties] if d.parties is not None else None,
    }
    if fmt == "json":
        emit(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", output)
        return
    lines = [
        f"{d.source}: {d.vendor or 'vendor not named'}"
        + (f", {d.agreement}" if d.agreement else "")
    ]
    if d.elements is None:
        lines.append("elements: not given (data elements will not be compared)")
    else:
        lines.append(f"elements: {len(d.elements)} declared")
        lines += [f"  {e:<24} {ELEMENTS[e].name}" for e in d.elements]
    if d.parties is None:
        lines.append("third parties: not given (will not be compared; `third_party = []` if none)")
    else:
        lines.append(f"third parties: {len(d.parties)} listed")
        for p in d.parties:
            domains = ", ".join(p.domains) or "matched by name only"
            purpose = f"  ({p.purpose})" if p.purpose else ""
            lines.append(f"  {p.name or '(no name)'}: {domains}{purpose}")
    emit("\n".join(lines) + "\n", output)


# --- diff


@cli.command("diff")
@click.argument("old", type=click.Path(exists=True, dir_okay=False))
@click.argument("new", type=click.Path(exists=True, dir_okay=False))
@analysis_options
@output_options(("text", "json", "html"), "text")
@click.option(
    "--fail-on-new",
    type=click.Choice(FAIL_ON),
    default="never",
    show_default=True,
    help="Exit with code 1 when a new finding has this severity or higher (for CI).",
)
def diff_command(
    old: str,
    new: str,
    persona: str | None,
    first_party: tuple[str, ...],
    reveal: bool,
    accept_noncommercial: bool,
    data_dir: str | None,
    declared: str | None,
    fmt: str,
    output: str | None,
    fail_on_new: str,
) -> None:
    """Compare two results for one app: grade, findings, recipients, data sent.

    OLD and NEW are each a result (`edscan scan -f json`, `edscan report --json`) or a
    capture, which is scanned first with the options given (as `edscan scan` would). Findings
    are matched by fingerprint: new, resolved, unchanged. Recipients are compared by domain,
    and data elements by whether they reach third parties.

    \b
    Example:
        edscan diff before.json after.json
        edscan diff v1.har v2.har --first-party example-app.com -f html -o diff.html
        edscan diff main.json branch.edscan.jsonl --fail-on-new high
    """
    from edscan.models import Severity
    from edscan.publish.diff import diff as compare_results
    from edscan.publish.diff_page import render
    from edscan.report import save_text

    options = (persona, first_party, reveal, accept_noncommercial, data_dir, declared)
    sides = [_diff_side(p, options) for p in (old, new)]
    if not any(scanned for _, scanned in sides) and any(options):
        click.echo("warning: both inputs are results; the scan options were not used", err=True)
    d = compare_results(sides[0][0], sides[1][0])
    text = render(d, fmt)
    if output is None:
        click.echo(text, nl=False)
    else:
        save_text(output, text)
        click.echo(f"wrote {output}", err=True)
    change = d.score_change
    click.echo(
        f"{len(d.new_findings)} new, {len(d.resolved_findings)} resolved, "
        f"{len(d.unchanged_findings)} unchanged findings; grade {d.old.grade or '?'} → "
        f"{d.new.grade or '?'}" + (f", risk {change:+d}" if change is not None else ""),
        err=True,
    )
    if fail_on_new != "never" and d.new_at_or_above(Severity(fail_on_new)):
        raise SystemExit(EXIT_FINDINGS)


def _diff_side(path: str, options: tuple[Any, ...]) -> tuple[Any, bool]:
    """A diff side from a result JSON, or from a capture scanned with ``options``."""
    import json
    from pathlib import Path

    from edscan.errors import EdscanError
    from edscan.publish.diff import looks_like_result, side_from_document

    p = Path(path)
    try:
        with p.open("rb") as f:
            head = f.read(4096)
        if looks_like_result(head):
            try:
                doc = json.loads(p.read_bytes().decode("utf-8-sig"))
            except (UnicodeDecodeError, ValueError) as e:
                raise EdscanError(f"{path}: not a valid result JSON ({e})") from None
            return side_from_document(doc, path), False
    except OSError as e:
        raise EdscanError(f"{path}: cannot read ({e.strerror or e})") from None
    from edscan.report.json import document

    persona, first_party, reveal, accept_noncommercial, data_dir, declared = options
    result = run_scan(path, persona, first_party, accept_noncommercial, data_dir, declared)
    return side_from_document(document(result, reveal=reveal), path), True


# --- publish


def _published_scan(command: str, capture: str, analysis: dict[str, Any]) -> ScanResult:
    """Scan for a publishing command: always redacted, so ``--reveal`` is refused."""
    from edscan.errors import EdscanError

    if analysis.pop("reveal", False):
        raise EdscanError(
            f"edscan {command} makes something to publish, so it is always redacted and "
            "--reveal is refused. Leave --reveal out (for a private copy with the values, use "
            "`edscan report --reveal`)."
        )
    return run_scan(capture, **analysis)


def _persona_of(analysis: dict[str, Any]) -> Any:
    from edscan.detect.persona import load_persona

    path = analysis.get("persona")
    return load_persona(path) if path else None


@cli.command("bundle")
@click.argument("capture", type=click.Path(exists=True))
@analysis_options
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, writable=True),
    help="The evidence package to write (a .zip).",
)
@click.option(
    "--created",
    metavar="WHEN",
    envvar="SOURCE_DATE_EPOCH",
    default=None,
    help="The creation time recorded in MANIFEST.json: ISO 8601 (2026-03-01T14:00:00Z) or "
    "Unix seconds (default: $SOURCE_DATE_EPOCH, else now). Give the one in a published "
    "MANIFEST.json to rebuild that bundle byte for byte.",
)
def bundle_command(capture: str, output: str, created: str | None, **analysis: Any) -> None:
    """Write the redacted evidence package to publish, as one reproducible zip.

    It holds the HTML report, result.json, the three CSV tables, evidence.json (every request
    a finding cites, as it was sent but redacted: method, URL, headers with credentials and
    cookies replaced, where the data was and how it was encoded; never a body), a
    MANIFEST.json (the SHA-256 of every file and of the capture, tool and list versions,
    options, creation time) and a README.txt on how to verify it. Never the capture or the
    persona file. Always redacted: --reveal is refused. The same input gives the same bytes.

    \b
    Example:
        edscan bundle seesaw.edscan.jsonl --persona maya.toml -o seesaw-evidence.zip
        edscan bundle app.har --first-party app.example --created 2026-03-01 -o evidence.zip
    """
    import time

    from edscan.publish import bundle

    when = bundle.parse_created(created) if created else float(int(time.time()))
    result = _published_scan("bundle", capture, analysis)
    extra = {
        k: bool(v)
        for k, v in analysis.items()
        if k not in ("persona", "first_party", "accept_noncommercial", "data_dir")
    }
    options = bundle.Options(
        persona=bool(analysis.get("persona")),
        first_party=tuple(analysis.get("first_party") or ()),
        accept_noncommercial=bool(analysis.get("accept_noncommercial")),
        created=when,
        extra=extra,
    )
    members = bundle.build(capture, result, _persona_of(analysis), options)
    bundle.write(output, members)
    grade = f"grade {result.score.grade}, " if result.score else ""
    click.echo(
        f"wrote {output} ({len(members)} files, {grade}{len(result.findings)} findings; "
        "redacted, without the capture or persona)",
        err=True,
    )


@cli.command("letter")
@click.argument("capture", type=click.Path(exists=True))
@analysis_options
@click.option(
    "--vendor",
    metavar="NAME",
    default=None,
    help="Who the letter is addressed to (default: the app's maker when the lists know it, "
    "else a placeholder to fill in).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Write the letter to this file, e.g. letter.md (default: standard output).",
)
def letter_command(capture: str, vendor: str | None, output: str | None, **analysis: Any) -> None:
    """Write a right-of-reply letter to the vendor, in Markdown that reads as plain text.

    What was tested (the app, the date, the capture's SHA-256, the method), each finding in
    neutral words ("we observed …; this may be inconsistent with …") with its fingerprint and
    request numbers, the questions the findings raise, and placeholders for your name and the
    reply deadline. Always redacted: --reveal is refused.

    \b
    Example:
        edscan letter seesaw.edscan.jsonl --persona maya.toml --vendor "Seesaw Learning" -o letter.md
        edscan letter app.har --first-party app.example
    """
    from edscan import report
    from edscan.publish import letter

    result = _published_scan("letter", capture, analysis)
    text = letter.render(result, persona=_persona_of(analysis), vendor=vendor)
    if output is None:
        click.echo(text, nl=False)
    else:
        report.save_text(output, text)
        click.echo(f"wrote {output} ({len(result.findings)} findings; redacted)", err=True)


@cli.command("batch")
@click.argument("captures", nargs=-1, required=True, type=click.Path())
@click.option(
    "-o",
    "--output",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, writable=True),
    help="The folder for index.html, summary.csv and each app's report (created if needed).",
)
@click.option(
    "--persona",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="The test student's persona file, used for every capture.",
)
@click.option(
    "--first-party-map",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    metavar="FILE",
    help='A TOML file naming each app\'s domains: "seesaw.har" = ["seesaw.me"] (keys: a '
    "capture's file name or its name without suffixes). Others are inferred.",
)
@_noncommercial_option
@data_dir_option
def batch_command(
    captures: tuple[str, ...],
    out_dir: str,
    persona: str | None,
    first_party_map: str | None,
    accept_noncommercial: bool,
    data_dir: str | None,
) -> None:
    """Compare several apps: one capture per app, one row per app, one page.

    Writes DIR/index.html (a self-contained comparison: grade, risk score, third-party and
    advertising companies, data elements sent to third parties, critical and high findings,
    and a link to each app's report, written beside it as DIR/<app>.html) and DIR/summary.csv
    with the same columns. The app's name is its capture's file name. A capture that cannot
    be read is reported and the others go on; the exit code is 2 only when none could be read.

    \b
    Example:
        edscan batch seesaw.har classdojo.har kahoot.edscan.jsonl -o compare/
        edscan batch captures/*.har --persona maya.toml --first-party-map apps.toml -o compare/
    """
    from pathlib import Path

    from edscan.detect.persona import load_persona
    from edscan.publish import batch

    outcome = batch.run(
        captures,
        out_dir,
        persona=load_persona(persona) if persona else None,
        first_party_map=batch.load_first_party_map(first_party_map) if first_party_map else None,
        data_dir=Path(data_dir) if data_dir else None,
        accept_noncommercial=accept_noncommercial,
        echo=lambda line: click.echo(line, err=True),
    )
    compared = len(outcome.rows) - len(outcome.failed)
    click.echo(
        f"wrote {Path(out_dir) / batch.INDEX} and {Path(out_dir) / batch.SUMMARY} "
        f"({compared} apps compared"
        + (f", {len(outcome.failed)} captures could not be read" if outcome.failed else "")
        + ")",
        err=True,
    )


def main() -> None:
    try:
        cli.main(prog_name="edscan", standalone_mode=True)
    except KeyboardInterrupt:  # pragma: no cover - interactive
        raise SystemExit(EXIT_USAGE) from None
