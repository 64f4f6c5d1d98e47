"""The live analyser: recorded flows in, alerts out, in a worker process.

``submit`` is called on the proxy's event loop for every record the recorder wrote. It never
blocks: the record goes into a bounded queue, and when the queue is full the record is not
analysed (``stats.dropped`` counts it, and the first drop is reported once). The recording is
never affected: the record is already on disk when it is submitted, and a dropped record is
only missing from the live view; ``edscan scan`` on the capture still sees every flow.

The analysis runs in its own process (``spawn``ed, at the lowest scheduling priority), not a
thread: decoding and detection are pure Python, and a thread would hold the proxy's GIL while
it works, slowing every request; a process runs on another core when there is one, and when
there is not the proxy comes first and the queue sheds work. A receiver thread in the proxy's
process only waits on the result pipe and hands alerts to ``deliver``.

The worker runs the scan's own stages on each record: ``flow_from_dict`` (the capture reader's
conversion), ``decode_flow``, ``Detector.observe`` (one detector for the whole session, so
derived ids learned from responses apply to later flows, as in a scan) and the tracker
database's attribution. What a scan learns only at the end, the first party, is decided as
flows arrive: the ``--first-party`` domains when given, else the first registrable domain seen
that the lists do not place in a third-party service category (the page the auditor opened).
Observations sent to the first party never alert.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import multiprocessing
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edscan.live import worker
from edscan.live.alert import Alert, AlertLevel
from edscan.live.worker import WorkerConfig, persona_state

logger = logging.getLogger(__name__)

DEFAULT_QUEUE = 2000  # records waiting for analysis; beyond this they are dropped

Deliver = Callable[[Alert, Any], None]  # (alert, the token submitted with the record)


@dataclass(slots=True)
class AnalyserStats:
    """Running totals (read from the loop; written by the receiver thread; no torn reads)."""

    queued: int = 0
    analysed: int = 0
    dropped: int = 0  # records not analysed because the queue was full
    failed: int = 0  # records the analysis raised on (logged)
    observations: int = 0  # third-party observations at the alert level, before dedup
    alerts: int = 0
    first_party: tuple[str, ...] = ()
    found: list[Alert] = field(default_factory=list)  # every alert, in order


class LiveAnalyser:
    """Decode, detect and attribute recorded flows in a worker process, off the proxy."""

    def __init__(
        self,
        *,
        persona: Any = None,  # edscan.detect.persona.Persona
        level: AlertLevel = AlertLevel.ALL,
        first_party: Sequence[str] = (),
        data_dir: Path | None = None,
        deliver: Deliver | None = None,
        max_queue: int = DEFAULT_QUEUE,
    ) -> None:
        self.level = level
        self.stats = AnalyserStats()
        self.deliver = deliver
        self._config = WorkerConfig(
            persona=persona_state(persona),
            level=level,
            first_party=tuple(first_party),
            data_dir=data_dir,
        )
        self._max_queue = max_queue
        self._inbox: Any = None
        self._outbox: Any = None
        self._process: Any = None
        self._receiver: threading.Thread | None = None
        # (seq, token) of records in flight, oldest first: appended on the loop, popped by
        # the receiver thread once the worker reported them done (deque ends are thread-safe)
        self._tokens: collections.deque[tuple[int, Any]] = collections.deque()
        self._seq = 0
        self._warned = False

    # ------------------------------------------------------------------ the loop's side

    def start(self) -> None:
        if self._process is not None:
            return
        mp = multiprocessing.get_context("spawn")  # never fork a process with threads
        self._inbox = mp.Queue(maxsize=self._max_queue)
        self._outbox = mp.Queue()
        self._process = mp.Process(
            target=worker.run,
            args=(self._inbox, self._outbox, self._config),
            name="edscan-live-analyser",
            daemon=True,
        )
        self._process.start()
        self._receiver = threading.Thread(
            target=self._receive, name="edscan-live-receiver", daemon=True
        )
        self._receiver.start()

    def submit(self, record: dict[str, Any], token: Any = None) -> bool:
        """Queue one written record for analysis; False (and counted) when it was dropped."""
        if self.level is AlertLevel.NONE or self._process is None:
            return False
        seq = self._seq + 1
        self._tokens.append((seq, token))  # before the worker can answer about it
        try:
            # pickling and the pipe write happen on the queue's feeder thread, not here
            self._inbox.put_nowait((seq, record, time.monotonic()))
        except queue.Full:
            self._tokens.pop()
            self.stats.dropped += 1
            if not self._warned:
                self._warned = True
                logger.warning(
                    "edscan: the live analyser is behind; some flows are not analysed live "
                    "(all are recorded: run edscan scan on the capture for the full picture)"
                )
            return False
        self._seq = seq
        self.stats.queued += 1
        return True

    def stop(self, timeout: float = 5.0) -> None:
        """Finish what is queued (up to ``timeout`` seconds), then end the worker."""
        process, self._process = self._process, None
        if process is None:
            return
        deadline = time.monotonic() + timeout
        with contextlib.suppress(queue.Full, ValueError, OSError):
            self._inbox.put(None, timeout=max(deadline - time.monotonic(), 0.1))
        process.join(max(deadline - time.monotonic(), 0.1))
        if process.is_alive():
            process.terminate()
            process.join(1.0)
        receiver = self._receiver
        if receiver is not None:
            receiver.join(max(deadline - time.monotonic(), 0.5))
            if receiver.is_alive():  # the worker ended without saying so
                with contextlib.suppress(ValueError, OSError):
                    self._outbox.put(("end",))
                receiver.join(1.0)
        # what is still buffered for a worker that is gone may be dropped
        self._inbox.cancel_join_thread()
        self._inbox.close()
        self._outbox.close()
        self._outbox.join_thread()
        process.close()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until every queued record was analysed (tests and benchmarks)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = self.stats.analysed + self.stats.failed
            if done >= self.stats.queued:
                return True
            time.sleep(0.01)
        return False

    # ------------------------------------------------------------------ the receiver thread

    def _receive(self) -> None:
        while True:
            try:
                message = self._outbox.get()
            except (EOFError, OSError, ValueError):
                return
            kind = message[0]
            if kind == "end":
                return
            try:
                if kind == "alert":
                    self._alert(message[1], message[2])
                elif kind == "progress":
                    self._progress(*message[1:])
                elif kind == "error":
                    logger.error(message[1])
            except Exception:  # a display problem must never end live analysis
                logger.exception("edscan: could not take a live analysis result")

    def _alert(self, seq: int, alert: Alert) -> None:
        tokens = self._tokens
        while tokens and tokens[0][0] < seq:
            tokens.popleft()
        token = tokens[0][1] if tokens and tokens[0][0] == seq else None
        self.stats.alerts += 1
        self.stats.found.append(alert)
        if self.deliver is not None:
            self.deliver(alert, token)

    def _progress(
        self, seq: int, analysed: int, failed: int, observations: int, first: tuple[str, ...]
    ) -> None:
        tokens = self._tokens
        while tokens and tokens[0][0] <= seq:
            tokens.popleft()
        s = self.stats
        s.observations, s.first_party = observations, first
        s.failed = failed
        s.analysed = analysed  # last: wait_idle reads analysed + failed
