"""``edscan batch`` over files, folders and globs, on several processes, and its dataset."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
from click.testing import CliRunner, Result
from publishcapture import write_app_capture

from edscan.cli import cli
from edscan.publish import batch, batch_runner, inputs
from edscan.publish.batch_task import Task, scan_capture


def _run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["batch", *args])


def _captures(d: Path) -> list[Path]:
    d.mkdir(parents=True, exist_ok=True)
    return [
        write_app_capture(d / "adsy.edscan.jsonl", "adsy", ["meta", "rlcdn", "ga"]),
        write_app_capture(d / "counter.edscan.jsonl", "counter", ["ga", "sentry"]),
        write_app_capture(d / "quiet.edscan.jsonl", "quiet", []),
    ]


def _summary(out: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((out / "summary.csv").read_text(encoding="utf-8"))))


def test_expand_takes_files_folders_and_globs(tmp_path: Path) -> None:
    caps = _captures(tmp_path / "a")
    (tmp_path / "a" / "notes.txt").write_text("not a capture", encoding="utf-8")
    sub = tmp_path / "b" / "deep"
    sub.mkdir(parents=True)
    har = sub / "x.har"
    har.write_text("{}", encoding="utf-8")
    got = inputs.expand(
        [str(tmp_path / "a"), str(tmp_path / "b" / "**" / "*.har"), str(caps[0]), "nope-*.har"]
    )
    assert got == [*sorted(map(str, caps)), str(har), "nope-*.har"]  # each once, misses kept


def test_jobs_2_gives_the_same_outputs_as_jobs_1(tmp_path: Path) -> None:
    d = tmp_path / "caps"
    _captures(d)
    (d / "broken.har").write_text('{"log": {"entries": [', encoding="utf-8")
    one, two = tmp_path / "one", tmp_path / "two"
    r1 = _run(str(d), "--jobs", "1", "-o", str(one))
    r2 = _run(str(d / "*.*"), "--jobs", "2", "-o", str(two))
    assert r1.exit_code == r2.exit_code == 0, (r1.output, r2.output)
    for name in ("summary.csv", "dataset.csv", "index.html", "adsy.html"):
        assert (one / name).read_bytes() == (two / name).read_bytes(), name
    # past the bad capture, and listed at the end
    assert "1 captures could not be read:" in r2.stderr
    assert r2.stderr.strip().splitlines()[-2].strip().startswith("broken.har:")
    assert [r["app"] for r in _summary(two)] == ["adsy", "counter", "quiet", "broken"]


def test_pool_returns_results_in_task_order(tmp_path: Path) -> None:
    caps = _captures(tmp_path / "c")
    tasks = [Task(index=i, capture=str(c)) for i, c in enumerate([*caps, tmp_path / "gone.har"])]
    got = list(batch_runner.run_pool(tasks, 2))
    assert [s.index for s in got] == [0, 1, 2, 3]
    assert [bool(s.error) for s in got] == [False, False, False, True]
    assert got[0].summary == scan_capture(tasks[0]).summary
    assert all(s.peak_rss_kib > 0 for s in got[:3])


def test_dataset_beside_the_index(tmp_path: Path) -> None:
    _captures(tmp_path / "c")
    out = tmp_path / "o"
    res = _run(str(tmp_path / "c"), "-j", "1", "-o", str(out))
    assert res.exit_code == 0, res.output
    df = pd.read_csv(out / batch.DATASET)
    assert set(df["app"]) == {"adsy", "counter", "quiet"}
    assert (df[df["app"] == "quiet"]["party"] == "first").all()  # quiet: its own domain only
    meta = df[(df["app"] == "adsy") & (df["organization"] == "Meta Platforms, Inc.")]
    assert not meta.empty and (meta["party"] == "third").all()
    assert meta["list"].str.contains("bundled:edscan-trackers@").all()
    assert meta["first_seen"].str.match(r"2026-01-01T09:\d\d:\d\dZ").all()
    assert df["rule_ids"].fillna("").str.contains("EDS").any()


def test_no_capture_matches_is_exit_2(tmp_path: Path) -> None:
    res = _run(str(tmp_path / "*.har"), "-o", str(tmp_path / "o"))
    assert res.exit_code == 2 and "none of the 1 captures could be read" in res.output
