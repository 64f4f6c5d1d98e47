"""The live analyser's worker process: records in, alerts and progress out.

Runs in a ``spawn``ed process (``LiveAnalyser.start``), so everything it is given is plain,
picklable data: a ``WorkerConfig`` and, per record, ``(seq, record, queued)`` where ``record``
is the dict the recorder wrote. It answers on the result queue with

* ``("alert", seq, Alert)``: a new finding (element × recipient, first time);
* ``("progress", seq, analysed, failed, observations, first_party)``: totals up to record
  ``seq``, at most every 0.1 s while records come, and 0.1 s after the last one;
* ``("error", text)``: a problem to log in the proxy's process;
* ``("end",)``: the last message, after ``None`` came in (or the proxy's process went away).
"""

from __future__ import annotations

import contextlib
import os
import queue
import time
import traceback
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from edscan.live.alert import Alert, AlertLevel, how_label, what_label
from edscan.models import Observation, Party

PROGRESS_EVERY = 0.1  # seconds between progress messages while records keep coming


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerConfig:
    """What the worker needs, as plain data (a persona's mapping proxy does not pickle)."""

    persona: dict[str, Any] | None
    level: AlertLevel
    first_party: tuple[str, ...]
    data_dir: Path | None


def persona_state(persona: Any) -> dict[str, Any] | None:
    """A ``Persona`` as keyword arguments that rebuild it (``Persona(**state)``)."""
    if persona is None:
        return None
    state = {f.name: getattr(persona, f.name) for f in fields(persona)}
    state["values"] = dict(state["values"])
    return state


def run(inbox: Any, outbox: Any, config: WorkerConfig) -> None:
    """The worker process's main: analyse records from ``inbox`` until ``None`` arrives."""
    # The lowest priority: on a free core this changes nothing; on the proxy's own core the
    # proxy comes first and the bounded queue sheds what the worker cannot keep up with.
    with contextlib.suppress(OSError, AttributeError):
        os.nice(19)
    try:
        worker = _Worker(config, outbox)
    except Exception:
        outbox.put(("error", "edscan: the live analyser could not start\n" + _trace()))
        worker = None
    try:
        while True:
            # progress at most every PROGRESS_EVERY (each message wakes a thread in the
            # proxy's process), and once the inbox has been quiet that long
            pending = worker is not None and worker.seq != worker.reported_seq
            try:
                item = inbox.get(timeout=PROGRESS_EVERY) if pending else inbox.get()
            except queue.Empty:
                if worker is not None:
                    worker.progress()
                continue
            except (EOFError, OSError):  # the proxy's process is gone
                return
            if item is None:
                break
            if worker is None:
                outbox.put(("progress", item[0], 0, 0, 0, ()))
                continue
            worker.analyse(*item)
            if time.monotonic() - worker.reported > PROGRESS_EVERY:
                worker.progress()
        if worker is not None:
            worker.progress()
    finally:
        with contextlib.suppress(Exception):
            outbox.put(("end",))


def _trace() -> str:
    return traceback.format_exc(limit=8)


class _Worker:
    def __init__(self, config: WorkerConfig, outbox: Any) -> None:
        from edscan.detect.detector import Detector
        from edscan.detect.persona import Persona
        from edscan.recipients.domains import FirstParty
        from edscan.recipients.trackers import load_trackers

        self.outbox = outbox
        self.level = config.level
        self.db: Any = None
        try:
            self.db = load_trackers(config.data_dir)
        except Exception:  # alerts need attribution; without it they stay off, recording goes on
            self._error("edscan: the live analyser could not load the tracker lists")
        persona = Persona(**config.persona) if config.persona is not None else None
        self.detector = Detector(persona)
        self.first: Any = None
        if config.first_party and self.db is not None:
            self.first = FirstParty.resolve(config.first_party, [], self.db)
        self.seen: set[tuple[str, str]] = set()
        self.seq = 0
        self.reported_seq = 0
        self.analysed = 0
        self.failed = 0
        self.observations = 0
        self.reported = time.monotonic()

    def _error(self, text: str) -> None:
        self.outbox.put(("error", f"{text}\n{_trace()}"))

    def progress(self) -> None:
        first = self.first.domains if self.first is not None else ()
        self.outbox.put(
            ("progress", self.seq, self.analysed, self.failed, self.observations, first)
        )
        self.reported = time.monotonic()
        self.reported_seq = self.seq

    def analyse(self, seq: int, record: dict[str, Any], queued: float) -> None:
        from edscan.capture.capture_file import flow_from_dict
        from edscan.decode.flow import decode_flow

        self.seq = seq
        try:
            flow = flow_from_dict(record)
            observations = self.detector.observe(flow, decode_flow(flow))
            if self.db is not None:
                if self.first is None:
                    self.first = _first_party_of(flow.host, self.db)
                for o in observations:
                    alert = self._consider(o, flow, queued)
                    if alert is not None:
                        self.outbox.put(("alert", seq, alert))
            self.analysed += 1
        except Exception:  # one odd flow must not end live analysis
            self.failed += 1
            self._error("edscan: live analysis of one flow failed")

    def _consider(self, o: Observation, flow: Any, queued: float) -> Alert | None:
        first = self.first
        if first is None or first.party(o.host) is Party.FIRST:
            return None  # the app's own servers; or no first party yet (nothing to compare)
        if not self.level.admits(o):
            return None
        self.observations += 1
        attribution = self.db.attribute(o.host)
        domain = attribution.domain or o.host
        key = (o.element, domain)
        if key in self.seen:
            return None
        self.seen.add(key)
        return Alert(
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


def _first_party_of(host: str, db: Any) -> Any:
    """The first party from the first host that is not a third-party service, else None."""
    from edscan.recipients.domains import FirstParty, registrable_domain

    domain = registrable_domain(host) if host else ""
    if not domain or db.is_service(domain):
        return None
    return FirstParty.resolve((domain,), [], db)
