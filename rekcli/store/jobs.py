"""Stored-video jobs as private files: `<data dir>/<region>/video-jobs/`.

    <JobId>.json        the job as started: operation, request, its digest, creation time
                        (written once, atomically: a temp file hard-linked into place)
    <JobId>.state.json  status, StatusMessage, VideoMetadata and, once done, the results
                        (replaced atomically by rename)
    <JobId>.lock        flock held by the process doing the work, for as long as it lives
    <JobId>.video       a video from real S3, downloaded for the length of the job
    slot-<n>.lock       one per concurrent job allowed (see `acquire_slot`)

Liveness needs no pid: the lock is taken by the starting process *before* the worker is
spawned and handed to it as an inherited descriptor, so there is no instant at which a live
job is unlocked. The kernel drops a flock when its last holder dies (kill -9, reboot): a job
whose state still says IN_PROGRESS but whose lock can be taken is dead, and the next read
records it as FAILED.

A ClientRequestToken names the job: JobId = sha256(operation | token), so a retry with the
same token finds the same file, and the hard link makes two racing starts agree on one job.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import secrets
import time
from pathlib import Path

from rekcli.store.files import make_private_dir, open_private

JOBS_DIR = "video-jobs"
IN_PROGRESS, SUCCEEDED, FAILED = "IN_PROGRESS", "SUCCEEDED", "FAILED"
DIED_MESSAGE = ("The job stopped before it finished: its process ended (killed, crashed, or "
                "the machine restarted). Start it again.")
JOB_NOT_FOUND_MESSAGE = "Requested JobId not found"
TOKEN_REUSED_MESSAGE = "ClientRequestToken was already used with different request parameters."


class JobNotFound(Exception):
    """No job has this JobId (or it cannot be one): the service answers
    ResourceNotFoundException."""


class TokenReused(Exception):
    """A ClientRequestToken already started another request: the service answers
    IdempotentParameterMismatchException."""


def request_digest(operation: str, request: dict) -> str:
    """What makes two starts the same request (the token itself excluded)."""
    body = {k: v for k, v in request.items() if k != "ClientRequestToken"}
    text = json.dumps([operation, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class JobStore:
    def __init__(self, region_dir: Path):
        self.root = Path(region_dir) / JOBS_DIR

    # ---- paths ----------------------------------------------------------------------------

    def _path(self, job_id: str, suffix: str) -> Path:
        if not job_id.replace("-", "").replace("_", "").isalnum():
            raise JobNotFound(job_id)  # never a path outside
        return self.root / f"{job_id}{suffix}"

    def lock_path(self, job_id: str) -> Path:
        return self._path(job_id, ".lock")

    # ---- writing --------------------------------------------------------------------------

    def _write_atomically(self, path: Path, data: dict, *, exclusive: bool) -> bool:
        """Write `data` as JSON at `path` in one step; with `exclusive`, only if absent
        (returns False when another writer got there first)."""
        temp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
        fd = open_private(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
        try:
            with os.fdopen(fd, "w") as file:
                json.dump(data, file, separators=(",", ":"))
                file.flush()
                os.fsync(file.fileno())
            if not exclusive:
                os.replace(temp, path)
                return True
            try:
                os.link(temp, path)
                return True
            except FileExistsError:
                return False
        finally:
            if exclusive or temp.exists():
                try:
                    os.unlink(temp)
                except FileNotFoundError:
                    pass

    def create(self, operation: str, request: dict, settings: dict) -> tuple[str, int | None]:
        """(JobId, lock fd) for a new job; (JobId, None) when the token names an existing
        job for the same request. The caller owns the returned fd: the job's lock, taken."""
        make_private_dir(self.root)
        token = request.get("ClientRequestToken")
        digest = request_digest(operation, request)
        job_id = (hashlib.sha256(f"{operation}|{token}".encode()).hexdigest() if token
                  else secrets.token_hex(32))
        if self._path(job_id, ".json").exists():
            return self._existing(job_id, digest), None
        lock_fd = open_private(self.lock_path(job_id), os.O_RDWR | os.O_CREAT)
        try:  # held from here until the worker that inherits it ends
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # a start with the same token is writing this job right now
            os.close(lock_fd)
            return self._existing(job_id, digest, wait_seconds=5.0), None
        record = {"Operation": operation, "Request": request, "Digest": digest,
                  "Created": time.time(), "Secret": secrets.token_hex(32), "Settings": settings}
        if not self._write_atomically(self._path(job_id, ".json"), record, exclusive=True):
            os.close(lock_fd)
            return self._existing(job_id, digest), None
        self.write_state(job_id, {"JobStatus": IN_PROGRESS})
        return job_id, lock_fd

    def _existing(self, job_id: str, digest: str, wait_seconds: float = 0.0) -> str:
        """The JobId of a job started earlier with this token, if the request is the same."""
        deadline = time.monotonic() + wait_seconds
        while not self._path(job_id, ".json").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.record(job_id)["Digest"] != digest:
            raise TokenReused(job_id)
        return job_id

    def write_state(self, job_id: str, state: dict) -> None:
        self._write_atomically(self._path(job_id, ".state.json"), state, exclusive=False)

    # ---- reading --------------------------------------------------------------------------

    def _read(self, path: Path) -> dict:
        try:
            fd = open_private(path, os.O_RDONLY)
        except FileNotFoundError:
            raise JobNotFound(path.name) from None
        with os.fdopen(fd) as file:
            return json.load(file)

    def record(self, job_id: str) -> dict:
        return self._read(self._path(job_id, ".json"))

    def state(self, job_id: str) -> dict:
        """The job's state; an IN_PROGRESS job whose worker is gone becomes FAILED here."""
        state = self._read(self._path(job_id, ".state.json"))
        if state.get("JobStatus") == IN_PROGRESS and not self.is_running(job_id):
            state = self._read(self._path(job_id, ".state.json"))  # it may have just finished
            if state.get("JobStatus") == IN_PROGRESS:
                state = {**state, "JobStatus": FAILED, "StatusMessage": DIED_MESSAGE}
                self.write_state(job_id, state)
                # A video the dead worker was downloading from S3 is of no use to anyone.
                self._path(job_id, ".video").unlink(missing_ok=True)
        return state

    def is_running(self, job_id: str) -> bool:
        """True while some process holds the job's lock."""
        try:
            fd = open_private(self.lock_path(job_id), os.O_RDWR)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return False
        except BlockingIOError:
            return True
        finally:
            os.close(fd)  # closing drops our probe lock, if we got it

    def running_count(self) -> int:
        if not self.root.is_dir():
            return 0
        return sum(1 for path in self.root.glob("*.lock")
                   if not path.name.startswith("slot-") and self.is_running(path.stem))

    # ---- concurrency ----------------------------------------------------------------------

    def acquire_slot(self, slots: int, poll_seconds: float = 0.2) -> int:
        """Block until one of `slots` slot locks is free; returns its fd (held until closed
        or the process ends). Jobs beyond the bound wait, IN_PROGRESS, in no fixed order."""
        make_private_dir(self.root)
        while True:
            for n in range(slots):
                fd = open_private(self.root / f"slot-{n}.lock", os.O_RDWR | os.O_CREAT)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return fd
                except BlockingIOError:
                    os.close(fd)
            time.sleep(poll_seconds)
