"""A demo-only mitmproxy addon: answers every request on the machine, so nothing leaves it.

Load it into the same mitmdump as the recorder (``-s edscan/demo/upstream.py`` first)::

    mitmdump -s edscan/demo/upstream.py -s addons/edscan_recorder.py \
        --set edscan_demo_app=127.0.0.1:8123 --set connection_strategy=lazy ...

- ``*.brindlewick.test`` requests are forwarded, exactly as sent, to the loopback app server
  (``edscan_demo_app``) and its reply becomes the response.
- The real third-party hostnames of the session (``manifest.THIRD_PARTIES``) get a canned reply
  shaped like the vendor's (a 1x1 GIF for pixels, 204 for beacons, JSON for APIs).
- Anything else gets a 502 from the addon, and any attempt to open an upstream connection is
  refused in ``server_connect``.

A response set in the ``request`` hook makes mitmproxy skip the upstream connection but still
run the ``response`` hooks, so the recorder records each flow with its URL, headers and bodies
exactly as the client sent them. Phase marks (``http://edscan.mark/...``) are left to the recorder.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from http.client import HTTPConnection
from typing import Any

from mitmproxy import http

from edscan.demo.manifest import FIRST_PARTY_HOSTS, MARK_HOST, THIRD_PARTY_HOSTS

log = logging.getLogger(__name__)

GIF = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)
# hop-by-hop headers a forwarded reply must not repeat (the proxy frames the body itself)
_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"}


def _json_reply(obj: Any, status: int = 200) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json"}, json.dumps(obj).encode()


def canned_reply(host: str, path: str) -> tuple[int, dict[str, str], bytes]:
    """The reply a vendor's collector would give, minus anything that matters to a scan."""
    if host == "www.facebook.com":
        return 200, {"Content-Type": "image/gif"}, GIF
    if host == "idsync.rlcdn.com":
        cookie = "rlas3=demo0f3kq9LmZ2x7; Domain=.rlcdn.com; Path=/; Max-Age=31536000; Secure; SameSite=None"
        return 200, {"Content-Type": "image/gif", "Set-Cookie": cookie}, GIF
    if host == "analytics.tiktok.com":
        return _json_reply({"code": 0, "message": "OK"})
    if host == "api.segment.io":
        return _json_reply({"success": True})
    if host == "sdk.iad-01.braze.com":
        return _json_reply({"config": {"time": int(time.time())}})
    if host == "api-js.mixpanel.com":
        return 200, {"Content-Type": "text/plain"}, b"1"
    if host == "api2.amplitude.com":
        return _json_reply({"code": 200, "events_ingested": 1, "server_upload_time": 0})
    if host.endswith(".ingest.sentry.io"):
        return _json_reply({"id": "0" * 32})
    if host == "rs.fullstory.com":
        return _json_reply({"BundleTime": int(time.time() * 1000)})
    if host == "api.deepgram.com":
        return _json_reply(
            {"results": {"channels": [{"alternatives": [{"transcript": "", "confidence": 0}]}]}}
        )
    if host == "api.openai.com":
        return _json_reply(
            {
                "id": "chatcmpl-demo",
                "object": "chat.completion",
                "model": "gpt-4o-mini",
                "choices": [
                    {
                        "index": 0,
                        "message": {
                            "role": "assistant",
                            "content": "Clear topic sentence. Add one example of chlorophyll at work.",
                        },
                        "finish_reason": "stop",
                    }
                ],
            }
        )
    # GA4, Firebase, the plain-HTTP beacon and the (empty) bid response
    return 204, {}, b""


class DemoUpstream:
    """Answers first-party requests from the loopback app and third parties with canned replies."""

    def __init__(self) -> None:
        self.app: tuple[str, int] | None = None
        self.counts = {"first_party": 0, "third_party": 0, "refused": 0}

    def load(self, loader: Any) -> None:
        loader.add_option(
            "edscan_demo_app", str, "", "host:port of the demo's loopback app server."
        )

    def configure(self, updated: set[str]) -> None:
        from mitmproxy import ctx, exceptions

        if "edscan_demo_app" in updated and ctx.options.edscan_demo_app:
            host, _, port = ctx.options.edscan_demo_app.rpartition(":")
            if not host or not port.isdigit():
                raise exceptions.OptionsError("edscan_demo_app must be HOST:PORT")  # type: ignore[no-untyped-call]
            self.app = (host, int(port))

    async def request(self, flow: http.HTTPFlow) -> None:
        if flow.response is not None:
            return
        host = flow.request.pretty_host.lower()
        if host == MARK_HOST:
            return  # the recorder answers phase marks
        if host in FIRST_PARTY_HOSTS and self.app is not None:
            self.counts["first_party"] += 1
            flow.response = await asyncio.to_thread(self._forward, flow.request)
        elif host in THIRD_PARTY_HOSTS:
            self.counts["third_party"] += 1
            status, headers, content = canned_reply(host, flow.request.path)
            flow.response = http.Response.make(status, content, headers)
        else:
            self.counts["refused"] += 1
            flow.response = http.Response.make(
                502,
                b"edscan demo: this host is not part of the demo",
                {"Content-Type": "text/plain"},
            )

    def _forward(self, request: http.Request) -> http.Response:
        assert self.app is not None
        conn = HTTPConnection(*self.app, timeout=10)
        try:
            conn.putrequest(request.method, request.path, skip_host=True, skip_accept_encoding=True)
            for key, value in request.headers.fields:
                if key.decode("latin-1").lower() not in _HOP:
                    conn.putheader(key.decode("latin-1"), value.decode("latin-1"))
            if "host" not in request.headers:  # HTTP/2 carries :authority instead
                conn.putheader("Host", request.pretty_host)
            body = request.raw_content or b""
            if body and "content-length" not in request.headers:
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body or None)
            reply = conn.getresponse()
            content = reply.read()
            headers = [
                (k.encode("latin-1"), v.encode("latin-1"))
                for k, v in reply.getheaders()
                if k.lower() not in _HOP
            ]
            return http.Response.make(reply.status, content, headers)
        finally:
            conn.close()

    def server_connect(self, data: Any) -> None:
        # every request is answered above; an upstream connection would be a leak
        self.counts["refused"] += 1
        data.server.error = "edscan demo: upstream connections are disabled"

    def done(self) -> None:
        log.info(
            "edscan demo: answered %(first_party)d first-party and %(third_party)d third-party "
            "requests, refused %(refused)d",
            self.counts,
        )


addons = [DemoUpstream()]
