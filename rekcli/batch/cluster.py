"""The batch commands' face analysis on an existing Dask cluster (`--cluster ADDRESS`).

Same interface as runner._parallel: a generator of (index, result) for the pending tasks,
in the order they finish; run_in_order puts them back in input order and journals them.

One writer: this process (the driver) reads each task's images (local files, S3) and
checks it (validation, index-folder's skip), ships the image bytes and the request's
options to the cluster, where a worker turns them into faces and descriptors
(service.pixel_work.analyse: a pure function of those), and then does the store work
itself (service.pixel_work.finish). So the store's lock, crash safety and idempotence are
the local run's, and the cluster's machines need neither the files nor the collections.

Failures:
- a worker that dies: the scheduler runs its tasks again elsewhere; nothing was written,
  so nothing is lost or stored twice;
- an image that ends workers repeatedly: after the scheduler's allowed-failures (3 by
  default) it gives up the task (KilledWorker), which becomes that image's error line;
- the scheduler gone: ClusterUnavailable, after the results already in hand are yielded
  (and journaled), so running the same command again resumes;
- Ctrl-C / SIGTERM (should_stop) or any other exception: the tasks in flight are
  cancelled on the cluster;
- a worker whose engine differs from this process's (analysis_fingerprint: releases,
  detector, face model): ClusterUnavailable, before its answer is used.

Backpressure: at most 2 tasks per worker thread of the cluster are in flight (at most
MAX_IN_FLIGHT), so a million photos never hold more than that many images in memory.

dask.distributed is the `cluster` extra, imported only here and only when a cluster is
given: a local run never imports it.
"""

from __future__ import annotations

import functools
import sys
import time
import uuid

ADDRESS_VARIABLE = "DASK_SCHEDULER_ADDRESS"
CONNECT_TIMEOUT_SECONDS = 10
MAX_IN_FLIGHT = 256
# How long the driver lets the scheduler be unreachable before it gives the job up.
LOST_SCHEDULER_SECONDS = 10.0
# How long the driver waits for a cluster that has no worker at all (all gone, or none
# started): longer than a nanny takes to restart a dead worker on a loaded machine.
NO_WORKERS_SECONDS = 120.0
# Fetching a finished task's answer (a few KB) through the scheduler: how long one try may
# take, and how many tries in a row may fail before the scheduler is taken as lost.
FETCH_SECONDS = 5.0
MAX_UNFETCHED = 3


class ClusterUnavailable(Exception):
    """The cluster cannot be reached, or went away during the job; `message` says which."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ClusterExtraMissing(ClusterUnavailable):
    """--cluster was given, but dask.distributed is not installed."""


def connect(address: str):
    """A client of the Dask scheduler at `address` (tcp://host:8786, or host:8786)."""
    try:
        from distributed import Client
    except ImportError:
        raise ClusterExtraMissing("--cluster needs dask.distributed: pip install "
                                  "'rekcli[cluster]'") from None
    _quiet_dask_logs()
    _no_large_task_warning()
    try:
        return Client(address, timeout=CONNECT_TIMEOUT_SECONDS, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as error:
        raise ClusterUnavailable(f'Could not connect to the cluster scheduler: "{address}" '
                                 f"({error})") from None


def _no_large_task_warning() -> None:
    """Dask warns on stderr ("Sending large graph ...") for a task over 10 MB; an S3Object
    image may be 15 MB, and shipping the image is the design, so the warning would only be
    noise the local run never prints. One task carries one request's images (3 at most)."""
    import dask

    dask.config.set({"distributed.admin.large-graph-warning-threshold": "64MB"})


def _quiet_dask_logs() -> None:
    """Dask's client logs a lost connection with a traceback on stderr; the job reports it
    in its own words (ClusterUnavailable). With --debug, Dask's logs stay."""
    import logging

    if logging.getLogger("rekcli").isEnabledFor(logging.DEBUG):
        return
    for name in list(logging.root.manager.loggerDict):  # Dask's config gives some their own level
        if name == "distributed" or name.startswith("distributed."):
            logging.getLogger(name).setLevel(logging.CRITICAL)


def run_on_cluster(tasks: list, pending: list, address: str, should_stop,
                   analyse=None):
    """Yield (index, result) for each pending task, its pixel work done on the cluster.

    analyse: the function the workers run (service.pixel_work.analyse by default; tests
    give one that ends its worker on a chosen image)."""
    from rekcli.batch.runner import Stopped
    from rekcli.batch.worker import Shipment, finish, prepare

    analyse = analyse or analyse_on_worker
    client = connect(address)
    in_flight: dict = {}  # future -> (index, shipment)
    try:
        limit = _InFlightLimit(client)
        queue = iter(pending)
        exhausted = False
        unfetched = 0  # answers in a row that could not be fetched
        while True:
            while not exhausted and len(in_flight) < limit.now():
                index = next(queue, None)
                if index is None:
                    exhausted = True
                    break
                if should_stop():
                    raise Stopped
                prepared = prepare(tasks[index])
                if not isinstance(prepared, Shipment):
                    yield index, prepared
                elif prepared.outcome is not None:
                    yield index, finish(prepared, prepared.outcome)
                else:
                    future = client.submit(analyse, prepared.operation, prepared.request,
                                           prepared.images, key=f"rekcli-{index}-{uuid.uuid4().hex}",
                                           pure=False)
                    in_flight[future] = (index, prepared)
            if not in_flight:
                break
            for future in _finished(client, in_flight, should_stop, address):
                outcome = _outcome(future)
                if outcome is None:  # not fetched: waited for again, within a bound
                    unfetched += 1
                    if unfetched >= MAX_UNFETCHED:
                        raise _lost(address)
                    continue
                unfetched = 0
                index, shipment = in_flight.pop(future)
                _require_same_engine(outcome.pop("Engine", None), address)
                yield index, finish(shipment, outcome)
    except BaseException:
        _cancel(client, in_flight)
        raise
    finally:
        _close(client)


def analyse_on_worker(operation: str, request: dict, images: dict) -> dict:
    """What a cluster worker runs for one image: service.pixel_work.analyse, with detection
    on one thread (a Dask worker gives each of its threads a core already)."""
    from rekcli.engine import analysis_fingerprint, detection
    from rekcli.service import pixel_work

    detection.scan_in_parallel(False)
    keep_freed_memory()
    outcome = pixel_work.analyse(operation, request, images)
    outcome["Engine"] = analysis_fingerprint()  # the driver checks it is its own
    return outcome


_MMAP_THRESHOLD = 32 * 1024 * 1024   # glibc's own ceiling for its dynamic threshold
_TRIM_THRESHOLD = 2 * _MMAP_THRESHOLD  # what glibc's dynamic rule would pair with it


@functools.lru_cache(maxsize=1)
def keep_freed_memory() -> None:
    """Let malloc reuse the memory of freed arrays in this worker process, as it does by
    default.

    Dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536 (its
    distributed.nanny.pre-spawn-environ), which also turns off glibc's dynamic mmap
    threshold: every array over 128 KB is then mmapped, faulted in and unmapped again, and
    one face analysis costs about 40% more CPU (measured: 156 against 111 ms a photo, same
    process, same photos). mallopt at run time restores the usual behaviour. Linux glibc
    only; elsewhere nothing changes."""
    import ctypes
    import os

    if "MALLOC_TRIM_THRESHOLD_" not in os.environ or not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt(-3, _MMAP_THRESHOLD)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, _TRIM_THRESHOLD)  # M_TRIM_THRESHOLD
    except (OSError, AttributeError):  # not glibc
        pass


class _InFlightLimit:
    """Twice the cluster's worker threads (workers may join or leave during a job), asked
    of the scheduler at most once a second, between 2 and MAX_IN_FLIGHT."""

    def __init__(self, client) -> None:
        self.client = client
        self.asked_at = float("-inf")
        self.limit = 2

    def now(self) -> int:
        if time.monotonic() - self.asked_at >= 1.0:
            self.asked_at = time.monotonic()
            try:
                threads = sum(self.client.nthreads(callback_timeout=5).values())
            except Exception:  # noqa: BLE001 - the scheduler's state is checked while waiting
                threads = 0
            self.limit = max(2, min(MAX_IN_FLIGHT, 2 * threads))
        return self.limit


def _finished(client, in_flight: dict, should_stop, address: str) -> list:
    """The futures of in_flight that are done, waiting for at least one; should_stop asked
    several times a second; ClusterUnavailable when the scheduler is gone for good."""
    from distributed import wait

    from rekcli.batch.runner import Stopped

    unreachable_since = None
    workers = _WorkerWatch(client)
    while True:
        try:
            with client.as_current():
                done, _ = wait(list(in_flight), timeout=0.2, return_when="FIRST_COMPLETED")
        except TimeoutError:
            done = ()
        except Exception:  # noqa: BLE001 - FuturesCancelledError: the scheduler was lost
            done = [future for future in in_flight if future.status in ("cancelled", "lost")]
        if should_stop():
            raise Stopped
        lost = [future for future in done if future.status in ("cancelled", "lost")]
        if client.status == "running" and not lost:
            if done:
                return list(done)
            unreachable_since = None
            if workers.gone_for() > NO_WORKERS_SECONDS:
                raise ClusterUnavailable(
                    f'The cluster at "{address}" has no workers to run the analysis; the '
                    "results printed so far are kept: start its workers and run the same "
                    "command again to resume")
            continue
        unreachable_since = unreachable_since or time.monotonic()
        if lost or client.status in ("closed", "closing") or \
                time.monotonic() - unreachable_since > LOST_SCHEDULER_SECONDS:
            raise _lost(address)


def _lost(address: str) -> ClusterUnavailable:
    return ClusterUnavailable(f'Lost the connection to the cluster scheduler "{address}"; '
                              "the results printed so far are kept: run the same command "
                              "again to resume")


class _WorkerWatch:
    """How long the cluster has had no worker (0 while it has some), asked of the scheduler
    at most once a second, each question bounded (an unanswered one counts as none)."""

    def __init__(self, client) -> None:
        self.client = client
        self.asked_at = float("-inf")
        self.none_since: float | None = None

    def gone_for(self) -> float:
        now = time.monotonic()
        if now - self.asked_at >= 1.0:
            self.asked_at = now
            try:
                threads = sum(self.client.nthreads(callback_timeout=5).values())
            except Exception:  # noqa: BLE001 - the scheduler's own loss is checked apart
                threads = 0
            if threads:
                self.none_since = None
            elif self.none_since is None:
                self.none_since = now
        return 0.0 if self.none_since is None else now - self.none_since


def _require_same_engine(theirs: str | None, address: str) -> None:
    """Stop the job when a worker analyses faces otherwise than this process would (another
    rekcli, dlib or OpenCV release, REKCLI_DETECTOR, REKCLI_FACE_MODEL, ...): its faces and
    descriptors would not be the local run's, and would not match the collection's."""
    from rekcli.engine import analysis_fingerprint

    if theirs is not None and theirs != analysis_fingerprint():
        raise ClusterUnavailable(
            f'A worker of the cluster at "{address}" analyses faces with another engine than '
            f"this machine's (worker: {theirs}; here: {analysis_fingerprint()}); install the "
            "same rekcli on every machine and give the workers the same REKCLI_* settings")


def _outcome(future) -> dict:
    """The analysis a worker returned, or an error for an image whose task the scheduler
    gave up (it ended the workers that ran it, KilledWorker); None when it could not be
    fetched within FETCH_SECONDS (fetching goes through the scheduler, which may not answer)."""
    from rekcli.service.errors import InternalServerError

    try:
        error = future.exception(timeout=FETCH_SECONDS)
        if error is None:
            return future.result(timeout=FETCH_SECONDS)
    except Exception:  # noqa: BLE001 - a scheduler that does not answer, a lost connection,
        return None    # a result lost with its worker (computed again): None, waited for again
    if type(error).__name__ == "KilledWorker":
        return {"Error": InternalServerError(
            "The analysis of this image ended every cluster worker that ran it; it was "
            "given up after the scheduler's allowed failures")}
    return {"Error": InternalServerError(f"{type(error).__name__}: {error}")}


def _cancel(client, in_flight: dict) -> None:
    """Cancel the job's tasks on the cluster (best effort: the scheduler may be gone)."""
    if not in_flight:
        return
    try:
        client.cancel(list(in_flight), force=True)
    except Exception:  # noqa: BLE001 - nothing more to do for a cluster that cannot be reached
        pass


def _close(client) -> None:
    try:
        client.close(timeout=5)
    except Exception:  # noqa: BLE001 - closing a client whose scheduler is gone
        pass
