"""The LiveAlerts addon in mitmproxy's own test context: marks and comments as mitmweb shows
them, set on the proxy's loop, and a capture file that never holds them."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from mitmproxy import exceptions, http
from mitmproxy.test import taddons, tflow

from edscan.capture.recorder import Recorder
from edscan.live.addon import MARKER, LiveAlerts
from edscan.live.alert import AlertLevel
from edscan.live.analyser import LiveAnalyser

ROOT = Path(__file__).resolve().parents[2]
EMAIL = "ivo.quillfeather@example.org"


@pytest.fixture
def tctx() -> Iterator[taddons.context]:
    with taddons.context() as ctx:
        yield ctx
    # taddons leaves its event loop open; an unclosed loop is a ResourceWarning (an error here)
    ctx.master.event_loop.close()


@pytest.fixture
def persona(tmp_path: Path) -> Path:
    p = tmp_path / "persona.toml"
    p.write_text(f'[student]\nemail = "{EMAIL}"\n')
    return p


def _flow(url: str) -> http.HTTPFlow:
    f = tflow.tflow(resp=True)
    f.request = http.Request.make("GET", url, b"", [(b"Host", b"x")])
    return f


def _settle(tctx: taddons.context, live: LiveAlerts) -> None:
    assert live.analyser is not None and live.analyser.wait_idle(10)
    # what the worker handed over with call_soon_threadsafe runs on the proxy's loop
    tctx.master.event_loop.run_until_complete(asyncio.sleep(0.05))


def test_script_loads_recorder_and_live_alerts(tctx: taddons.context) -> None:
    module = tctx.script(str(ROOT / "addons" / "edscan_recorder.py"))
    assert isinstance(module.addons[0], Recorder)
    assert isinstance(module.addons[1], LiveAlerts)


def test_findings_mark_the_flow_and_never_reach_the_capture(
    tctx: taddons.context, tmp_capture: Path, persona: Path
) -> None:
    rec, live = Recorder(), LiveAlerts()
    tctx.master.addons.add(rec, live)
    tctx.configure(rec, edscan_capture=str(tmp_capture))
    tctx.configure(
        live,
        edscan_persona=str(persona),
        edscan_first_party=["school.example"],
        edscan_alerts="all",
    )
    tctx.master.event_loop.run_until_complete(_running(live))
    hashed = hashlib.sha256(EMAIL.encode()).hexdigest()
    leak = _flow(f"https://www.facebook.com/tr?id=1&ud[em]={hashed}")
    own = _flow(f"https://api.school.example/save?email={EMAIL}")
    again = _flow(f"https://graph.facebook.com/tr?ud[em]={hashed}")
    for f in (own, leak, again):
        rec.response(f)
    _settle(tctx, live)
    rec.done()
    assert leak.marked == MARKER
    assert leak.comment == "edscan: student e-mail (sha256) → Meta Platforms, Inc. (facebook.com)"
    assert own.marked == "" and own.comment == ""  # the first party is the app itself
    assert again.marked == ""  # one alert per element × recipient
    text = tmp_capture.read_text()
    assert "edscan: student e-mail" not in text and MARKER not in text
    assert text.count("\n") == 4  # header + three flows
    # the analysis ran in a process of its own, which ends with the addon
    worker = live.analyser.worker_pid if live.analyser else None
    assert worker is not None and worker != os.getpid()
    live.done()
    with pytest.raises(ProcessLookupError):
        os.kill(worker, 0)


async def _running(live: LiveAlerts) -> None:
    live.running()


def _running_analyser(
    tctx: taddons.context, capture: Path, persona: Path
) -> tuple[Recorder, LiveAlerts, LiveAnalyser]:
    """A recorder and live alerts on one proxy, the analyser's worker started."""
    rec, live = Recorder(), LiveAlerts()
    tctx.master.addons.add(rec, live)
    tctx.configure(rec, edscan_capture=str(capture))
    tctx.configure(live, edscan_persona=str(persona), edscan_first_party=["school.example"])
    tctx.master.event_loop.run_until_complete(_running(live))
    assert live.analyser is not None
    return rec, live, live.analyser


def test_bad_options_are_refused(tctx: taddons.context, tmp_path: Path) -> None:
    live = LiveAlerts()
    tctx.master.addons.add(live)
    with pytest.raises(exceptions.OptionsError, match="all, high, none"):
        tctx.configure(live, edscan_alerts="loud")
    with pytest.raises(exceptions.OptionsError, match="persona file not found"):
        tctx.configure(live, edscan_persona=str(tmp_path / "missing.toml"))


def test_alerts_none_never_analyses(tctx: taddons.context, tmp_capture: Path) -> None:
    rec, live = Recorder(), LiveAlerts()
    tctx.master.addons.add(rec, live)
    tctx.configure(rec, edscan_capture=str(tmp_capture))
    tctx.configure(live, edscan_alerts="none")
    tctx.master.event_loop.run_until_complete(_running(live))
    assert live.level is AlertLevel.NONE
    rec.response(_flow("https://www.facebook.com/tr?email=a@b.example"))
    rec.done()
    assert live.analyser is not None and live.analyser.stats.queued == 0
    assert rec.stats.flows == 1


def test_analysis_runs_in_a_worker_process_that_ends_with_the_addon(
    tctx: taddons.context, tmp_capture: Path, persona: Path
) -> None:
    import os

    rec, live, analyser = _running_analyser(tctx, tmp_capture, persona)
    process = analyser._process
    assert process is not None and process.pid != os.getpid()
    pid = process.pid
    rec.response(_flow(f"https://www.facebook.com/tr?em={EMAIL}"))
    _settle(tctx, live)
    rec.done()
    # the persona reached the worker (its values are a mapping proxy, rebuilt there)
    assert [a.what for a in analyser.stats.found] == ["student e-mail"]
    live.done()
    assert analyser._process is None
    with pytest.raises(ProcessLookupError):  # ended and reaped: no process left behind
        os.kill(pid, 0)


def test_a_finished_analyser_works_through_its_queue_and_counts_what_came_after(
    tctx: taddons.context, tmp_capture: Path, persona: Path
) -> None:
    rec, live, analyser = _running_analyser(tctx, tmp_capture, persona)
    for i in range(5):
        rec.response(_flow(f"https://www.facebook.com/tr?n={i}&em={EMAIL}"))
    analyser.finish()  # the stop's cut-off records were the last: the worker ends after them
    analyser.finish()  # a second call changes nothing
    rec.response(_flow(f"https://ads.tiktok.com/x?em={EMAIL}"))  # recorded, never analysed
    analyser.stop(timeout=30)
    tctx.master.event_loop.run_until_complete(asyncio.sleep(0.05))  # the alerts handed over
    rec.done()
    assert analyser.stats.analysed == 5 and analyser.stats.unfinished == 1
    assert [a.domain for a in analyser.stats.found] == ["facebook.com"]
    live.done()
