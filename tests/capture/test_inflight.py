"""Finding what mitmproxy buffered of unfinished bodies, in a layer tree built from mitmproxy's
own layer classes the way its proxy core links them (the end-to-end stop tests in
test_capture_stop.py check the same against the running proxy)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from mitmproxy import options
from mitmproxy.proxy import context, layer
from mitmproxy.proxy.layers import http as http_layers
from mitmproxy.proxy.layers import modes
from mitmproxy.test import tflow

from edscan.capture.inflight import PartialBodies, close_connections, partial_bodies


def _context() -> context.Context:
    return context.Context(tflow.tclient_conn(), options.Options())  # type: ignore[no-untyped-call]


def _stream(ctx: context.Context, request: bytes = b"", response: bytes = b"") -> Any:
    stream = http_layers.HttpStream(ctx, 1)
    stream.flow = tflow.tflow()
    stream.request_body_buf += request
    stream.response_body_buf += response
    return stream


def _http_layer(ctx: context.Context, *streams: Any) -> Any:
    h = http_layers.HttpLayer(ctx, http_layers.HTTPMode.regular)
    h.streams = {2 * i + 1: s for i, s in enumerate(streams)}
    return h


@dataclass
class _Handler:
    layer: Any
    transports: dict[Any, Any] = field(default_factory=dict)
    client: Any = None


@dataclass
class _Proxyserver:
    connections: dict[Any, _Handler]


@dataclass
class _Addons:
    proxyserver: _Proxyserver | None

    def get(self, name: str) -> Any:
        return self.proxyserver if name == "proxyserver" else None


@dataclass
class _Master:
    addons: _Addons


def _master(*handlers: _Handler) -> _Master:
    return _Master(_Addons(_Proxyserver({i: h for i, h in enumerate(handlers)})))


def test_bodies_are_found_behind_the_proxy_mode_layer_and_inside_a_tunnel() -> None:
    ctx = _context()
    streaming = _stream(ctx, response=b"first chunk")
    uploading = _stream(ctx, request=b'{"essay": "half')
    # an HTTPS request inside a CONNECT tunnel: the CONNECT stream's child is another HttpLayer
    connect = _stream(ctx)
    inner = layer.NextLayer(ctx)
    inner.layer = _http_layer(ctx, uploading)
    connect.child_layer = inner
    next_layer = layer.NextLayer(ctx)
    next_layer.layer = _http_layer(ctx, streaming, connect)
    top = modes.HttpProxy(ctx)
    # what HttpProxy does on start: it replaces its handler with its child's, keeping no attribute
    top._handle_event = next_layer.handle_event  # type: ignore[method-assign]
    found = partial_bodies(_master(_Handler(layer=top)))
    assert found[streaming.flow.id] == PartialBodies(response=b"first chunk")
    assert found[uploading.flow.id] == PartialBodies(request=b'{"essay": "half')
    assert found[connect.flow.id] == PartialBodies()


def test_no_proxy_or_an_unknown_layout_gives_nothing_rather_than_an_error() -> None:
    assert partial_bodies(_Master(_Addons(None))) == {}
    assert partial_bodies(_master(_Handler(layer=object()))) == {}
    assert partial_bodies(None) == {}


def test_closing_cancels_each_client_connection_and_waits_for_it() -> None:
    async def run() -> tuple[int, bool]:
        handlers: list[_Handler] = []
        master = _master()
        assert master.addons.proxyserver is not None
        conns = master.addons.proxyserver.connections

        async def client_task(key: int) -> None:
            try:
                await asyncio.sleep(60)
            finally:
                del conns[key]  # what mitmproxy's register_connection does on the way out

        for key in range(3):
            task = asyncio.create_task(client_task(key))
            h = _Handler(layer=None, client=f"client-{key}")
            h.transports[h.client] = type("IO", (), {"handler": task})()
            conns[key] = h
            handlers.append(h)
        await asyncio.sleep(0)
        left = await close_connections(master, timeout=1.0)
        return left, all(h.transports[h.client].handler.cancelled() for h in handlers)

    assert asyncio.run(run()) == (0, True)
