"""Face administration in a collection: ListFaces, DeleteFaces, SearchFaces.

Also `match_faces`, the FaceMatches builder SearchFacesByImage shares with SearchFaces.

Choices where AWS is silent (reference §6), documented here:
- MaxFaces defaults to 4096 (the cap): without it, every face above FaceMatchThreshold
  comes back, best first.
- ListFaces pages hold 1000 faces by default (pagination.py); FaceIds and UserId filters
  combine (a face must pass both); a UserId that does not exist gives an empty page.
- DeleteFaces handles each distinct FaceId once, in request order; a face still associated
  with a user is not deleted and is reported as ASSOCIATED_TO_AN_EXISTING_USER with that
  UserId. UnsuccessfulFaceDeletions is always present (possibly empty).
"""

from __future__ import annotations

from rekcli.engine.similarity import distance_from_similarity, similarity_from_distance
from rekcli.service.face_details import f32
from rekcli.service import model, pagination
from rekcli.service.context import ServiceContext
from rekcli.service.errors import InvalidParameterException
from rekcli.service.face_model import require_current_face_model
from rekcli.service.store_errors import open_store
from rekcli.store import Collection, face_record
from rekcli.store.journals import drop_journals_of

_SEARCH_DEFAULTS = model.operation("SearchFaces")["defaults"]
DEFAULT_FACE_MATCH_THRESHOLD = _SEARCH_DEFAULTS["FaceMatchThreshold"]
DEFAULT_MAX_FACES = _SEARCH_DEFAULTS["MaxFaces"]
FACE_NOT_FOUND_MESSAGE = "faceId was not found in the collection."

# Slack on the distance cut-off; the threshold itself is then applied to the Similarity as
# printed (float32). 1e-4 in distance covers float32 rounding of any Similarity (< 1e-5) and
# the float32 distances of the vector search, and costs nothing measurable.
_DISTANCE_SLACK = 1e-4


def unique(values) -> list:
    """Distinct values in first-seen order."""
    return list(dict.fromkeys(values))


def distance_limit(threshold: float) -> float:
    return distance_from_similarity(threshold) + _DISTANCE_SLACK


def match_faces(collection: Collection, descriptor, max_faces: int | None = None,
                threshold: float | None = None, exclude_face_ids=()) -> list[dict]:
    """FaceMatches for `descriptor`: [{Similarity, Face}], Similarity descending, only
    matches with Similarity >= threshold (default 80), at most max_faces (default 4096)."""
    require_current_face_model(collection)  # its Similarity would mean nothing otherwise
    threshold = DEFAULT_FACE_MATCH_THRESHOLD if threshold is None else float(threshold)
    max_faces = DEFAULT_MAX_FACES if max_faces is None else int(max_faces)
    nearest = collection.nearest_faces(descriptor, max_faces, distance_limit(threshold),
                                       exclude_face_ids=exclude_face_ids)
    matches = []
    for face, distance in nearest:
        similarity = f32(similarity_from_distance(distance))  # compare what is printed
        if similarity >= threshold:
            matches.append({"Similarity": similarity, "Face": face_record(face)})
    return matches


def list_faces(ctx: ServiceContext, request: dict) -> dict:
    limit = pagination.page_size(request.get("MaxResults"), pagination.DEFAULT_LIST_FACES_PAGE)
    with open_store(ctx) as store:
        collection = store.open_collection(request["CollectionId"])
        secret, scope, after = pagination.collection_page_start(
            store, collection, request.get("NextToken"), pagination.read_faces_token)
        face_ids = request.get("FaceIds")
        with collection.read() as tx:
            faces = tx.list_faces(after, limit + 1, user_id=request.get("UserId"),
                                  face_ids=None if face_ids is None else unique(face_ids))
    response: dict = {"Faces": [face_record(face) for face in faces[:limit]]}
    if len(faces) > limit:
        response["NextToken"] = pagination.faces_token(secret, scope, faces[limit - 1].face_id)
    response["FaceModelVersion"] = collection.face_model_version
    return response


def delete_faces(ctx: ServiceContext, request: dict) -> dict:
    face_ids = unique(request["FaceIds"])
    with open_store(ctx) as store:
        collection = store.open_collection(request["CollectionId"])
        with collection.write() as tx:
            faces = tx.get_faces(face_ids)
            deletable = [fid for fid in face_ids if fid in faces and faces[fid].user_id is None]
            tx.delete_faces(deletable)
    if deletable:  # journals of interrupted batch jobs must not keep what was deleted
        drop_journals_of(ctx.data_dir, ctx.region, request["CollectionId"], deletable)
    unsuccessful = []
    for face_id in face_ids:
        face = faces.get(face_id)
        if face is None:
            unsuccessful.append({"FaceId": face_id, "Reasons": ["FACE_NOT_FOUND"]})
        elif face.user_id is not None:
            unsuccessful.append({"FaceId": face_id, "UserId": face.user_id,
                                 "Reasons": ["ASSOCIATED_TO_AN_EXISTING_USER"]})
    return {"DeletedFaces": deletable, "UnsuccessfulFaceDeletions": unsuccessful}


def search_faces(ctx: ServiceContext, request: dict) -> dict:
    face_id = request["FaceId"]
    with open_store(ctx) as store:
        collection = store.open_collection(request["CollectionId"])
        descriptor = collection.descriptors([face_id]).get(face_id)
        if descriptor is None:
            raise InvalidParameterException(FACE_NOT_FOUND_MESSAGE)
        matches = match_faces(collection, descriptor, request.get("MaxFaces"),
                              request.get("FaceMatchThreshold"), exclude_face_ids=[face_id])
    return {
        "SearchedFaceId": face_id,
        "FaceMatches": matches,
        "FaceModelVersion": collection.face_model_version,
    }
