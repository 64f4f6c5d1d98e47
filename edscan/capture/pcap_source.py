"""A packet capture (pcap, pcapng) as a stream of Flows, dissected by tshark.

Every HTTP/1.x, HTTP/2 and HTTP/3 exchange tshark could see (plain, or inside TLS or QUIC it
could decrypt with the keys) becomes a Flow like those of every other source. What it could not
see is never dropped silently:

* a TLS connection without keys becomes a failed ``CONNECT`` flow to its SNI host, marked not
  intercepted, so that the report lists the host as not inspected ("no keys");
* a QUIC (HTTP/3) connection without keys likewise (tshark decrypts QUIC only with its keys);
* TLS or QUIC that was decrypted but carried HTTP/2 or HTTP/3 frames edscan could not rebuild
  into a request is counted as not inspected;
* TCP connections that carried bytes but no HTTP or TLS are counted as skipped ``tcp``.

Each such connection is also listed in ``gaps`` with its host and byte count. Hosts seen only
by address are named from the DNS answers in the capture, where there are some.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from edscan.capture import pcap_http1, pcap_http3
from edscan.capture.coverage import CoverageGap
from edscan.capture.pcap_http2 import Exchange, Http2Connection
from edscan.capture.pcap_http3 import Http3Connection
from edscan.capture.tshark import packets
from edscan.errors import CaptureError
from edscan.models import Body, Flow

NO_KEYS = "no-keys"
HTTP3 = "http3"
HTTP2 = "http2-unread"
HTTP3_UNREAD = "http3-unread"
NOT_HTTP = "not-http"

_REASON_TEXT = {
    NO_KEYS: "TLS not decrypted: no keys for this connection in the capture or the key log",
    HTTP3: "HTTP/3 (QUIC) not decrypted: no keys for this connection",
    HTTP2: "HTTP/2 inside decrypted TLS, but no request could be rebuilt from its frames",
    HTTP3_UNREAD: "HTTP/3 inside decrypted QUIC, but no request could be rebuilt from its frames",
}


@dataclass(slots=True)
class _Request:
    time: float
    method: str
    uri: str
    version: str
    headers: tuple[tuple[str, str], ...]
    body: Body | None
    frame: int


@dataclass(slots=True)
class _Stream:
    """What is known about one TCP or UDP conversation, from its first packet on."""

    udp: bool
    client: tuple[str, int]
    server: tuple[str, int]
    start: float
    sni: str | None = None
    tls: bool = False
    quic: bool = False
    http: bool = False
    http2: bool = False
    bytes: int = 0
    pending: list[_Request] = field(default_factory=list)
    h2: Http2Connection | None = None
    h3: Http3Connection | None = None  # once a decrypted QUIC STREAM frame was seen


def _one(p: dict[str, list[str]], key: str) -> str | None:
    v = p.get(key)
    return v[0] if v else None


def _int(s: str | None, default: int = 0) -> int:
    try:
        return int(s) if s is not None else default
    except ValueError:
        return default


def _time(s: str | None) -> float:
    """A packet's epoch time; 0 for a field a damaged capture left unreadable."""
    try:
        t = float(s) if s is not None else 0.0
    except ValueError:
        return 0.0
    return t if math.isfinite(t) else 0.0


def _headers(lines: list[str] | None) -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = []
    for line in lines or ():
        name, sep, value = line.rstrip("\r\n").partition(":")
        if sep and name.strip():
            out.append((name.strip(), value.strip()))
    return tuple(out)


class PcapSource:
    """A pcap/pcapng file as a stream of Flows (see ``edscan.capture.source.Source``)."""

    format = "pcap"

    def __init__(self, path: Path, *, tls_keylog: Path | None = None):
        if tls_keylog is not None and not tls_keylog.is_file():
            raise CaptureError(f"{tls_keylog}: no such TLS key log file")
        self.path = path
        self.tls_keylog = tls_keylog
        self.warnings: list[str] = []
        self.skipped: dict[str, int] = {}
        self.gaps: list[CoverageGap] = []

    def __iter__(self) -> Iterator[Flow]:
        self.warnings.clear()
        yield from self.flows(packets(self.path, keylog=self.tls_keylog, warnings=self.warnings))

    def flows(self, records: Iterable[dict[str, list[str]]]) -> Iterator[Flow]:
        """The flows of tshark's packet records (``edscan.capture.tshark.packets``), in order."""
        self.skipped.clear()
        self.gaps.clear()
        streams: dict[str, _Stream] = {}
        names: dict[str, str] = {}  # address -> the name a DNS answer gave it
        index = 0
        for p in records:
            protocols = (_one(p, "frame_protocols") or "").split(":")
            time = _time(_one(p, "frame_time_epoch"))
            if "dns" in protocols:
                self._dns(p, names)
                continue
            stream = self._stream(p, protocols, time, streams)
            if stream is None:
                continue
            mux = self._multiplexed(p, protocols, stream)
            if mux is not None:
                port = _one(p, "udp_srcport" if stream.udp else "tcp_srcport")
                src = (_one(p, "ip_src") or _one(p, "ipv6_src") or "", _int(port))
                for ex in mux.packet(
                    p,
                    from_client=src == stream.client,
                    time=time,
                    frame=_int(_one(p, "frame_number")),
                ):
                    stream.http = True
                    yield self._multiplexed_flow(index, stream, ex, names, version=_version(mux))
                    index += 1
            if "http" not in protocols:
                continue
            stream.http = True
            method = _one(p, "http_request_method")
            if method is not None:
                stream.pending.append(
                    _Request(
                        time=time,
                        method=method,
                        uri=_one(p, "http_request_uri") or "/",
                        version=_one(p, "http_request_version") or "HTTP/1.1",
                        headers=_headers(p.get("http_request_line")),
                        body=_body(p, pcap_http1.request_body, method),
                        frame=_int(_one(p, "frame_number")),
                    )
                )
                continue
            if _one(p, "http_response_code") is None or not stream.pending:
                continue
            req = _pop(stream.pending, _int(_one(p, "http_request_in"), -1))
            yield self._flow(index, stream, req, p, time, names)
            index += 1
        for key, stream in streams.items():
            for mux in (m for m in (stream.h2, stream.h3) if m is not None):
                for ex in mux.rest():
                    if ex.request_headers:
                        stream.http = True
                        yield self._multiplexed_flow(
                            index, stream, ex, names, version=_version(mux)
                        )
                        index += 1
            if stream.h3 is not None:
                self._h3_warnings(stream, stream.h3, names)
            for req in stream.pending:  # requests the capture holds no answer to
                yield self._flow(index, stream, req, None, None, names)
                index += 1
            flow = self._unseen(index, key, stream, names)
            if flow is not None:
                yield flow
                index += 1

    # ---------------------------------------------------------------- streams

    @staticmethod
    def _multiplexed(
        p: dict[str, list[str]], protocols: list[str], stream: _Stream
    ) -> Http2Connection | Http3Connection | None:
        """The HTTP/2 or HTTP/3 connection a packet's frames belong to, if it has any."""
        if "http2" in protocols:
            stream.http2 = True
            if stream.h2 is None:
                stream.h2 = Http2Connection()
            return stream.h2
        if p.get("quic_stream_stream_id"):  # STREAM frames print only when decrypted
            if stream.h3 is None:
                stream.h3 = Http3Connection()
            return stream.h3
        return None

    def _stream(
        self,
        p: dict[str, list[str]],
        protocols: list[str],
        time: float,
        streams: dict[str, _Stream],
    ) -> _Stream | None:
        tcp = _one(p, "tcp_stream")
        udp = _one(p, "udp_stream")
        if tcp is None and udp is None:
            return None
        key = f"tcp:{tcp}" if tcp is not None else f"udp:{udp}"
        proto = "tcp" if tcp is not None else "udp"
        src = _one(p, "ip_src") or _one(p, "ipv6_src") or ""
        dst = _one(p, "ip_dst") or _one(p, "ipv6_dst") or ""
        sport = _int(_one(p, f"{proto}_srcport"))
        dport = _int(_one(p, f"{proto}_dstport"))
        stream = streams.get(key)
        if stream is None:
            stream = _Stream(
                udp=udp is not None and tcp is None,
                client=(src, sport),
                server=(dst, dport),
                start=time,
            )
            streams[key] = stream
        hello = "1" in (p.get("tls_handshake_type") or ())
        if hello and (src, sport) != stream.client:
            # the first packet we saw was the server's: the ClientHello says who is who
            stream.client, stream.server = stream.server, stream.client
        if tcp is not None:
            stream.bytes += _int(_one(p, "tcp_len"))
        else:
            stream.bytes += max(0, _int(_one(p, "udp_length")) - 8)
        if "tls" in protocols:
            stream.tls = True
        if "quic" in protocols:
            stream.quic = True
        sni = _one(p, "tls_handshake_extensions_server_name")
        if sni and stream.sni is None:
            stream.sni = sni.lower()
        return stream

    @staticmethod
    def _dns(p: dict[str, list[str]], names: dict[str, str]) -> None:
        if _one(p, "dns_flags_response") not in ("1", "True", "true"):
            return
        query = _one(p, "dns_qry_name")
        if not query:
            return
        for addr in (p.get("dns_a") or []) + (p.get("dns_aaaa") or []):
            names.setdefault(addr, query.lower())

    # ---------------------------------------------------------------- flows

    def _host(self, stream: _Stream, names: dict[str, str]) -> str:
        addr = stream.server[0]
        return stream.sni or names.get(addr) or addr

    def _flow(
        self,
        index: int,
        stream: _Stream,
        req: _Request,
        resp: dict[str, list[str]] | None,
        end: float | None,
        names: dict[str, str],
    ) -> Flow:
        scheme = "https" if stream.tls else "http"
        host_header = next((v for k, v in req.headers if k.lower() == "host"), "")
        authority = host_header or self._authority(stream, names, scheme)
        uri = req.uri
        url = uri if uri.startswith(("http://", "https://")) else f"{scheme}://{authority}{uri}"
        response_body = (
            _body(resp, lambda data: pcap_http1.response_body(data, req.method), "HTTP/")
            if resp is not None
            else None
        )
        return Flow(
            index=index,
            id=f"{self.path.name}#{req.frame}",
            method=req.method,
            url=url,
            scheme=scheme,
            http_version=req.version,
            request_start=req.time,
            response_end=end,
            client_address=stream.client,
            server_address=stream.server,
            sni=stream.sni,
            tls_version=None,
            tls_intercepted=True if stream.tls else None,
            request_headers=req.headers,
            request_body=req.body,
            status=_int(_one(resp, "http_response_code")) if resp is not None else None,
            reason=_one(resp, "http_response_phrase") if resp is not None else None,
            response_headers=_headers(resp.get("http_response_line")) if resp is not None else (),
            response_body=response_body,
            error=None if resp is not None else "no response in the capture",
        )

    def _multiplexed_flow(
        self,
        index: int,
        stream: _Stream,
        ex: Exchange,
        names: dict[str, str],
        version: str,
    ) -> Flow:
        secure = stream.tls or stream.quic
        scheme = ex.pseudo(":scheme") or ("https" if secure else "http")
        authority = ex.pseudo(":authority") or self._authority(stream, names, scheme)
        path = ex.pseudo(":path") or "/"
        status = ex.pseudo(":status", response=True)
        answered = ex.response_headers is not None
        return Flow(
            index=index,
            id=f"{self.path.name}#{ex.frame}:{ex.stream_id}",
            method=ex.pseudo(":method") or "GET",
            url=f"{scheme}://{authority}{path}",
            scheme=scheme,
            http_version=version,
            request_start=ex.time,
            response_end=ex.end,
            client_address=stream.client,
            server_address=stream.server,
            sni=stream.sni,
            tls_intercepted=True if secure else None,
            request_headers=tuple((k, v) for k, v in ex.request_headers if not k.startswith(":")),
            # HTTP/2 and /3 payloads are as sent (still compressed): the decoders undo
            # Content-Encoding
            request_body=_raw_body(ex.request_body, ex.request_size, ex.request_truncated),
            status=_int(status) if status else None,
            response_headers=tuple(
                (k, v) for k, v in ex.response_headers or () if not k.startswith(":")
            ),
            response_body=(
                _raw_body(ex.response_body, ex.response_size, ex.response_truncated)
                if answered
                else None
            ),
            error=None if answered else "no response in the capture",
        )

    def _h3_warnings(self, stream: _Stream, h3: Http3Connection, names: dict[str, str]) -> None:
        host = self._host(stream, names)
        if h3.truncated:
            self.warnings.append(
                f"{self.path.name}: {h3.truncated} HTTP/3 stream(s) to {host} cut at "
                f"{pcap_http3.MAX_STREAM_BYTES} bytes"
            )
        if h3.unread:
            self.warnings.append(
                f"{self.path.name}: {h3.unread} HTTP/3 message(s) to {host} could not be read "
                "(damaged frames, or header blocks whose QPACK table the capture lacks)"
            )

    def _authority(self, stream: _Stream, names: dict[str, str], scheme: str) -> str:
        host = self._host(stream, names)
        if ":" in host:
            host = f"[{host}]"
        port = stream.server[1]
        default = 443 if scheme == "https" else 80
        return host if port == default else f"{host}:{port}"

    def _unseen(self, index: int, key: str, stream: _Stream, names: dict[str, str]) -> Flow | None:
        """A connection whose content could not be read: a gap, and for TLS a CONNECT flow."""
        host = self._host(stream, names)
        if stream.quic and stream.h3 is not None and not stream.http:
            reason = HTTP3_UNREAD
        elif stream.quic and not stream.http:
            reason = HTTP3
        elif stream.tls and stream.http2 and not stream.http:
            reason = HTTP2
        elif stream.tls and not stream.http:
            reason = NO_KEYS
        elif not stream.tls and not stream.http and not stream.udp and stream.bytes > 0:
            self.skipped["tcp"] = self.skipped.get("tcp", 0) + 1
            self.gaps.append(
                CoverageGap(host=host, reason=NOT_HTTP, connections=1, bytes=stream.bytes)
            )
            return None
        else:
            if stream.udp and not stream.quic:
                self.skipped["udp"] = self.skipped.get("udp", 0) + 1
            return None
        self.gaps.append(CoverageGap(host=host, reason=reason, connections=1, bytes=stream.bytes))
        return Flow(
            index=index,
            id=f"{self.path.name}#{key}",
            method="CONNECT",
            url=f"https://{self._authority(stream, names, 'https')}/",
            scheme="https",
            http_version="HTTP/3" if reason in (HTTP3, HTTP3_UNREAD) else "",
            request_start=stream.start,
            client_address=stream.client,
            server_address=stream.server,
            sni=stream.sni,
            tls_intercepted=False,
            error=f"{_REASON_TEXT[reason]} ({stream.bytes} bytes)",
        )


def _version(mux: Http2Connection | Http3Connection) -> str:
    return "HTTP/3" if isinstance(mux, Http3Connection) else "HTTP/2.0"


def _pop(pending: list[_Request], frame: int) -> _Request:
    for i, req in enumerate(pending):
        if req.frame == frame:
            return pending.pop(i)
    return pending.pop(0)  # HTTP/1.1 answers in order


def _body(
    p: dict[str, list[str]], parse: Callable[[bytes], bytes | None], start: str
) -> Body | None:
    """A message's body as sent, parsed from the bytes tshark reassembled
    (``edscan.capture.pcap_http1``); else tshark's text of it, already de-chunked and
    decompressed (so the decoders must not gunzip it again), which is lossy for binary bodies."""
    data = pcap_http1.message(p, start)
    raw = parse(data) if data is not None else None
    if raw is not None:
        return Body(content=raw, size=len(raw)) if raw else None
    text = p.get("http_file_data")
    if not text:
        return None
    content = "".join(text).encode("utf-8", "surrogateescape")
    return Body(content=content, size=len(content), decoded=True)


def _raw_body(content: bytearray, size: int | None = None, truncated: bool = False) -> Body | None:
    if not content and not size:
        return None
    return Body(content=bytes(content), size=max(size or 0, len(content)), truncated=truncated)
