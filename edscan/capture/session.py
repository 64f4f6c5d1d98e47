"""``edscan capture``: run mitmproxy with the recorder and a small console around it.

mitmproxy runs in this process (a ``Master`` with mitmproxy's default addons and the
``Recorder``), not as a ``mitmdump`` child: the console reads the recorder's counters and sets
phases directly on the proxy's event loop, with no second process to find on ``PATH``, no IPC
and no log scraping, and Ctrl-C/SIGTERM/SIGHUP stop one process cleanly.

The stop (``_Session._stop``): stop accepting connections, give the requests in flight
``--grace`` seconds to finish, write the rest marked cut off (a request that left the device is
evidence, answered or not), close the connections ourselves and only then let mitmproxy shut
down. A connection left for ``asyncio.run`` to cancel at exit prints a ``CancelledError``
traceback on Python 3.11 (its ``start_server`` reports a cancelled client task as an error):
closing them here ends those tasks normally, and the loop's exception handler drops that one
report should any remain. No ``config.yaml`` is read
from the confdir, so nothing can quietly turn upstream certificate verification off.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from edscan.capture.console import ConsoleLog, ConsoleOut, Display
from edscan.capture.inflight import close_connections, partial_bodies
from edscan.capture.recorder import DEFAULT_MAX_BODY, Recorder, normalize_label
from edscan.capture.session_text import (  # re-exported: callers import them from here
    CA_CER,
    CA_PEM,
    CaptureSummary,
    human_bytes,
    is_loopback,
    startup_text,
    status_text,
    summary_text,
)
from edscan.errors import EdscanError

__all__ = [
    "CA_CER",
    "CA_PEM",
    "CaptureOptions",
    "CaptureSummary",
    "check_port_free",
    "human_bytes",
    "is_loopback",
    "parse_size",
    "run_capture",
    "startup_text",
    "status_text",
    "summary_text",
]

DEFAULT_CONFDIR = "~/.mitmproxy"
DEFAULT_GRACE = 3.0  # seconds the requests in flight get to finish when the capture stops
CLOSE_TIMEOUT = 0.5  # seconds to wait for the closed connections to be gone
LIVE_TIMEOUT = 0.2  # seconds past the grace the live analyser gets to finish what is queued
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

_SIZE_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "m": 1024**2, "mb": 1024**2, "g": 1024**3}


@dataclass(frozen=True, slots=True, kw_only=True)
class CaptureOptions:
    output: Path
    listen_host: str = "127.0.0.1"
    listen_port: int = 8080
    phase: str | None = None
    max_body: int = DEFAULT_MAX_BODY
    confdir: Path = field(default_factory=lambda: Path(DEFAULT_CONFDIR).expanduser())
    grace: float = DEFAULT_GRACE
    alerts: str = "all"  # live alerts (edscan.live): all, high or none
    persona: Path | None = None
    first_party: tuple[str, ...] = ()
    browser: Any = None  # an edscan.capture.browser.BrowserLaunch: open a browser when listening
    tls_check: bool = False  # the device does NOT trust the CA: completed handshakes are findings


def parse_size(text: str) -> int:
    """``"8388608"``, ``"512k"``, ``"8m"``, ``"1g"`` → bytes; ``ValueError`` otherwise."""
    s = text.strip().lower()
    digits = s.rstrip("kmgb")
    unit = s[len(digits) :]
    if not digits.isdigit() or unit not in _SIZE_UNITS:
        raise ValueError(f"{text!r} is not a size (use bytes, or a number with k, m or g)")
    return int(digits) * _SIZE_UNITS[unit]


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


@dataclass
class _Session:
    options: CaptureOptions
    out: ConsoleOut
    stdin: TextIO | None
    status_interval: float
    recorder: Recorder = field(default_factory=Recorder)
    live: Any = None  # edscan.live.addon.LiveAlerts
    browser: Any = None  # edscan.capture.browser.BrowserSession, once started
    listen_error: str | None = None
    _buffer: bytes = b""
    # set by the first stop signal, and by the second (skip the grace period)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)
    _stop_now: asyncio.Event = field(default_factory=asyncio.Event)
    # stop signals that arrived before the proxy's loop took the signals over
    early_signals: list[int] = field(default_factory=list)

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
        log = ConsoleLog(display, self._status)
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
                    edscan_tls_check=self.options.tls_check,
                    edscan_capture=str(self.options.output),
                    edscan_alerts=self.options.alerts,
                    edscan_persona=str(self.options.persona) if self.options.persona else None,
                    edscan_first_party=list(self.options.first_party),
                )
            except exceptions.OptionsError as e:
                raise EdscanError(str(e)) from e
            loop = asyncio.get_running_loop()
            # mitmproxy puts its own handler in place while it runs; this one is for before and
            # after (asyncio.run's final clean-up included)
            loop.set_exception_handler(self._loop_error)
            self._install_signals(loop, display)
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
                    tls_check=self.options.tls_check,
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
                    stop=lambda: _stop_soon(loop, self._stopping),
                )
            ticker = asyncio.create_task(self._tick(display))
            stop_signal = asyncio.create_task(self._stopping.wait())
            try:
                await asyncio.wait([runner, stop_signal], return_when=asyncio.FIRST_COMPLETED)
                if not runner.done():
                    await self._stop(m, display)
                await runner
            finally:
                stop_signal.cancel()
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

    def _install_signals(self, loop: asyncio.AbstractEventLoop, display: Display) -> None:
        def stop(sig: signal.Signals) -> None:
            if not self._stopping.is_set():
                self._stopping.set()
            elif not self._stop_now.is_set():
                self._stop_now.set()
                display.message(f"{sig.name} again: stopping now", self._status())

        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, stop, sig)
        if self.early_signals:  # a stop asked for while starting: start, then stop at once
            self._stopping.set()

    async def _stop(self, m: Any, display: Display) -> None:
        """Stop accepting, wait out the grace period, write what is left, close, shut down.

        Takes at most the grace period plus about a second, whatever the proxy is doing.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(self.options.grace, 0.0)
        rec = self.recorder
        ps = m.addons.get("proxyserver")
        try:  # no new connections from now on; the open ones carry on
            await asyncio.wait_for(ps.servers.update([]), timeout=CLOSE_TIMEOUT)
        except Exception:  # a server that will not stop must not hold up the stop
            logging.getLogger(__name__).debug("stopping the servers", exc_info=True)
        if rec.in_flight and self.options.grace > 0 and not self._stop_now.is_set():
            display.message(
                f"Stopping: waiting up to {self.options.grace:g} s for {rec.in_flight} "
                "request(s) in flight (Ctrl-C again to stop now)",
                self._status(),
            )
        else:
            display.message("Stopping…", self._status())
        now = asyncio.create_task(self._stop_now.wait())
        try:
            while rec.in_flight and not now.done() and (left := deadline - loop.time()) > 0:
                await asyncio.wait([now], timeout=min(left, 0.05))
        finally:
            now.cancel()
        live_deadline = max(deadline, loop.time()) + LIVE_TIMEOUT
        rec.record_cut_off(partial_bodies(m))
        analyser = self.live.analyser if self.live is not None else None
        if analyser is not None:
            # the cut-off records were its last: it works through them while the connections
            # close, instead of after (what it has not analysed by then is in the capture)
            analyser.finish()
        await close_connections(m, timeout=CLOSE_TIMEOUT)
        if analyser is not None:
            analyser.stop(timeout=max(live_deadline - loop.time(), 0.0))
        m.shutdown()

    def _loop_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if isinstance(exc, asyncio.CancelledError):
            # Python 3.11's asyncio.start_server reports a cancelled client task as an error
            # (fixed in 3.12): a closed connection, not a problem
            return
        what = str(exc) if exc is not None else str(context.get("message", "?"))
        logging.getLogger(__name__).error(f"edscan capture: unexpected error: {what}")

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


@contextlib.contextmanager
def _signals_noted(into: list[int]) -> Iterator[None]:
    """Until the proxy's loop handles them, a stop signal is noted in ``into``, not acted on.

    Starting (mitmproxy's imports, the CA, the listening socket) takes a moment; a Ctrl-C,
    SIGTERM or SIGHUP then would otherwise end the process with a ``KeyboardInterrupt``
    traceback, or kill it before the capture file is complete. Noted, it stops the capture as
    soon as it runs, the usual way.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set signal handlers (a library caller's thread)
        return
    previous = {sig: signal.signal(sig, lambda n, _frame: into.append(n)) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _stop_soon(loop: asyncio.AbstractEventLoop, stopping: asyncio.Event) -> None:
    """Stop the capture from another thread (the browser window was closed) the way a stop
    signal does: the requests in flight get the grace period, the rest are written cut off."""
    with contextlib.suppress(RuntimeError):  # the loop is already gone: the capture ended
        loop.call_soon_threadsafe(stopping.set)


def run_capture(
    options: CaptureOptions,
    *,
    out: TextIO | None = None,
    stdin: TextIO | None = None,
    status_interval: float | None = None,
) -> CaptureSummary:
    """Record until Ctrl-C, SIGTERM or SIGHUP; the summary of what was recorded.

    Raises ``EdscanError`` for bad options, a port in use, or a capture that could not be
    written (the proxy stops at once then, so no traffic passes unrecorded).
    """
    console = ConsoleOut(out or sys.stderr)
    output = options.output
    if options.grace < 0:
        raise EdscanError("--grace must be 0 or more seconds")
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
    interval = status_interval or (1.0 if console.isatty() else 10.0)
    session = _Session(
        options=CaptureOptions(
            output=output,
            listen_host=options.listen_host,
            listen_port=options.listen_port,
            phase=phase,
            max_body=options.max_body,
            confdir=options.confdir.expanduser(),
            grace=options.grace,
            alerts=options.alerts,
            persona=options.persona,
            first_party=options.first_party,
            browser=options.browser,
            tls_check=options.tls_check,
        ),
        out=console,
        stdin=stdin,
        status_interval=interval,
    )
    with _signals_noted(session.early_signals):
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
        cut_off=rec.stats.cut_off,
        tls_check=options.tls_check,
        tls_hosts=tuple(sorted(rec.stats.tls_hosts)),
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
        summary_lines(
            stats.found,
            dropped=stats.dropped,
            analysed=stats.analysed,
            alerts_on=True,
            unfinished=stats.unfinished,
        )
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
