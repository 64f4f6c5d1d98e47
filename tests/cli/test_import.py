"""`edscan convert` and `edscan info` from the command line: output, exit codes, bad input."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import DATA, shared_path
from mitmproxy import io as mitmio
from mitmproxy.io import tnetstring
from mitmproxy.test import tflow

from edscan.capture.capture_file import CaptureWriter
from edscan.capture.source import open_source
from edscan.cli import cli
from edscan.models import Body, Flow

HAR = DATA / "har"


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def _capture(path: Path) -> Path:
    with CaptureWriter(path, {"max_body": 1000}) as w:
        for i, (host, phase) in enumerate(
            [("a.example.test", "login"), ("b.example.net", "login"), ("a.example.test", "quiz")]
        ):
            w.write(
                Flow(
                    index=i,
                    id=f"f{i}",
                    method="POST",
                    url=f"https://{host}/x",
                    request_start=1714982400.0 + i,
                    response_end=1714982400.5 + i,
                    request_body=Body(content=b"{}", size=2),
                    status=200,
                    phase=phase,
                )
            )
    return path


# --------------------------------------------------------------------------- convert


def test_convert_har_to_capture_and_back(tmp_path: Path) -> None:
    out = tmp_path / "c.edscan.jsonl"
    code, stdout, stderr = _run("convert", str(HAR / "chrome.har"), "-o", str(out))
    assert code == 0 and stdout == ""
    assert stderr == f"wrote 4 flows to {out} (edscan, from har); skipped 1 cached, 1 not-http\n"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600  # children's data
    header = json.loads(out.read_text().splitlines()[0])
    assert header["settings"] == {"converted_from": {"format": "har", "file": "chrome.har"}}

    har = tmp_path / "c.har"
    code, _, stderr = _run("convert", str(out), "-o", str(har))
    assert code == 0 and "wrote 4 flows" in stderr
    assert stat.S_IMODE(har.stat().st_mode) == 0o600
    assert len(json.loads(har.read_text())["log"]["entries"]) == 4


def test_convert_replaces_an_existing_file_privately(tmp_path: Path) -> None:
    out = tmp_path / "old.har"
    out.write_text("old")
    out.chmod(0o644)
    code, _, _ = _run("convert", str(HAR / "charles.har"), "-o", str(out))
    assert code == 0 and stat.S_IMODE(out.stat().st_mode) == 0o600
    assert json.loads(out.read_text())["log"]["creator"]["name"] == "edscan"


def test_convert_reports_warnings(tmp_path: Path) -> None:
    code, _, stderr = _run("convert", str(HAR / "quirks.har"), "-o", str(tmp_path / "q.har"))
    assert code == 0
    assert "warning: quirks.har: entry 3 skipped: no request" in stderr


@pytest.mark.parametrize("name", ["out.json", "out.jsonl", "out", "out.har.txt"])
def test_convert_needs_an_output_name_that_says_the_format(tmp_path: Path, name: str) -> None:
    code, stdout, stderr = _run("convert", str(HAR / "charles.har"), "-o", str(tmp_path / name))
    assert code == 2 and stdout == ""
    assert stderr.count("\n") == 1 and "name it *.har or *.edscan.jsonl" in stderr
    assert not (tmp_path / name).exists()


def test_a_failed_conversion_leaves_no_output_and_keeps_the_old_one(tmp_path: Path) -> None:
    bad = tmp_path / "bad.har"
    bad.write_text('{"log": {"entries": [')
    fresh, old = tmp_path / "fresh.har", tmp_path / "old.edscan.jsonl"
    old.write_text("keep me")
    for out in (fresh, old):
        code, _, stderr = _run("convert", str(bad), "-o", str(out))
        assert code == 2 and "the file is truncated" in stderr
    assert not fresh.exists() and old.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.har", "old.edscan.jsonl"]


def test_convert_refuses_to_overwrite_its_input(tmp_path: Path) -> None:
    src = tmp_path / "in.har"
    src.write_bytes((HAR / "charles.har").read_bytes())
    code, _, stderr = _run("convert", str(src), "-o", str(src))
    assert code == 2 and "the output is the input" in stderr
    assert src.read_bytes() == (HAR / "charles.har").read_bytes()


def test_convert_a_corpus_dump_to_har(tmp_path: Path) -> None:
    dump = shared_path("corpus", "mitmproxy", "flows", "diff_data.mitm")
    code, _, stderr = _run("convert", str(dump), "-o", str(tmp_path / "d.har"))
    assert (
        code == 0
        and stderr == f"wrote 5 flows to {tmp_path / 'd.har'} (har, from mitm); skipped 2 tcp\n"
    )


# --------------------------------------------------------------------------- info


def test_info_text(tmp_path: Path) -> None:
    cap = _capture(tmp_path / "s.edscan.jsonl")
    code, stdout, stderr = _run("info", str(cap))
    assert code == 0 and stderr == ""
    lines = stdout.splitlines()
    assert lines[0] == f"capture   {cap}"
    assert lines[1].startswith("format    edscan capture, ")
    assert "settings.max_body 1000" in lines
    assert "flows     3" in lines
    assert "time      2024-05-06 08:00:00 UTC to 2024-05-06 08:00:02 UTC (2.5 s)" in lines
    assert "phases    login (2), quiz (1)" in lines
    hosts = lines[lines.index("hosts     2") + 1 :]
    assert hosts == ["  2  a.example.test", "  1  b.example.net"]


def test_info_counts_the_flows_the_stop_cut_off(tmp_path: Path) -> None:
    cap = tmp_path / "busy.edscan.jsonl"
    with CaptureWriter(cap, {}) as w:
        for i in range(3):
            w.write(
                Flow(
                    index=i, id=f"f{i}", method="GET", url=f"https://a.example.test/e?n={i}",
                    request_start=1714982400.0 + i,
                    error="cut off by the stop of the capture before the response arrived",
                    cut_off="no_response" if i else None,
                )
            )  # fmt: skip
    code, stdout, _ = _run("info", str(cap))
    assert code == 0
    assert "flows     3 (3 failed, 2 of them cut off by the stop of the recording)" in stdout
    code, stdout, _ = _run("info", str(cap), "-f", "json")
    assert json.loads(stdout)["cut_off"] == 2 and json.loads(stdout)["failed"] == 3
    code, stdout, _ = _run("info", str(_capture(tmp_path / "s.edscan.jsonl")), "-f", "json")
    assert json.loads(stdout)["cut_off"] == 0


def test_info_json_of_a_har(tmp_path: Path) -> None:
    code, stdout, _ = _run("info", str(HAR / "chrome.har"), "-f", "json")
    assert code == 0
    info = json.loads(stdout)
    assert info["format"] == "har" and info["flows"] == 4
    assert info["skipped"] == {"cached": 1, "not-http": 1}
    assert info["failed"] == 1 and info["websocket"] == 1
    assert info["phases"] == [{"phase": "https://class.example.test/login", "flows": 4}]
    assert {h["host"]: h["flows"] for h in info["hosts"]} == {
        "class.example.test": 1,
        "tracker.example.net": 1,
        "live.example.test": 1,
        "cdn.example.net": 1,
    }
    assert info["about"] == {"creator": "WebInspector 537.36"}
    assert len(info["sha256"]) == 64 and info["size"] == (HAR / "chrome.har").stat().st_size


def test_info_to_a_file_with_warnings(tmp_path: Path) -> None:
    out = tmp_path / "info.txt"
    code, stdout, _ = _run("info", str(HAR / "quirks.har"), "-o", str(out))
    assert code == 0 and stdout == ""
    text = out.read_text()
    assert "warnings\n  quirks.har: entry 3 skipped: no request\n" in text
    assert "phases    none marked" in text


def test_info_skipped_kinds_of_a_dump() -> None:
    code, stdout, _ = _run(
        "info", str(shared_path("corpus", "mitmproxy", "flows", "diff_data.mitm"))
    )
    assert code == 0 and "skipped   2 tcp: TCP connections (not HTTP)" in stdout


# --------------------------------------------------------------------------- bad input


def _bad_inputs(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    files = {
        "empty": (b"", "the file is empty"),
        "not-har.json": (b'{"hello": "world"}', "not a HAR"),
        "truncated.har": ((HAR / "charles.har").read_bytes()[:300], "the file is truncated"),
        "junk.bin": (bytes(range(256)), "not a format edscan reads"),
    }
    out = {}
    for name, (content, message) in files.items():
        (tmp_path / name).write_bytes(content)
        out[name] = (tmp_path / name, message)
    state = tflow.tflow(resp=True).get_state()
    state["version"] = [0, 9]  # older than any format mitmproxy 11 reads
    with (tmp_path / "old.mitm").open("wb") as fo:
        tnetstring.dump(state, fo)
    out["too-old.mitm"] = (tmp_path / "old.mitm", "old mitmproxy (flow format 0.9)")
    cut = tmp_path / "cut.mitm"
    with cut.open("wb") as fo:
        mitmio.FlowWriter(fo).add(tflow.tflow(resp=True))
    cut.write_bytes(cut.read_bytes()[:150])
    out["truncated.mitm"] = (cut, "cut off before its first complete flow")
    out["directory"] = (tmp_path, "is a directory")
    out["missing"] = (tmp_path / "missing.har", "no such file")
    return out


BAD = [
    "empty",
    "not-har.json",
    "truncated.har",
    "junk.bin",
    "too-old.mitm",
    "truncated.mitm",
    "directory",
    "missing",
]


@pytest.mark.parametrize("command", ["info", "convert"])
@pytest.mark.parametrize("kind", BAD)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, command: str, kind: str) -> None:
    path, message = _bad_inputs(tmp_path)[kind]
    args = [command, str(path)] + (["-o", str(tmp_path / "o.har")] if command == "convert" else [])
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert isinstance(result.exception, SystemExit)  # click's own exit, not a crash


def test_too_old_dump_is_one_line_and_exit_2() -> None:
    old = shared_path("corpus", "mitmproxy", "dumpfile-010.mitm")
    code, _, stderr = _run("info", str(old))
    assert code == 2 and stderr.count("\n") == 1 and "old mitmproxy (flow format 0.10)" in stderr


def test_real_process(tmp_path: Path) -> None:
    # the installed entry point, in a real process, from another directory
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    junk = tmp_path / "junk.har"
    junk.write_bytes(b"\x00\x01 not a capture")
    bad = subprocess.run(
        [sys.executable, "-m", "edscan", "info", str(junk)],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60,
    )  # fmt: skip
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.startswith("Error: ") and bad.stderr.count("\n") == 1
    good = subprocess.run(
        [sys.executable, "-m", "edscan", "info", str(HAR / "firefox.har"), "-f", "json"],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60,
    )  # fmt: skip
    assert good.returncode == 0, good.stderr
    assert json.loads(good.stdout)["flows"] == 3


def test_convert_repairs_text_a_capture_cannot_hold(tmp_path: Path) -> None:
    # mitmproxy keeps bytes that are not UTF-8 (here in the method) as lone surrogates
    f = tflow.tflow(resp=True)
    f.request.data.method = b"GE\xffT"
    dump = tmp_path / "d.mitm"
    with dump.open("wb") as fo:
        mitmio.FlowWriter(fo).add(f)
    out = tmp_path / "d.edscan.jsonl"
    code, _, stderr = _run("convert", str(dump), "-o", str(out))
    assert code == 0, stderr
    line = out.read_bytes().splitlines()[1].decode("utf-8")  # strict UTF-8
    method = json.loads(line)["method"]
    assert method.startswith("GE") and method.endswith("T") and len(method) > 3


class _Source:
    """A source whose flows carry lone surrogates, as text decoded with surrogateescape does."""

    format = "mitm"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.warnings: list[str] = []
        self.skipped: dict[str, int] = {}

    def __iter__(self):  # type: ignore[no-untyped-def]
        yield Flow(
            index=0,
            id="s",
            method="GET",
            url="https://x.example.test/caf\udce9",
            request_headers=(("X-Name", "Zo\udceb"),),
            phase="quiz\ud800",
        )


def test_convert_writes_valid_utf8_whatever_the_source_gives(tmp_path: Path) -> None:
    from edscan.capture.convert import convert

    src = tmp_path / "in.mitm"
    src.write_bytes(b"x")
    for name in ("o.edscan.jsonl", "o.har"):
        convert(_Source(src), tmp_path / name)  # type: ignore[arg-type]
        (tmp_path / name).read_bytes().decode("utf-8")  # strict
    (flow,) = list(open_source(tmp_path / "o.edscan.jsonl"))
    assert flow.url == "https://x.example.test/caf\ufffd"
    assert flow.request_headers == (("X-Name", "Zo\ufffd"),)
    assert flow.phase == "quiz\ufffd\ufffd\ufffd"
