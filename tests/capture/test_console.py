"""`edscan capture`'s console: the status display and a console that went away."""

from __future__ import annotations

import io
import os

from edscan.capture.console import ConsoleOut, Display


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_display_prints_lines_only_when_something_changed() -> None:
    out = io.StringIO()
    d = Display(out, tty=False, prompt=True)
    d.start("flows: 0")
    d.refresh("flows: 0")
    d.refresh("flows: 0")
    d.message("Phase: quiz", "flows: 0")
    d.refresh("flows: 1")
    d.stop()
    assert out.getvalue() == "flows: 0\nPhase: quiz\nflows: 1\n"
    assert "\x1b" not in out.getvalue()


def test_tty_display_redraws_the_status_above_the_prompt() -> None:
    out = _Tty()
    d = Display(out, tty=True, prompt=True)
    d.start("flows: 0")
    assert out.getvalue().endswith("flows: 0\nphase label> ")
    out.truncate(0), out.seek(0)
    d.refresh("flows: 1")
    # save cursor, up one line, clear it, draw, restore: what the user types is untouched
    assert out.getvalue() == "\x1b7\x1b[1A\r\x1b[Kflows: 1\x1b8"
    out.truncate(0), out.seek(0)
    d.entered = True  # the user pressed Enter: the status is now two lines up
    d.message("Phase: quiz", "flows: 1")
    assert out.getvalue() == "\x1b[2A\r\x1b[JPhase: quiz\nflows: 1\nphase label> "
    out.truncate(0), out.seek(0)
    d.stop()
    assert out.getvalue() == "\x1b[1A\r\x1b[J"


def test_tty_display_without_prompt_redraws_one_line() -> None:
    out = _Tty()
    d = Display(out, tty=True, prompt=False)
    d.start("flows: 0")
    d.refresh("flows: 2")
    assert out.getvalue() == "flows: 0\r\x1b[Kflows: 2"


def test_a_console_that_went_away_is_replaced_by_dev_null() -> None:
    read_end, write_end = os.pipe()
    stream = os.fdopen(write_end, "w", buffering=1)
    os.close(read_end)  # nobody reads: every write fails with EPIPE
    out = ConsoleOut(stream)
    out.write("Stopping…\n")
    out.flush()
    assert out.lost
    out.write("the summary\n")  # silently dropped, and the stream itself now writes fine
    stream.write("later\n")
    stream.flush()
    assert os.readlink(f"/proc/self/fd/{stream.fileno()}") == os.devnull
    stream.close()


def test_the_console_log_shows_one_line_per_problem_once_running() -> None:
    import logging

    from edscan.capture.console import ConsoleLog

    out = io.StringIO()
    log = ConsoleLog(Display(out, tty=False, prompt=False), lambda: "flows: 0")
    error = logging.LogRecord(
        "mitmproxy", logging.ERROR, __file__, 1, "boom\nTraceback…", None, None
    )
    log.emit(error)  # before the start: kept, not printed
    assert out.getvalue() == "" and log.early == [error]
    log.live = True
    log.emit(error)
    assert out.getvalue() == "  ! boom\n"
