"""The mitmproxy addon that records every flow into an edscan capture.

Load it into any mitmproxy tool with the script ``addons/edscan_recorder.py``::

    mitmdump -s addons/edscan_recorder.py --set edscan_capture=session.edscan.jsonl

``edscan capture`` runs the same addon in-process. What it records, one line per flow:

* HTTP flows with a response (``response``) and flows that failed (``error``);
* WebSocket connections, once, when they end (``websocket_end``), with all their messages;
* flows still unfinished when the proxy stops (``done``, or ``record_cut_off`` from
  ``edscan capture`` after its grace period): once a request has left the device it is
  evidence, so it is written with what had arrived and marked ``cut_off`` (where it had got
  to) instead of being lost with its connection;
* TLS handshakes the client refused (``tls_failed_client``): usually certificate pinning, or a
  device without the CA installed. They are written as failed ``CONNECT`` flows whose error
  starts with ``TLS_REFUSED`` so a report can say which hosts were not inspected.

Phase marks name what the auditor is doing ("login", "quiz"). They are set by the option
``edscan_phase``, the command ``edscan.mark LABEL``, or by opening ``http://edscan.mark/LABEL``
through the proxy (answered here, never forwarded, never recorded). A flow carries the phase
active when its request was complete.

The hot path (``response``) converts, serialises, writes and flushes: nothing else. The
conversion builds the capture record straight from the mitmproxy flow, with no ``Flow`` model in
between; the ``.mitm`` importer builds its Flows from that same record, so the two cannot
drift. A failed write stops the proxy, because traffic that passes unrecorded would make the
audit silently incomplete; any other problem in here is logged and never breaks the user's
traffic.
"""

from __future__ import annotations

import html
import logging
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from mitmproxy import command, ctx, exceptions, http
from mitmproxy import flow as mitm_flow
from mitmproxy.net.http import url as mitm_url

from edscan.capture.capture_file import CaptureWriter
from edscan.capture.inflight import PartialBodies, partial_bodies
from edscan.capture.mitm import cut_off_record, record_from_mitmproxy

logger = logging.getLogger(__name__)

DEFAULT_MAX_BODY = 8 * 1024 * 1024
MARK_HOST = "edscan.mark"
MAX_LABEL = 80
PHASE_KEY = "edscan.phase"  # flow.metadata key: the phase when the request was complete

# The error text of a flow recorded for a refused client TLS handshake starts with this.
TLS_REFUSED = "client refused the proxy's TLS certificate"
TLS_FAILED = "client TLS handshake failed"


def normalize_label(text: str | None) -> str | None:
    """A phase label as stored: trimmed, inner whitespace collapsed; ``None`` for blank.

    Raises ``ValueError`` with a message for labels that cannot be one.
    """
    if text is None:
        return None
    label = " ".join(text.split())
    if not label:
        return None
    if len(label) > MAX_LABEL:
        raise ValueError(f"a phase label is at most {MAX_LABEL} characters (got {len(label)})")
    if any(ord(c) < 32 or ord(c) == 127 for c in label):
        raise ValueError("a phase label cannot contain control characters")
    return label


@dataclass(slots=True)
class RecorderStats:
    """What has been recorded so far (read by ``edscan capture`` for its live counters)."""

    flows: int = 0
    bytes: int = 0  # body and WebSocket message bytes seen, before any --max-body cap
    hosts: set[str] = field(default_factory=set)
    refused_hosts: set[str] = field(default_factory=set)
    # hosts whose TLS handshake with the proxy completed (an HTTPS request was recorded):
    # in a --tls-check capture, the hosts that accepted a forged certificate
    tls_hosts: set[str] = field(default_factory=set)
    unrecorded: int = 0  # flows that could not be converted (logged one by one)
    cut_off: int = 0  # flows written unfinished because the proxy stopped (counted in flows)
    phases: list[str] = field(default_factory=list)  # every label used, in order


class Recorder:
    """Records flows into an edscan capture (``*.edscan.jsonl``)."""

    def __init__(self) -> None:
        self.writer: CaptureWriter | None = None
        self.max_body = DEFAULT_MAX_BODY
        self.phase: str | None = None
        self.tls_check = False  # edscan_tls_check: the device was not told to trust the CA
        self.stats = RecorderStats()
        self.failure: str | None = None  # set once a write failed; the proxy is shutting down
        # flows already written or never to be written (marks, mitm.it): one record per flow
        self._done: weakref.WeakSet[http.HTTPFlow] = weakref.WeakSet()
        # WebSocket flows are written when they end; the ones still open are flushed in done()
        self._open_websockets: dict[str, http.HTTPFlow] = {}
        # HTTP flows whose request has begun (requestheaders) and that have neither ended
        # (response, error) nor become a WebSocket: what a stop would cut off
        self._in_flight: dict[str, http.HTTPFlow] = {}
        self._onboarding_host = "mitm.it"
        self._netlocs: set[str] = set()
        # called with the new label whenever the phase changes (edscan capture's console)
        self.on_phase: Callable[[str | None], None] | None = None
        # called on the loop with each record once it is on disk (edscan.live's analyser)
        self.listeners: list[Callable[[dict[str, Any], http.HTTPFlow], None]] = []

    # ----------------------------------------------------------------- lifecycle

    def load(self, loader: Any) -> None:
        loader.add_option(
            "edscan_capture",
            str | None,
            None,
            "Record every flow into this edscan capture file (*.edscan.jsonl; created 0600).",
        )
        loader.add_option(
            "edscan_max_body",
            int,
            DEFAULT_MAX_BODY,
            "Keep at most this many bytes of each body in the capture; longer bodies are cut "
            "and marked truncated with their original size.",
        )
        loader.add_option(
            "edscan_tls_check",
            bool,
            False,
            "Mark the capture as a TLS check: the device was NOT told to trust the proxy's CA, "
            "so every host whose handshake completes accepted a forged certificate.",
        )
        loader.add_option(
            "edscan_phase",
            str | None,
            None,
            "The current phase label (e.g. login, quiz) stored on the flows that follow. "
            "Also set with the command edscan.mark LABEL or by opening http://edscan.mark/LABEL.",
        )

    def configure(self, updated: set[str]) -> None:
        opts = ctx.options
        if "edscan_max_body" in updated:
            if opts.edscan_max_body < 0:
                raise _options_error(
                    f"edscan_max_body must be 0 or more bytes, not {opts.edscan_max_body}"
                )
            self.max_body = opts.edscan_max_body
        if "edscan_phase" in updated:
            try:
                label = normalize_label(opts.edscan_phase)
            except ValueError as e:
                raise _options_error(f"edscan_phase: {e}") from e
            self._enter_phase(label)
        if "edscan_tls_check" in updated:
            self.tls_check = opts.edscan_tls_check
        if "onboarding_host" in updated:
            self._onboarding_host = opts.onboarding_host
        if "edscan_capture" in updated:
            self._close()
            if opts.edscan_capture:
                self._open(Path(opts.edscan_capture).expanduser())

    def _open(self, path: Path) -> None:
        opts = ctx.options
        settings: dict[str, Any] = {
            "recorder": "edscan.capture.recorder",
            "max_body": self.max_body,
            "phase": self.phase,
            # how the proxy ran, so a reader can judge what the capture can and cannot hold
            "mode": list(getattr(opts, "mode", ())),
            "ssl_insecure": bool(getattr(opts, "ssl_insecure", False)),
        }
        if self.tls_check:
            # since format 1.3, only when set: scan and report apply the TLS-check rule
            # (EDS031) from the file alone
            settings["tls_check"] = True
        try:
            self.writer = CaptureWriter(path, settings)
        except OSError as e:
            raise _options_error(f"edscan_capture: cannot create {path}: {e.strerror or e}") from e
        self.failure = None
        self.stats = RecorderStats(phases=[self.phase] if self.phase else [])
        self._netlocs = set()
        logger.info(f"edscan: recording to {path}")

    def _close(self) -> None:
        if self.writer is not None:
            writer, self.writer = self.writer, None
            try:
                writer.close()
            except OSError as e:
                logger.error(f"edscan: could not finish {writer.path}: {e}")

    def done(self) -> None:
        # mitmproxy calls done with the connections still open: the requests waiting for a
        # response are written now, or they would be lost with their connections.
        if self._in_flight:
            self.record_cut_off(partial_bodies(getattr(ctx, "master", None)))
        # WebSocket connections still open at shutdown are kept with the messages seen so far.
        for f in list(self._open_websockets.values()):
            self._record(f)
        self._open_websockets.clear()
        self._close()

    @property
    def in_flight(self) -> int:
        """Requests begun and not yet answered (or failed)."""
        return len(self._in_flight)

    def record_cut_off(self, parts: dict[str, PartialBodies] | None = None) -> int:
        """Write every flow still in flight, marked cut off; the number written.

        ``parts`` (flow id → what had arrived of its bodies) fills in bodies mitmproxy had not
        finished buffering. A flow that ends later is not written again.
        """
        flows = list(self._in_flight.values())
        self._in_flight.clear()
        written = 0
        for f in flows:
            writer = self.writer
            if writer is None or f in self._done:
                continue
            self._done.add(f)
            part = (parts or {}).get(f.id, _NOTHING)
            try:
                record = cut_off_record(
                    f,
                    index=writer.flows,
                    max_body=self.max_body,
                    phase=f.metadata.get(PHASE_KEY, self.phase),
                    request_part=part.request,
                    response_part=part.response,
                )
            except Exception:
                self.stats.unrecorded += 1
                logger.exception(f"edscan: could not record flow {f.id} ({f.request.url})")
                continue
            if self._write(writer, record, f):
                self.stats.cut_off += 1
                written += 1
        return written

    # ----------------------------------------------------------------- phase marks

    def _enter_phase(self, label: str | None) -> None:
        if label == self.phase:
            return
        self.phase = label
        if label is not None and label not in self.stats.phases:
            self.stats.phases.append(label)
        if label is not None:
            logger.info(f"edscan: phase is now {label!r}")
        if self.on_phase is not None:
            try:
                self.on_phase(label)
            except Exception:  # a display problem must not stop a phase mark
                logger.exception("edscan: phase listener failed")

    def set_phase(self, label: str | None) -> None:
        """Set the current phase (through the option, so every view of it agrees)."""
        ctx.options.update(edscan_phase=normalize_label(label))  # type: ignore[no-untyped-call]

    @command.command("edscan.mark")  # type: ignore[untyped-decorator]
    def mark(self, label: str) -> None:
        """Mark the start of a phase: the flows that follow carry LABEL."""
        try:
            self.set_phase(label)
        except (ValueError, exceptions.OptionsError) as e:
            raise exceptions.CommandError(str(e)) from e

    def _answer_mark(self, f: http.HTTPFlow) -> None:
        path = f.request.path.split("?", 1)[0]
        if path in ("/favicon.ico", "/robots.txt"):
            # browsers ask for these on their own; they must not become phase labels
            f.response = http.Response.make(404, b"", {"Cache-Control": "no-store"})
            return
        raw = unquote(path.strip("/"))
        status, message = 200, ""
        try:
            label = normalize_label(raw)
            if label is not None:
                self.set_phase(label)
        except (ValueError, exceptions.OptionsError) as e:
            status, message = 400, str(e)
        f.response = http.Response.make(
            status,
            _mark_page(self.phase, message),
            {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"},
        )

    # ----------------------------------------------------------------- hooks

    def http_connect(self, f: http.HTTPFlow) -> None:
        # https://edscan.mark/...: there is no such server, so answer the CONNECT ourselves
        # (the eager connection strategy would otherwise fail to reach it) and let the request
        # hook answer the request inside the tunnel.
        if f.request.host == MARK_HOST and f.response is None:
            now = time.time()
            f.response = http.Response(
                f.request.data.http_version, 200, b"Connection established",
                http.Headers(), b"", None, now, now,
            )  # fmt: skip

    def requestheaders(self, f: http.HTTPFlow) -> None:
        self._in_flight[f.id] = f

    def request(self, f: http.HTTPFlow) -> None:
        if self.failure is not None:
            if f.killable:
                f.kill()  # type: ignore[no-untyped-call]  # stopped: nothing passes unrecorded
            return
        req = f.request
        host = req.host
        if host != MARK_HOST and host != self._onboarding_host:
            # transparent mode: the name is only in the Host header (pretty_host parses it, at
            # a cost every flow would pay; a prefix test rules nearly all flows out first)
            host_header = req.host_header
            if not host_header or not host_header.startswith((MARK_HOST, self._onboarding_host)):
                f.metadata[PHASE_KEY] = self.phase
                return
            host = req.pretty_host
        if host == MARK_HOST:
            self._done.add(f)
            self._in_flight.pop(f.id, None)
            try:
                self._answer_mark(f)
            except Exception:  # never break the user's traffic
                logger.exception(f"edscan: could not answer a phase mark ({req.url})")
                # answered anyway: a mark is never forwarded (there is no such server)
                f.response = http.Response.make(
                    500, b"edscan could not answer this phase mark", {"Cache-Control": "no-store"}
                )
            return
        if host == self._onboarding_host:
            self._done.add(f)  # the certificate download page, not app traffic
            self._in_flight.pop(f.id, None)
            return
        f.metadata[PHASE_KEY] = self.phase

    def response(self, f: http.HTTPFlow) -> None:
        self._in_flight.pop(f.id, None)
        if f.websocket is not None:
            self._open_websockets[f.id] = f  # recorded once, with its messages, when it ends
            return
        self._record(f)

    def error(self, f: http.HTTPFlow) -> None:
        self._in_flight.pop(f.id, None)
        if f.websocket is not None and f.id in self._open_websockets:
            return  # websocket_end follows
        self._record(f)

    def websocket_end(self, f: http.HTTPFlow) -> None:
        self._open_websockets.pop(f.id, None)
        self._record(f)

    def tls_failed_client(self, data: Any) -> None:
        if self.writer is None:
            return
        try:
            f = _refused_handshake_flow(data)
        except Exception:
            logger.exception("edscan: could not record a failed client TLS handshake")
            self.stats.unrecorded += 1
            return
        if f is None:
            return
        if f.error is not None and f.error.msg.startswith(TLS_REFUSED):
            self.stats.refused_hosts.add(f.request.host)
        self._record(f)

    # ----------------------------------------------------------------- the hot path

    def _record(self, f: http.HTTPFlow) -> None:
        writer = self.writer
        if writer is None or f in self._done:
            return
        self._done.add(f)
        try:
            record = record_from_mitmproxy(
                f,
                index=writer.flows,
                max_body=self.max_body,
                phase=f.metadata.get(PHASE_KEY, self.phase),
            )
        except Exception:
            self.stats.unrecorded += 1
            logger.exception(f"edscan: could not record flow {f.id} ({f.request.url})")
            return
        self._write(writer, record, f)

    def _write(self, writer: CaptureWriter, record: dict[str, Any], f: http.HTTPFlow) -> bool:
        try:
            writer.write_record(record)
        except (TypeError, UnicodeError):  # a value the format cannot hold; nothing was written
            self.stats.unrecorded += 1
            logger.exception(f"edscan: could not record flow {f.id} ({f.request.url})")
            return False
        except (OSError, ValueError) as e:  # ValueError: the file was closed under us
            self._write_failed(writer.path, e, f)
            return False
        try:
            self._count(record, f)
        except Exception:  # the flow is recorded; only the live counters are off
            logger.exception(f"edscan: could not count flow {f.id} ({f.request.url})")
        for listener in self.listeners:
            try:
                listener(record, f)
            except Exception:  # live analysis must never break recording or traffic
                logger.exception("edscan: a record listener failed")
        return True

    def _count(self, record: dict[str, Any], f: http.HTTPFlow) -> None:
        stats = self.stats
        stats.flows += 1
        url: str = record["url"]
        # parsing the URL for its host (as Flow.host does) costs; the authority part is a
        # cheap key for "seen already"
        netloc = url.split("/", 3)[2] if "://" in url else url
        if netloc not in self._netlocs:
            self._netlocs.add(netloc)
            host = (urlsplit(url).hostname or "").lower()
            stats.hosts.add(host)
            if url.startswith(("https:", "wss:")) and record["method"] != "CONNECT":
                stats.tls_hosts.add(host)
        body = record["request_body"]
        if body is not None:
            stats.bytes += body["size"]
        body = record["response_body"]
        if body is not None:
            stats.bytes += body["size"]
        if f.websocket is not None:  # message sizes as sent, not as stored (base64)
            stats.bytes += sum(len(m.content) for m in f.websocket.messages)

    def _write_failed(self, path: Path, e: Exception, f: http.HTTPFlow) -> None:
        self.failure = f"cannot write to {path}: {e}"
        logger.error(
            f"edscan: {self.failure}. Recording stopped and the proxy is shutting down so that "
            "no traffic passes unrecorded."
        )
        if f.killable:
            f.kill()  # type: ignore[no-untyped-call]
        self._close()
        ctx.master.shutdown()  # type: ignore[no-untyped-call]


_NOTHING = PartialBodies()


def _options_error(message: str) -> Exception:
    return exceptions.OptionsError(message)  # type: ignore[no-untyped-call]


def _refused_handshake_flow(data: Any) -> http.HTTPFlow | None:
    """A failed CONNECT flow standing for a client TLS handshake that failed."""
    client = data.conn
    server = data.context.server
    host = client.sni or (server.address[0] if server.address else None)
    if not host:
        return None  # nothing to attribute it to
    port = server.address[1] if server.address else 443
    reason = str(client.error or "")
    if "trust the proxy's certificate" in reason:
        # mitmproxy's wording for "unknown ca", "bad certificate", a disconnect mid-handshake
        what = (
            f"{TLS_REFUSED} for {host} (likely certificate pinning, or the CA certificate is "
            f"not installed on the device); its traffic was not inspected"
        )
    else:
        what = f"{TLS_FAILED} for {host}; its traffic was not inspected"
    f = http.HTTPFlow(data.context.client, server)
    f.request = http.Request.make("CONNECT", mitm_url.unparse("https", host, port, "/"))
    f.request.timestamp_start = client.timestamp_start or f.request.timestamp_start
    f.error = mitm_flow.Error(f"{what}. mitmproxy: {reason}" if reason else what)
    return f


def _mark_page(phase: str | None, problem: str) -> bytes:
    """The small page a device gets back for http://edscan.mark/LABEL."""
    if problem:
        title = "Phase not changed"
        body = f"<p>{html.escape(problem)}</p>"
    elif phase is None:
        title = "No phase set"
        body = "<p>Open <code>http://edscan.mark/LABEL</code> to start a phase called LABEL.</p>"
    else:
        title = "Phase marked"
        body = f"<p>Flows from now on are marked <strong>{html.escape(phase)}</strong>.</p>"
    current = html.escape(phase) if phase is not None else "none"
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f'<title>edscan: {title}</title></head><body style="font-family:sans-serif">'
        f"<h1>edscan: {title}</h1>{body}<p>Current phase: {current}</p>"
        "<p>This page was answered by the edscan recorder; it is not recorded.</p>"
        "</body></html>"
    ).encode()
