"""The local Rekognition service: one function per operation, request dict in, response out.

`invoke` is the single entry point for every caller (the CLI today, an HTTP endpoint
tomorrow): it runs the service-side validation from the model, fills every absent member
that has a documented default, calls the operation, and returns the response with keys in
model order and absent members dropped, as botocore would hand it to the aws CLI.

The operation functions are called through `invoke` only: they may rely on its validation
and on the defaults it fills (faces_by_image does); calling one directly skips both.
"""

from __future__ import annotations

from importlib import import_module

from rekcli.service.context import ServiceContext

# Operation name -> "module:function". Modules load only when their operation is called, so
# listing collections never imports the face engine.
IMPLEMENTATIONS = {
    "CompareFaces": "rekcli.service.faces_by_image:compare_faces",
    "DetectFaces": "rekcli.service.faces_by_image:detect_faces",
    "IndexFaces": "rekcli.service.faces_by_image:index_faces",
    "SearchFacesByImage": "rekcli.service.faces_by_image:search_faces_by_image",
    "SearchUsersByImage": "rekcli.service.faces_by_image:search_users_by_image",
    "CreateCollection": "rekcli.service.collections:create_collection",
    "DeleteCollection": "rekcli.service.collections:delete_collection",
    "DescribeCollection": "rekcli.service.collections:describe_collection",
    "ListCollections": "rekcli.service.collections:list_collections",
    "TagResource": "rekcli.service.collections:tag_resource",
    "UntagResource": "rekcli.service.collections:untag_resource",
    "ListTagsForResource": "rekcli.service.collections:list_tags_for_resource",
    "ListFaces": "rekcli.service.faces_admin:list_faces",
    "DeleteFaces": "rekcli.service.faces_admin:delete_faces",
    "SearchFaces": "rekcli.service.faces_admin:search_faces",
    "CreateUser": "rekcli.service.users:create_user",
    "DeleteUser": "rekcli.service.users:delete_user",
    "ListUsers": "rekcli.service.users:list_users",
    "AssociateFaces": "rekcli.service.users:associate_faces",
    "DisassociateFaces": "rekcli.service.users:disassociate_faces",
    "SearchUsers": "rekcli.service.users:search_users",
    "RecognizeCelebrities": "rekcli.service.celebrities:recognize_celebrities",
    "GetCelebrityInfo": "rekcli.service.celebrities:get_celebrity_info",
    "StartFaceDetection": "rekcli.service.video:start_face_detection",
    "GetFaceDetection": "rekcli.service.video:get_face_detection",
    "StartFaceSearch": "rekcli.service.video:start_face_search",
    "GetFaceSearch": "rekcli.service.video:get_face_search",
}


class OperationNotAvailable(Exception):
    """The operation is in the model but its implementation is not installed."""


def implementation(operation_name: str):
    module_name, function_name = IMPLEMENTATIONS[operation_name].split(":")
    try:
        module = import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name != module_name:
            raise
        raise OperationNotAvailable(operation_name) from None
    return getattr(module, function_name)


def with_defaults(operation_name: str, request: dict) -> dict:
    """The request with every absent member that has a documented default filled in from the
    model, so operations never repeat a default of their own."""
    from rekcli.service import model

    defaults = model.operation(operation_name)["defaults"]
    return {**{k: v for k, v in defaults.items() if request.get(k) is None}, **request}


def invoke(operation_name: str, request: dict, ctx: ServiceContext | None = None) -> dict:
    """Validate `request`, run the operation and return its response in model order."""
    from rekcli.service import model
    from rekcli.service.shaping import shape_response
    from rekcli.service.validation import check_request

    check_request(operation_name, request)
    function = implementation(operation_name)
    response = function(ctx or ServiceContext(), with_defaults(operation_name, request))
    return shape_response(response, model.operation(operation_name)["output"])


# ---- rekcli's own questions, not AWS operations ----------------------------------------------
# What the batch jobs (rekcli/batch) ask besides the operations: entry points of the service
# like invoke, so that no caller reaches into its modules.

def collection_state(collection_id: str, ctx: ServiceContext | None = None) -> tuple[float, int]:
    """(creation time, generation) of a collection, one snapshot; the generation changes
    whenever its faces or users change. ResourceNotFoundException when it does not exist."""
    from rekcli.service.collections import collection_state as state

    return state(ctx or ServiceContext(), collection_id)


def reason_to_skip_indexing(request: dict, image_bytes: bytes,
                            ctx: ServiceContext | None = None) -> str | None:
    """Why this IndexFaces request (its image's bytes given) would store nothing new:
    ALREADY_INDEXED, ALREADY_ANALYSED_NO_FACES, or None. Asked before any face analysis."""
    from rekcli.service.faces_by_image import reason_to_skip_indexing as reason

    request = with_defaults("IndexFaces", request)
    return reason(ctx or ServiceContext(), request["CollectionId"], image_bytes,
                  request.get("ExternalImageId"), request["QualityFilter"])


def require_source_face(request: dict, ctx: ServiceContext | None = None) -> None:
    """The check a CompareFaces request makes of its source image, alone (the AWS exception
    when it cannot be read or has no usable face): made once before comparing it with many."""
    from rekcli.service.faces_by_image import require_source_face as require

    require(ctx or ServiceContext(), request)


def image_id(image_bytes: bytes) -> str:
    """The ImageId IndexFaces gives faces found in these bytes (the same bytes, the same id)."""
    from rekcli.service.faces_by_image import image_id_for

    return image_id_for(image_bytes)


def local_s3_object_file(s3_object: dict, ctx: ServiceContext | None = None):
    """The file that stands for an S3Object under REKCLI_S3_ROOT (for telling its versions
    apart, as batch resume does), or None when objects are read from S3 itself."""
    from rekcli.service.images import local_s3_object_path

    ctx = ctx or ServiceContext()
    return None if ctx.s3_root is None else local_s3_object_path(ctx.s3_root, s3_object)
