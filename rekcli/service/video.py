"""Faces in stored video: StartFaceDetection, GetFaceDetection, StartFaceSearch, GetFaceSearch.

Start* checks what AWS checks at once (the S3 object exists, is within 10 GB and 6 hours,
is a video, the collection exists; an object in real S3 is only sized at start and
downloaded by the worker), records the job (store/jobs.py) and spawns a detached
worker process (`python -m rekcli.service.video_job`, its own session, so it outlives the
CLI that started it) that does the frame work (video_analysis.py) and writes the results.
Get* reads the job's state file: nothing runs in the calling process.

NotificationChannel is accepted and validated but there is no SNS here: one stderr notice
says so, and scripts poll the Get* command (or `rekcli wait-video-job`).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from rekcli.service import pagination
from rekcli.service.context import ServiceContext
from rekcli.service.errors import (S3_OBJECT_MESSAGE, IdempotentParameterMismatchException,
                                   InvalidPaginationTokenException,
                                   InvalidParameterException, InvalidS3ObjectException,
                                   LimitExceededException, ResourceNotFoundException,
                                   VideoTooLargeException)

# AWS's limits for stored video (reference §4).
MAX_VIDEO_BYTES = 10 * 1024 ** 3
MAX_VIDEO_MILLIS = 6 * 3600 * 1000
MAX_CONCURRENT_JOBS = 20  # per account in AWS: more running jobs -> LimitExceededException
MAX_PAGE = 1000
UNSUPPORTED_MESSAGE = "Unsupported codec/format."
VIDEO_TOO_LARGE_MESSAGE = "Video size is too large (at most 10 GB and 6 hours)."
NOTIFICATION_NOTICE = ("rekcli: NotificationChannel accepted, but nothing is published (there "
                       "is no SNS here); poll {command} or run `rekcli wait-video-job`.")
JOBS_ENV = "REKCLI_VIDEO_JOBS"


def concurrent_jobs() -> int:
    """Jobs analysed at once (`$REKCLI_VIDEO_JOBS`), by default one per core: on two cores,
    two 10 s 1080p jobs took 6.9-7.2 s side by side against 8.0-10.3 s one after the other
    (a job's single-threaded stages leave the second core partly idle). Further jobs wait
    IN_PROGRESS."""
    raw = os.environ.get(JOBS_ENV, "")
    if raw.strip().isdigit() and int(raw) > 0:
        return int(raw)
    return max(1, os.cpu_count() or 1)


def _jobs(ctx: ServiceContext):
    from rekcli.store.jobs import JobStore

    return JobStore(ctx.region_dir)


# ---- the video object ---------------------------------------------------------------------


def video_path(ctx: ServiceContext, video: dict) -> Path:
    """The local file of a `Video` member (REKCLI_S3_ROOT); InvalidS3ObjectException if it
    is not there."""
    from rekcli.service.images import checked_local_s3_object_path

    return checked_local_s3_object_path(ctx.s3_root, _s3_object(video))


def _s3_object(video: dict) -> dict:
    s3_object = video.get("S3Object")
    if not s3_object:
        raise InvalidParameterException("Request has invalid parameters")
    return s3_object


def check_video_at_start(ctx: ServiceContext, video: dict) -> None:
    """What AWS answers at once. A local file is also probed (cheap); an S3 object is only
    sized, and a bad one FAILs its job ("Unsupported codec/format."), as on AWS."""
    if ctx.s3_root is not None:
        check_video(video_path(ctx, video))
        return
    from rekcli.service import s3

    if s3.object_size(_s3_object(video), ctx.region, ctx.aws_profile) > MAX_VIDEO_BYTES:
        raise VideoTooLargeException(VIDEO_TOO_LARGE_MESSAGE)


@contextmanager
def video_file(ctx: ServiceContext, video: dict, scratch: Path):
    """A local path to the video for the length of the block: the file under REKCLI_S3_ROOT,
    or the S3 object downloaded to the private file `scratch`, removed afterwards."""
    if ctx.s3_root is not None:
        yield video_path(ctx, video)
        return
    from rekcli.service import s3
    from rekcli.store.files import open_private

    fd = open_private(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        with os.fdopen(fd, "wb") as file:
            s3.download_object(_s3_object(video), ctx.region, ctx.aws_profile, file)
        yield scratch
    finally:
        scratch.unlink(missing_ok=True)


def check_video(path: Path):
    """The video's VideoInfo, or AWS's error for a file that is too large or not a video."""
    from rekcli.engine.video import VideoError, probe

    try:
        size = path.stat().st_size
    except OSError:
        raise InvalidS3ObjectException(S3_OBJECT_MESSAGE) from None
    if size > MAX_VIDEO_BYTES:
        raise VideoTooLargeException(VIDEO_TOO_LARGE_MESSAGE)
    try:
        info = probe(path)
    except (VideoError, OSError):
        raise InvalidParameterException(UNSUPPORTED_MESSAGE) from None
    if info.duration_ms > MAX_VIDEO_MILLIS:
        raise VideoTooLargeException(VIDEO_TOO_LARGE_MESSAGE)
    return info


def video_metadata(info) -> dict:
    """VideoMetadata. ColorRange is left out: OpenCV does not report it."""
    return {"Codec": info.codec, "DurationMillis": info.duration_ms, "Format": info.container,
            "FrameRate": float(info.frame_rate), "FrameHeight": info.height,
            "FrameWidth": info.width}


# ---- Start* -------------------------------------------------------------------------------


def start_face_detection(ctx: ServiceContext, request: dict) -> dict:
    return _start(ctx, "StartFaceDetection", request, "get-face-detection")


def start_face_search(ctx: ServiceContext, request: dict) -> dict:
    from rekcli.service.face_model import require_current_face_model
    from rekcli.service.store_errors import open_store

    with open_store(ctx) as store:
        # ResourceNotFoundException, or another face model's collection, refused at once
        require_current_face_model(store.open_collection(request["CollectionId"]))
    return _start(ctx, "StartFaceSearch", request, "get-face-search")


@contextlib.contextmanager
def _job_errors():
    """The job store's own errors as the AWS errors they stand for."""
    from rekcli.store.jobs import (JOB_NOT_FOUND_MESSAGE, TOKEN_REUSED_MESSAGE, JobNotFound,
                                   TokenReused)

    try:
        yield
    except JobNotFound:
        raise ResourceNotFoundException(JOB_NOT_FOUND_MESSAGE) from None
    except TokenReused:
        raise IdempotentParameterMismatchException(TOKEN_REUSED_MESSAGE) from None


def _start(ctx: ServiceContext, operation: str, request: dict, get_command: str) -> dict:
    with _job_errors():
        return _start_job(ctx, operation, request, get_command)


def _start_job(ctx: ServiceContext, operation: str, request: dict, get_command: str) -> dict:
    check_video_at_start(ctx, request["Video"])
    jobs = _jobs(ctx)
    if jobs.running_count() >= MAX_CONCURRENT_JOBS:
        raise LimitExceededException(
            f"Too many video jobs in progress (at most {MAX_CONCURRENT_JOBS}); wait for one "
            "to finish.")
    if request.get("NotificationChannel"):
        ctx.notify(NOTIFICATION_NOTICE.format(command=get_command))
    settings = {"DataDir": str(ctx.data_dir), "Region": ctx.region,
                "S3Root": None if ctx.s3_root is None else str(ctx.s3_root),
                "Profile": ctx.aws_profile}
    job_id, lock_fd = jobs.create(operation, request, settings)
    if lock_fd is not None:
        try:
            _spawn_worker(jobs.root, job_id, lock_fd)
        finally:
            os.close(lock_fd)  # the worker holds the lock now (or nobody: the job is FAILED)
    return {"JobId": job_id}


def _spawn_worker(jobs_dir: Path, job_id: str, lock_fd: int) -> None:
    """A process in its own session (no terminal, no signals from the CLI's process group)
    that inherits the job's lock and lives until the job ends."""
    subprocess.Popen(
        [sys.executable, "-m", "rekcli.service.video_job", str(jobs_dir), job_id, str(lock_fd)],
        pass_fds=(lock_fd,), start_new_session=True, stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, close_fds=True)


# ---- Get* ---------------------------------------------------------------------------------


def get_face_detection(ctx: ServiceContext, request: dict) -> dict:
    return _get(ctx, "StartFaceDetection", request, "Faces", _by_timestamp)


def get_face_search(ctx: ServiceContext, request: dict) -> dict:
    order = _by_index if request.get("SortBy") == "INDEX" else _by_timestamp
    return _get(ctx, "StartFaceSearch", request, "Persons", order)


def _by_timestamp(item: dict):
    return item["Timestamp"], item.get("Person", {}).get("Index", 0)


def _by_index(item: dict):
    return item["Person"]["Index"], item["Timestamp"]


def _get(ctx: ServiceContext, started_by: str, request: dict, result_key: str, order) -> dict:
    with _job_errors():
        return _get_results(ctx, started_by, request, result_key, order)


def _get_results(ctx: ServiceContext, started_by: str, request: dict, result_key: str,
                 order) -> dict:
    from rekcli.store.jobs import JOB_NOT_FOUND_MESSAGE, SUCCEEDED

    jobs = _jobs(ctx)
    job_id = request["JobId"]
    record = jobs.record(job_id)
    if record["Operation"] != started_by:
        raise ResourceNotFoundException(JOB_NOT_FOUND_MESSAGE)
    state = jobs.state(job_id)
    response = {"JobStatus": state["JobStatus"], "StatusMessage": state.get("StatusMessage"),
                "VideoMetadata": state.get("VideoMetadata")}
    if state["JobStatus"] == SUCCEEDED:
        items = sorted(state["Results"], key=order)
        scope = f"{job_id}|{request.get('SortBy', '')}"
        secret = bytes.fromhex(record["Secret"])
        start = _page_start(secret, started_by, scope, request.get("NextToken"), len(items))
        size = min(MAX_PAGE, request.get("MaxResults") or MAX_PAGE)
        response[result_key] = items[start:start + size]
        if start + size < len(items):
            response["NextToken"] = pagination.encode_token(
                secret, started_by, scope, (start + size).to_bytes(8, "big"))
    request_video = record["Request"]["Video"]
    response.update({"JobId": job_id, "Video": request_video,
                     "JobTag": record["Request"].get("JobTag")})
    return response


def _page_start(secret: bytes, operation: str, scope: str, token: str | None, total: int) -> int:
    if not token:
        return 0
    position = pagination.decode_token(secret, operation, scope, token)
    start = int.from_bytes(position, "big") if len(position) == 8 else -1
    if not 0 < start <= total:
        raise InvalidPaginationTokenException(pagination.INVALID_TOKEN_MESSAGE)
    return start
