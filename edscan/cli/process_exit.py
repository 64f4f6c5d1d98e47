"""Ending the ``edscan`` process at once when a command asked for it and its work is done.

After ``edscan capture`` the capture file is closed and the summary printed, but the process still
holds mitmproxy, the proxy's event loop objects and the live analyser's queues. Letting Python tear
all that down takes about 0.3 s on an idle machine and a second or more on a busy one: most of the
time a stopping capture spent past its grace period. Nothing in that teardown writes anything, so
the command asks for an immediate exit instead: the atexit handlers still run first (logging's
flush, multiprocessing's clean-up, which unregisters its semaphores so that no "leaked semaphore"
warning follows), then ``os._exit``.

Only ``edscan.cli.main`` (the installed command) acts on the request; a caller that runs the click
group itself (a test's ``CliRunner``, a library) keeps its process.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import threading

_requested = False


def request() -> None:
    """Ask for an immediate exit once the command returns (its output must be complete)."""
    global _requested
    _requested = True


def end_now_if_requested(code: object) -> None:
    """``os._exit(code)`` after the atexit handlers, when asked for and safe; else return."""
    if not _requested or not (code is None or isinstance(code, int)):
        return
    others = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    if any(t.is_alive() for t in others):
        return  # a thread Python would wait for: let the normal exit do that
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # the terminal is gone (SIGHUP)
            stream.flush()
    os._exit(code or 0)
