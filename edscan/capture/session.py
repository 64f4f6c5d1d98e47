"""``edscan capture``: run mitmproxy with the recorder and a small console around it.

mitmproxy runs in this process (a ``Master`` with mitmproxy's default addons and the
``Recorder``), not as a ``mitmdump`` child: the console reads the recorder's counters and sets
phases directly on the proxy's event loop, with no second process to find on ``PATH``, no IPC
and no log scraping, and Ctrl-C/SIGTERM stop one process cleanly. No ``config.yaml`` is read
from the confdir, so nothing can quietly turn upstream certificate verification off.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import shutil
import signal
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from edscan.capture.recorder import DEFAULT_MAX_BODY, Recorder, normalize_label
from edscan.errors import EdscanError

DEFAULT_CONFDIR = "~/.mitmproxy"
CA_PEM = "mitmproxy-ca-cert.pem"
CA_CER = "mitmproxy-ca-cert.cer"
PROMPT = "phase label> "

_SIZE_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "m": 1024**2, "mb": 1024**2, "g": 1024**3}


@dataclass(frozen=True, slots=True, kw_only=True)
class CaptureOptions:
    output: Path
    listen_host: str = "127.0.0.1"
    listen_port: int = 8080
    phase: str | None = None
    max_body: int = DEFAULT_MAX_BODY
    confdir: Path = field(default_factory=lambda: Path(DEFAULT_CONFDIR).expanduser())
    alerts: str = "all"  # live alerts (edscan.live): all, high or none
    persona: Path | None = None
    first_party: tuple[str, ...] = ()
    browser: Any = None  # an edscan.capture.browser.BrowserLaunch: open a browser when listening


@dataclass(frozen=True, slots=True, kw_only=True)
class CaptureSummary:
    path: Path
    flows: int
    hosts: tuple[str, ...]
    bytes: int
    phases: tuple[str, ...]
    refused_hosts: tuple[str, ...]
    unrecorded: int
    report_command: str = ""
    live: tuple[str, ...] = ()  # the live-analysis lines of the summary (edscan.live.console)
    browser_storage: int = 0  # cookies and local-storage items recorded from --browser


def parse_size(text: str) -> int:
    """``"8388608"``, ``"512k"``, ``"8m"``, ``"1g"`` → bytes; ``ValueError`` otherwise."""
    s = text.strip().lower()
    digits = s.rstrip("kmgb")
    unit = s[len(digits) :]
    if not digits.isdigit() or unit not in _SIZE_UNITS:
        raise ValueError(f"{text!r} is not a size (use bytes, or a number with k, m or g)")
    return int(digits) * _SIZE_UNITS[unit]


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def is_loopback(host: str) -> bool:
    return host in ("localhost", "127.0.0.1", "::1") or host.startswith("127.")


def check_port_free(host: str, port: int) -> None:
    """Fail with one clear message when the proxy could not listen on ``host:port``."""
    if port == 0:
        return
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as e:
        raise EdscanError(f"--listen-host {host}: not an address of this computer ({e})") from e
    for family, kind, proto, _, addr in infos:
        with socket.socket(family, kind, proto) as s:
            # the same option asyncio's server sets, so a port in TIME_WAIT counts as free
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(addr)
            except OSError as e:
                raise EdscanError(_listen_problem(host, port, e)) from e


def _listen_problem(host: str, port: int, e: OSError) -> str:
    if e.errno == errno.EADDRINUSE:
        return (
            f"port {port} on {host} is already in use (another proxy or edscan capture "
            f"running?); stop it or choose another port with --listen-port"
        )
    if e.errno == errno.EACCES:
        return f"not allowed to listen on port {port}; choose a port above 1023 with --listen-port"
    if e.errno == errno.EADDRNOTAVAIL:
        return f"--listen-host {host} is not an address of this computer"
    return f"cannot listen on {host}:{port}: {e.strerror or e}"


def lan_addresses() -> list[str]:
    """This computer's address on the local network, when there is a route out.

    Connecting a UDP socket only picks a route: no packet is sent.
    """
    found: list[str] = []
    for family, probe in ((socket.AF_INET, "192.0.2.1"), (socket.AF_INET6, "2001:db8::1")):
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as s:
                s.connect((probe, 9))
                addr = str(s.getsockname()[0])
        except (OSError, RuntimeError):
            continue
        if not is_loopback(addr) and addr not in found:
            found.append(addr)
    return found


def startup_text(
    *,
    output: Path,
    host: str,
    port: int,
    confdir: Path,
    phase: str | None,
    lan: list[str],
    interactive: bool,
) -> str:
    """What to do next, printed once the proxy listens."""
    lines = [f"edscan capture: recording to {output}", ""]
    if host in ("0.0.0.0", "::", ""):
        lines += [
            f"WARNING: the proxy listens on every network interface ({host or '*'}): anyone "
            "on this network can use it",
            "and have their traffic recorded. Use it only on a trusted network, and stop it "
            "when you are done.",
            "",
        ]
        where = " or ".join(lan) if lan else "this computer's address on the network"
        lines.append(f"  1. Set the HTTP and HTTPS proxy of the device to {where}, port {port}.")
    else:
        lines.append(f"  1. Set the HTTP and HTTPS proxy of the device to {host}, port {port}.")
        if is_loopback(host):
            lines.append(
                "     (Loopback: this computer only. For a phone, use --listen-host 0.0.0.0.)"
            )
    lines += [
        "  2. Install and trust the CA certificate on the device:",
        f"       {confdir / CA_PEM}",
        f"       (phones: {confdir / CA_CER}), or open http://mitm.it through the proxy.",
    ]
    how = "type a label and Enter here, or " if interactive else ""
    lines.append(f"  3. Mark phases ({how}open http://edscan.mark/LABEL through the proxy).")
    if phase:
        lines.append(f"     Current phase: {phase}")
    lines += [
        "Upstream certificates are verified. Stop with Ctrl-C.",
        "",
    ]
    return "\n".join(lines)


def summary_text(s: CaptureSummary) -> str:
    noun = "flow" if s.flows == 1 else "flows"
    hosts = "host" if len(s.hosts) == 1 else "hosts"
    lines = [
        f"Recorded {s.flows} {noun} from {len(s.hosts)} {hosts} ({human_bytes(s.bytes)}) "
        f"into {s.path}"
    ]
    lines.append(f"  Phases: {', '.join(s.phases) if s.phases else 'none marked'}")
    if s.refused_hosts:
        lines.append(
            f"  {len(s.refused_hosts)} host(s) refused the proxy's certificate (likely pinned; "
            f"their traffic was not inspected): {', '.join(s.refused_hosts)}"
        )
    if s.unrecorded:
        lines.append(f"  {s.unrecorded} flow(s) could not be recorded (see the messages above)")
    lines += list(s.live)
    lines.append(f"Next: {s.report_command or f'edscan report {s.path} -o report.html'}")
    return "\n".join(lines)


def status_text(rec: Recorder) -> str:
    st = rec.stats
    refused = f" · refused TLS: {len(st.refused_hosts)}" if st.refused_hosts else ""
    return (
        f"recording · flows: {st.flows} · hosts: {len(st.hosts)} · {human_bytes(st.bytes)} · "
        f"phase: {rec.phase or '-'}{refused}"
    )


# --------------------------------------------------------------------------- the console


class Display:
    """Writes the console: messages, and a status line redrawn in place on a terminal.

    On a terminal with an interactive stdin the status sits on the line above a prompt, so
    redrawing it never disturbs what the user is typing. Elsewhere status lines are printed
    plainly, and only when something changed.
    """

    def __init__(self, out: TextIO, *, tty: bool, prompt: bool) -> None:
        self.out = out
        self.tty = tty
        self.prompt = prompt and tty
        self.active = False
        self.entered = False  # the user just pressed Enter: the prompt moved down a line
        self._last_plain = ""

    def _fit(self, text: str) -> str:
        width = shutil.get_terminal_size((100, 24)).columns
        return text if len(text) < width else text[: max(width - 2, 10)] + "…"

    def start(self, status: str) -> None:
        if self.tty:
            self.out.write(self._fit(status) + ("\n" + PROMPT if self.prompt else ""))
            self.out.flush()
            self.active = True

    def _clear(self) -> None:
        if not self.active:
            return
        if self.prompt:
            # the status line is one line up (two after the user pressed Enter)
            self.out.write(f"\x1b[{2 if self.entered else 1}A\r\x1b[J")
        else:
            self.out.write("\r\x1b[K")
        self.entered = False

    def message(self, text: str, status: str) -> None:
        if self.tty and self.active:
            self._clear()
            self.out.write(text + "\n")
            self.active = False
            self.start(status)
        else:
            self.out.write(text + "\n")
            self.out.flush()

    def refresh(self, status: str) -> None:
        if self.tty:
            if not self.active:
                return
            if self.prompt:
                self.out.write(f"\x1b7\x1b[1A\r\x1b[K{self._fit(status)}\x1b8")
            else:
                self.out.write(f"\r\x1b[K{self._fit(status)}")
            self.out.flush()
        elif status != self._last_plain:
            self._last_plain = status
            self.out.write(status + "\n")
            self.out.flush()

    def stop(self) -> None:
        if self.tty and self.active:
            self._clear()
            self.out.flush()
            self.active = False


class _ConsoleLog(logging.Handler):
    """mitmproxy's warnings and errors, shown between status redraws; kept until running."""

    def __init__(self, display: Display, status: Callable[[], str]) -> None:
        super().__init__(logging.WARNING)
        self.display = display
        self.status = status
        self.live = False
        self.early: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if not self.live:
            self.early.append(record)
            return
        try:
            text = record.getMessage().split("\n", 1)[0]
            self.display.message(f"  ! {text}", self.status())
        except Exception:  # pragma: no cover - never let logging break the proxy
            self.handleError(record)


@dataclass
class _Session:
    options: CaptureOptions
    out: TextIO
    stdin: TextIO | None
    status_interval: float
    recorder: Recorder = field(default_factory=Recorder)
    live: Any = None  # edscan.live.addon.LiveAlerts
    browser: Any = None  # edscan.capture.browser.BrowserSession, once started
    listen_error: str | None = None
    _buffer: bytes = b""

    def _status(self) -> str:
        from edscan.live.console import status_suffix

        stats = self.live.analyser.stats if self.live and self.live.analyser else None
        return status_text(self.recorder) + status_suffix(stats)

    async def run(self) -> None:
        from mitmproxy import addons, exceptions, master, options

        # mitmproxy's API is only partly typed: hold its objects as Any
        opts: Any = options.Options()
        m: Any = master.Master(opts)
        default_addons: Any = addons.default_addons
        m.addons.add(*default_addons())
        m.addons.add(self.recorder)
        from edscan.live.addon import LiveAlerts

        self.live = LiveAlerts()
        m.addons.add(self.live)
        tty = self.out.isatty()
        interactive = self.stdin is not None and self.stdin.isatty()
        display = Display(self.out, tty=tty, prompt=interactive)
        log = _ConsoleLog(display, self._status)
        root = logging.getLogger()
        root.addHandler(log)
        try:
            try:
                opts.update(
                    listen_host=self.options.listen_host,
                    listen_port=self.options.listen_port,
                    confdir=str(self.options.confdir),
                    edscan_max_body=self.options.max_body,
                    edscan_phase=self.options.phase,
                    edscan_capture=str(self.options.output),
                    edscan_alerts=self.options.alerts,
                    edscan_persona=str(self.options.persona) if self.options.persona else None,
                    edscan_first_party=list(self.options.first_party),
                )
            except exceptions.OptionsError as e:
                raise EdscanError(str(e)) from e
            loop = asyncio.get_running_loop()
            self._install_signals(loop, m, display)
            self.recorder.on_phase = lambda label: display.message(
                f"Phase: {label}" if label else "Phase cleared", self._status()
            )
            self.live.on_alert = lambda alert: display.message(alert.line(), self._status())
            runner = asyncio.create_task(m.run())
            started = await self._wait_listening(m, runner)
            if started is None:
                await runner
                return
            host, port = started
            self.out.write(
                startup_text(
                    output=self.options.output.resolve(),
                    host=self.options.listen_host,
                    port=port,
                    confdir=self.options.confdir.resolve(),
                    phase=self.recorder.phase,
                    lan=lan_addresses() if not is_loopback(host) else [],
                    interactive=self._stdin_works(loop, display),
                )
                + "\n"
            )
            self.out.flush()
            log.live = True
            for record in log.early:
                if record.levelno >= logging.ERROR:
                    log.emit(record)
            display.start(self._status())
            if self.options.browser is not None:
                self.browser = self.options.browser.start(
                    port=port,
                    confdir=self.options.confdir,
                    output=self.options.output,
                    stop=lambda: _stop_soon(loop, m),
                )
            ticker = asyncio.create_task(self._tick(display))
            try:
                await runner
            finally:
                ticker.cancel()
                display.stop()
        finally:
            if self.browser is not None:
                self.browser.stop()
            root.removeHandler(log)
            self.recorder.on_phase = None
            if self.stdin is not None:
                with contextlib.suppress(OSError, ValueError):
                    asyncio.get_running_loop().remove_reader(self.stdin.fileno())

    async def _wait_listening(self, m: Any, runner: asyncio.Task[None]) -> tuple[str, int] | None:
        """The address the proxy listens on, or None (listen_error set) when it could not."""
        ps = m.addons.get("proxyserver")
        while not runner.done():
            servers = list(ps.servers)
            if servers and not ps.servers.is_updating:
                failed = [s for s in servers if s.last_exception is not None or not s.is_running]
                if failed:
                    e = failed[0].last_exception
                    self.listen_error = (
                        _listen_problem(self.options.listen_host, self.options.listen_port, e)
                        if isinstance(e, OSError)
                        else f"the proxy could not start: {e}"
                    )
                    m.shutdown()
                    return None
                addrs = ps.listen_addrs()
                if addrs:
                    return str(addrs[0][0]), int(addrs[0][1])
            await asyncio.sleep(0.02)
        return None

    def _install_signals(self, loop: asyncio.AbstractEventLoop, m: Any, display: Display) -> None:
        def stop() -> None:
            display.message("Stopping…", self._status())
            m.shutdown()
            # a second Ctrl-C interrupts for real; every flow so far is already on disk
            loop.remove_signal_handler(signal.SIGINT)
            signal.signal(signal.SIGINT, signal.default_int_handler)

        loop.add_signal_handler(signal.SIGINT, stop)
        loop.add_signal_handler(signal.SIGTERM, stop)

    def _stdin_works(self, loop: asyncio.AbstractEventLoop, display: Display) -> bool:
        """Read phase labels from stdin, line by line, on the proxy's loop."""
        if self.stdin is None:
            return False
        try:
            fd = self.stdin.fileno()
            loop.add_reader(fd, self._on_stdin, loop, fd, display)
        except (OSError, ValueError):  # a regular file or /dev/null cannot be watched
            return False
        return True

    def _on_stdin(self, loop: asyncio.AbstractEventLoop, fd: int, display: Display) -> None:
        try:
            data = os.read(fd, 4096)
        except OSError:
            data = b""
        if not data:
            loop.remove_reader(fd)
            return
        self._buffer += data
        while b"\n" in self._buffer:
            raw, self._buffer = self._buffer.split(b"\n", 1)
            display.entered = True
            self._label_typed(raw.decode("utf-8", "replace"), display)

    def _label_typed(self, text: str, display: Display) -> None:
        from mitmproxy import exceptions

        try:
            label = normalize_label(text)
        except ValueError as e:
            display.message(f"Phase not changed: {e}", self._status())
            return
        if label is None or label == self.recorder.phase:
            display.message(
                f"Phase: {self.recorder.phase or 'none'} (type a label and Enter to change it)",
                self._status(),
            )
            return
        try:
            self.recorder.set_phase(label)  # the recorder's on_phase prints the change
        except exceptions.OptionsError as e:  # pragma: no cover - normalize_label checked it
            display.message(f"Phase not changed: {e}", self._status())

    async def _tick(self, display: Display) -> None:
        while True:
            await asyncio.sleep(self.status_interval)
            display.refresh(self._status())


def _stop_soon(loop: asyncio.AbstractEventLoop, m: Any) -> None:
    """Stop the proxy from another thread (the browser window was closed)."""
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(m.shutdown)


def run_capture(
    options: CaptureOptions,
    *,
    out: TextIO | None = None,
    stdin: TextIO | None = None,
    status_interval: float | None = None,
) -> CaptureSummary:
    """Record until Ctrl-C or SIGTERM; the summary of what was recorded.

    Raises ``EdscanError`` for bad options, a port in use, or a capture that could not be
    written (the proxy stops at once then, so no traffic passes unrecorded).
    """
    out = out or sys.stderr
    output = options.output
    if options.max_body < 0:
        raise EdscanError("--max-body must be 0 or more bytes")
    if not 0 <= options.listen_port <= 65535:
        raise EdscanError(f"--listen-port {options.listen_port} is not a port (1-65535)")
    try:
        phase = normalize_label(options.phase)
    except ValueError as e:
        raise EdscanError(f"--phase: {e}") from e
    if output.is_dir():
        raise EdscanError(f"{output} is a directory; give a file name such as session.edscan.jsonl")
    if output.exists() and output.stat().st_size > 0:
        raise EdscanError(
            f"{output} already exists; choose another name (or delete it) so that no "
            "recording is overwritten"
        )
    if not output.parent.is_dir():
        raise EdscanError(f"{output.parent} does not exist; create the folder first")
    check_port_free(options.listen_host, options.listen_port)
    interval = status_interval or (1.0 if out.isatty() else 10.0)
    session = _Session(
        options=CaptureOptions(
            output=output,
            listen_host=options.listen_host,
            listen_port=options.listen_port,
            phase=phase,
            max_body=options.max_body,
            confdir=options.confdir.expanduser(),
            alerts=options.alerts,
            persona=options.persona,
            first_party=options.first_party,
            browser=options.browser,
        ),
        out=out,
        stdin=stdin,
        status_interval=interval,
    )
    asyncio.run(session.run())
    rec = session.recorder
    if session.listen_error:
        if rec.stats.flows == 0:
            output.unlink(missing_ok=True)  # the header-only file of a session that never ran
        raise EdscanError(session.listen_error)
    summary = CaptureSummary(
        path=output.resolve(),
        flows=rec.stats.flows,
        hosts=tuple(sorted(rec.stats.hosts)),
        bytes=rec.stats.bytes,
        phases=tuple(rec.stats.phases),
        refused_hosts=tuple(sorted(rec.stats.refused_hosts)),
        unrecorded=rec.stats.unrecorded,
        **_live_summary(session, output.resolve()),
    )
    if rec.failure:
        raise EdscanError(
            f"recording stopped: {rec.failure}. The proxy was shut down so that no traffic "
            f"passed unrecorded; the {summary.flows} flows recorded before are in {summary.path}"
        )
    return summary


def _live_summary(session: _Session, path: Path) -> dict[str, Any]:
    """The summary's live-analysis lines, the exact report command and the browser record."""
    from edscan.live.console import report_command, summary_lines

    live = session.live
    stats = live.analyser.stats if live is not None and live.analyser is not None else None
    options = session.options
    lines = (
        summary_lines(stats.found, dropped=stats.dropped, analysed=stats.analysed, alerts_on=True)
        if stats is not None and options.alerts != "none"
        else []
    )
    stored = session.browser.recorded if session.browser is not None else 0
    persona = options.persona.resolve() if options.persona else None
    return {
        "live": tuple(lines),
        "report_command": report_command(path, persona, options.first_party),
        "browser_storage": stored,
    }
