"""Users of a collection: CreateUser, DeleteUser, ListUsers, AssociateFaces,
DisassociateFaces, SearchUsers. Also `match_users`, shared with SearchUsersByImage.

Choices where AWS is silent (reference §2.5, §3.12-3.17, §6), documented here:
- Changes apply at once, so a user is CREATED while it has no face and ACTIVE otherwise;
  AssociateFaces/DisassociateFaces answer that status (never UPDATING).
- A user's distance to a query is the smallest distance from the query to any of its faces
  (single linkage); Similarity = similarity_from_distance(that distance). AssociateFaces
  measures a face's match confidence the same way against the user's existing faces, and
  applies UserMatchThreshold (default 75) only when the user already has faces.
- AssociateFaces: if the faces it would associate would take the user past 100 faces, the
  whole request fails with ServiceQuotaExceededException and nothing changes.
- SearchUsers by UserId queries with all of that user's faces (smallest distance over
  every pair) and never returns the user itself; a user without faces matches nothing.
  By FaceId, the face's own user (if any) may be returned. MaxUsers defaults to 500.
  Exactly one of UserId/FaceId, else InvalidParameterException; an unknown UserId is a
  ResourceNotFoundException, an unknown FaceId an InvalidParameterException.
- ClientRequestToken (CreateUser, DeleteUser, AssociateFaces, DisassociateFaces) is kept
  per collection for 24 hours, recorded in the same transaction as the change it made.
  Same token, same operation and parameters: the first response again, nothing re-done.
  Otherwise IdempotentParameterMismatchException. A failed request records nothing.
- Unsuccessful* lists are always present (possibly empty).
"""

from __future__ import annotations

import hashlib
import json

from rekcli.engine.similarity import similarity_from_distance
from rekcli.service.face_details import f32
from rekcli.service import model, pagination
from rekcli.service.context import ServiceContext
from rekcli.service.errors import (
    ConflictException,
    IdempotentParameterMismatchException,
    InvalidParameterException,
    ResourceNotFoundException,
    ServiceQuotaExceededException,
)
from rekcli.service.face_model import require_current_face_model
from rekcli.service.faces_admin import FACE_NOT_FOUND_MESSAGE, distance_limit, unique
from rekcli.service.store_errors import open_store
from rekcli.store import Collection, CollectionTransaction
from rekcli.store.constants import MAX_FACES_PER_USER

DEFAULT_ASSOCIATE_THRESHOLD = model.operation("AssociateFaces")["defaults"]["UserMatchThreshold"]
DEFAULT_SEARCH_USER_THRESHOLD = model.operation("SearchUsers")["defaults"]["UserMatchThreshold"]
DEFAULT_MAX_USERS = model.operation("SearchUsers")["defaults"]["MaxUsers"]


def user_not_found(user_id: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(f"The user id: {user_id} does not exist")


# -- idempotency ------------------------------------------------------------------------------


def _fingerprint(request: dict) -> str:
    params = {k: v for k, v in request.items() if k != "ClientRequestToken"}
    canonical = json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(tx: CollectionTransaction, operation: str, request: dict) -> dict | None:
    """The recorded response when this token already ran with the same parameters."""
    token = request.get("ClientRequestToken")
    if token is None:
        return None
    record = tx.find_request_token(token)
    if record is None:
        return None
    if record.operation != operation or record.fingerprint != _fingerprint(request):
        raise IdempotentParameterMismatchException(
            f"The ClientRequestToken: {token} you have supplied is already in use.")
    return record.response


def _remember(tx: CollectionTransaction, operation: str, request: dict, response: dict) -> dict:
    token = request.get("ClientRequestToken")
    if token is not None:
        tx.record_request_token(token, operation, _fingerprint(request), response)
    return response


# -- search helper ------------------------------------------------------------------------------


def match_users(collection: Collection, descriptors, max_users: int | None = None,
                threshold: float | None = None, exclude_user_ids=()) -> list[dict]:
    """UserMatches for one descriptor (or several, (m, 128)): [{Similarity, User}],
    Similarity descending, Similarity >= threshold (default 80), at most max_users (500)."""
    require_current_face_model(collection)  # its Similarity would mean nothing otherwise
    threshold = DEFAULT_SEARCH_USER_THRESHOLD if threshold is None else float(threshold)
    max_users = DEFAULT_MAX_USERS if max_users is None else int(max_users)
    nearest = collection.nearest_users(descriptors, max_users, distance_limit(threshold),
                                       exclude_user_ids=exclude_user_ids)
    matches = []
    for user_id, status, distance in nearest:
        similarity = f32(similarity_from_distance(distance))  # compare what is printed
        if similarity >= threshold:
            matches.append({"Similarity": similarity,
                            "User": {"UserId": user_id, "UserStatus": status}})
    return matches


# -- operations ---------------------------------------------------------------------------------


def _idempotent_change(ctx: ServiceContext, operation: str, request: dict, change) -> dict:
    """Run `change(tx)` in one write transaction of the request's collection, at most once per
    ClientRequestToken: a retry with the same token and parameters gets the recorded response,
    the same token with other parameters is IdempotentParameterMismatchException."""
    with open_store(ctx) as store:
        collection = store.open_collection(request["CollectionId"])
        with collection.write() as tx:
            replayed = _replay(tx, operation, request)
            if replayed is not None:
                return replayed
            return _remember(tx, operation, request, change(tx))


def _existing_user(tx, user_id: str):
    user = tx.get_user(user_id)
    if user is None:
        raise user_not_found(user_id)
    return user


def create_user(ctx: ServiceContext, request: dict) -> dict:
    user_id = request["UserId"]

    def change(tx) -> dict:
        if tx.get_user(user_id) is not None:
            raise ConflictException(f"The user id: {user_id} already exists.")
        tx.create_user(user_id)
        return {}

    return _idempotent_change(ctx, "CreateUser", request, change)


def delete_user(ctx: ServiceContext, request: dict) -> dict:
    user_id = request["UserId"]

    def change(tx) -> dict:
        _existing_user(tx, user_id)
        tx.delete_user(user_id)
        return {}

    return _idempotent_change(ctx, "DeleteUser", request, change)


def list_users(ctx: ServiceContext, request: dict) -> dict:
    limit = pagination.page_size(request.get("MaxResults"), pagination.DEFAULT_LIST_USERS_PAGE)
    with open_store(ctx) as store:
        collection = store.open_collection(request["CollectionId"])
        secret, scope, after = pagination.collection_page_start(
            store, collection, request.get("NextToken"), pagination.read_users_token)
        with collection.read() as tx:
            users = tx.list_users(after, limit + 1)
    response: dict = {"Users": [{"UserId": u.user_id, "UserStatus": u.status}
                                for u in users[:limit]]}
    if len(users) > limit:
        response["NextToken"] = pagination.users_token(secret, scope, users[limit - 1].user_id)
    return response


def associate_faces(ctx: ServiceContext, request: dict) -> dict:
    user_id = request["UserId"]
    face_ids = unique(request["FaceIds"])
    threshold = request.get("UserMatchThreshold")
    threshold = DEFAULT_ASSOCIATE_THRESHOLD if threshold is None else float(threshold)
    import numpy  # noqa: F401  - load it before taking the collection's write lock

    def change(tx) -> dict:
        require_current_face_model(tx.collection)  # faces are compared with the user's
        _existing_user(tx, user_id)
        faces = tx.get_faces(face_ids)
        current = tx.user_faces(user_id)
        outcome: dict[str, dict | None] = {}  # face_id -> failure entry, or None: accept
        candidates = []
        for face_id in face_ids:
            face = faces.get(face_id)
            if face is None:
                outcome[face_id] = {"FaceId": face_id, "Reasons": ["FACE_NOT_FOUND"]}
            elif face.user_id == user_id:
                continue  # already this user's: silently ignored
            elif face.user_id is not None:
                outcome[face_id] = {"FaceId": face_id, "UserId": face.user_id,
                                    "Reasons": ["ASSOCIATED_TO_A_DIFFERENT_USER"]}
            else:
                outcome[face_id] = None
                candidates.append(face)
        if current and candidates:
            distances = tx.distances_to_faces([f.row for f in candidates],
                                              [f.row for f in current])
            for face, distance in zip(candidates, distances):
                confidence = f32(similarity_from_distance(distance))  # as printed
                if confidence < threshold:
                    outcome[face.face_id] = {"FaceId": face.face_id,
                                             "Confidence": confidence,
                                             "Reasons": ["LOW_MATCH_CONFIDENCE"]}
        accepted = [fid for fid in face_ids if fid in outcome and outcome[fid] is None]
        if len(current) + len(accepted) > MAX_FACES_PER_USER:
            raise ServiceQuotaExceededException(
                f"The user id: {user_id} can have at most {MAX_FACES_PER_USER} faces; it "
                f"has {len(current)} and the request would add {len(accepted)}.")
        if accepted:
            tx.set_face_user(accepted, user_id)
        response = {
            "AssociatedFaces": [{"FaceId": fid} for fid in accepted],
            "UnsuccessfulFaceAssociations": [entry for entry in outcome.values()
                                             if entry is not None],
            "UserStatus": "ACTIVE" if current or accepted else "CREATED",
        }
        return response

    return _idempotent_change(ctx, "AssociateFaces", request, change)


def disassociate_faces(ctx: ServiceContext, request: dict) -> dict:
    user_id = request["UserId"]
    face_ids = unique(request["FaceIds"])
    def change(tx) -> dict:
        user = _existing_user(tx, user_id)
        faces = tx.get_faces(face_ids)
        removed, unsuccessful = [], []
        for face_id in face_ids:
            face = faces.get(face_id)
            if face is None:
                unsuccessful.append({"FaceId": face_id, "Reasons": ["FACE_NOT_FOUND"]})
            elif face.user_id == user_id:
                removed.append(face_id)
            elif face.user_id is not None:
                unsuccessful.append({"FaceId": face_id, "UserId": face.user_id,
                                     "Reasons": ["ASSOCIATED_TO_A_DIFFERENT_USER"]})
            # not associated with anyone: ignored, in neither list
        if removed:
            tx.set_face_user(removed, None)
        remaining = user.face_count - len(removed)
        response = {
            "DisassociatedFaces": [{"FaceId": fid} for fid in removed],
            "UnsuccessfulFaceDisassociations": unsuccessful,
            "UserStatus": "ACTIVE" if remaining > 0 else "CREATED",
        }
        return response

    return _idempotent_change(ctx, "DisassociateFaces", request, change)


def search_users(ctx: ServiceContext, request: dict) -> dict:
    user_id, face_id = request.get("UserId"), request.get("FaceId")
    if (user_id is None) == (face_id is None):
        raise InvalidParameterException("Exactly one of UserId or FaceId must be specified.")
    with open_store(ctx) as store:
        collection = store.open_collection(request["CollectionId"])
        if face_id is not None:
            descriptor = collection.descriptors([face_id]).get(face_id)
            if descriptor is None:
                raise InvalidParameterException(FACE_NOT_FOUND_MESSAGE)
            matches = match_users(collection, descriptor, request.get("MaxUsers"),
                                  request.get("UserMatchThreshold"))
        else:
            with collection.read() as tx:
                if tx.get_user(user_id) is None:
                    raise user_not_found(user_id)
                own_faces = [face.face_id for face in tx.user_faces(user_id)]
            descriptors = list(collection.descriptors(own_faces).values())
            matches = []
            if descriptors:
                matches = match_users(collection, descriptors, request.get("MaxUsers"),
                                      request.get("UserMatchThreshold"),
                                      exclude_user_ids=[user_id])
    response = {"UserMatches": matches, "FaceModelVersion": collection.face_model_version}
    if face_id is not None:
        response["SearchedFace"] = {"FaceId": face_id}
    else:
        response["SearchedUser"] = {"UserId": user_id}
    return response
