"""Start-up: `edscan scan` of a one-request HAR, whole process, against the interpreter's floor.

Target (issue "studies at scale"): < 250 ms whole process. The baseline measured in the same run
is `python -c pass` with the same interpreter (what no Python command can beat) and `python -c
"import edscan.cli"` (the CLI's imports alone), so the figures can be compared across machines.

    python benchmarks/startup.py [--rounds 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _hars import write_har

# as an installed edscan runs: with its modules' bytecode compiled (pip compiles at install time;
# a shell that sets PYTHONDONTWRITEBYTECODE would have every run compile ~100 modules again)
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _median_ms(cmd: list[str], rounds: int) -> float:
    # warm the page cache, the bytecode and the data cache
    subprocess.run(cmd, check=True, capture_output=True, env=ENV)
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, env=ENV)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=15)
    args = ap.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        har = write_har(Path(tmp) / "one.har", 1)
        floor = _median_ms([py, "-c", "pass"], args.rounds)
        imports = _median_ms([py, "-c", "import edscan.cli"], args.rounds)
        scan = _median_ms([py, "-m", "edscan", "scan", str(har), "-f", "json"], args.rounds)
    print(f"python -c pass           {floor:7.1f} ms")
    print(f"import edscan.cli        {imports:7.1f} ms  ({imports / floor:.1f}x the floor)")
    print(f"edscan scan one.har      {scan:7.1f} ms  ({scan / floor:.1f}x the floor)")
    print(f"target < 250 ms: {'met' if scan < 250 else 'NOT met'} ({scan / 250:.2f}x the target)")


if __name__ == "__main__":
    main()
