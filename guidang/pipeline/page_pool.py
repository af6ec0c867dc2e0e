"""Run page tasks in a process pool that survives the death of its processes.

A process killed under a task (segfault in a native library, the OOM killer) breaks the whole
``ProcessPoolExecutor``: every task still pending fails with it, whichever page was to blame.
So the tasks lost are run again in a new pool, and on the last attempt each one alone, so that
a page which kills its process every time is the only one given up (as ``None``), and a page that
only shared a pool with it, or met a transient kill, gets its result.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from typing import Protocol, TypeVar

log = logging.getLogger(__name__)

J = TypeVar("J")
R = TypeVar("R")


class TaskRunner(Protocol):
    """What runs the tasks of one stage of a batch: for pages :func:`run_tasks` (the local pool, the default),
    for items :func:`run_here` (in the batch's own process, the default), or a distributed back end with the
    same contract (``guidang.distributed.tasks``)."""

    def __call__(self, task: Callable[[J], R], jobs: Sequence[J], *, workers: int, attempts: int,
                 initializer: Callable[[], None] | None = None,
                 on_done: Callable[[], None] | None = None) -> list[R | None]: ...


def _run_once(task: Callable[[J], R], jobs: Sequence[J], workers: int,
              initializer: Callable[[], None] | None, on_done: Callable[[], None] | None = None) -> list[R | None]:
    """One fresh pool over ``jobs``; a task whose process died gives None. ``on_done`` is called as each
    task finishes (a progress display)."""
    results: list[R | None] = [None] * len(jobs)
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=get_context("forkserver"),
                             initializer=initializer) as pool:
        futures = {pool.submit(task, j): n for n, j in enumerate(jobs)}
        for future in as_completed(futures):
            n = futures[future]
            try:
                results[n] = future.result()
            except BrokenProcessPool:
                log.warning("a pool process died; task %d (%s) to be run again", n, jobs[n])
                continue
            if on_done is not None:
                on_done()
    return results


def run_tasks(task: Callable[[J], R], jobs: Sequence[J], *, workers: int, attempts: int,
              initializer: Callable[[], None] | None = None,
              on_done: Callable[[], None] | None = None) -> list[R | None]:
    """``task`` over every job in up to ``attempts`` pools; None for a job whose process died every time.

    ``task`` must be picklable (a module-level function) and must not raise: the pool is for
    crashes only, errors are the task's to turn into results.
    """
    results: list[R | None] = [None] * len(jobs)
    lost = list(range(len(jobs)))
    for attempt in range(1, attempts + 1):
        if not lost:
            break
        if attempt == attempts and attempt > 1:  # alone: a page that kills its process takes no other with it
            retried = [_run_once(task, [jobs[n]], 1, initializer, on_done)[0] for n in lost]
        else:
            retried = _run_once(task, [jobs[n] for n in lost], workers, initializer, on_done)
        for n, result in zip(lost, retried, strict=True):
            results[n] = result
        lost = [n for n in lost if results[n] is None]
    return results


def run_here(task: Callable[[J], R], jobs: Sequence[J], *, workers: int, attempts: int,
             initializer: Callable[[], None] | None = None,
             on_done: Callable[[], None] | None = None) -> list[R | None]:
    """``task`` over every job, one after the other in this process: the item stage without a broker (assemble,
    check, archive, as the batch always ran it). An exception ends the batch, as it always did."""
    del workers, attempts  # one process: a crash here is the batch's, and its claim is retried
    if initializer is not None:
        initializer()
    results: list[R | None] = []
    for job in jobs:
        results.append(task(job))
        if on_done is not None:
            on_done()
    return results
