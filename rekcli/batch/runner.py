"""Run many tasks on a pool of worker processes and hand back results in input order.

Results come back out of order from the workers; a small reorder buffer releases them in
order, so output line N always answers input line N. At most `2 * workers` tasks are in
flight, which keeps memory flat for any number of items. Finished results go to the journal
before they are released. When the caller's should_stop() turns true (Ctrl-C, SIGTERM), the
workers are stopped, what was journaled is kept, and Stopped is raised so the CLI can exit
130 or 143; any other exception (KeyboardInterrupt included) stops them the same way.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Callable, Iterator

from rekcli.batch.journal import Journal
from rekcli.batch.worker import execute, init_worker


class Stopped(Exception):
    """run_in_order noticed that should_stop() turned true, and stopped its workers."""


def run_in_order(tasks: list, *, workers: int, journal: Journal | None = None,
                 work: Callable[[tuple], dict] = execute,
                 recheck_journaled: Callable[[dict, dict], dict] | None = None,
                 facts_of: Callable[[int, dict], object] | None = None,
                 should_stop: Callable[[], bool] = lambda: False,
                 cluster: str | None = None,
                 ) -> Iterator[tuple[int, dict]]:
    """Yield (index, result) for every task, in index order.

    recheck_journaled: given the journal's results {index: result} and the facts recorded
    with them {index: facts}, returns the results that still hold (the others are computed
    again, e.g. an indexed face deleted since, or an image file replaced).
    facts_of: what a result depended on, recorded with it (index, result) -> JSON value.
    should_stop: asked between items and several times a second while waiting for workers;
    when true, the workers are stopped and Stopped is raised. (A signal handler that raised
    instead could interrupt the caller in the middle of writing a line.)
    cluster: the address of a Dask scheduler: the pixel work runs on its workers and this
    process does the rest (batch/cluster.py; `workers` and `work` are then not used).
    """
    done = journal.load() if journal else {}
    if done and recheck_journaled is not None:
        done = recheck_journaled(done, journal.facts)
    pending = [i for i in range(len(tasks)) if i not in done]
    if cluster and pending:
        from rekcli.batch.cluster import run_on_cluster

        results = run_on_cluster(tasks, pending, cluster, should_stop)
    elif workers <= 1 or len(pending) <= 1:
        results = _serial(tasks, pending, work, should_stop)
    else:
        results = _parallel(tasks, pending, workers, work, should_stop)
    ready: dict[int, dict] = dict(done)
    next_index = 0
    for index, result in results:
        if journal and not is_retryable(result):
            journal.record(index, result, facts_of(index, result) if facts_of else None)
        ready[index] = result
        while next_index in ready:
            yield next_index, ready.pop(next_index)
            next_index += 1
    while next_index in ready:  # everything was already journaled
        yield next_index, ready.pop(next_index)
        next_index += 1


# Failures that another try may not repeat: a resumed run tries these items again.
RETRYABLE_CODES = {"ThrottlingException", "InternalServerError", "FileError", "InternalError"}


def is_retryable(result: dict) -> bool:
    return result.get("Error", {}).get("Code") in RETRYABLE_CODES


def _serial(tasks, pending, work, should_stop):
    for index in pending:
        if should_stop():
            raise Stopped
        yield index, work(tasks[index])


def _parallel(tasks, pending, workers, work, should_stop):
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    # Each detection can use two threads; with a worker per core they would only queue.
    spare_cores = workers < (os.cpu_count() or 1)
    executor = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=init_worker,
                                   initargs=(spare_cores, os.getpid()))
    try:
        queue = iter(pending)
        in_flight = {}
        for index in queue:
            in_flight[executor.submit(work, tasks[index])] = index
            if len(in_flight) >= 2 * workers:
                break
        while in_flight:
            finished, _ = wait(in_flight, timeout=0.2, return_when=FIRST_COMPLETED)
            if should_stop():
                raise Stopped
            for future in finished:
                index = in_flight.pop(future)
                yield index, future.result()
                following = next(queue, None)
                if following is not None:
                    in_flight[executor.submit(work, tasks[following])] = following
        executor.shutdown(wait=True)
    except BaseException:
        _stop_now(executor)
        raise


def _stop_now(executor: ProcessPoolExecutor) -> None:
    """Cancel queued work and end the workers at once (Ctrl-C, or the consumer went away)."""
    processes = list(getattr(executor, "_processes", {}).values())
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=5)
