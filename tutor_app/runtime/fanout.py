"""Batch work hands the model all its calls together, as many at a time as the model serves.

A class set of 30 essays graded one call after another leaves a batching model (or a model
server) serving one sequence while it could serve eight. ``fan_out`` runs the calls of a batch
job from a small pool of threads, ``width`` at a time (``protocol.parallel_calls``: the slots
the backend reports); the queue and the engine put them in order behind students' calls. With
a width of 1 the calls run one after another in the caller's thread, exactly as before, which
keeps scripted backends (whose replies come in call order) deterministic.
"""

from __future__ import annotations

from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Callable, Iterable, Iterator, TypeVar

Job = TypeVar("Job")
Result = TypeVar("Result")


def fan_out(run: Callable[[Job], Result], jobs: Iterable[Job], *, width: int) -> list[Result]:
    """``[run(job) for job in jobs]``, ``width`` at a time, in the jobs' order. The first failure
    (in that order) is raised once the calls already running have ended; calls not yet started
    are not started."""
    jobs = list(jobs)
    if width <= 1 or len(jobs) <= 1:
        return [run(job) for job in jobs]
    with ThreadPoolExecutor(max_workers=min(width, len(jobs)), thread_name_prefix="batch-call") as pool:
        futures = [pool.submit(run, job) for job in jobs]
        try:
            return [future.result() for future in futures]
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def fan_out_as_completed(run: Callable[[Job], Result], jobs: Iterable[Job], *,
                         width: int) -> Iterator[tuple[Job, Result | None, Exception | None]]:
    """(job, result, error) for each job as it finishes, ``width`` running at a time; the caller
    consumes them in its own thread (stores results, reports progress). Closing the iterator
    early starts no further jobs."""
    jobs = list(jobs)
    if width <= 1:
        for job in jobs:
            try:
                yield job, run(job), None
            except Exception as exc:  # handed to the caller, who decides what a failure means
                yield job, None, exc
        return
    pending = iter(jobs)
    running: dict[Future, Job] = {}
    with ThreadPoolExecutor(max_workers=width, thread_name_prefix="batch-job") as pool:
        try:
            for job in pending:
                running[pool.submit(run, job)] = job
                if len(running) >= width:
                    break
            while running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    job = running.pop(future)
                    error = future.exception()
                    yield job, (None if error else future.result()), error
                    for job in pending:
                        running[pool.submit(run, job)] = job
                        break
        finally:
            for future in running:
                future.cancel()
