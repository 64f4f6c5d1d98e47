"""Where ``edscan batch`` runs its per-capture function: here, a process pool, or a cluster.

Every runner yields one ``Scanned`` per task in the order of the tasks, whatever order the
workers finish in, so app names, reports and the index are the same for ``--jobs 1``,
``--jobs 8`` and a cluster. Only a window of tasks is in flight at a time, so the reports
waiting to be written stay few however long the batch is.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol, cast

from edscan.errors import EdscanError
from edscan.publish.batch_task import (
    Scanned,
    ShippedLists,
    ShippedTask,
    Task,
    read_data_dir,
    scan_capture,
)

# tasks in flight per worker: enough to keep every worker busy while the parent writes
WINDOW_PER_WORKER = 2


class _Pending(Protocol):
    def result(self) -> Scanned: ...


def default_jobs() -> int:
    """All the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def _ordered(
    tasks: Sequence[Task], submit: Callable[[Task], _Pending], window: int
) -> Iterator[Scanned]:
    pending: deque[_Pending] = deque()
    queue = iter(tasks)
    for task in queue:
        pending.append(submit(task))
        if len(pending) >= window:
            break
    while pending:
        yield pending.popleft().result()
        for task in queue:
            pending.append(submit(task))
            break


def run_here(tasks: Sequence[Task]) -> Iterator[Scanned]:
    """One capture after another, in this process (``--jobs 1``)."""
    for task in tasks:
        yield scan_capture(task)


def _context() -> multiprocessing.context.BaseContext:
    # never fork: the parent may hold threads (a progress bar, a Dask client) and open files;
    # forkserver starts workers from a clean process, spawn where forkserver is missing
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def run_pool(tasks: Sequence[Task], jobs: int) -> Iterator[Scanned]:
    """Over ``jobs`` worker processes on this machine."""
    from concurrent.futures import ProcessPoolExecutor

    if jobs <= 1 or len(tasks) <= 1:
        yield from run_here(tasks)
        return
    workers = min(jobs, len(tasks))
    with ProcessPoolExecutor(max_workers=workers, mp_context=_context()) as pool:
        yield from _ordered(
            tasks, lambda t: pool.submit(scan_capture, t), workers * WINDOW_PER_WORKER
        )


def run_cluster(tasks: Sequence[Task], scheduler: str) -> Iterator[Scanned]:
    """On a Dask distributed cluster: captures, lists and the persona travel to the workers."""
    try:
        from distributed import Client
    except ImportError:
        raise EdscanError(
            "--scheduler needs Dask distributed: pip install 'edscan[cluster]'"
        ) from None
    if not scheduler.startswith(("tcp://", "tls://", "ws://", "wss://", "inproc://")):
        raise EdscanError(
            f"--scheduler {scheduler!r}: give the scheduler's address, e.g. tcp://10.0.0.5:8786"
        )
    try:
        client: Any = cast(Any, Client)(scheduler, timeout="10s", set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise EdscanError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    try:
        # the lists go once to every worker, not once per capture
        lists = client.scatter(read_data_dir(tasks[0].data_dir if tasks else None), broadcast=True)
        workers = max(1, sum(client.nthreads().values()))

        def submit(task: Task) -> _Pending:
            shipped = _ship(task)
            if isinstance(shipped, Scanned):
                return _Done(shipped)
            future: _Pending = client.submit(scan_shipped_entry, shipped, lists, pure=False)
            return future

        yield from _ordered(tasks, submit, workers * WINDOW_PER_WORKER)
    finally:
        client.close()


def scan_shipped_entry(shipped: ShippedTask, lists: ShippedLists) -> Scanned:
    from edscan.publish.batch_task import scan_shipped

    return scan_shipped(shipped, lists)


class _Done:
    """A result known before submitting (a capture the parent could not even read)."""

    def __init__(self, scanned: Scanned) -> None:
        self._scanned = scanned

    def result(self) -> Scanned:
        return self._scanned


def _ship(task: Task) -> ShippedTask | Scanned:
    from pathlib import PurePath

    from edscan.publish.public import strip_controls

    name = PurePath(task.capture).name
    try:
        with open(task.capture, "rb") as f:
            content = f.read()
    except FileNotFoundError:
        error = f"{name}: no such file"
    except IsADirectoryError:
        error = f"{name}: is a directory, not a capture file"
    except OSError as exc:
        error = f"{name}: cannot read ({exc.strerror or exc})"
    else:
        return ShippedTask(task=task, name=name, content=content)
    return Scanned(index=task.index, capture=task.capture, error=strip_controls(error))
