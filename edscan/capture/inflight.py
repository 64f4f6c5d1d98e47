"""What mitmproxy holds of the flows still in flight when a capture stops, and closing them.

mitmproxy buffers a body until it is complete (unless streaming is on) and shows it to addons
only then; a flow the stop cuts off would lose what had already arrived. The buffers live in
the proxy's layer tree (``HttpStream.request_body_buf`` / ``response_body_buf``), which no
public API exposes, so this walks the tree defensively: anything unexpected (another mitmproxy
version) gives no partial bodies rather than an error, and the flow is still recorded with its
headers. ``tests/capture/test_inflight.py`` fails if the walk stops finding them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

_MAX_DEPTH = 64  # a layer tree is a few levels deep; this only guards against a cycle


@dataclass(frozen=True, slots=True, kw_only=True)
class PartialBodies:
    """What had arrived of an unfinished flow's bodies (``None``: nothing buffered)."""

    request: bytes | None = None
    response: bytes | None = None


def _streams(layer: Any, depth: int = 0) -> Iterator[Any]:
    """Every ``HttpStream`` under ``layer`` (through NextLayer, TLS, CONNECT tunnels)."""
    if layer is None or depth > _MAX_DEPTH:
        return
    streams = getattr(layer, "streams", None)
    if isinstance(streams, dict):
        for stream in list(streams.values()):
            yield stream
            yield from _streams(getattr(stream, "child_layer", None), depth + 1)
    for name in ("layer", "child_layer"):
        child = getattr(layer, name, None)
        if child is not None and child is not layer:
            yield from _streams(child, depth + 1)


def _connections(master: Any) -> list[Any]:
    ps = master.addons.get("proxyserver") if master is not None else None
    conns = getattr(ps, "connections", None)
    return list(conns.values()) if isinstance(conns, dict) else []


def partial_bodies(master: Any) -> dict[str, PartialBodies]:
    """Flow id → the body bytes buffered so far, for every stream of every open connection."""
    found: dict[str, PartialBodies] = {}
    try:
        for handler in _connections(master):
            for stream in _streams(getattr(handler, "layer", None)):
                flow = getattr(stream, "flow", None)
                if flow is None:
                    continue
                req = getattr(stream, "request_body_buf", None)
                resp = getattr(stream, "response_body_buf", None)
                found[flow.id] = PartialBodies(
                    request=bytes(req) if req else None,
                    response=bytes(resp) if resp else None,
                )
    except Exception:  # a layout this code does not know: headers only, never a crash
        logger.debug("edscan: could not read the bodies still arriving", exc_info=True)
    return found


async def close_connections(master: Any, timeout: float) -> int:
    """Close every client connection and wait (at most ``timeout`` s) until they are gone.

    Cancelling each connection's handler task, as mitmproxy's own "kill" does, lets its client
    task end normally: a client task left for ``asyncio.run`` to cancel at exit is what prints
    a ``CancelledError`` traceback per connection on Python 3.11. Returns the connections still
    open at the timeout.
    """
    for handler in _connections(master):
        with contextlib.suppress(Exception):
            transport = handler.transports.get(handler.client)
            if transport is not None and transport.handler is not None:
                transport.handler.cancel("the capture stopped")
    deadline = time.monotonic() + timeout
    while _connections(master) and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    return len(_connections(master))
