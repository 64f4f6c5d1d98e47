"""edscan against TrackHAR (tweasel's HAR analyser) on the same HARs, whole process.

TrackHAR is installed with npm in ``benchmarks/peer_trackhar/`` (its own ``package.json``,
pinned; ``node_modules`` is not committed and is not a dependency of edscan) on first run.
For each HAR, ``--runs`` rounds (default 15, after a warm-up) each run, back to back and
alternating which goes first:

- the baseline, measured in the same run: ``node run.mjs HAR`` (read, parse, ``process``);
- ``edscan scan HAR`` (read, decode, detect, attribute, rules, the text summary).

Printed: both medians and the median of the rounds' ratios edscan / TrackHAR (goal: <= 1.0×). edscan does far more
per request (decoding chains, persona matching, rules, grade), so the figure is whole-process
cost, not like-for-like work. HARs: a one-request HAR, the real ClassDojo login HAR from
../shared/corpus when present, and a synthetic 8 MiB classroom session.

    python benchmarks/peer_trackhar.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PEER = HERE / "peer_trackhar"
sys.path.insert(0, str(HERE))

import har_memory  # noqa: E402
from _hars import write_har  # noqa: E402

EDSCAN = str(Path(sys.executable).with_name("edscan"))
CORPUS = HERE.parent.parent / "shared" / "corpus" / "edtech" / "teacher-login-www.classdojo.com.har"


def install() -> None:
    if (PEER / "node_modules" / "trackhar").is_dir():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("npm is needed to install TrackHAR for this benchmark")
    subprocess.run([npm, "install", "--no-audit", "--no-fund"], cwd=PEER, check=True)


def _seconds(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=env)
    return time.perf_counter() - started


def paired(
    peer: list[str], ours: list[str], runs: int, env: dict[str, str]
) -> tuple[float, float, float]:
    """Median times of both commands and the median of the per-round ratios: each round runs
    the two back to back, alternating which goes first, so drift on a shared machine hits
    both alike."""
    _seconds(peer, env)  # warm the page cache, the bytecode and the data cache
    _seconds(ours, env)
    theirs, mine, ratios = [], [], []
    for i in range(runs):
        if i % 2:
            b, a = _seconds(ours, env), _seconds(peer, env)
        else:
            a, b = _seconds(peer, env), _seconds(ours, env)
        theirs.append(a)
        mine.append(b)
        ratios.append(b / a)
    return statistics.median(theirs), statistics.median(mine), statistics.median(ratios)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    install()
    node = shutil.which("node") or "node"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory(prefix="edscan-bench-peer-") as tmp:
        env["EDSCAN_DATA_DIR"] = str(Path(tmp) / "data")  # bundled lists only
        one = write_har(Path(tmp) / "one.har", 1)
        session = Path(tmp) / "session.har"
        har_memory.write_har(session, 8)
        hars = [("one request", one)]
        if CORPUS.is_file():
            hars.append(("ClassDojo login (real)", CORPUS))
        hars.append(("8 MiB session", session))
        for label, har in hars:
            peer, ours, ratio = paired(
                [node, str(PEER / "run.mjs"), str(har)], [EDSCAN, "scan", str(har)], args.runs, env
            )
            size = har.stat().st_size / (1 << 20)
            print(
                f"{label:24s} {size:6.2f} MiB  TrackHAR {peer * 1000:6.0f} ms  "
                f"edscan {ours * 1000:6.0f} ms  ratio {ratio:4.2f}× (goal <= 1.00×)"
            )


if __name__ == "__main__":
    main()
