"""What one worker process does with one task: read its image, validate, call the service.

Workers import the engine lazily on their first image and keep its models for the rest of
the batch, so model loading is paid once per worker instead of once per image.
"""

from __future__ import annotations

import os
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Task:
    """One request of a batch. Image files are read by the worker, not the parent, so a
    batch of ten thousand photos never holds more than a few of them in memory."""

    operation: str
    members: dict
    region: str
    data_dir: str
    binary_format: str = "base64"
    image_files: dict = field(default_factory=dict)   # member -> path whose bytes fill it
    skip_if_indexed: bool = False                    # index-folder: skip images already in
    problem: str = ""                                # a path the job could not read: why
    profile: str | None = None                       # --profile: whose credentials read S3


def init_worker(threads_in_detection: bool = True, parent: int | None = None) -> None:
    """Pool initializer: Ctrl-C and SIGTERM are handled by the parent, which stops the
    workers itself; a worker whose parent dies (even by SIGKILL) ends too.

    threads_in_detection: False when the pool already has a worker per core; detection then
    runs its two halves one after the other (same results, no threads queuing for cores).
    parent: the pid of the batch's process.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's handler, which fork copied
    if parent is not None:
        _end_with(parent)
    if not threads_in_detection:
        from rekcli.engine import detection

        detection.scan_in_parallel(False)


def _end_with(parent: int) -> None:
    """Make this worker end when `parent` does. Otherwise a worker whose parent was killed
    (the OOM killer, `kill -9`, a service manager stopping one pid) waits for work forever,
    holding ~200 MB and the job's stdout, so a pipeline reading it never ends."""
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        try:
            asked = ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM))
        except (OSError, AttributeError):
            asked = -1
        if asked != 0:
            _watch_parent(parent)
    else:
        _watch_parent(parent)
    if os.getppid() != parent:  # it died before we asked
        os._exit(1)


def _watch_parent(parent: int) -> None:
    """Without prctl: a thread that ends the process once its parent is gone."""
    import threading
    import time

    def watch():
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="rekcli-parent-watch", daemon=True).start()


def execute(task: Task) -> dict:
    """Run one task; return {"Response": ...}, {"Skipped": ...} or {"Error": {Code, Message}}.

    Never raises for a bad request: a failed item must not stop the batch.
    """
    return _answered(lambda: _execute(task))


def _execute(task: Task) -> dict:
    from rekcli.service import invoke
    from rekcli.service.requests import render_timestamps

    ready = _request_of(task)
    if isinstance(ready, dict):
        return ready
    request, context = ready
    return {"Response": render_timestamps(invoke(task.operation, request, context))}


def _request_of(task: Task):
    """(request, context) for a task, or its result when it needs no operation: a path the
    job could not read, or an image index-folder skips."""
    from rekcli.service.context import ServiceContext
    from rekcli.service.requests import build_request_from_input

    if task.problem:
        return {"Error": {"Code": "FileError", "Message": task.problem}}
    context = ServiceContext(region=task.region, data_dir=Path(task.data_dir),
                             aws_profile=task.profile)
    members = _with_image_files(task, context)
    skip = _reason_to_skip(context, members) if task.skip_if_indexed else None
    if skip:
        return {"Skipped": skip}
    return build_request_from_input(task.operation, members, task.binary_format), context


def _answered(steps) -> dict:
    """steps() or the error line of the exception it raised (the batch goes on)."""
    from rekcli.service.errors import ServiceError
    from rekcli.service.requests import RequestError

    try:
        return steps()
    except ServiceError as error:
        return {"Error": {"Code": error.code, "Message": error.message}}
    except RequestError as error:
        return {"Error": {"Code": error.code or "ClientError", "Message": error.message}}
    except OSError as error:
        return {"Error": {"Code": "FileError", "Message": str(error)}}
    except Exception as error:  # noqa: BLE001 - reported per item, the batch goes on
        return {"Error": {"Code": "InternalError", "Message": f"{type(error).__name__}: {error}"}}


@dataclass
class Shipment:
    """A task's pixel work, ready to run on another machine (operation, request, images: the
    arguments of service.pixel_work.analyse), and the context its store work needs here.
    `outcome` is already set when an image could not be read."""

    operation: str
    request: dict
    images: dict
    context: object
    outcome: dict | None = None


def prepare(task: Task):
    """The first half of a task whose pixel work runs on a cluster, in the job's process:
    read its images, check it, skip it. Returns a Shipment, or the task's result when it
    needs no pixel work (a problem, a skip, a refused request, an operation that reads no
    image, which runs here whole)."""
    return _answered(lambda: _prepare(task))


def _prepare(task: Task):
    from rekcli.service import invoke, pixel_work
    from rekcli.service.errors import ServiceError
    from rekcli.service.requests import render_timestamps

    ready = _request_of(task)
    if isinstance(ready, dict):
        return ready
    request, context = ready
    if task.operation not in pixel_work.SPLIT_OPERATIONS:
        return {"Response": render_timestamps(invoke(task.operation, request, context))}
    request = pixel_work.validated(task.operation, request)
    try:
        request, images = pixel_work.read_images(request, context)
    except ServiceError as error:  # answered after the collection is opened, as invoke does
        return Shipment(task.operation, request, {}, context, {"Error": error})
    return Shipment(task.operation, request, images, context)


def finish(shipment: Shipment, outcome: dict) -> dict:
    """The second half, in the job's process: the store work, given the pixel work's
    outcome (service.pixel_work.analyse). The task's result, as execute gives it."""
    from rekcli.service import pixel_work
    from rekcli.service.requests import render_timestamps

    return _answered(lambda: {"Response": render_timestamps(pixel_work.finish(
        shipment.operation, shipment.request, outcome, shipment.context))})


def _with_image_files(task: Task, context) -> dict:
    members = dict(task.members)
    for member, path in task.image_files.items():
        image = dict(members.get(member) or {})
        if path.startswith("s3://"):  # an object of a folder job over an S3 prefix
            image["S3Object"] = _fetched_s3_object(path, context)
        else:
            image["Bytes"] = _read_image_file(Path(path))
        members[member] = image
    for member in ("Image", "SourceImage", "TargetImage"):  # JSON Lines may name files too
        image = members.get(member)
        if isinstance(image, dict) and isinstance(image.get("Bytes"), str) and image["Bytes"].startswith("fileb://"):
            path = Path(image["Bytes"][len("fileb://"):]).expanduser()
            members[member] = dict(image, Bytes=_read_image_file(path))
    return members


def _fetched_s3_object(location: str, context) -> dict:
    """The S3Object member for `s3://bucket/key`, its bytes read once into the context: the
    skip check hashes them and the operation uses them, as S3Object (15 MB, as in AWS)."""
    bucket, _, key = location[len("s3://"):].partition("/")
    context.fetched_s3_objects[(bucket, key)] = image_bytes_of(location, context.region,
                                                               context.aws_profile)
    return {"Bucket": bucket, "Name": key}


def image_bytes_of(location: str, region: str, profile: str | None = None) -> bytes:
    """The bytes of a folder job's image: `s3://bucket/key` (15 MB at most, as S3Object) or
    a file (5 MB at most, as Bytes)."""
    if not location.startswith("s3://"):
        return _read_image_file(Path(location))
    from rekcli.service import s3

    bucket, _, key = location[len("s3://"):].partition("/")
    return s3.read_object({"Bucket": bucket, "Name": key}, region, profile)


def _read_image_file(path: Path) -> bytes:
    """The file's bytes; a file over Rekognition's 5 MB limit for image bytes is refused
    after reading one byte more than the limit, never whole (a 3 GB file named .jpg, or
    /dev/zero, whose size says 0, must not fill the worker's memory)."""
    from rekcli.service.errors import IMAGE_TOO_LARGE_MESSAGE, ImageTooLargeException
    from rekcli.service.images import MAX_BYTES

    with open(path, "rb") as file:
        data = file.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ImageTooLargeException(IMAGE_TOO_LARGE_MESSAGE)
    return data


def _reason_to_skip(context, members: dict) -> str | None:
    """ALREADY_INDEXED, ALREADY_ANALYSED_NO_FACES or None (the service's
    reason_to_skip_indexing), from the bytes this worker already read."""
    from rekcli.service import reason_to_skip_indexing

    image = members["Image"]
    data = image["Bytes"] if "Bytes" in image else context.fetched_s3_objects[
        (image["S3Object"]["Bucket"], image["S3Object"]["Name"])]
    return reason_to_skip_indexing(members, data, context)
