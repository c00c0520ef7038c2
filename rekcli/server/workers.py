"""Face analysis in worker processes that keep the models loaded.

dlib holds the GIL while it computes landmarks and descriptors, so threads would run the
costly step one at a time: each worker is a process, with a pipe of its own. A request takes
an idle worker, sends it the job and waits for the answer on that worker's pipe, so a worker
that dies (kill -9, the OOM killer) fails only the request it was running: that request gets
InternalServerError, a fresh worker takes its place, and the requests on the other workers
never notice. (concurrent.futures' pool breaks as a whole when one of its workers dies, failing
every request in flight.) The pool admits a bounded number of requests; beyond it the caller
answers ThrottlingException and the SDK backs off.

A worker ends when the server does, however the server ends: its pipe reaches end-of-file,
and on Linux the kernel also signals it when its parent (the forkserver) goes.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
from multiprocessing import get_context

from rekcli.service.errors import InternalServerError, ThrottlingException

# The operations that run the face engine; everything else is metadata work done in the
# front process, where it needs no numpy or dlib.
ENGINE_OPERATIONS = {"CompareFaces", "DetectFaces", "IndexFaces", "SearchFacesByImage",
                     "SearchUsersByImage", "RecognizeCelebrities"}
# Each worker keeps the face boxes of this many recent images, so a reference photo sent
# with every call is scanned once (engine/detection.py, "remembered detections").
REMEMBERED_IMAGES = 64


def _load_models() -> None:
    """Worker initializer: pay the model loading once per worker, not per request."""
    import signal

    # Ctrl-C reaches the whole process group; the server decides when workers stop, after
    # the requests in flight.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from rekcli.engine import detection, models

    detection.remember_detections(REMEMBERED_IMAGES)
    # The landmark model of the current mode only: in the licence-clean mode the 68-point
    # file is never opened (REKCLI_FACE_MODEL, inherited from the server's environment).
    for loader in ("hog_detector", "shape_predictor", "face_recognition_model"):
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


def _serve_jobs(connection) -> None:
    """A worker's life: load the models, say so, then answer jobs until told to stop or
    until the server's end of the pipe closes."""
    from rekcli.batch.worker import init_worker

    _load_models()
    init_worker(parent=os.getppid())
    connection.send("ready")
    while True:
        try:
            job = connection.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        try:
            answer = ("done", _run(*job))
        except Exception as error:  # noqa: BLE001 - the server maps it to an AWS error
            answer = ("raised", error)
        try:
            connection.send(answer)
        except (OSError, ValueError):
            return


class _Worker:
    """One worker process and the server's end of its pipe."""

    def __init__(self, context):
        ours, theirs = context.Pipe()
        self.process = context.Process(target=_serve_jobs, args=(theirs,), daemon=True,
                                       name="rekcli-serve-worker")
        self.process.start()
        theirs.close()  # else the pipe never reaches end-of-file when the worker dies
        self.connection = ours

    def wait_until_ready(self) -> None:
        if self.connection.recv() != "ready":
            raise RuntimeError("a worker process did not start")

    def run(self, job: tuple):
        """The job's answer; EOFError or OSError when the worker died on the way."""
        self.connection.send(job)
        kind, value = self.connection.recv()
        if kind == "raised":
            raise value
        return value

    def stop(self, wait: float) -> None:
        try:
            self.connection.send(None)
        except (OSError, ValueError):
            pass
        self.process.join(wait)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.connection.close()


class WorkerPool:
    # How long a request waits for an idle worker when none came back (all replacements
    # failing to start) before it is answered InternalServerError instead of hanging.
    IDLE_WAIT_SECONDS = 300

    def __init__(self, workers: int, queue_size: int):
        self.workers = workers
        self.capacity = workers + queue_size
        self._admitted = 0
        # Digests of requests that were running when a worker died. An SDK retries a 500
        # (boto3 up to 4 times): a request that crashes workers would take them all down.
        self._crashed: dict[str, None] = {}
        self._lock = threading.Lock()
        # forkserver: forking a process that runs server threads is unsafe.
        self._context = get_context("forkserver")
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._running: set[_Worker] = set()
        self._closing = False

    def warm_up(self) -> None:
        """Start every worker now, and wait for its models, so the first requests do not
        pay for it."""
        started = [self._start_worker() for _ in range(self.workers)]
        for worker in started:
            worker.wait_until_ready()
            self._idle.put(worker)

    def _start_worker(self) -> _Worker:
        worker = _Worker(self._context)
        with self._lock:
            self._running.add(worker)
        return worker

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
        try:
            outcome = self._run_on_idle_worker(
                (operation_name, request, region, str(data_dir), alone), digest)
        finally:
            with self._lock:
                self._admitted -= 1
        if outcome[0] == "ok":
            return outcome[1]
        from rekcli.service.errors import ServiceError

        error = ServiceError(outcome[2])
        error.code = outcome[1]
        raise error

    def _run_on_idle_worker(self, job: tuple, digest: str | None):
        try:
            worker = self._idle.get(timeout=self.IDLE_WAIT_SECONDS)
        except queue.Empty:
            raise InternalServerError("No worker process is available.") from None
        try:
            outcome = worker.run(job)
        except (EOFError, OSError):
            self._remember_crash(digest)
            self._replace(worker)
            raise InternalServerError("A worker process stopped while handling the request.") \
                from None
        except BaseException:
            self._idle.put(worker)  # the worker answered; only the job failed
            raise
        self._idle.put(worker)
        return outcome

    def _remember_crash(self, digest: str | None) -> None:
        if digest is None:
            return
        with self._lock:
            self._crashed[digest] = None
            while len(self._crashed) > 64:  # oldest first: dicts keep insertion order
                del self._crashed[next(iter(self._crashed))]

    def _replace(self, dead: _Worker) -> None:
        """Reap `dead` and start its successor in the background: loading the models takes
        a second, and the request that found the dead worker has already been answered."""
        with self._lock:
            self._running.discard(dead)
        dead.stop(wait=0)
        threading.Thread(target=self._start_successor, daemon=True).start()

    def _start_successor(self) -> None:
        for attempt in range(3):
            if self._closing:
                return
            worker = self._start_worker()
            try:
                worker.wait_until_ready()
            except (EOFError, OSError, RuntimeError):
                with self._lock:
                    self._running.discard(worker)
                worker.stop(wait=0)
                continue
            self._idle.put(worker)
            return
        sys.stderr.write("rekcli serve: a replacement worker process failed to start 3 "
                         "times; serving with one worker fewer.\n")

    def shutdown(self) -> None:
        """Stop every worker. The server has already answered (or given up on) the requests
        in flight, so a worker still busy now is killed."""
        self._closing = True
        with self._lock:
            workers = list(self._running)
            self._running.clear()
        for worker in workers:
            worker.stop(wait=5)
