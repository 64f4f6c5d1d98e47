"""The children rules (EDS025-EDS029) end to end: a real capture file through the decoder, the
persona detector, the bundled tracker lists and the rules; each rule with a near miss."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from edscan.capture.capture_file import CaptureWriter
from edscan.detect.persona import load_persona
from edscan.models import Body, Flow
from edscan.pipeline import scan
from edscan.rules.children import AGE_BAND_SETTING

FIRST = "quillpond.test"
EMAIL = "vel.ornbetta.7c1d@example.org"
AD_ID = "3f2b8c1e-8d4a-4b6e-9a7f-2c5d1e0b9a47"
DEVICE_ID = "a4c19e07d2b35f68"
LAT, LON = "41.308312", "-72.927811"
T = 1777000000.0  # 2026-04-24: after the 2025 COPPA amendments' compliance date


def _flow(i: int, url: str, body: bytes = b"", ctype: str = "", method: str = "GET") -> Flow:
    headers = (("content-type", ctype),) if ctype else ()
    return Flow(
        index=i,
        id=f"f{i}",
        method=method,
        url=url,
        scheme="https",
        request_headers=headers,
        request_body=Body(content=body, size=len(body)) if body else None,
        status=200,
        request_start=T + i,
    )


def _capture(path: Path, *, near_miss: bool) -> Path:
    hashed = hashlib.sha256(EMAIL.encode()).hexdigest()
    location = {"lat": 41.3, "lon": -72.9} if near_miss else {"lat": float(LAT), "lon": float(LON)}
    flag = "" if near_miss else "&tfcd=1"
    ids = json.dumps({"event": "open", "properties": {"$device_id": DEVICE_ID}}).encode()
    flows = [
        _flow(
            0,
            f"https://api.{FIRST}/v1/activity",
            json.dumps({"email": EMAIL, **location}).encode(),
            "application/json",
            "POST",
        ),
        _flow(1, f"https://securepubads.g.doubleclick.net/gampad/ads?iu=/1/x&rdid={AD_ID}{flag}"),
        _flow(
            2,
            "https://o1.ingest.sentry.io/api/1/store/"
            if near_miss
            else "https://api-js.mixpanel.com/track",
            ids,
            "application/json",
            "POST",
        ),
        _flow(3, f"https://www.facebook.com/tr?id=1&ev=PageView&ud[em]={hashed}"),
        _flow(
            4,
            "https://speech.googleapis.com/v1/speech:recognize",
            b'{"config": {}}' if near_miss else b"\x00\x01" * 800,
            "application/json" if near_miss else "audio/l16; rate=16000",
            "POST",
        ),
    ]
    with CaptureWriter(path) as w:
        for f in flows:
            w.write(f)
    return path


def _persona(path: Path, band: str) -> Path:
    path.write_text(
        "[student]\n"
        f'email = "{EMAIL}"\nadvertising_id = "{AD_ID}"\ndevice_id = "{DEVICE_ID}"\n'
        f'lat = {LAT}\nlon = {LON}\nage_band = "{band}"\n',
        encoding="utf-8",
    )
    return path


def _rules_by_domain(tmp_path: Path, *, near_miss: bool, band: str) -> dict[str, set[str]]:
    capture = _capture(tmp_path / "c.edscan.jsonl", near_miss=near_miss)
    result = scan(
        capture,
        persona=load_persona(_persona(tmp_path / "p.toml", band)),
        first_party=(FIRST,),
        data_dir=tmp_path / "lists",
    )
    assert result.settings[AGE_BAND_SETTING] == band
    out: dict[str, set[str]] = {}
    for f in result.findings:
        for d in f.recipients:
            out.setdefault(d, set()).add(f.rule)
        assert "may be inconsistent with" in f.summary and "violat" not in f.summary.lower()
        assert all(c.on == "2026-04-24" for c in f.citations)
    return out


def test_each_children_rule_fires_on_its_traffic(tmp_path: Path) -> None:
    got = _rules_by_domain(tmp_path, near_miss=False, band="13-17")
    assert "EDS029" in got[FIRST]  # street-level location to the app's own API
    assert "EDS025" in got["doubleclick.net"]  # the app set tfcd=1: child-directed
    assert "EDS026" in got["mixpanel.com"]  # a device id to an analytics company
    assert "EDS027" in got["facebook.com"]  # the 13-17 persona's e-mail, hashed
    assert "EDS028" in got["speech.googleapis.com"]  # raw audio to a speech service


def test_and_none_fires_on_the_near_misses(tmp_path: Path) -> None:
    got = _rules_by_domain(tmp_path, near_miss=True, band="18+")
    fired = {r for rules in got.values() for r in rules}
    assert not fired & {"EDS025", "EDS026", "EDS027", "EDS028", "EDS029"}, got
    assert "EDS001" in got["facebook.com"]  # the adult's e-mail at Meta is still reported
