"""The operations that look at pixels: CompareFaces, DetectFaces, IndexFaces,
SearchFacesByImage and SearchUsersByImage.

Each reads its image(s) through rekcli.service.images, asks the engine for faces, applies
Rekognition's rules (largest face, thresholds, QualityFilter, MaxFaces) and, for the
collection operations, reads or writes the store. Collections are opened before any pixel
work, so a missing collection is answered at once; writes happen after all the engine work,
so the store's lock is held only briefly.
"""

from __future__ import annotations

import hashlib
import uuid
from contextlib import contextmanager

from rekcli.service import face_details
from rekcli.service.context import ServiceContext
from rekcli.service.errors import NO_FACES_MESSAGE, InvalidParameterException
from rekcli.service.images import load_image

MAX_DETECTED_FACES = 100
# ImageIds are name-based UUIDs of the image content, so the same picture always gets the
# same ImageId (reference §1.4); this namespace makes them rekcli's own.
IMAGE_ID_NAMESPACE = uuid.UUID("8a4b1f2e-6a1d-5c3b-9e7f-2d0c4b6a8e13")


def image_id_for(data: bytes) -> str:
    return str(uuid.uuid5(IMAGE_ID_NAMESPACE, hashlib.sha256(data).hexdigest()))


def _analyze(image, **options):
    from rekcli import engine

    return engine.analyze_faces(image.pixels, **options)


def _estimate_age_and_gender(image, faces, wanted) -> None:
    """AgeRange and Gender for the faces, when asked for and the models are installed."""
    if wanted.needs_age_gender and faces:
        from rekcli import engine

        engine.estimate_age_and_gender(image.pixels, faces)


def _compute_descriptors(image, faces) -> None:
    from rekcli import engine

    engine.compute_descriptors(image.pixels, faces)


def _distance(a, b) -> float:
    from rekcli import engine

    return engine.descriptor_distance(a, b)


def _quality_reasons(face, level: str, image) -> list[str]:
    from rekcli.service.quality import quality_filter_reasons

    return quality_filter_reasons(face, level, image.width, image.height)


def _largest_usable_face(image, quality_filter: str):
    """The largest face of an image if it passes the quality filter, else None.

    Only its box and descriptor are reported, so the landmark geometry is skipped unless
    the quality filter needs the pose; the descriptor is the same either way.
    """
    faces = _analyze(image, max_faces=1, descriptors=True, landmarks=quality_filter != "NONE")
    if not faces or _quality_reasons(faces[0], quality_filter, image):
        return None
    return faces[0]


# ---- stateless ----------------------------------------------------------------------------


def compare_faces(ctx: ServiceContext, request: dict) -> dict:
    from rekcli.engine.similarity import similarity_from_distance

    source = load_image(ctx, request["SourceImage"])
    target = load_image(ctx, request["TargetImage"])
    quality_filter = request["QualityFilter"]
    threshold = request["SimilarityThreshold"]
    source_face = _largest_usable_face(source, quality_filter)
    if source_face is None:
        raise InvalidParameterException(NO_FACES_MESSAGE)
    target_faces = _analyze(target, max_faces=MAX_DETECTED_FACES, descriptors=False)
    if not target_faces:
        raise InvalidParameterException(NO_FACES_MESSAGE)
    # Filtered faces are not compared, and not reported (as in Rekognition); descriptors,
    # the costly step, are computed only for the faces that are compared.
    compared_faces = [f for f in target_faces if not _quality_reasons(f, quality_filter, target)]
    _compute_descriptors(target, compared_faces)
    matches, unmatched = [], []
    for face in compared_faces:
        similarity = face_details.f32(  # compared as printed, so output values reproduce
            similarity_from_distance(_distance(source_face.descriptor, face.descriptor)))
        compared = face_details.compared_face(face, target.width, target.height)
        if similarity >= threshold:
            matches.append({"Similarity": similarity, "Face": compared})
        else:
            unmatched.append(compared)
    matches.sort(key=lambda match: match["Similarity"], reverse=True)
    return {
        "SourceImageFace": {
            "BoundingBox": face_details.bounding_box(source_face, source.width, source.height),
            "Confidence": face_details.f32(source_face.confidence),
        },
        "FaceMatches": matches,
        "UnmatchedFaces": unmatched,
    }


def require_source_face(ctx: ServiceContext, request: dict) -> None:
    """The check CompareFaces makes of its source image, alone: the AWS exception when the
    source cannot be read or has no face that passes the quality filter. A folder job
    comparing one source with many targets makes it once, before any target."""
    from rekcli.service import with_defaults

    request = with_defaults("CompareFaces", request)
    source = load_image(ctx, request["SourceImage"])
    if _largest_usable_face(source, request["QualityFilter"]) is None:
        raise InvalidParameterException(NO_FACES_MESSAGE)


def detect_faces(ctx: ServiceContext, request: dict) -> dict:
    image = load_image(ctx, request["Image"])
    wanted = face_details.AttributeRequest(request.get("Attributes"))
    faces = _analyze(image, max_faces=MAX_DETECTED_FACES, detailed=wanted.needs_detail,
                     descriptors=False)
    _estimate_age_and_gender(image, faces, wanted)
    return {"FaceDetails": [face_details.face_detail(f, image.width, image.height, wanted)
                            for f in faces]}


# ---- collections --------------------------------------------------------------------------


@contextmanager
def _collection(ctx: ServiceContext, collection_id: str):
    """The open collection (ResourceNotFoundException at once if it does not exist, and
    InvalidParameterException if another face model made it: face_model.py)."""
    from rekcli.service.face_model import require_current_face_model
    from rekcli.service.store_errors import open_store

    with open_store(ctx) as store:
        collection = store.open_collection(collection_id)
        require_current_face_model(collection)
        yield collection


open_collection = _collection  # for pixel_work.finish, which opens it as these operations do


def index_faces(ctx: ServiceContext, request: dict) -> dict:
    with _collection(ctx, request["CollectionId"]) as collection:
        analysed = analyse_for_indexing(load_image(ctx, request["Image"]), request)
        return store_indexed(collection, analysed, request)


def analyse_for_indexing(image, request: dict) -> dict:
    """IndexFaces' pixel work: the faces to store (their FaceDetails and descriptors) and
    the faces not indexed. A function of the image and the request alone (no store), so a
    batch job may run it on another machine (see analyse_image_request)."""
    wanted = face_details.AttributeRequest(request.get("DetectionAttributes"))
    faces = _analyze(image, max_faces=MAX_DETECTED_FACES, detailed=wanted.needs_detail,
                     descriptors=False)
    chosen, unindexed = _select_faces_to_index(faces, image, request)
    _compute_descriptors(image, chosen)  # only for the faces stored: the costly step
    _estimate_age_and_gender(image, faces, wanted)
    return {
        "ImageId": image_id_for(image.data),
        "Details": [face_details.face_detail(f, image.width, image.height, wanted) for f in chosen],
        "Descriptors": [f.descriptor for f in chosen],
        "UnindexedFaces": [
            {"Reasons": reasons,
             "FaceDetail": face_details.face_detail(f, image.width, image.height, wanted)}
            for f, reasons in unindexed],
    }


def store_indexed(collection, analysed: dict, request: dict) -> dict:
    """IndexFaces' store work, given its pixel work (analyse_for_indexing)."""
    from rekcli.store import NewFace, face_record

    details = analysed["Details"]
    new_faces = [NewFace(bounding_box=d["BoundingBox"], confidence=d["Confidence"], descriptor=v)
                 for d, v in zip(details, analysed["Descriptors"])]
    image_id, external_image_id = analysed["ImageId"], request.get("ExternalImageId")
    stored = collection.add_faces(image_id, external_image_id, new_faces) if new_faces else []
    if not stored and external_image_id is not None:
        _remember_image_without_faces(collection, image_id, external_image_id,
                                      request["QualityFilter"])
    return {
        "FaceRecords": [{"Face": face_record(s), "FaceDetail": d}
                        for s, d in _pair_by_box(stored, details)],
        "FaceModelVersion": collection.face_model_version,
        "UnindexedFaces": analysed["UnindexedFaces"],
    }


def _select_faces_to_index(faces, image, request):
    """Apply QualityFilter (default AUTO) then MaxFaces (largest first).

    Returns (faces to index, [(face, reasons)] not indexed), both largest first.
    """
    quality_filter = request["QualityFilter"]
    max_faces = request.get("MaxFaces")
    passing, unindexed = [], []
    for face in faces:
        reasons = _quality_reasons(face, quality_filter, image)
        (unindexed.append((face, reasons)) if reasons else passing.append(face))
    if max_faces is not None and len(passing) > max_faces:
        unindexed.extend((face, ["EXCEEDS_MAX_FACES"]) for face in passing[max_faces:])
        passing = passing[:max_faces]
    unindexed.sort(key=lambda item: item[0].box[2] * item[0].box[3], reverse=True)
    return passing, unindexed


def _pair_by_box(stored, details):
    """Pair stored faces with this call's FaceDetails.

    They correspond one to one, except when an image already indexed with the same
    ExternalImageId returns its earlier faces: then each stored face gets the detail whose
    box is closest to its own.
    """
    if len(stored) == len(details):
        return list(zip(stored, details))

    def gap(face, detail):
        box, other = face.bounding_box, detail["BoundingBox"]
        return sum(abs(box[k] - other[k]) for k in ("Width", "Height", "Left", "Top"))

    return [(face, min(details, key=lambda d: gap(face, d))) for face in stored] if details else []


def search_faces_by_image(ctx: ServiceContext, request: dict) -> dict:
    with _collection(ctx, request["CollectionId"]) as collection:
        analysed = analyse_for_search(load_image(ctx, request["Image"]), request)
        return search_with(collection, analysed, request)


def analyse_for_search(image, request: dict) -> dict:
    """SearchFacesByImage's pixel work: the searched face's box, confidence and descriptor
    (InvalidParameterException when there is no usable face). No store: see index's."""
    face = _largest_usable_face(image, request["QualityFilter"])
    if face is None:
        raise InvalidParameterException(NO_FACES_MESSAGE)
    return {
        "SearchedFaceBoundingBox": face_details.bounding_box(face, image.width, image.height),
        "SearchedFaceConfidence": face_details.f32(face.confidence),
        "Descriptor": face.descriptor,
    }


def search_with(collection, analysed: dict, request: dict) -> dict:
    """SearchFacesByImage's store work, given its pixel work (analyse_for_search)."""
    from rekcli.service.faces_admin import match_faces

    matches = match_faces(collection, analysed["Descriptor"], request.get("MaxFaces"),
                          request.get("FaceMatchThreshold"))
    return {
        "SearchedFaceBoundingBox": analysed["SearchedFaceBoundingBox"],
        "SearchedFaceConfidence": analysed["SearchedFaceConfidence"],
        "FaceMatches": matches,
        "FaceModelVersion": collection.face_model_version,
    }


def search_users_by_image(ctx: ServiceContext, request: dict) -> dict:
    with _collection(ctx, request["CollectionId"]) as collection:
        analysed = analyse_for_user_search(load_image(ctx, request["Image"]), request)
        return search_users_with(collection, analysed, request)


def analyse_for_user_search(image, request: dict) -> dict:
    """SearchUsersByImage's pixel work: the searched face's box and descriptor (absent when
    the largest face is filtered out or there is none) and the faces not searched."""
    quality_filter = request["QualityFilter"]
    faces = _analyze(image, max_faces=MAX_DETECTED_FACES, descriptors=False,
                     landmarks=quality_filter != "NONE")  # boxes suffice otherwise
    if not faces:
        return {}  # no usable face is a success with no matches (reference §3.18)
    largest, others = faces[0], faces[1:]
    unsearched = [_unsearched(f, image, ["FACE_NOT_LARGEST"]) for f in others]
    reasons = _quality_reasons(largest, quality_filter, image)
    if reasons:
        return {"UnsearchedFaces": [_unsearched(largest, image, reasons)] + unsearched}
    _compute_descriptors(image, [largest])  # only the largest face is searched
    return {"Descriptor": largest.descriptor,
            "SearchedFace": {"FaceDetail": {"BoundingBox": face_details.bounding_box(
                largest, image.width, image.height)}},
            "UnsearchedFaces": unsearched}


def search_users_with(collection, analysed: dict, request: dict) -> dict:
    """SearchUsersByImage's store work, given its pixel work (analyse_for_user_search)."""
    from rekcli.service.users import match_users

    response = {"UserMatches": [], "FaceModelVersion": collection.face_model_version}
    if "Descriptor" in analysed:
        response["UserMatches"] = match_users(collection, analysed["Descriptor"],
                                              request.get("MaxUsers"),
                                              request.get("UserMatchThreshold"))
        response["SearchedFace"] = analysed["SearchedFace"]
    if "UnsearchedFaces" in analysed:
        response["UnsearchedFaces"] = analysed["UnsearchedFaces"]
    return response


def _unsearched(face, image, reasons: list[str]) -> dict:
    """UnsearchedFace: like the published examples, its FaceDetails carry the box only."""
    return {"FaceDetails": {"BoundingBox": face_details.bounding_box(face, image.width, image.height)},
            "Reasons": reasons}


ALREADY_INDEXED = "ALREADY_INDEXED"
ALREADY_ANALYSED_NO_FACES = "ALREADY_ANALYSED_NO_FACES"


def reason_to_skip_indexing(ctx: ServiceContext, collection_id: str, data: bytes,
                            external_image_id: str | None, quality_filter: str) -> str | None:
    """Why IndexFaces of this image with this ExternalImageId would store nothing new, or None.

    ALREADY_INDEXED: its faces are stored. ALREADY_ANALYSED_NO_FACES: this rekcli already
    analysed it with this QualityFilter and found no face to store. The batch jobs ask this
    before any pixel work, so re-running a nightly index of a folder costs a hash per file
    instead of a face analysis, photos without faces included.
    """
    if external_image_id is None:
        return None  # without an ExternalImageId the same picture is indexed again, as in AWS
    image_id = image_id_for(data)
    with _collection(ctx, collection_id) as collection, collection.read() as transaction:
        if transaction.faces_of_image(image_id, external_image_id):
            return ALREADY_INDEXED
        if transaction.image_without_faces(image_id, external_image_id, quality_filter,
                                           _analysed_by(quality_filter)):
            return ALREADY_ANALYSED_NO_FACES
    return None


def _remember_image_without_faces(collection, image_id: str, external_image_id: str,
                                  quality_filter: str) -> None:
    """Best effort: the note only saves a later index-folder some work, so a busy or full
    store must not fail the IndexFaces call that has already done its job."""
    from rekcli.store.errors import StoreError

    try:
        collection.remember_image_without_faces(image_id, external_image_id, quality_filter,
                                                _analysed_by(quality_filter))
    except StoreError:
        pass


def _analysed_by(quality_filter: str) -> str:
    """What decided that an image had no face to index: the engine (its source, detector, and
    dlib and OpenCV releases: engine.analysis_fingerprint) and this filter's thresholds. When
    any of them changes, the image is analysed again."""
    from rekcli.engine import analysis_fingerprint
    from rekcli.service.quality import rules_of

    return f"{analysis_fingerprint()}; rules {rules_of(quality_filter)}"