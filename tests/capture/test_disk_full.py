"""Disk full while recording, with a real mitmdump and the recorder on loopback: recording
stops loudly, the capture so far stays valid, and the proxy stops forwarding what it can no
longer record."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from liveproxy import http_origin, mitmdump

from edscan.capture.capture_file import read_capture

pytestmark = pytest.mark.e2e


@contextlib.contextmanager
def small_disk(folder: Path, size: str = "256k") -> Iterator[Path]:
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_disk_full_stops_recording_and_forwarding(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk") as disk:
        capture = disk / "full.edscan.jsonl"
        answered: list[str] = []
        refused = 0
        with http_origin() as origin, mitmdump(tmp_path, capture) as proxy:
            client = httpx.Client(proxy=proxy.proxy_url, trust_env=False, timeout=10)
            with client:
                for i in range(40):  # 40 x 20 kB: far more than the 256 kB disk holds
                    try:
                        r = client.post(origin.url(f"/item?rid={i}"), content=b"x" * 20_000)
                    except httpx.HTTPError:
                        refused += 1
                        continue
                    if r.status_code == 200:
                        answered.append(str(i))
                    else:
                        refused += 1
            code = proxy.proc.wait(timeout=15)  # it stops on its own
        log = proxy.log.read_text(errors="replace")
        reader = read_capture(capture)
        recorded = [parse_qs(urlsplit(f.url).query)["rid"][0] for f in reader]
    assert code is not None
    assert "No space left on device" in log and "Recording stopped" in log, log[-2000:]
    assert refused > 0 and answered, (answered, refused)
    # every response the client got is in the capture: nothing passed unrecorded
    assert set(answered) <= set(recorded), set(answered) - set(recorded)
    # the capture up to the failure reads: at most the one line cut by the full disk is torn
    assert len(reader.warnings) <= 1
    assert all("torn last line" in w for w in reader.warnings)
