"""Faults injected into every recorder path but the write itself, through a real mitmdump:
the client still gets every response, and each fault is logged once, naming its flow."""

from __future__ import annotations

import gzip
import textwrap
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from liveproxy import http_origin, mitmdump

from edscan.capture.capture_file import read_capture

pytestmark = pytest.mark.e2e

# Loaded after the recorder: it breaks the recorder's helpers for the requests that ask for it.
FAULTS = textwrap.dedent(
    """
    import edscan.capture.recorder as rec
    from mitmproxy import ctx

    real_convert = rec.record_from_mitmproxy
    real_count = rec.Recorder._count
    real_page = rec._mark_page

    def convert(f, **kw):
        if "fault=convert" in f.request.url:
            raise ValueError("injected: conversion failed")
        return real_convert(f, **kw)

    def count(self, record, f):
        if "fault=count" in f.request.url:
            raise RuntimeError("injected: counting failed")
        return real_count(self, record, f)

    def page(phase, problem):
        if phase == "broken":
            raise RuntimeError("injected: mark page failed")
        return real_page(phase, problem)

    def listener(label):
        raise RuntimeError("injected: phase listener failed")

    rec.record_from_mitmproxy = convert
    rec.Recorder._count = count
    rec._mark_page = page

    class Faults:
        def running(self):
            ctx.master.addons.get("recorder").on_phase = listener

    addons = [Faults()]
    """
)


def test_faults_never_break_the_traffic(tmp_path: Path) -> None:
    script = tmp_path / "faults.py"
    script.write_text(FAULTS)
    capture = tmp_path / "faults.edscan.jsonl"
    plan = ["ok", "convert", "count", "ok", "convert", "gzip", "count", "ok"] * 3
    got: list[int] = []
    with (
        http_origin() as origin,
        mitmdump(tmp_path, capture, extra=("-s", str(script))) as proxy,
        httpx.Client(proxy=proxy.proxy_url, trust_env=False, timeout=10) as client,
    ):
        mark = client.get("http://edscan.mark/broken")  # page and listener both fail
        for i, fault in enumerate(plan):
            headers = {}
            body = b'{"student": "Maya"}'
            if fault == "gzip":  # a body that says gzip and is not: a natural decode fault
                headers["Content-Encoding"] = "gzip"
                body = b"not gzip" + gzip.compress(body)[:5]
            r = client.post(origin.url(f"/x?rid={i}&fault={fault}"), content=body, headers=headers)
            got.append(r.status_code)
        assert proxy.stop() == 0
    log = proxy.log.read_text(errors="replace")
    assert mark.status_code == 500  # answered by the recorder, never forwarded
    assert got == [200] * len(plan), got  # every response reached the client
    recorded = {int(parse_qs(urlsplit(f.url).query)["rid"][0]) for f in read_capture(capture)}
    for i, fault in enumerate(plan):
        url_part = f"rid={i}&fault={fault}"
        lines = [ln for ln in log.splitlines() if url_part in ln and "edscan:" in ln]
        if fault == "convert":
            assert i not in recorded
            assert len(lines) == 1 and "could not record flow" in lines[0], lines
        elif fault == "count":
            assert i in recorded  # written; only the live counters missed it
            assert len(lines) == 1 and "could not count flow" in lines[0], lines
        else:
            assert i in recorded and lines == [], lines
    assert log.count("RuntimeError: injected: phase listener failed") == 1
    assert log.count("RuntimeError: injected: mark page failed") == 1
    assert "could not answer a phase mark (http://edscan.mark/broken)" in log
    assert "error establishing server connection" not in log  # the mark was not forwarded
