"""``edscan capture``'s console: a stream that may vanish, the status display, and
mitmproxy's warnings shown between status redraws."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from collections.abc import Callable
from typing import TextIO

PROMPT = "phase label> "


class ConsoleOut:
    """The console stream, which may vanish under us: a closed terminal (SIGHUP), a dropped
    ssh session, a closed pipe.

    The first write that fails puts ``/dev/null`` under the stream's file descriptor, so the
    capture still ends cleanly, and nothing later (the summary, Python's own flush at exit)
    fails or prints about it.
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.lost = False

    def isatty(self) -> bool:
        try:
            return self.stream.isatty()
        except (OSError, ValueError):
            return False

    def write(self, text: str) -> None:
        if self.lost:
            return
        try:
            self.stream.write(text)
        except (OSError, ValueError):
            self._lose()

    def flush(self) -> None:
        if self.lost:
            return
        try:
            self.stream.flush()
        except (OSError, ValueError):
            self._lose()

    def _lose(self) -> None:
        self.lost = True
        with contextlib.suppress(OSError, ValueError, AttributeError):
            fd = self.stream.fileno()
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, fd)
            os.close(null)
            # what the failed write left buffered now drains into /dev/null
            self.stream.flush()


class Display:
    """Writes the console: messages, and a status line redrawn in place on a terminal.

    On a terminal with an interactive stdin the status sits on the line above a prompt, so
    redrawing it never disturbs what the user is typing. Elsewhere status lines are printed
    plainly, and only when something changed.
    """

    def __init__(self, out: ConsoleOut | TextIO, *, tty: bool, prompt: bool) -> None:
        self.out = out
        self.tty = tty
        self.prompt = prompt and tty
        self.active = False
        self.entered = False  # the user just pressed Enter: the prompt moved down a line
        self._last_plain = ""

    def _fit(self, text: str) -> str:
        width = shutil.get_terminal_size((100, 24)).columns
        return text if len(text) < width else text[: max(width - 2, 10)] + "…"

    def start(self, status: str) -> None:
        if self.tty:
            self.out.write(self._fit(status) + ("\n" + PROMPT if self.prompt else ""))
            self.out.flush()
            self.active = True

    def _clear(self) -> None:
        if not self.active:
            return
        if self.prompt:
            # the status line is one line up (two after the user pressed Enter)
            self.out.write(f"\x1b[{2 if self.entered else 1}A\r\x1b[J")
        else:
            self.out.write("\r\x1b[K")
        self.entered = False

    def message(self, text: str, status: str) -> None:
        if self.tty and self.active:
            self._clear()
            self.out.write(text + "\n")
            self.active = False
            self.start(status)
        else:
            self.out.write(text + "\n")
            self.out.flush()

    def refresh(self, status: str) -> None:
        if self.tty:
            if not self.active:
                return
            if self.prompt:
                self.out.write(f"\x1b7\x1b[1A\r\x1b[K{self._fit(status)}\x1b8")
            else:
                self.out.write(f"\r\x1b[K{self._fit(status)}")
            self.out.flush()
        elif status != self._last_plain:
            self._last_plain = status
            self.out.write(status + "\n")
            self.out.flush()

    def stop(self) -> None:
        if self.tty and self.active:
            self._clear()
            self.out.flush()
            self.active = False


class ConsoleLog(logging.Handler):
    """mitmproxy's warnings and errors, shown between status redraws; kept until running."""

    def __init__(self, display: Display, status: Callable[[], str]) -> None:
        super().__init__(logging.WARNING)
        self.display = display
        self.status = status
        self.live = False
        self.early: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if not self.live:
            self.early.append(record)
            return
        try:
            text = record.getMessage().split("\n", 1)[0]
            self.display.message(f"  ! {text}", self.status())
        except Exception:  # pragma: no cover - never let logging break the proxy
            self.handleError(record)
