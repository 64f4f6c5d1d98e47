"""``edscan batch --scheduler``: the same per-capture function on a Dask cluster.

The test starts its own LocalCluster on loopback (threads in this process, TCP between the
client and the scheduler, as on a real cluster); the captures and lists travel as bytes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from publishcapture import write_app_capture

from edscan.cli import cli

distributed = pytest.importorskip("distributed")


@pytest.fixture
def scheduler() -> Iterator[str]:
    cluster = distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=2,
        processes=False,
        protocol="tcp://",
        host="127.0.0.1",
        dashboard_address=None,
    )
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


def test_cluster_gives_the_same_outputs_as_this_machine(tmp_path: Path, scheduler: str) -> None:
    d = tmp_path / "caps"
    d.mkdir()
    write_app_capture(d / "adsy.edscan.jsonl", "adsy", ["meta", "ga"])
    write_app_capture(d / "quiet.edscan.jsonl", "quiet", [])
    (d / "broken.har").write_text("not json", encoding="utf-8")
    data = tmp_path / "data"
    data.mkdir()
    # an override only the auditor's data directory has: it must reach the workers
    (data / "overrides.toml").write_text(
        "[[entity]]\n"
        'organization = "Adsy Testing Ltd"\ncategories = ["ed-tech vendor"]\ndomains = ["adsy.example"]\n',
        encoding="utf-8",
    )
    here, there = tmp_path / "here", tmp_path / "there"
    common = ["--data-dir", str(data)]
    r1 = CliRunner().invoke(cli, ["batch", str(d), "-j", "1", "-o", str(here), *common])
    r2 = CliRunner().invoke(
        cli, ["batch", str(d), "--scheduler", scheduler, "-o", str(there), *common]
    )
    assert r1.exit_code == r2.exit_code == 0, (r1.output, r2.output)
    for name in ("summary.csv", "dataset.csv", "index.html", "adsy.html"):
        assert (here / name).read_bytes() == (there / name).read_bytes(), name
    assert "Adsy Testing Ltd" in (there / "dataset.csv").read_text(encoding="utf-8")
    assert "broken.har" in r2.stderr and str(tmp_path) not in (there / "summary.csv").read_text()


def test_unreachable_scheduler_is_exit_2(tmp_path: Path) -> None:
    cap = write_app_capture(tmp_path / "a.edscan.jsonl", "a", [])
    res = CliRunner().invoke(
        cli, ["batch", str(cap), "--scheduler", "not-an-address", "-o", str(tmp_path / "o")]
    )
    assert res.exit_code == 2 and "give the scheduler's address" in res.output
