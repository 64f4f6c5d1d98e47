"""Start-up: `edscan scan` and `--help` never import the heavy modules other commands need."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DATA

# what `scan` of a HAR must not pay for: the proxy, the dataset and cluster stack, the HTML
# templates, and the HTTP clients only `lists update` uses
HEAVY = (
    "mitmproxy",
    "pandas",
    "pyarrow",
    "dask",
    "distributed",
    "httpx",
    "jinja2",
    "requests",
    "tldextract",
)

_PROBE = """
import json, sys
from edscan.cli import cli
try:
    cli.main(args=sys.argv[1:], prog_name="edscan", standalone_mode=False)
finally:
    heavy = sorted({m.split(".")[0] for m in sys.modules} & set(json.loads(sys.stdin.read())))
    print("\\nHEAVY=" + json.dumps(heavy), file=sys.stderr)
"""


def _heavy_imports(
    tmp_path: Path, *args: str
) -> tuple[list[str], subprocess.CompletedProcess[str]]:
    env = {**os.environ, "EDSCAN_DATA_DIR": str(tmp_path / "data")}
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        input=json.dumps(HEAVY), capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    marker = proc.stderr.rsplit("HEAVY=", 1)
    assert len(marker) == 2, proc.stderr
    return json.loads(marker[1]), proc


def test_scan_of_a_har_imports_no_heavy_module(tmp_path: Path) -> None:
    heavy, proc = _heavy_imports(tmp_path, "scan", str(DATA / "har" / "chrome.har"), "-f", "json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["findings"] is not None
    assert heavy == []


@pytest.mark.parametrize("args", [["--help"], ["scan", "--help"], ["batch", "--help"]])
def test_help_imports_no_heavy_module(tmp_path: Path, args: list[str]) -> None:
    heavy, proc = _heavy_imports(tmp_path, *args)
    assert proc.returncode == 0 and "Usage: edscan" in proc.stdout
    assert heavy == []


def test_the_probe_sees_a_heavy_import(tmp_path: Path) -> None:
    # the check itself can fail: `edscan report` to HTML renders with jinja2
    out = tmp_path / "r.html"
    heavy, proc = _heavy_imports(
        tmp_path, "report", str(DATA / "har" / "chrome.har"), "-o", str(out)
    )
    assert proc.returncode == 0, proc.stderr
    assert "jinja2" in heavy
