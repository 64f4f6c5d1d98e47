"""`edscan batch` over several cores: --jobs 2 against --jobs 1 in the same run, and worker memory.

Targets (issue "studies at scale"): 200 captures x 5k flows, `--jobs 2` over `--jobs 1` >= 1.8x;
peak memory per worker flat as the batch grows. The baseline is `--jobs 1` on the same captures,
run in the same invocation. Peak memory is the largest child process's max RSS
(RUSAGE_CHILDREN), measured for a batch of N and of 2N captures.

    python benchmarks/batch_jobs.py [--captures 200] [--flows 5000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _hars import write_har


def _run(captures: Path, out: Path, jobs: int) -> tuple[float, float]:
    """Wall seconds and the peak RSS (MB) of the largest process the run started."""
    code = (
        "import resource, subprocess, sys\n"
        "subprocess.run(sys.argv[1:], check=True, capture_output=True)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    cmd = [sys.executable, "-m", "edscan", "batch", str(captures), "-o", str(out), "-j", str(jobs)]
    t = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, *cmd], check=True, capture_output=True)
    wall = time.perf_counter() - t
    # the scan's own process and its workers are grandchildren: ask them through the wrapper
    return wall, int(done.stdout.split()[-1]) / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--captures", type=int, default=200)
    ap.add_argument("--flows", type=int, default=5000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        half, full = root / "half", root / "full"
        half.mkdir()
        full.mkdir()
        for i in range(args.captures):
            har = write_har(full / f"app{i:04d}.har", args.flows, app=f"app{i}")
            if i < args.captures // 2:
                (half / har.name).symlink_to(har)
        one, rss_one = _run(full, root / "out1", 1)
        two, rss_two = _run(full, root / "out2", 2)
        _, rss_half = _run(half, root / "out3", 2)
    n, f = args.captures, args.flows
    print(f"{n} captures x {f} flows")
    print(f"--jobs 1   {one:8.1f} s   peak RSS {rss_one:7.0f} MB")
    print(
        f"--jobs 2   {two:8.1f} s   peak RSS {rss_two:7.0f} MB   speed-up {one / two:.2f}x (target >= 1.8x)"
    )
    print(
        f"--jobs 2 on {n // 2} captures: peak RSS {rss_half:7.0f} MB; {n} / {n // 2}: {rss_two / rss_half:.2f}x (flat: ~1.0x)"
    )


if __name__ == "__main__":
    main()
