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

_MAX_LAYERS = 10_000  # per connection; a tree is a few layers deep, this guards the walk


@dataclass(frozen=True, slots=True, kw_only=True)
class PartialBodies:
    """What had arrived of an unfinished flow's bodies (``None``: nothing buffered)."""

    request: bytes | None = None
    response: bytes | None = None


def _children(layer: Any) -> Iterator[Any]:
    """The layers ``layer`` hands events on to.

    Some keep their child in an attribute (``child_layer``, NextLayer's ``layer``); others
    (the proxy-mode layers) only through the bound method they replaced their own event
    handler with.
    """
    for name in ("child_layer", "layer", "_handle_event", "handle_event"):
        child = getattr(layer, name, None)
        child = getattr(child, "__self__", child)  # a bound method: the layer it is bound to
        if child is not None and child is not layer and hasattr(child, "handle_event"):
            yield child


def _streams(top: Any) -> Iterator[Any]:
    """Every ``HttpStream`` under ``top`` (through NextLayer, TLS, CONNECT tunnels)."""
    seen: set[int] = set()
    todo = [top]
    while todo and len(seen) < _MAX_LAYERS:
        layer = todo.pop()
        if layer is None or id(layer) in seen:
            continue
        seen.add(id(layer))
        if hasattr(layer, "response_body_buf"):
            yield layer
        streams = getattr(layer, "streams", None)
        if isinstance(streams, dict):
            todo.extend(streams.values())
        todo.extend(_children(layer))


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
