"""Face analysis in worker processes that keep the models loaded.

dlib holds the GIL while it computes landmarks and descriptors, so threads would run the
costly step one at a time: each worker is a process. The pool is bounded by a count of
admitted jobs; beyond it the caller answers ThrottlingException and the SDK backs off.
A worker that dies mid-request breaks the pool: that request gets InternalServerError and
the next request finds a fresh pool.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context

from rekcli.service.errors import InternalServerError, ThrottlingException

# The operations that run the face engine; everything else is metadata work done in the
# front process, where it needs no numpy or dlib.
ENGINE_OPERATIONS = {"CompareFaces", "DetectFaces", "IndexFaces", "SearchFacesByImage",
                     "SearchUsersByImage"}


def _load_models() -> None:
    """Worker initializer: pay the model loading once per worker, not per request."""
    import signal

    # Ctrl-C reaches the whole process group; the server decides when workers stop, after
    # the requests in flight.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from rekcli.engine import models

    for loader in ("hog_detector", "shape_predictor_68", "shape_predictor_5",
                   "face_recognition_model"):
        try:
            getattr(models, loader)()
        except Exception:  # a missing optional model must not stop the worker; the request
            pass           # that needs it reports the error itself


def _run(operation_name: str, request: dict, region: str, data_dir: str,
         scan_in_parallel: bool = True):
    """In the worker: the service result as plain data, so no exception class is pickled."""
    from pathlib import Path

    from rekcli.engine import detection

    # The detector splits each scan over two threads: a gain for a lone request, only
    # contention when other requests already keep the cores busy.
    detection.scan_in_parallel(scan_in_parallel)

    from rekcli.service import invoke
    from rekcli.service.context import ServiceContext
    from rekcli.service.errors import ServiceError

    try:
        return "ok", invoke(operation_name, request, ServiceContext(region=region,
                                                                    data_dir=Path(data_dir)))
    except ServiceError as error:
        return "error", error.code, error.message


class WorkerPool:
    def __init__(self, workers: int, queue_size: int):
        self.workers = workers
        self.capacity = workers + queue_size
        self._admitted = 0
        # Digests of requests that were running when a worker died. An SDK retries a 500
        # (boto3 up to 4 times): a request that crashes workers would take them all down.
        self._crashed: dict[str, None] = {}
        self._lock = threading.Lock()
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        # forkserver, named: forking a process that runs server threads is unsafe.
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=get_context("forkserver"),
                                   initializer=_load_models)

    def warm_up(self) -> None:
        """Start every worker now so the first requests do not pay for it."""
        futures = [self._pool.submit(os.getpid) for _ in range(self.workers)]
        for future in futures:
            future.result()

    def call(self, operation_name: str, request: dict, region: str, data_dir,
             digest: str | None = None, is_retry: bool = False) -> dict:
        """Run the operation in a worker. `digest` identifies the request body; a retry of
        one that was running when a worker died is refused instead of run again."""
        if is_retry and digest in self._crashed:
            from rekcli.service.errors import InvalidParameterException

            raise InvalidParameterException("This request stopped a worker process; it is "
                                            "not run again.")
        with self._lock:
            if self._admitted >= self.capacity:
                raise ThrottlingException("Rate exceeded")
            self._admitted += 1
            alone = self._admitted == 1
            pool = self._pool
        try:
            # submit itself raises once the pool has noticed a dead worker
            outcome = pool.submit(_run, operation_name, request, region, str(data_dir),
                                  alone).result()
        except BrokenProcessPool:
            self._remember_crash(digest)
            self._replace(pool)
            raise InternalServerError("A worker process stopped while handling the request.") \
                from None
        finally:
            with self._lock:
                self._admitted -= 1
        if outcome[0] == "ok":
            return outcome[1]
        from rekcli.service.errors import ServiceError

        error = ServiceError(outcome[2])
        error.code = outcome[1]
        raise error

    def _remember_crash(self, digest: str | None) -> None:
        if digest is None:
            return
        with self._lock:
            self._crashed[digest] = None
            while len(self._crashed) > 64:  # oldest first: dicts keep insertion order
                del self._crashed[next(iter(self._crashed))]

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is not broken:
                return  # another request already replaced it
            self._pool = self._new_pool()
        broken.shutdown(wait=False, cancel_futures=True)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
