"""Plain records the store hands out, and the AWS `Face` shape built from them.

No numpy here: describe/list paths import this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any


@dataclass
class NewFace:
    """A face the engine found, about to be stored.

    bounding_box: dict with Width, Height, Left, Top (ratios of the image size).
    confidence: detection confidence, percent.
    descriptor: numpy float32 array of shape (128,).
    """

    bounding_box: dict
    confidence: float
    descriptor: Any


@dataclass(frozen=True)
class StoredFace:
    """A face in a collection, as recorded (what ListFaces and search answer)."""

    face_id: str
    bounding_box: dict
    image_id: str
    external_image_id: str | None
    confidence: float
    index_faces_model_version: str
    user_id: str | None = None
    row: int = field(default=-1, compare=False, repr=False)  # row in vectors.f32


@dataclass(frozen=True)
class UserRecord:
    user_id: str
    face_count: int

    @property
    def status(self) -> str:
        """CREATED until the user has a face, then ACTIVE.

        Local changes apply at once, so a user is never UPDATING (reference §2.5).
        """
        return "ACTIVE" if self.face_count > 0 else "CREATED"


@dataclass(frozen=True)
class CollectionInfo:
    """A collection as listed in the region's catalog."""

    collection_id: str
    face_model_version: str
    created_at: float  # epoch seconds (millisecond precision)
    dir_name: str  # random hex name of its directory; also identifies this incarnation

    @property
    def creation_timestamp(self) -> datetime:
        return datetime.fromtimestamp(self.created_at, tz=timezone.utc)


@dataclass(frozen=True)
class RequestTokenRecord:
    """A remembered ClientRequestToken: what it did and what it answered."""

    token: str
    operation: str
    fingerprint: str
    response: dict


def bounding_box(width: float, height: float, left: float, top: float) -> dict:
    return {"Width": width, "Height": height, "Left": left, "Top": top}


def face_record(face: StoredFace) -> dict:
    """The AWS `Face` structure, members in model order, absent ones omitted (§2.4)."""
    record = {
        "FaceId": face.face_id,
        "BoundingBox": dict(face.bounding_box),
        "ImageId": face.image_id,
    }
    if face.external_image_id is not None:
        record["ExternalImageId"] = face.external_image_id
    record["Confidence"] = face.confidence
    record["IndexFacesModelVersion"] = face.index_faces_model_version
    if face.user_id is not None:
        record["UserId"] = face.user_id
    return record
