"""Stopping `edscan capture` with 1,000 requests in flight: how long the stop takes, and how many
requests the capture keeps.

Each round starts the real ``edscan capture`` (pinned to core 0 with ``taskset`` where there is
one), sends 1,000 concurrent requests through it (one connection each, like a busy app) to a
local origin that answers only after a minute (so every request is still waiting at the
stop), waits until the origin has them all, sends SIGINT and times the exit. Rounds alternate
the ``--grace`` settings. Printed per setting: the median stop time, the stop time over the
grace setting plus one second (the target is <= 1.0), how much longer than the grace it took,
and the requests kept of those sent (the target is all of them, each marked cut off).

    .venv/bin/python benchmarks/capture_stop.py [--requests 1000] [--rounds 3] [--grace 0 1 3]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from liveproxy import Crowd, proxied_get, slow_origin  # noqa: E402  (the tests' own helpers)

from edscan.capture.capture_file import read_capture  # noqa: E402

BIN = Path(sys.executable).parent


def _pin(core: int) -> list[str]:
    if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        return ["taskset", "-c", str(core)]
    return []


def one_round(requests: int, grace: float, folder: Path) -> tuple[float, int, int]:
    """(seconds the stop took, flows kept, of them marked cut off)."""
    capture = folder / f"stop-{grace:g}-{time.monotonic_ns()}.edscan.jsonl"
    with slow_origin(delay=60.0) as origin:
        proc = subprocess.Popen(
            [*_pin(0), str(BIN / "edscan"), "capture", "-o", str(capture), "--listen-port", "0",
             "--confdir", str(folder / "conf"), "--grace", f"{grace:g}"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        assert proc.stderr is not None
        err = b""
        while b"Stop with Ctrl-C" not in err:
            line = proc.stderr.readline()
            if not line:
                raise SystemExit(f"edscan capture exited: {err.decode()}")
            err += line
        m = re.search(rb"to 127\.0\.0\.1, port (\d+)\.", err)
        assert m is not None
        drain = threading.Thread(target=proc.stderr.read, daemon=True)  # keep the pipe empty
        drain.start()
        target = "/api/event?email=ada.lovelace%40school.example&n="
        crowd = Crowd(
            int(m.group(1)), [proxied_get(origin, f"{target}{n}") for n in range(requests)]
        )
        try:
            deadline = time.monotonic() + 60
            while len(origin.received) < requests and time.monotonic() < deadline:
                time.sleep(0.02)
            if len(origin.received) < requests:
                raise SystemExit(f"only {len(origin.received)} of {requests} reached the origin")
            start = time.monotonic()
            proc.send_signal(signal.SIGINT)
            code = proc.wait(timeout=grace + 60)
            took = time.monotonic() - start
        finally:
            crowd.close()
        drain.join(timeout=5)
        if code != 0:
            raise SystemExit(f"edscan capture exited {code}")
    flows = list(read_capture(capture))
    capture.unlink()
    return took, len(flows), sum(1 for f in flows if f.cut_off)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--grace", type=float, nargs="+", default=[0.0, 1.0, 3.0])
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, 4 * args.requests + 256))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if _pin(1):
        os.sched_setaffinity(0, {1})  # the origin and the clients, away from the proxy
    times: dict[float, list[float]] = {g: [] for g in args.grace}
    kept: dict[float, list[int]] = {g: [] for g in args.grace}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            for grace in args.grace if r % 2 == 0 else list(reversed(args.grace)):
                took, flows, cut = one_round(args.requests, grace, Path(tmp))
                times[grace].append(took)
                kept[grace].append(flows)
                print(
                    f"round {r + 1} grace {grace:g} s: stop {took:.2f} s, "
                    f"kept {flows}/{args.requests} ({cut} marked cut off)",
                    flush=True,
                )
    print(f"\n{args.requests} requests in flight, {args.rounds} rounds, medians:")
    print("grace   stop     stop/(grace+1)   over the grace   kept")
    for grace in args.grace:
        t = statistics.median(times[grace])
        k = min(kept[grace])
        print(
            f"{grace:>4g} s  {t:5.2f} s  {t / (grace + 1):>10.2f}       {t - grace:>8.2f} s     "
            f"{k}/{args.requests}{'' if k == args.requests else '  (requests lost!)'}"
        )


if __name__ == "__main__":
    main()
