"""Collection operations: CreateCollection, DeleteCollection, DescribeCollection,
ListCollections, and tagging (TagResource, UntagResource, ListTagsForResource).

Requests arrive validated against the API model (types, required members, lengths,
patterns, enums); only semantic checks happen here. No numpy on these paths.

Choices where AWS is silent (reference §6):
- ListCollections returns CollectionIds in ascending (byte-wise) order, 1000 per page by
  default (see pagination.py).
- Tags: at most 50 per collection (AWS-wide convention); more is a
  ServiceQuotaExceededException, for CreateCollection as for TagResource.
- Tagging ARNs: a string that is not an ARN at all is an InvalidParameterException; a
  well-formed ARN that is not a collection of this region and account, or names a
  collection that does not exist, is a ResourceNotFoundException.
"""

from __future__ import annotations

from rekcli.service import pagination
from rekcli.service.context import ServiceContext
from rekcli.service.errors import InvalidParameterException, ResourceNotFoundException
from rekcli.service.face_model import current_face_model_version
from rekcli.service.store_errors import open_store
from rekcli.store.journals import drop_journals_of

STATUS_OK = 200


def create_collection(ctx: ServiceContext, request: dict) -> dict:
    collection_id = request["CollectionId"]
    with open_store(ctx) as store:
        info = store.create_collection(collection_id, request.get("Tags") or {},
                                       face_model_version=current_face_model_version())
    return {
        "StatusCode": STATUS_OK,
        # CreateCollection's ARN lacks the "arn:" prefix, as the real service answers (§1.5).
        "CollectionArn": ctx.collection_arn(collection_id)[len("arn:"):],
        "FaceModelVersion": info.face_model_version,
    }


def delete_collection(ctx: ServiceContext, request: dict) -> dict:
    with open_store(ctx) as store:
        store.delete_collection(request["CollectionId"])
    # Interrupted batch jobs' results about it (who matched whom) go with it.
    drop_journals_of(ctx.data_dir, ctx.region, request["CollectionId"])
    return {"StatusCode": STATUS_OK}


def describe_collection(ctx: ServiceContext, request: dict) -> dict:
    collection_id = request["CollectionId"]
    with open_store(ctx) as store:
        collection = store.open_collection(collection_id)
        face_count, user_count = collection.counts()
    return {
        "FaceCount": face_count,
        "FaceModelVersion": collection.face_model_version,
        "CollectionARN": ctx.collection_arn(collection_id),
        "CreationTimestamp": collection.info.creation_timestamp,
        "UserCount": user_count,
    }


def collection_state(ctx: ServiceContext, collection_id: str) -> tuple[float, int]:
    """rekcli's own, not an AWS operation: (creation time, generation), one snapshot. The
    generation changes whenever the collection's faces or users change.

    The batch jobs key their resume journals on it: a collection deleted and made again, or
    changed since (for search-folder), is a new job whose saved results must not be replayed.
    ResourceNotFoundException when the collection does not exist.
    """
    with open_store(ctx) as store:
        return store.open_collection(collection_id).state()


def list_collections(ctx: ServiceContext, request: dict) -> dict:
    limit = pagination.page_size(request.get("MaxResults"),
                                 pagination.DEFAULT_LIST_COLLECTIONS_PAGE)
    with open_store(ctx) as store:
        secret = store.pagination_secret()
        after_pk, offset = None, 0
        if request.get("NextToken"):  # an empty token means the first page
            after_pk, offset = pagination.read_collections_token(
                secret, ctx.region, request["NextToken"])
        items, more = store.list_collections(limit, after_pk=after_pk, offset=offset)
    response: dict = {"CollectionIds": [info.collection_id for _, info in items]}
    if more and items:
        response["NextToken"] = pagination.collections_token(
            secret, ctx.region, items[-1][0], offset + len(items))
    response["FaceModelVersions"] = [info.face_model_version for _, info in items]
    return response


# -- tagging ---------------------------------------------------------------------------------


def _collection_id_from_arn(ctx: ServiceContext, arn: str) -> str:
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or not all(parts[1:3]) or "/" not in parts[5]:
        raise InvalidParameterException(f"Invalid resource ARN: {arn}")
    prefix = ctx.collection_arn("")
    if not arn.startswith(prefix) or not arn[len(prefix):]:
        raise ResourceNotFoundException(f"The resource {arn} does not exist")
    return arn[len(prefix):]


def tag_resource(ctx: ServiceContext, request: dict) -> dict:
    collection_id = _collection_id_from_arn(ctx, request["ResourceArn"])
    with open_store(ctx) as store:
        store.set_tags(collection_id, dict(request.get("Tags") or {}))
    return {}


def untag_resource(ctx: ServiceContext, request: dict) -> dict:
    collection_id = _collection_id_from_arn(ctx, request["ResourceArn"])
    with open_store(ctx) as store:
        store.remove_tags(collection_id, list(request.get("TagKeys") or []))
    return {}


def list_tags_for_resource(ctx: ServiceContext, request: dict) -> dict:
    collection_id = _collection_id_from_arn(ctx, request["ResourceArn"])
    with open_store(ctx) as store:
        tags = store.get_tags(collection_id)
    return {"Tags": tags}
