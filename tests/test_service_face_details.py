"""Engine results -> FaceDetail: ratios, float32 values, and nothing invented."""

from __future__ import annotations

from rekcli.engine import FaceAnalysis
from rekcli.service import face_details
from rekcli.service.quality import quality_filter_reasons

LANDMARKS = {"eyeLeft": (40, 50), "eyeRight": (60, 50), "mouthLeft": (42, 80),
             "mouthRight": (58, 80), "nose": (50, 65)}


def face(pose=(1.0, 2.0, 3.0)):
    return FaceAnalysis(box=(20, 30, 60, 80), confidence=99.5, landmarks=LANDMARKS, pose=pose,
                        quality=(50.0, 90.0))


def test_face_detail_is_in_ratios_and_model_order():
    detail = face_details.face_detail(face(), 200, 100)
    assert list(detail) == ["BoundingBox", "Landmarks", "Pose", "Quality", "Confidence"]
    assert detail["BoundingBox"] == {"Width": 0.30000001192092896, "Height": 0.800000011920929,
                                     "Left": 0.10000000149011612, "Top": 0.30000001192092896}
    assert [l["Type"] for l in detail["Landmarks"]] == ["eyeLeft", "eyeRight", "mouthLeft", "mouthRight", "nose"]


def test_an_unknown_pose_is_omitted_and_fails_every_quality_bar():
    unknown = face(pose=None)
    assert "Pose" not in face_details.face_detail(unknown, 200, 100)
    assert "Pose" not in face_details.compared_face(unknown, 200, 100)
    assert "EXTREME_POSE" in quality_filter_reasons(unknown, "LOW", 200, 100)
    assert quality_filter_reasons(unknown, "NONE", 200, 100) == []


def test_attributes_not_measured_are_never_reported():
    wanted = face_details.AttributeRequest(["AGE_RANGE", "GENDER", "EMOTIONS"])
    assert not wanted.needs_detail
    assert list(face_details.face_detail(face(), 200, 100, wanted)) == [
        "BoundingBox", "Landmarks", "Pose", "Quality", "Confidence"]
