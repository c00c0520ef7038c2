"""Engine results (pixels) -> Rekognition's FaceDetail / ComparedFace shapes (ratios).

Numbers pass through float32 on the way out, as the real service's do, so a box prints as
`0.21444444358348846` rather than a 17-digit float64; scripts that compare against stored
AWS outputs see the same precision.
"""

from __future__ import annotations

import struct

from rekcli.service.model import LANDMARK_TYPES

DEFAULT_LANDMARKS = ("eyeLeft", "eyeRight", "mouthLeft", "mouthRight", "nose")
ALL_LANDMARKS = DEFAULT_LANDMARKS + tuple(t for t in LANDMARK_TYPES if t not in DEFAULT_LANDMARKS)

# Attribute values we can measure honestly from landmark geometry -> FaceDetail member.
# BEARD, EMOTIONS, EYE_DIRECTION, EYEGLASSES, MUSTACHE, FACE_OCCLUDED and SUNGLASSES would
# need a trained classifier we do not ship: they are omitted, never invented.
MEASURED_ATTRIBUTES = {"EYES_OPEN": "EyesOpen", "MOUTH_OPEN": "MouthOpen", "SMILE": "Smile"}
# Estimated by Cydral's age and gender networks (engine/age_gender.py) when the optional
# `age-gender` extra is installed; omitted without it.
ESTIMATED_ATTRIBUTES = {"AGE_RANGE": "AgeRange", "GENDER": "Gender"}


def f32(value: float) -> float:
    return struct.unpack("f", struct.pack("f", float(value)))[0]


class AttributeRequest:
    """What a DetectFaces Attributes / IndexFaces DetectionAttributes list asks for."""

    def __init__(self, values: list[str] | None):
        values = set(values or ["DEFAULT"])
        self.all_landmarks = "ALL" in values
        if self.all_landmarks:
            self.members = set(MEASURED_ATTRIBUTES.values())
        else:
            self.members = {MEASURED_ATTRIBUTES[v] for v in values if v in MEASURED_ATTRIBUTES}
        self.estimated = {member for value, member in ESTIMATED_ATTRIBUTES.items()
                          if self.all_landmarks or value in values}

    @property
    def needs_detail(self) -> bool:
        """Whether the engine must compute the full 68-point analysis."""
        return self.all_landmarks or bool(self.members)

    @property
    def needs_age_gender(self) -> bool:
        """Whether the age and gender networks must run (engine.estimate_age_and_gender)."""
        return bool(self.estimated)


def bounding_box(face, width: int, height: int) -> dict:
    left, top, box_width, box_height = face.box
    return {"Width": f32(box_width / width), "Height": f32(box_height / height),
            "Left": f32(left / width), "Top": f32(top / height)}


def landmarks(face, width: int, height: int, all_types: bool = False) -> list[dict]:
    types = ALL_LANDMARKS if all_types else DEFAULT_LANDMARKS
    return [{"Type": t, "X": f32(face.landmarks[t][0] / width), "Y": f32(face.landmarks[t][1] / height)}
            for t in types if t in face.landmarks]


def pose(face) -> dict:
    roll, yaw, pitch = face.pose
    return {"Roll": f32(roll), "Yaw": f32(yaw), "Pitch": f32(pitch)}


def quality(face) -> dict:
    brightness, sharpness = face.quality
    return {"Brightness": f32(brightness), "Sharpness": f32(sharpness)}


def face_detail(face, width: int, height: int, request: AttributeRequest | None = None) -> dict:
    """A FaceDetail with the DEFAULT members plus what `request` asks for and we measure
    (AgeRange and Gender: what engine.estimate_age_and_gender put on the face)."""
    request = request or AttributeRequest(None)
    detail = {"BoundingBox": bounding_box(face, width, height)}
    # Members in the model's order: AgeRange, Smile, Gender, EyesOpen, MouthOpen.
    estimate = getattr(face, "age_gender", None)  # None: not asked for, or no models
    if estimate is not None and "AgeRange" in request.estimated:
        detail["AgeRange"] = {"Low": estimate.age_low, "High": estimate.age_high}
    _add_measured(detail, face, request, "Smile")
    if estimate is not None and "Gender" in request.estimated:
        detail["Gender"] = {"Value": estimate.gender,
                            "Confidence": f32(estimate.gender_confidence)}
    _add_measured(detail, face, request, "EyesOpen")
    _add_measured(detail, face, request, "MouthOpen")
    detail["Landmarks"] = landmarks(face, width, height, request.all_landmarks)
    if face.pose is not None:  # a pose that could not be solved is omitted, not invented
        detail["Pose"] = pose(face)
    detail["Quality"] = quality(face)
    detail["Confidence"] = f32(face.confidence)
    return detail


def _add_measured(detail: dict, face, request: AttributeRequest, member: str) -> None:
    if member in request.members and member in face.attributes:
        value, confidence = face.attributes[member]
        detail[member] = {"Value": bool(value), "Confidence": f32(confidence)}


def compared_face(face, width: int, height: int) -> dict:
    """CompareFaces' ComparedFace: box, confidence, the 5 landmarks, pose and quality."""
    compared = {"BoundingBox": bounding_box(face, width, height), "Confidence": f32(face.confidence),
                "Landmarks": landmarks(face, width, height)}
    if face.pose is not None:
        compared["Pose"] = pose(face)
    compared["Quality"] = quality(face)
    return compared
