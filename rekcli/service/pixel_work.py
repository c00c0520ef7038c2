"""A request's pixel work apart from its store work, for batch jobs run on a cluster.

The operations that look at pixels split in two here:
- `analyse` turns the request's image bytes into faces, descriptors and boxes: a function of
  those bytes, the request's options and the engine's settings alone. It reads no store, no
  file and no S3 object, so it may run on any machine that has rekcli installed.
- `finish` does the rest in the command's own process, the only one that reads or writes
  collections: the store's locking, crash safety and idempotence hold unchanged, and the
  cluster's machines need no shared file system.

`validated` and `read_images` (before `analyse`, in the command's process) check the
request and read every image it names, so the machines doing the pixel work never need the caller's files or credentials.
The local path (`invoke`) runs the same two halves in one process (faces_by_image.py), so
both give the same answers.
"""

from __future__ import annotations

from rekcli.service.context import ServiceContext
from rekcli.service.errors import ServiceError

# Operations whose pixel work can run elsewhere; the others run whole in the caller.
SPLIT_OPERATIONS = ("CompareFaces", "DetectFaces", "IndexFaces", "SearchFacesByImage",
                    "SearchUsersByImage")
# The pixel work (on a worker) and the store work (here) of the operations on a collection.
_HALVES = {
    "IndexFaces": ("analyse_for_indexing", "store_indexed"),
    "SearchFacesByImage": ("analyse_for_search", "search_with"),
    "SearchUsersByImage": ("analyse_for_user_search", "search_users_with"),
}
IMAGE_MEMBERS = ("Image", "SourceImage", "TargetImage")


def validated(operation: str, request: dict) -> dict:
    """The request checked and with its defaults, as `invoke` makes it (the AWS error of a
    request it refuses)."""
    from rekcli.service import with_defaults
    from rekcli.service.validation import check_request

    check_request(operation, request)
    return with_defaults(operation, request)


def read_images(request: dict, ctx: ServiceContext) -> tuple[dict, dict]:
    """(request, images): the bytes of each S3Object image of a validated request by
    (Bucket, Name), read here, and the request naming them without a Version (the version
    asked for is the one read). A Bytes image already carries its bytes. Raises the AWS
    error of an image that cannot be read."""
    from rekcli.service.images import image_bytes

    images = {}
    for member in IMAGE_MEMBERS:
        image = request.get(member)
        if isinstance(image, dict) and image.get("S3Object") is not None:
            data = image_bytes(ctx, image)
            s3_object = {key: value for key, value in image["S3Object"].items() if key != "Version"}
            request = dict(request, **{member: {"S3Object": s3_object}})
            images[(s3_object.get("Bucket"), s3_object.get("Name"))] = data
    return request, images


def analyse(operation: str, request: dict, images: dict) -> dict:
    """The pixel work of a request (from read_images): {"Analysed": ...}, or {"Error": the
    ServiceError} for an image without a usable face, an unreadable image, ... Never
    raises, so that a failed item is an answer rather than a failed cluster task."""
    from rekcli.service import faces_by_image, implementation
    from rekcli.service.images import load_image

    ctx = ServiceContext(fetched_s3_objects=dict(images), s3_root=None)
    try:
        if operation in _HALVES:
            analyse_image = getattr(faces_by_image, _HALVES[operation][0])
            return {"Analysed": analyse_image(load_image(ctx, request["Image"]), request)}
        return {"Analysed": implementation(operation)(ctx, request)}  # no store: all of it
    except ServiceError as error:
        return {"Error": error}
    except Exception as error:  # noqa: BLE001 - reported for this item, as a local run does
        return {"Error": InternalError(f"{type(error).__name__}: {error}")}


class InternalError(ServiceError):
    """What a local batch item reports for an unexpected failure (batch/worker.py)."""

    code = "InternalError"


def finish(operation: str, request: dict, outcome: dict, ctx: ServiceContext) -> dict:
    """The response to a request, given its pixel work (analyse's outcome): the store work
    done here. An operation on a collection opens it first, as `invoke` does, so a missing
    collection is the answer even for an image that could not be analysed."""
    from rekcli.service import faces_by_image, model
    from rekcli.service.shaping import shape_response

    if operation in _HALVES:
        store_work = getattr(faces_by_image, _HALVES[operation][1])
        with faces_by_image.open_collection(ctx, request["CollectionId"]) as collection:
            response = store_work(collection, _analysed(outcome), request)
    else:
        response = _analysed(outcome)
    return shape_response(response, model.operation(operation)["output"])


def _analysed(outcome: dict):
    if "Error" in outcome:
        raise outcome["Error"]
    return outcome["Analysed"]
