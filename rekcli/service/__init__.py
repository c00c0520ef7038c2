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
