"""The live analyser: recorded flows in, alerts out, in a worker process.

``submit`` is called on the proxy's event loop for every record the recorder wrote. It never
blocks: the record goes into a bounded queue, and when the queue is full the record is not
analysed (``stats.dropped`` counts it, and the first drop is reported once). The recording is
never affected: the record is already on disk when it is submitted, and a dropped record is
only missing from the live view; ``edscan scan`` on the capture still sees every flow.

The worker is a process of its own, at the lowest scheduling priority: decoding and detection
are CPU work, and in a thread they would hold the proxy's interpreter lock. When the proxy is
busy the worker gets what is left and the queue sheds work; when it is idle alerts come within
milliseconds. A thread in the proxy's process (``_receive``) takes the worker's results back,
counts them and hands each alert to ``deliver`` with the token submitted with its record.

The worker runs the scan's own stages on each record: ``flow_from_dict`` (the capture reader's
conversion), ``decode_flow``, ``Detector.observe`` (one detector for the whole session, so
derived ids learned from responses apply to later flows, as in a scan) and the tracker
database's attribution. What a scan learns only at the end, the first party, is decided as
flows arrive: the ``--first-party`` domains when given, else the first registrable domain seen
that the lists do not place in a third-party service category (the page the auditor opened).
Observations sent to the first party never alert.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import logging
import multiprocessing
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edscan.live.alert import Alert, AlertLevel, how_label, what_label
from edscan.models import Observation

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess

    from edscan.recipients.trackers import TrackerDB

logger = logging.getLogger(__name__)

DEFAULT_QUEUE = 2000  # records waiting for analysis; beyond this they are dropped
PARENT_CHECK = 1.0  # seconds between the worker's checks that the proxy still runs
RECEIVER_TIMEOUT = 0.25  # seconds for the receiving thread to take the last results at a stop

Deliver = Callable[[Alert, Any], None]  # (alert, the token submitted with the record)


@dataclass(slots=True)
class AnalyserStats:
    """Running totals (read from the loop; written by the receiving thread; ints)."""

    queued: int = 0
    analysed: int = 0
    dropped: int = 0  # records not analysed because the queue was full
    failed: int = 0  # records the analysis raised on (logged by the worker)
    unfinished: int = 0  # records the stop came before (queued, never analysed)
    observations: int = 0  # third-party observations at the alert level, before dedup
    alerts: int = 0
    first_party: tuple[str, ...] = ()
    found: list[Alert] = field(default_factory=list)  # every alert, in order


class LiveAnalyser:
    """Decode, detect and attribute recorded flows off the proxy's loop and process."""

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
        if persona is not None:  # its values are a read-only mapping, which cannot be pickled
            persona = dataclasses.replace(persona, values=dict(persona.values))
        self._settings = (persona, level, tuple(first_party), data_dir)
        self._max_queue = max_queue
        self._tokens: dict[int, Any] = {}  # record number -> token, until its result is back
        self._numbers = itertools.count()
        self._process: BaseProcess | None = None
        self._receiver: threading.Thread | None = None
        self._warned = False
        self._finishing = False  # finish() was called: the worker takes no more records
        self._late = 0  # records submitted after finish()

    # ------------------------------------------------------------------ the loop's side

    def start(self) -> None:
        if self._process is not None:
            return
        # spawn, not fork: the proxy's process has threads and an event loop to leave behind
        mp = multiprocessing.get_context("spawn")
        self._in: multiprocessing.Queue[Any] = mp.Queue(maxsize=self._max_queue)
        self._out: multiprocessing.Queue[Any] = mp.Queue()
        self._process = mp.Process(
            target=_work,
            args=(self._in, self._out, os.getpid(), *self._settings),
            name="edscan-live-analyser",
            daemon=True,
        )
        self._process.start()
        self._receiver = threading.Thread(
            target=self._receive, name="edscan-live-results", daemon=True
        )
        self._receiver.start()

    @property
    def worker_pid(self) -> int | None:
        """The worker process's id while it runs."""
        return self._process.pid if self._process is not None else None

    def submit(self, record: dict[str, Any], token: Any = None) -> bool:
        """Queue one written record for analysis; False (and counted) when it was dropped."""
        if self.level is AlertLevel.NONE or self._process is None:
            return False
        if self._finishing:
            self._late += 1  # the worker has its last record: in the capture, not analysed
            return False
        number = next(self._numbers)
        try:
            self._in.put_nowait((number, record, time.monotonic()))
        except queue.Full:
            self.stats.dropped += 1
            if not self._warned:
                self._warned = True
                logger.warning(
                    "edscan: the live analyser is behind; some flows are not analysed live "
                    "(all are recorded: run edscan scan on the capture for the full picture)"
                )
            return False
        self._tokens[number] = token
        self.stats.queued += 1
        return True

    def finish(self) -> None:
        """Tell the worker that no record follows: it ends after those queued. Never blocks.

        A stopping capture calls this as soon as the last records are queued, so the worker
        works through them while the proxy closes its connections, and ``stop`` then waits only
        for what is left of its budget.
        """
        if self._process is not None:
            self._mark_end(0.0)  # a full queue: no end mark, ``stop`` ends the worker

    def _mark_end(self, wait: float) -> None:
        """Queue the end mark once, waiting up to ``wait`` seconds for room."""
        if self._finishing:
            return
        self._finishing = True
        with contextlib.suppress(queue.Full, ValueError, OSError):
            self._in.put(None, timeout=wait)

    def stop(self, timeout: float = 5.0) -> None:
        """Finish what is queued (up to ``timeout`` seconds), then end the worker.

        What it has not analysed by then is only missing from the live view (the capture holds
        every flow); ``stats.unfinished`` counts it.
        """
        process, self._process = self._process, None
        if process is None:
            return
        deadline = time.monotonic() + timeout
        self._mark_end(timeout)
        process.join(max(deadline - time.monotonic(), 0.0))
        if process.is_alive():
            process.kill()  # behind by more than the timeout: the capture has every flow
            process.join(1.0)
        if self._receiver is not None:
            self._out.put(None)  # the receiver ends after the worker's last result
            # the results are counts and alerts: not worth holding up the stop for
            self._receiver.join(RECEIVER_TIMEOUT)
        stats = self.stats
        stats.unfinished = max(stats.queued - stats.analysed - stats.failed, 0) + self._late
        self._in.close()
        self._in.cancel_join_thread()  # records never taken need not be flushed on exit
        self._out.close()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until every queued record was analysed (tests and benchmarks)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = self.stats.analysed + self.stats.failed
            if done >= self.stats.queued:
                return True
            time.sleep(0.01)
        return False

    def _receive(self) -> None:
        """Take the worker's results back: count them, deliver alerts with their tokens."""
        stats = self.stats
        while True:
            try:
                message = self._out.get()
            except Exception:  # the pipe closed, or a result cut short by a killed worker
                return
            if message is None:
                return
            kind, number, payload = message
            if kind == "alert":
                stats.alerts += 1
                stats.found.append(payload)
                if self.deliver is not None:
                    try:
                        self.deliver(payload, self._tokens.get(number))
                    except Exception:  # a display problem must never end live analysis
                        logger.exception("edscan: could not hand over a live alert")
            elif kind == "first_party":
                stats.first_party = payload
            elif kind == "done":
                self._tokens.pop(number, None)
                if payload is None:
                    stats.failed += 1
                else:
                    stats.observations += payload
                    stats.analysed += 1


# ---------------------------------------------------------------------- the worker process


def _work(
    inbox: multiprocessing.Queue[Any],
    outbox: multiprocessing.Queue[Any],
    parent: int,
    persona: Any,
    level: AlertLevel,
    given: tuple[str, ...],
    data_dir: Path | None,
) -> None:
    # the lowest priority, on any core (not only the proxy's, should it be pinned): the proxy
    # and the app under test come first, and an idle core serves the alerts
    with contextlib.suppress(OSError, AttributeError):
        os.nice(19)
        os.sched_setaffinity(0, range(os.cpu_count() or 1))
    threading.Thread(target=_end_with, args=(parent,), daemon=True).start()
    worker = _Worker(persona=persona, level=level, given=given, data_dir=data_dir)
    if worker.first is not None:
        outbox.put(("first_party", 0, worker.first.domains))
    while True:
        item = inbox.get()
        if item is None:
            break
        number, record, queued = item
        outbox.put(("done", number, worker.analyse(record, queued, number, outbox)))
    # The results are flushed to the pipe; then end at once. Tearing the interpreter down
    # (the detector, the tracker lists) is slow at the lowest priority on a busy machine, and
    # a stopping capture waits for this process.
    outbox.close()
    outbox.join_thread()
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.flush()  # a logged failure
    os._exit(0)


def _end_with(parent: int) -> None:
    # A proxy killed mid-message leaves the worker blocked reading the rest of it (the worker
    # holds the pipe's write end too, so no end of file comes): a watch on the parent, not the
    # queue, ends it.
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK)
    os._exit(0)


class _Worker:
    """The analysis state of one capture: detector, tracker lists, first party, alerts seen."""

    def __init__(
        self, *, persona: Any, level: AlertLevel, given: tuple[str, ...], data_dir: Path | None
    ) -> None:
        from edscan.detect.detector import Detector
        from edscan.recipients.first_party import FirstParty
        from edscan.recipients.trackers import load_trackers

        self.level = level
        self.db: TrackerDB | None
        try:
            self.db = load_trackers(data_dir)
        except Exception:  # alerts need attribution; without it they stay off, recording goes on
            logger.exception("edscan: the live analyser could not load the tracker lists")
            self.db = None
        self.detector = Detector(persona)
        self.first: Any = None
        if given and self.db is not None:
            self.first = FirstParty.resolve(given, [], self.db)
        self._seen: set[tuple[str, str]] = set()

    def analyse(
        self, record: dict[str, Any], queued: float, number: int, outbox: Any
    ) -> int | None:
        """Alerts for one record, put in ``outbox``; how many observations counted, or None."""
        from edscan.capture.capture_file import flow_from_dict
        from edscan.decode.flow import decode_flow

        try:
            flow = flow_from_dict(record)
            decoded = decode_flow(flow, response_body=self.detector.learns)
            observations = self.detector.observe(flow, decoded)
            if self.db is None:
                return 0
            if self.first is None:
                self.first = _first_party_of(flow.host, self.db)
                if self.first is not None:
                    outbox.put(("first_party", number, self.first.domains))
            counted = 0
            for o in observations:
                alert, watched = self._consider(o, flow, queued)
                counted += watched
                if alert is not None:
                    outbox.put(("alert", number, alert))
            return counted
        except Exception:  # one odd flow must not end live analysis
            logger.exception("edscan: live analysis of one flow failed")
            return None

    def _consider(self, o: Observation, flow: Any, queued: float) -> tuple[Alert | None, int]:
        """The alert ``o`` raises (None: first party, below the level or seen before), and
        whether it counted as a third-party observation at the alert level."""
        from edscan.models import Party

        if self.first is None or self.first.party(o.host) is Party.FIRST:
            return None, 0  # the app's own servers; or no first party yet (nothing to compare)
        if not self.level.admits(o):
            return None, 0
        assert self.db is not None
        attribution = self.db.attribute(o.host)
        domain = attribution.domain or o.host
        key = (o.element, domain)
        if key in self._seen:
            return None, 1
        self._seen.add(key)
        alert = Alert(
            time=flow.request_start or time.time(),
            phase=flow.phase,
            flow=flow.index,
            flow_id=flow.id,
            element=o.element,
            what=what_label(o),
            how=how_label(o),
            confidence=o.confidence,
            host=o.host,
            domain=domain,
            organization=attribution.organization,
            url=flow.url,
            queued=queued,
            analysed=time.monotonic(),  # system-wide on Linux: comparable with ``queued``
        )
        return alert, 1


def _first_party_of(host: str, db: Any) -> Any:
    """The first party from the first host that is not a third-party service, else None."""
    from edscan.recipients.domains import registrable_domain
    from edscan.recipients.first_party import FirstParty

    domain = registrable_domain(host) if host else ""
    if not domain or db.is_service(domain):
        return None
    return FirstParty.resolve((domain,), [], db)
