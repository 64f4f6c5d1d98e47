"""The live analyser: recorded flows in, alerts out, on a worker thread.

``submit`` is called on the proxy's event loop for every record the recorder wrote. It never
blocks: the record goes into a bounded queue, and when the queue is full the record is not
analysed (``stats.dropped`` counts it, and the first drop is reported once). The recording is
never affected: the record is already on disk when it is submitted, and a dropped record is
only missing from the live view; ``edscan scan`` on the capture still sees every flow.

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
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edscan.live.alert import Alert, AlertLevel, how_label, what_label
from edscan.models import Observation

if TYPE_CHECKING:
    from edscan.recipients.trackers import TrackerDB

logger = logging.getLogger(__name__)

DEFAULT_QUEUE = 2000  # records waiting for analysis; beyond this they are dropped

Deliver = Callable[[Alert, Any], None]  # (alert, the token submitted with the record)


@dataclass(slots=True)
class AnalyserStats:
    """Running totals (read from the loop; written by the worker; ints, so no torn reads)."""

    queued: int = 0
    analysed: int = 0
    dropped: int = 0  # records not analysed because the queue was full
    failed: int = 0  # records the analysis raised on (logged)
    observations: int = 0  # third-party observations at the alert level, before dedup
    alerts: int = 0
    first_party: tuple[str, ...] = ()
    found: list[Alert] = field(default_factory=list)  # every alert, in order


_STOP = object()


class LiveAnalyser:
    """Decode, detect and attribute recorded flows off the proxy's loop."""

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
        self._persona = persona
        self._given = tuple(first_party)
        self._data_dir = data_dir
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max_queue)
        self._seen: set[tuple[str, str]] = set()
        self._thread: threading.Thread | None = None
        self._warned = False

    # ------------------------------------------------------------------ the loop's side

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="edscan-live-analyser", daemon=True
            )
            self._thread.start()

    def submit(self, record: dict[str, Any], token: Any = None) -> bool:
        """Queue one written record for analysis; False (and counted) when it was dropped."""
        if self.level is AlertLevel.NONE or self._thread is None:
            return False
        try:
            self._queue.put_nowait((record, token, time.monotonic()))
        except queue.Full:
            self.stats.dropped += 1
            if not self._warned:
                self._warned = True
                logger.warning(
                    "edscan: the live analyser is behind; some flows are not analysed live "
                    "(all are recorded: run edscan scan on the capture for the full picture)"
                )
            return False
        self.stats.queued += 1
        return True

    def stop(self, timeout: float = 5.0) -> None:
        """Finish what is queued (up to ``timeout`` seconds), then end the worker."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        deadline = time.monotonic() + timeout
        while thread.is_alive():
            try:
                self._queue.put(_STOP, timeout=0.1)
                break
            except queue.Full:
                if time.monotonic() > deadline:
                    return  # a daemon thread: it ends with the process
        thread.join(max(deadline - time.monotonic(), 0.0))

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until every queued record was analysed (tests and benchmarks)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = self.stats.analysed + self.stats.failed
            if done >= self.stats.queued:
                return True
            time.sleep(0.01)
        return False

    # ------------------------------------------------------------------ the worker

    def _run(self) -> None:
        # Below the proxy in the scheduler: when the proxy is saturated this thread gets what
        # is left and the queue sheds work, instead of the proxy slowing down (Linux: a thread
        # is a task with its own nice value).
        with contextlib.suppress(OSError, AttributeError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
        from edscan.capture.capture_file import flow_from_dict
        from edscan.decode.flow import decode_flow
        from edscan.detect.detector import Detector
        from edscan.recipients.domains import FirstParty
        from edscan.recipients.trackers import load_trackers

        db: TrackerDB | None
        try:
            db = load_trackers(self._data_dir)
        except Exception:  # alerts need attribution; without it they stay off, recording goes on
            logger.exception("edscan: the live analyser could not load the tracker lists")
            db = None
        detector = Detector(self._persona)
        first: FirstParty | None = None
        if self._given and db is not None:
            first = FirstParty.resolve(self._given, [], db)
            self.stats.first_party = first.domains
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            record, token, queued = item
            try:
                flow = flow_from_dict(record)
                observations = detector.observe(flow, decode_flow(flow))
                if db is None:
                    self.stats.analysed += 1
                    continue
                if first is None:
                    first = _first_party_of(flow.host, db)
                    if first is not None:
                        self.stats.first_party = first.domains
                for o in observations:
                    alert = self._consider(o, flow, first, db, queued)
                    if alert is not None and self.deliver is not None:
                        self.deliver(alert, token)
                self.stats.analysed += 1
            except Exception:  # one odd flow must not end live analysis
                self.stats.failed += 1
                logger.exception("edscan: live analysis of one flow failed")

    def _consider(
        self, o: Observation, flow: Any, first: Any, db: Any, queued: float
    ) -> Alert | None:
        from edscan.models import Party

        if first is None or first.party(o.host) is Party.FIRST:
            return None  # the app's own servers; or no first party yet (nothing to compare)
        if not self.level.admits(o):
            return None
        self.stats.observations += 1
        attribution = db.attribute(o.host)
        domain = attribution.domain or o.host
        key = (o.element, domain)
        if key in self._seen:
            return None
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
            analysed=time.monotonic(),
        )
        self.stats.alerts += 1
        self.stats.found.append(alert)
        return alert


def _first_party_of(host: str, db: Any) -> Any:
    """The first party from the first host that is not a third-party service, else None."""
    from edscan.recipients.domains import FirstParty, registrable_domain

    domain = registrable_domain(host) if host else ""
    if not domain or db.is_service(domain):
        return None
    return FirstParty.resolve((domain,), [], db)
