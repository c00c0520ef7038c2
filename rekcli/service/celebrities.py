"""RecognizeCelebrities and GetCelebrityInfo over the user's own gallery, and the gallery's
management (add, list, delete a celebrity: rekcli's own commands, not API operations).

rekcli knows no celebrities and never invents one: the "celebrities" are the people the user
added with `rekcli add-celebrity` (store/gallery.py). With an empty gallery every face is
unrecognized.

Choices where AWS is silent or cannot apply, documented here:
- A face is recognized as the celebrity whose nearest gallery face has a Similarity of at
  least MATCH_THRESHOLD (80, search-faces' default), on the same distance -> Similarity
  curve as every search; MatchConfidence is that Similarity. Two faces of one image may be
  recognized as the same person (AWS does not say it prevents this).
- As in AWS, only the 64 largest faces are looked at; faces beyond them are in neither list.
- Each photo given to add-celebrity must hold a face; its largest face is the one stored.
- GetCelebrityInfo of an unknown Id is a ResourceNotFoundException (AWS's declared error for
  it); the message is ours, in the style of the collection messages.
"""

from __future__ import annotations

from contextlib import contextmanager

from rekcli.service import face_details
from rekcli.service.context import ServiceContext
from rekcli.service.errors import (NO_FACES_MESSAGE, InvalidParameterException,
                                   ResourceNotFoundException)
from rekcli.service.faces_by_image import image_id_for
from rekcli.service.images import load_image

MAX_RECOGNIZED_FACES = 64
MATCH_THRESHOLD = 80.0
KNOWN_GENDERS = ("Male", "Female", "Nonbinary", "Unlisted")
MAX_NAME_LENGTH = 1024
MAX_URLS = 64


def celebrity_not_found(celebrity_id: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(f"The celebrity id: {celebrity_id} does not exist")


@contextmanager
def _gallery(ctx: ServiceContext, comparing: bool = False):
    """The region's gallery, its store errors leaving as AWS errors. Its faces are
    descriptors: when `comparing` (recognizing faces, or adding some), faces made under
    another REKCLI_FACE_MODEL are refused as a collection's are (face_model.py) rather than
    compared into meaningless matches; looking up, listing and deleting work in either mode."""
    from rekcli.service.face_model import current_face_model_version, require_current_face_model
    from rekcli.service.store_errors import aws_errors
    from rekcli.store.gallery import Gallery

    with aws_errors(), Gallery(ctx, current_face_model_version()) as gallery:
        faces = gallery.faces() if comparing else None
        if faces is not None:
            require_current_face_model(
                faces, name="The celebrity gallery",
                redo="delete its celebrities (delete-celebrity) and add them again")
        yield gallery


def _known_gender(value: str | None) -> dict:
    return {} if value is None else {"KnownGender": {"Type": value}}


# ---- the API operations ---------------------------------------------------------------------


def recognize_celebrities(ctx: ServiceContext, request: dict) -> dict:
    from rekcli import engine
    from rekcli.service.faces_admin import distance_limit

    image = load_image(ctx, request["Image"])
    faces = engine.analyze_faces(image.pixels, max_faces=MAX_RECOGNIZED_FACES, detailed=True,
                                 descriptors=False)
    recognized, unrecognized = [], []
    with _gallery(ctx, comparing=bool(faces)) as gallery:
        searchable = bool(faces) and gallery.face_count() > 0
        if searchable:  # descriptors, the costly step, only when there is someone to match
            engine.compute_descriptors(image.pixels, faces)
        for face in faces:
            compared = _compared_face(face, image)
            match = gallery.nearest(face.descriptor, distance_limit(MATCH_THRESHOLD)) \
                if searchable else None
            confidence = None if match is None else _similarity(match[1])
            if confidence is None or confidence < MATCH_THRESHOLD:
                unrecognized.append(compared)
                continue
            celebrity = match[0]
            recognized.append({"Urls": celebrity.urls, "Name": celebrity.name,
                               "Id": celebrity.celebrity_id, "Face": compared,
                               "MatchConfidence": confidence,
                               **_known_gender(celebrity.known_gender)})
    return {"CelebrityFaces": recognized, "UnrecognizedFaces": unrecognized}


def _similarity(distance: float) -> float:
    from rekcli.engine.similarity import similarity_from_distance

    return face_details.f32(similarity_from_distance(distance))  # compared as printed


def _compared_face(face, image) -> dict:
    """ComparedFace as RecognizeCelebrities fills it: CompareFaces' members, plus Smile,
    which we measure (Emotions we do not, so it is omitted)."""
    compared = face_details.compared_face(face, image.width, image.height)
    if "Smile" in face.attributes:
        value, confidence = face.attributes["Smile"]
        compared["Smile"] = {"Value": bool(value), "Confidence": face_details.f32(confidence)}
    return compared


def get_celebrity_info(ctx: ServiceContext, request: dict) -> dict:
    with _gallery(ctx) as gallery:
        celebrity = gallery.find(request["Id"])
    if celebrity is None:
        raise celebrity_not_found(request["Id"])
    return {"Urls": celebrity.urls, "Name": celebrity.name,
            **_known_gender(celebrity.known_gender)}


# ---- the gallery: rekcli's own commands -------------------------------------------------------


def add_celebrity(ctx: ServiceContext, request: dict) -> dict:
    """{Name, Urls?, KnownGender?, Images: [Image]} -> the new celebrity, with its Id; or
    {Id, Images} -> that celebrity with the faces of these images added.

    Every image is read and analysed before anything is stored: one without a face (or
    unreadable) fails the whole request and leaves the gallery as it was."""
    if request.get("Id") is not None:
        return _add_photos(ctx, request["Id"], request)
    name, urls = request.get("Name"), list(request.get("Urls") or [])
    known_gender = request.get("KnownGender")
    _check_person(name, urls, known_gender)
    stored = _largest_faces(ctx, request.get("Images"))
    with _gallery(ctx, comparing=True) as gallery:
        return _listed(gallery.add(name, urls, known_gender, stored))


def _add_photos(ctx: ServiceContext, celebrity_id: str, request: dict) -> dict:
    if any(request.get(k) for k in ("Name", "Urls", "KnownGender")):
        raise InvalidParameterException(
            "Give either an Id (to add photos of that celebrity) or a Name, Urls and "
            "KnownGender (for a new celebrity), not both")
    stored = _largest_faces(ctx, request.get("Images"))
    with _gallery(ctx, comparing=True) as gallery:
        celebrity = gallery.add_faces(celebrity_id, stored)
    if celebrity is None:
        raise celebrity_not_found(celebrity_id)
    return _listed(celebrity)


def _largest_faces(ctx: ServiceContext, images) -> list:
    """[(ImageId, [NewFace of its largest face])] for each image; InvalidParameterException
    for no image, or (NO_FACES_MESSAGE) for an image without a face."""
    from rekcli import engine
    from rekcli.store import NewFace

    if not images:
        raise InvalidParameterException("At least one image of the celebrity is required")
    stored = []
    for image_member in images:
        image = load_image(ctx, image_member)
        faces = engine.analyze_faces(image.pixels, max_faces=1, descriptors=True,
                                     landmarks=False)
        if not faces:
            raise InvalidParameterException(NO_FACES_MESSAGE)
        face = faces[0]
        box = face_details.bounding_box(face, image.width, image.height)
        stored.append((image_id_for(image.data), [NewFace(
            bounding_box=box, confidence=face_details.f32(face.confidence),
            descriptor=face.descriptor)]))
    return stored


def _check_person(name, urls, known_gender) -> None:
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_LENGTH:
        raise InvalidParameterException(
            f"Name must be 1 to {MAX_NAME_LENGTH} characters, not only spaces")
    if len(urls) > MAX_URLS or not all(isinstance(u, str) and u for u in urls):
        raise InvalidParameterException(f"Urls must be at most {MAX_URLS} non-empty strings")
    if known_gender is not None and known_gender not in KNOWN_GENDERS:
        raise InvalidParameterException(
            f"KnownGender must be one of {', '.join(KNOWN_GENDERS)}")


def list_celebrities(ctx: ServiceContext, request: dict | None = None) -> dict:
    with _gallery(ctx) as gallery:
        return {"Celebrities": [_listed(c) for c in gallery.people()]}


def delete_celebrity(ctx: ServiceContext, request: dict) -> dict:
    """Delete a celebrity and their face descriptors (overwritten on disk, as DeleteFaces)."""
    with _gallery(ctx) as gallery:
        deleted = gallery.delete(request["Id"])
    if deleted is None:
        raise celebrity_not_found(request["Id"])
    return {"Id": request["Id"], "DeletedFaceCount": deleted}


def _listed(celebrity) -> dict:
    return {"Id": celebrity.celebrity_id, "Name": celebrity.name, "Urls": celebrity.urls,
            **_known_gender(celebrity.known_gender), "FaceCount": celebrity.face_count}
