"""mitmproxy dumps (.mitm): every flow kind, cut-off and unreadable dumps, the real corpus."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SHARED, shared_path
from mitmproxy import io as mitmio
from mitmproxy.io import tnetstring
from mitmproxy.test import tflow

from edscan.errors import CaptureError
from edscan.importers import open_source
from edscan.importers.mitm import MitmSource


def _http(version: str, path: str) -> object:
    f = tflow.tflow(resp=True)
    f.request.http_version = version
    f.request.path = path
    f.response.http_version = version
    return f


def _dump(path: Path, flows: list[object]) -> Path:
    with path.open("wb") as fo:
        writer = mitmio.FlowWriter(fo)
        for f in flows:
            writer.add(f)  # type: ignore[arg-type]
    return path


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    ws = tflow.twebsocketflow()
    failed = tflow.tflow(err=True)
    phased = _http("HTTP/1.1", "/quiz")
    phased.metadata["edscan.phase"] = "quiz"  # type: ignore[attr-defined]
    return _dump(
        tmp_path / "mixed.mitm",
        [
            _http("HTTP/1.1", "/one"),
            tflow.ttcpflow(),
            _http("HTTP/2.0", "/two"),
            tflow.tudpflow(),
            _http("HTTP/3", "/three"),
            tflow.tdnsflow(),
            ws,
            failed,
            tflow.ttcpflow(),
            phased,
        ],
    )


def test_every_http_flow_kind_and_the_others_counted(mixed: Path) -> None:
    source = open_source(mixed)
    assert isinstance(source, MitmSource) and source.format == "mitm"
    flows = list(source)
    assert [f.index for f in flows] == [0, 1, 2, 3, 4, 5]
    assert [f.http_version for f in flows[:3]] == ["HTTP/1.1", "HTTP/2.0", "HTTP/3"]
    assert [f.url.rsplit("/", 1)[1] for f in flows[:3]] == ["one", "two", "three"]
    ws = flows[3]
    assert ws.websocket and {m.from_client for m in ws.websocket} == {True, False}
    assert flows[4].error == "error" and flows[4].status is None
    assert flows[5].phase == "quiz" and flows[0].phase is None
    assert source.skipped == {"tcp": 2, "udp": 1, "dns": 1}
    assert source.warnings == []
    # bodies stay as they were sent
    assert flows[0].response_body is not None and not flows[0].response_body.decoded


def test_a_cut_off_dump_keeps_the_flows_before_the_cut(mixed: Path, tmp_path: Path) -> None:
    full = [f.url for f in open_source(mixed)]
    data = mixed.read_bytes()
    cut = tmp_path / "cut.mitm"
    cut.write_bytes(data[: len(data) - 30])  # into the last flow
    source = open_source(cut)
    assert [f.url for f in source] == full[:-1]
    assert len(source.warnings) == 1
    assert "cut off in the middle of a flow" in source.warnings[0]
    assert "kept the 9 flows before it" in source.warnings[0]


def test_a_dump_cut_inside_its_first_flow(mixed: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.mitm"
    cut.write_bytes(mixed.read_bytes()[:200])
    with pytest.raises(CaptureError, match="cut off before its first complete flow"):
        open_source(cut)


def test_garbage_after_good_flows_is_reported(mixed: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.mitm"
    bad.write_bytes(mixed.read_bytes() + b"12:xxxxxxxxxxxxZ" + b"tail" * 10)
    source = open_source(bad)
    assert len(list(source)) == 6
    assert len(source.warnings) == 1 and "invalid data near byte" in source.warnings[0]


def test_digits_then_junk(tmp_path: Path) -> None:
    p = tmp_path / "junk.mitm"
    p.write_bytes(b"5:hello!" + b"\x00" * 100)
    with pytest.raises(CaptureError, match="not a mitmproxy dump edscan can read"):
        open_source(p)


def _versioned(tmp_path: Path, version: object) -> Path:
    state = tflow.tflow(resp=True).get_state()
    state["version"] = version
    p = tmp_path / "versioned.mitm"
    with p.open("wb") as fo:
        tnetstring.dump(state, fo)
    return p


def test_a_dump_from_a_newer_mitmproxy(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match=r"newer mitmproxy \(flow format 99\)"):
        open_source(_versioned(tmp_path, 99))


def test_a_dump_from_an_ancient_mitmproxy(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match=r"old mitmproxy \(flow format 0\.9\)"):
        open_source(_versioned(tmp_path, [0, 9]))


# --------------------------------------------------------------------------- the real corpus


def _corpus() -> list[str]:
    root = SHARED / "corpus" / "mitmproxy"
    found = (
        sorted(str(p.relative_to(root)) for p in root.glob("**/*.mitm")) if root.exists() else []
    )
    return found or ["(absent)"]


TOO_OLD = {"dumpfile-010.mitm"}


@pytest.mark.parametrize("name", _corpus())
def test_every_corpus_dump_imports_or_fails_clearly(name: str) -> None:
    path = shared_path("corpus", "mitmproxy", name)
    if name in TOO_OLD:
        with pytest.raises(CaptureError, match=r"old mitmproxy \(flow format 0\.10\)"):
            open_source(path)
        return
    source = open_source(path)
    flows = list(source)
    assert source.format == "mitm" and source.warnings == []
    assert flows and all(f.method and f.url.startswith(("http://", "https://")) for f in flows)


def test_corpus_http3_tcp_and_websocket() -> None:
    h3 = list(open_source(shared_path("corpus", "mitmproxy", "dumpfile-19.mitm")))
    assert [f.http_version for f in h3] == ["HTTP/3"]
    diff = open_source(shared_path("corpus", "mitmproxy", "flows", "diff_data.mitm"))
    assert len(list(diff)) == 5 and diff.skipped == {"tcp": 2}
    ws = list(open_source(shared_path("corpus", "mitmproxy", "dumpfile-7-websocket.mitm")))
    assert sum(len(f.websocket) for f in ws) > 0


def test_corpus_host_comes_from_the_host_header() -> None:
    # this dump's requests name the server by IP; the Host header names the recipient
    flows = list(open_source(shared_path("corpus", "mitmproxy", "flows", "event_stream.mitm")))
    assert {f.host for f in flows} == {"clientstream.launchdarkly.com"}
