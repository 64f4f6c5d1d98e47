"""The mitmproxy addon that raises live alerts and marks flows: ``LiveAlerts``.

It sits beside the ``Recorder`` (``addons/edscan_recorder.py`` loads both) and receives every
record the recorder wrote. Options (mitmdump/mitmweb ``--set``):

* ``edscan_alerts``: ``all`` (default), ``high`` (persona values only) or ``none``;
* ``edscan_persona``: the test student's persona file, as for ``edscan scan --persona``;
* ``edscan_first_party``: the app's own domains (else the first non-service domain seen);
* ``edscan_alert_queue``: how many recorded flows may wait for analysis (default 2000).

Alerts are logged at INFO (mitmdump prints them; mitmweb shows them in its event log). The
flow that first showed a finding is marked (``:warning:``) and its comment gains one line per
finding, so mitmweb's flow list shows which request leaked what. Marks and comments are set on
the proxy's event loop (``call_soon_threadsafe`` from the thread that receives the analyser's results) and only after the
record was written, so the capture file never holds them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from mitmproxy import ctx, exceptions, hooks, http

from edscan.live.alert import Alert, AlertLevel
from edscan.live.analyser import DEFAULT_QUEUE, LiveAnalyser

logger = logging.getLogger(__name__)

MARKER = ":warning:"
COMMENT_PREFIX = "edscan: "


class LiveAlerts:
    """Live alerts and mitmweb marks for the flows the ``Recorder`` writes."""

    def __init__(self) -> None:
        self.analyser: LiveAnalyser | None = None
        self.level = AlertLevel.ALL
        self._persona: Any = None
        self._first_party: tuple[str, ...] = ()
        self._max_queue = DEFAULT_QUEUE
        self._loop: asyncio.AbstractEventLoop | None = None
        self._attached = False
        # called on the loop with each new alert (edscan capture's console); None: log it
        self.on_alert: Callable[[Alert], None] | None = None

    def load(self, loader: Any) -> None:
        loader.add_option(
            "edscan_alerts",
            str,
            "all",
            "Live alerts as student data leaves: all (every third-party finding), high "
            "(persona values only) or none.",
        )
        loader.add_option(
            "edscan_persona",
            str | None,
            None,
            "The test student's persona file (edscan persona new) for live alerts.",
        )
        loader.add_option(
            "edscan_first_party",
            Sequence[str],
            [],
            "A domain of the audited app (repeatable); else the first non-service domain seen.",
        )

        loader.add_option(
            "edscan_alert_queue",
            int,
            DEFAULT_QUEUE,
            "Recorded flows waiting for live analysis at most; beyond this they are recorded "
            "but not analysed live (and the drop is reported).",
        )

    def configure(self, updated: set[str]) -> None:
        opts = ctx.options
        changed = False
        if "edscan_alerts" in updated:
            try:
                self.level = AlertLevel.parse(opts.edscan_alerts)
            except ValueError as e:
                raise _options_error(f"edscan_alerts: {e}") from e
            changed = True
        if "edscan_persona" in updated:
            self._persona = _load_persona(opts.edscan_persona)
            changed = True
        if "edscan_alert_queue" in updated:
            if opts.edscan_alert_queue < 1:
                raise _options_error("edscan_alert_queue must be 1 or more")
            self._max_queue = opts.edscan_alert_queue
            changed = True
        if "edscan_first_party" in updated:
            self._first_party = tuple(opts.edscan_first_party)
            changed = True
        if changed and self.analyser is not None:
            self._restart()

    def running(self) -> None:
        self._loop = asyncio.get_running_loop()
        recorder = ctx.master.addons.get("recorder")  # type: ignore[no-untyped-call]
        if recorder is None:
            logger.warning("edscan: live alerts need the edscan recorder addon; none loaded")
            return
        if not self._attached:
            recorder.listeners.append(self.recorded)
            self._attached = True
        self._restart()

    def _restart(self) -> None:
        if self.analyser is not None:
            self.analyser.stop(timeout=1.0)
        self.analyser = LiveAnalyser(
            persona=self._persona,
            level=self.level,
            first_party=self._first_party,
            deliver=self._from_worker,
            max_queue=self._max_queue,
        )
        if self.level is not AlertLevel.NONE:
            self.analyser.start()

    def done(self) -> None:
        if self.analyser is not None:
            self.analyser.stop()

    # ------------------------------------------------------------------ the hooks

    def recorded(self, record: dict[str, Any], f: http.HTTPFlow) -> None:
        """Called by the recorder on the loop once ``record`` is on disk."""
        if self.analyser is not None:
            self.analyser.submit(record, weakref.ref(f))

    def _from_worker(self, alert: Alert, token: Any) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed since the check
            loop.call_soon_threadsafe(self._on_loop, alert, token)

    def _on_loop(self, alert: Alert, token: Any) -> None:
        try:
            f = token() if callable(token) else None
            if f is not None:
                mark(f, alert)
            if self.on_alert is not None:
                self.on_alert(alert)
            else:
                logger.info(f"edscan alert: {alert.line()}")
        except Exception:  # a display problem must never reach the user's traffic
            logger.exception("edscan: could not show a live alert")


def mark(f: http.HTTPFlow, alert: Alert) -> None:
    """Mark ``f`` and add the finding to its comment; mitmweb is told the flow changed."""
    f.marked = MARKER
    line = COMMENT_PREFIX + alert.short()
    if line not in f.comment.split("\n"):
        f.comment = f"{f.comment}\n{line}" if f.comment else line
    ctx.master.addons.trigger(hooks.UpdateHook([f]))


def _load_persona(path: str | None) -> Any:
    if not path:
        return None
    from edscan.detect.persona import load_persona
    from edscan.errors import EdscanError

    try:
        return load_persona(path)
    except EdscanError as e:
        raise _options_error(f"edscan_persona: {e.message}") from e


def _options_error(message: str) -> Exception:
    return exceptions.OptionsError(message)  # type: ignore[no-untyped-call]
