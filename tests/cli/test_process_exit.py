"""The immediate exit after `edscan capture`: atexit handlers still run, the code is kept, and a
thread Python would wait for is waited for."""

from __future__ import annotations

import subprocess
import sys

PRELUDE = """
import atexit, sys, threading, time
from edscan.cli import process_exit
atexit.register(lambda: print("atexit ran", flush=True))
"""


def _run(body: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", PRELUDE + body], capture_output=True, text=True, timeout=60
    )


def test_a_requested_exit_runs_the_atexit_handlers_and_keeps_the_code() -> None:
    done = _run(
        "process_exit.request()\nprocess_exit.end_now_if_requested(3)\nprint('not reached')"
    )
    assert done.returncode == 3
    assert done.stdout.split() == ["atexit", "ran"]


def test_without_a_request_the_process_goes_on() -> None:
    done = _run("process_exit.end_now_if_requested(3)\nprint('went on')")
    assert done.returncode == 0 and "went on" in done.stdout


def test_a_live_non_daemon_thread_keeps_the_normal_exit() -> None:
    body = (
        "t = threading.Thread(target=lambda: (time.sleep(0.3), print('thread ended', flush=True)))\n"
        "t.start()\nprocess_exit.request()\nprocess_exit.end_now_if_requested(0)\n"
        "print('went on', flush=True)\n"
    )
    done = _run(body)
    assert done.returncode == 0
    assert "went on" in done.stdout and "thread ended" in done.stdout
