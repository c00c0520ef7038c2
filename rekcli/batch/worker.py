"""What one worker process does with one task: read its image, validate, call the service.

Workers import the engine lazily on their first image and keep its models for the rest of
the batch, so model loading is paid once per worker instead of once per image.
"""

from __future__ import annotations

import signal
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


def init_worker(threads_in_detection: bool = True) -> None:
    """Pool initializer: Ctrl-C is handled by the parent, which stops the workers itself.

    threads_in_detection: False when the pool already has a worker per core; detection then
    runs its two halves one after the other (same results, no threads queuing for cores).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if not threads_in_detection:
        from rekcli.engine import detection

        detection.scan_in_parallel(False)


def execute(task: Task) -> dict:
    """Run one task; return {"Response": ...}, {"Skipped": ...} or {"Error": {Code, Message}}.

    Never raises for a bad request: a failed item must not stop the batch.
    """
    from rekcli.cli.display import render_timestamps
    from rekcli.cli.errors import CliError
    from rekcli.cli.request import build_request_from_input
    from rekcli.service import invoke
    from rekcli.service.context import ServiceContext
    from rekcli.service.errors import ServiceError

    context = ServiceContext(region=task.region, data_dir=Path(task.data_dir))
    try:
        members = _with_image_files(task)
        skip = _reason_to_skip(context, members) if task.skip_if_indexed else None
        if skip:
            return {"Skipped": skip}
        request = build_request_from_input(task.operation, members, task.binary_format)
        return {"Response": render_timestamps(invoke(task.operation, request, context))}
    except ServiceError as error:
        return {"Error": {"Code": error.code, "Message": error.message}}
    except CliError as error:
        return {"Error": {"Code": error.code or "ClientError", "Message": error.message}}
    except OSError as error:
        return {"Error": {"Code": "FileError", "Message": str(error)}}
    except Exception as error:  # noqa: BLE001 - reported per item, the batch goes on
        return {"Error": {"Code": "InternalError", "Message": f"{type(error).__name__}: {error}"}}


def _with_image_files(task: Task) -> dict:
    members = dict(task.members)
    for member, path in task.image_files.items():
        image = dict(members.get(member) or {})
        image["Bytes"] = Path(path).read_bytes()
        members[member] = image
    for member in ("Image", "SourceImage", "TargetImage"):  # JSON Lines may name files too
        image = members.get(member)
        if isinstance(image, dict) and isinstance(image.get("Bytes"), str) and image["Bytes"].startswith("fileb://"):
            members[member] = dict(image, Bytes=Path(image["Bytes"][len("fileb://"):]).expanduser().read_bytes())
    return members


def _reason_to_skip(context, members: dict) -> str | None:
    """ALREADY_INDEXED, ALREADY_ANALYSED_NO_FACES or None (see reason_to_skip_indexing)."""
    from rekcli.service.faces_by_image import reason_to_skip_indexing

    from rekcli.service import with_defaults

    request = with_defaults("IndexFaces", members)
    return reason_to_skip_indexing(context, request["CollectionId"], request["Image"]["Bytes"],
                                   request.get("ExternalImageId"), request["QualityFilter"])
