"""`edscan capture`'s texts, sizes, the port check and its option checks."""

from __future__ import annotations

import io
import socket
from pathlib import Path

import pytest

from edscan.capture.session import (
    CaptureOptions,
    CaptureSummary,
    check_port_free,
    human_bytes,
    parse_size,
    run_capture,
    startup_text,
    status_text,
    summary_text,
)
from edscan.errors import EdscanError


@pytest.mark.parametrize(
    ("text", "size"),
    [("0", 0), ("1000", 1000), ("512k", 512 * 1024), ("8m", 8 * 1024**2), ("1G", 1024**3)],
)
def test_parse_size(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "-1", "3x", "m", "1.5m"])
def test_parse_size_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="not a size"):
        parse_size(text)


def test_human_bytes() -> None:
    assert [human_bytes(n) for n in (0, 1023, 2048, 5 * 1024**2)] == [
        "0 B",
        "1023 B",
        "2.0 KB",
        "5.0 MB",
    ]


def _startup(host: str, lan: list[str] | None = None, interactive: bool = True) -> str:
    return startup_text(
        output=Path("/tmp/s.edscan.jsonl"),
        host=host,
        port=8080,
        confdir=Path("/home/a/.mitmproxy"),
        phase="login",
        lan=lan or [],
        interactive=interactive,
    )


def test_startup_text_says_what_to_do() -> None:
    text = _startup("127.0.0.1")
    assert "recording to /tmp/s.edscan.jsonl" in text
    assert "proxy of the device to 127.0.0.1, port 8080" in text
    assert "/home/a/.mitmproxy/mitmproxy-ca-cert.pem" in text
    assert "/home/a/.mitmproxy/mitmproxy-ca-cert.cer" in text
    assert "http://mitm.it" in text
    assert "type a label and Enter here" in text and "http://edscan.mark/LABEL" in text
    assert "Current phase: login" in text
    assert "WARNING" not in text


def test_startup_text_without_a_console_input() -> None:
    text = _startup("127.0.0.1", interactive=False)
    assert "type a label" not in text and "http://edscan.mark/LABEL" in text


def test_all_interfaces_are_warned_about() -> None:
    text = _startup("0.0.0.0", lan=["192.168.1.20"])
    assert "WARNING" in text and "anyone" in text and "trusted network" in text
    assert "192.168.1.20, port 8080" in text


def test_summary_text() -> None:
    s = CaptureSummary(
        path=Path("/tmp/s.edscan.jsonl"),
        flows=12,
        hosts=("a.test", "b.test"),
        bytes=3 * 1024,
        phases=("login", "quiz"),
        refused_hosts=("pinned.test",),
        unrecorded=1,
    )
    text = summary_text(s)
    assert "Recorded 12 flows from 2 hosts (3.0 KB) into /tmp/s.edscan.jsonl" in text
    assert "Phases: login, quiz" in text
    assert "1 host(s) refused the proxy's certificate" in text and "pinned.test" in text
    assert "1 flow(s) could not be recorded" in text
    assert text.endswith("Next: edscan report /tmp/s.edscan.jsonl -o report.html")


def test_port_in_use_is_one_clear_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(EdscanError, match=f"port {port} on 127.0.0.1 is already in use"):
            check_port_free("127.0.0.1", port)


def test_free_port_passes() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    check_port_free("127.0.0.1", port)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"max_body": -1}, "--max-body must be 0 or more"),
        ({"phase": "a\x00b"}, "--phase: a phase label cannot contain control"),
        ({"listen_port": 70000}, "is not a port"),
    ],
)
def test_bad_options_fail_before_anything_starts(
    tmp_path: Path, kw: dict[str, object], message: str
) -> None:
    opts = CaptureOptions(output=tmp_path / "x.edscan.jsonl", confdir=tmp_path, **kw)  # type: ignore[arg-type]
    with pytest.raises(EdscanError, match=message):
        run_capture(opts, out=io.StringIO())
    assert not (tmp_path / "x.edscan.jsonl").exists()


def test_output_must_be_a_new_file_in_an_existing_folder(tmp_path: Path) -> None:
    with pytest.raises(EdscanError, match="is a directory"):
        run_capture(CaptureOptions(output=tmp_path, confdir=tmp_path), out=io.StringIO())
    with pytest.raises(EdscanError, match="does not exist"):
        run_capture(
            CaptureOptions(output=tmp_path / "no" / "x.edscan.jsonl", confdir=tmp_path),
            out=io.StringIO(),
        )


def test_status_text_counts_what_was_recorded() -> None:
    from edscan.capture.recorder import Recorder

    rec = Recorder()
    assert status_text(rec) == "recording · flows: 0 · hosts: 0 · 0 B · phase: -"
    rec.stats.flows = 3
    rec.stats.hosts.update({"a.test", "b.test"})
    rec.stats.bytes = 2048
    rec.stats.refused_hosts.add("pinned.test")
    rec.phase = "quiz"
    assert status_text(rec) == (
        "recording · flows: 3 · hosts: 2 · 2.0 KB · phase: quiz · refused TLS: 1"
    )


def test_summary_says_how_many_requests_were_cut_off() -> None:
    s = CaptureSummary(
        path=Path("/tmp/s.edscan.jsonl"), flows=300, hosts=("a.test",), bytes=0, phases=(),
        refused_hosts=(), unrecorded=0, cut_off=280,
    )  # fmt: skip
    assert "280 request(s) were still unanswered at the stop" in summary_text(s)
    quiet = CaptureSummary(**{**{k: getattr(s, k) for k in s.__slots__}, "cut_off": 0})  # type: ignore[attr-defined]
    assert "unanswered" not in summary_text(quiet)


def test_negative_grace_is_refused(tmp_path: Path) -> None:
    opts = CaptureOptions(output=tmp_path / "x.edscan.jsonl", confdir=tmp_path, grace=-1)
    with pytest.raises(EdscanError, match="--grace must be 0 or more"):
        run_capture(opts, out=io.StringIO())


def test_an_unexpected_loop_error_is_one_line_and_a_cancelled_connection_none(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import asyncio
    import logging

    from edscan.capture.console import ConsoleOut
    from edscan.capture.session import _Session

    session = _Session(
        options=CaptureOptions(output=tmp_path / "x.edscan.jsonl", confdir=tmp_path),
        out=ConsoleOut(io.StringIO()), stdin=None, status_interval=1.0,
    )  # fmt: skip
    loop = asyncio.new_event_loop()
    try:
        with caplog.at_level(logging.DEBUG):
            # Python 3.11's start_server reports a cancelled client task like this
            session._loop_error(
                loop, {"message": "Unhandled", "exception": asyncio.CancelledError()}
            )
            assert caplog.records == []
            session._loop_error(loop, {"message": "x", "exception": OSError("disk on fire")})
            session._loop_error(loop, {"message": "Task was destroyed but it is pending!"})
    finally:
        loop.close()
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("ERROR", "edscan capture: unexpected error: disk on fire"),
        ("ERROR", "edscan capture: unexpected error: Task was destroyed but it is pending!"),
    ]
