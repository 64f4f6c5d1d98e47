"""``edscan dataset``: result documents to one Parquet or CSV table for a study."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from click.testing import CliRunner, Result
from publishcapture import write_app_capture

from edscan.cli import cli
from edscan.publish.dataset import COLUMNS


def _run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def _results(d: Path) -> list[Path]:
    d.mkdir(parents=True, exist_ok=True)
    out = []
    for name, trackers in (("adsy", ["meta", "ga"]), ("quiet", [])):
        cap = write_app_capture(d / f"{name}.edscan.jsonl", name, trackers)
        res = d / f"{name}.json"
        run = _run("scan", str(cap), "-f", "json", "-o", str(res))
        assert run.exit_code in (0, 1), run.output
        out.append(res)
    return out


def test_parquet_and_csv_hold_the_same_rows(tmp_path: Path) -> None:
    results = [str(p) for p in _results(tmp_path)]
    pq, cs = tmp_path / "study.parquet", tmp_path / "study.csv"
    assert _run("dataset", *results, "-o", str(pq)).exit_code == 0
    assert _run("dataset", *results, "-o", str(cs)).exit_code == 0
    a, b = pd.read_parquet(pq), pd.read_csv(cs)
    assert list(a.columns) == list(COLUMNS) == list(b.columns)
    assert len(a) == len(b) > 0
    assert set(a["app"]) == {"adsy", "quiet"}
    meta = a[(a["app"] == "adsy") & (a["organization"] == "Meta Platforms, Inc.")]
    assert not meta.empty and (meta["party"] == "third").all()
    assert a["observations"].dtype.kind == "i" and (a["observations"] >= 1).all()
    assert (a["edscan_version"] != "").all()


def test_not_a_result_is_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "x.json"
    bad.write_text(json.dumps({"schema": "something-else/1"}), encoding="utf-8")
    res = _run("dataset", str(bad), "-o", str(tmp_path / "s.parquet"))
    assert res.exit_code == 2 and "Traceback" not in res.output
