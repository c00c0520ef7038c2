"""analyze_faces: landmarks, pose signs, quality, attributes, descriptors, model loading."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from rekcli.engine import (
    DecodedImage,
    FaceAnalysis,
    analyze_faces,
    decode_image,
    descriptor_distance,
    models,
)
from rekcli.engine.landmarks import ALL_LANDMARKS, DEFAULT_LANDMARKS

import numpy as np  # noqa: E402 - a required dependency: a broken install must fail
import cv2  # noqa: E402

pytestmark = pytest.mark.e2e


def decode(faces_dir, relative):
    return decode_image((faces_dir / relative).read_bytes())


def mirrored(image: DecodedImage) -> DecodedImage:
    return DecodedImage(np.ascontiguousarray(image.pixels[:, ::-1]), image.width, image.height)


@pytest.fixture(scope="module")
def biden(faces_dir):
    """A photo with clear roll (head tilted, image-right eye lower) and some yaw."""
    return decode(faces_dir, "people/biden/biden.jpg")


@pytest.fixture(scope="module")
def biden_faces(biden):
    return analyze_faces(biden, detailed=True), analyze_faces(mirrored(biden), detailed=True)


@pytest.fixture(scope="module")
def kit(faces_dir):
    """A photo with a strong turn to the image left (nose left of the eyes)."""
    return decode(faces_dir, "people/kit_harington/john2.jpeg")


# --- landmarks -------------------------------------------------------------------------------


def test_default_landmarks_are_the_five_in_aws_order(kit):
    (face,) = analyze_faces(kit, descriptors=False)
    assert list(face.landmarks) == ["eyeLeft", "eyeRight", "mouthLeft", "mouthRight", "nose"]
    assert list(face.landmarks) == list(DEFAULT_LANDMARKS)
    assert face.attributes == {}


def test_detailed_landmarks_are_all_thirty_in_aws_order(biden_faces):
    (face,), _ = biden_faces
    assert list(face.landmarks) == list(ALL_LANDMARKS)
    assert len(face.landmarks) == 30
    assert len(set(ALL_LANDMARKS)) == 30
    for x, y in face.landmarks.values():
        assert isinstance(x, float) and isinstance(y, float)


def assert_viewer_left_layout(face: FaceAnalysis):
    """Left/Right are the viewer's sides: every "...Left" point has the smaller x."""
    p = face.landmarks
    x = {name: point[0] for name, point in p.items()}
    y = {name: point[1] for name, point in p.items()}
    assert x["upperJawlineLeft"] < x["leftEyeBrowLeft"] < x["eyeLeft"] < x["nose"] < x["eyeRight"]
    assert x["eyeRight"] < x["rightEyeBrowRight"] < x["upperJawlineRight"]
    assert x["leftEyeLeft"] < x["leftEyeRight"] < x["rightEyeLeft"] < x["rightEyeRight"]
    assert x["mouthLeft"] < x["mouthRight"] and x["noseLeft"] < x["noseRight"]
    assert x["midJawlineLeft"] < x["chinBottom"] < x["midJawlineRight"]
    assert p["leftPupil"] == p["eyeLeft"] and p["rightPupil"] == p["eyeRight"]
    assert y["leftEyeBrowUp"] < y["leftEyeUp"] < y["eyeLeft"] < y["leftEyeDown"] < y["nose"]
    assert y["nose"] < y["mouthUp"] < y["mouthDown"] < y["chinBottom"]
    left, top, width, height = face.box
    for px, py in p.values():
        assert left - 0.3 * width < px < left + 1.3 * width
        assert top - 0.3 * height < py < top + 1.3 * height


def test_landmarks_follow_the_viewers_left_and_right(biden_faces):
    (face,), (mirror,) = biden_faces
    assert_viewer_left_layout(face)
    assert_viewer_left_layout(mirror)


def test_mirroring_swaps_left_and_right_landmarks(biden, biden_faces):
    (face,), (mirror,) = biden_faces
    width = face.box[2]
    swap = {"left": "right", "right": "left", "Left": "Right", "Right": "Left"}
    for name in ALL_LANDMARKS:
        # The mirror image of the image-left brow's left end is the image-right brow's right end.
        partner = re.sub("left|right|Left|Right", lambda m: swap[m.group(0)], name)
        mx, my = mirror.landmarks[name]
        ox, oy = face.landmarks[partner]
        assert abs(mx - (biden.width - 1 - ox)) < 0.06 * width, name
        assert abs(my - oy) < 0.06 * width, name


# --- pose --------------------------------------------------------------------------------------


def test_pose_signs_follow_aws_conventions(biden_faces):
    """Roll > 0 when the image-right eye is lower; yaw > 0 when the nose is right of the eyes."""
    (face,), _ = biden_faces
    roll, yaw, pitch = face.pose
    eye_left, eye_right = face.landmarks["eyeLeft"], face.landmarks["eyeRight"]
    assert eye_right[1] > eye_left[1] + 10  # the photo's head tilt
    assert roll > 5


def test_mirroring_flips_yaw_and_roll(biden_faces, kit):
    (face,), (mirror,) = biden_faces
    roll, yaw, pitch = face.pose
    m_roll, m_yaw, m_pitch = mirror.pose
    assert roll > 5 and m_roll < -5
    assert m_roll == pytest.approx(-roll, abs=3)
    assert m_yaw == pytest.approx(-yaw, abs=5)
    assert m_pitch == pytest.approx(pitch, abs=5)

    (turned,) = analyze_faces(kit, descriptors=False)
    (turned_mirror,) = analyze_faces(mirrored(kit), descriptors=False)
    nose_x = turned.landmarks["nose"][0]
    eyes_x = (turned.landmarks["eyeLeft"][0] + turned.landmarks["eyeRight"][0]) / 2
    assert nose_x < eyes_x  # the nose points to the image left ...
    assert turned.pose[1] < -15  # ... which is negative yaw
    assert turned_mirror.pose[1] > 15
    assert turned_mirror.pose[1] == pytest.approx(-turned.pose[1], abs=5)


def test_pose_angles_are_degrees_in_range(biden_faces):
    (face,), _ = biden_faces
    assert all(-180.0 <= angle <= 180.0 for angle in face.pose)


# --- quality -------------------------------------------------------------------------------------


def test_quality_is_within_0_100_and_responds_to_light_and_blur(faces_dir):
    image = decode(faces_dir, "people/obama/obama.jpg")
    (face,) = analyze_faces(image, descriptors=False)
    brightness, sharpness = face.quality
    assert 30 < brightness < 80 and 80 < sharpness <= 100

    darker = DecodedImage((image.pixels * 0.35).astype(np.uint8), image.width, image.height)
    (dark_face,) = analyze_faces(darker, descriptors=False)
    assert dark_face.quality[0] == pytest.approx(brightness * 0.35, rel=0.1)

    blurred = DecodedImage(cv2.GaussianBlur(image.pixels, (0, 0), 4), image.width, image.height)
    (blurred_face,) = analyze_faces(blurred, descriptors=False)
    assert blurred_face.quality[1] < 40 < sharpness
    for value in (*dark_face.quality, *blurred_face.quality):
        assert 0.0 <= value <= 100.0


# --- attributes -----------------------------------------------------------------------------------


def test_attributes_only_when_detailed_and_only_geometric_ones(faces_dir):
    image = decode(faces_dir, "people/obama/obama.jpg")
    (plain,) = analyze_faces(image, descriptors=False)
    (detailed,) = analyze_faces(image, descriptors=False, detailed=True)
    assert plain.attributes == {}
    assert set(detailed.attributes) == {"EyesOpen", "MouthOpen", "Smile"}
    for value, confidence in detailed.attributes.values():
        assert isinstance(value, bool) and 50.0 <= confidence <= 100.0
    # A broad, open-mouthed smile with open eyes.
    assert detailed.attributes["Smile"][0] is True
    assert detailed.attributes["MouthOpen"][0] is True
    assert detailed.attributes["EyesOpen"][0] is True


def test_a_straight_face_does_not_smile(faces_dir):
    image = decode(faces_dir, "people/rose_leslie/img2.jpg")
    (face,) = analyze_faces(image, descriptors=False, detailed=True)
    assert face.attributes["Smile"][0] is False
    assert face.attributes["MouthOpen"][0] is False
    assert face.attributes["EyesOpen"] == (True, pytest.approx(99.9))


def test_closed_eyes_are_reported_closed():
    from rekcli.engine.attributes import face_attributes

    points = np.zeros((68, 2))
    points[36:42] = [(0, 0), (3, -0.2), (6, -0.2), (9, 0), (6, 0.2), (3, 0.2)]
    points[42:48] = points[36:42] + (20, 0)
    points[48], points[54] = (4, 30), (24, 30)
    points[[51, 57, 61, 62, 63, 65, 66, 67]] = (14, 30)
    value, confidence = face_attributes(points)["EyesOpen"]
    assert value is False and confidence > 90


# --- descriptors, ordering, limits ---------------------------------------------------------------


@pytest.fixture(scope="module")
def group(faces_dir):
    return decode(faces_dir, "groups/obama_and_biden.jpg")


def test_faces_are_sorted_by_box_area_and_limited(group):
    faces = analyze_faces(group, descriptors=False)
    areas = [f.box[2] * f.box[3] for f in faces]
    assert len(faces) == 3 and areas == sorted(areas, reverse=True)
    two = analyze_faces(group, max_faces=2, descriptors=False)
    assert [f.box for f in two] == [f.box for f in faces[:2]]
    assert analyze_faces(group, max_faces=0) == []


def test_descriptors_come_from_one_batched_call(group, monkeypatch):
    model = models.face_recognition_model()
    calls = []

    class Spy:
        def compute_face_descriptor(self, image, shapes, *args):
            calls.append(len(shapes))
            return model.compute_face_descriptor(image, shapes, *args)

    monkeypatch.setattr(models, "face_recognition_model", lambda: Spy())
    faces = analyze_faces(group)
    assert calls == [3]
    for face in faces:
        assert face.descriptor.shape == (128,) and face.descriptor.dtype == np.float32
        assert 0.5 < float(np.linalg.norm(face.descriptor)) < 1.5
    # The batch gives the same vectors as one face at a time.
    (largest,) = analyze_faces(group, max_faces=1)
    assert descriptor_distance(largest.descriptor, faces[0].descriptor) < 1e-4


def test_no_descriptors_when_not_asked(group):
    assert all(face.descriptor is None for face in analyze_faces(group, descriptors=False))


def test_landmark_free_analysis_still_aligns_descriptors(faces_dir):
    image = decode(faces_dir, "people/obama/obama.jpg")
    (full,) = analyze_faces(image)
    (bare,) = analyze_faces(image, landmarks=False)
    assert bare.landmarks == {} and bare.pose is None and bare.attributes == {}
    assert bare.box == full.box and bare.quality == full.quality
    assert descriptor_distance(bare.descriptor, full.descriptor) < 0.15


def test_no_faces_gives_an_empty_list(faces_dir):
    assert analyze_faces(decode(faces_dir, "noface/eagle.jpg")) == []


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_rotated_photos_give_the_upright_boxes_and_landmarks(faces_dir, orientation):
    (upright,) = analyze_faces(decode(faces_dir, "people/obama/obama.jpg"), descriptors=False)
    rotated_photo = decode(faces_dir, f"edge/obama_exif_orientation_{orientation}.jpg")
    (rotated,) = analyze_faces(rotated_photo, descriptors=False)
    width = upright.box[2]
    for ours, theirs in zip(rotated.box, upright.box):
        assert ours == pytest.approx(theirs, abs=0.05 * width)
    for landmark in DEFAULT_LANDMARKS:
        for ours, theirs in zip(rotated.landmarks[landmark], upright.landmarks[landmark]):
            assert ours == pytest.approx(theirs, abs=0.03 * width)


# --- model loading -----------------------------------------------------------------------------


LOAD_PROBE = """
import json, sys
from rekcli import engine
from rekcli.engine import models
image = engine.decode_image(open(sys.argv[1], "rb").read())
loaded = lambda: {name: getattr(models, name).is_loaded() for name in
                  ("hog_detector", "cnn_detector", "shape_predictor_5", "shape_predictor_68",
                   "face_recognition_model")}
steps = {"start": loaded()}
engine.analyze_faces(image, landmarks=False, descriptors=False)
steps["boxes only"] = loaded()
engine.analyze_faces(image, landmarks=False)
steps["descriptors"] = loaded()
engine.analyze_faces(image)
steps["default"] = loaded()
print(json.dumps(steps))
"""


def test_models_load_lazily_and_only_when_needed(faces_dir, tmp_path):
    photo = faces_dir / "people" / "obama" / "obama_small.jpg"
    env_cache = {"REKCLI_CACHE_DIR": str(tmp_path / "cache")}
    import os

    output = subprocess.run(
        [sys.executable, "-c", LOAD_PROBE, str(photo)],
        capture_output=True, text=True, check=True, env={**os.environ, **env_cache},
    )
    steps = json.loads(output.stdout)
    assert not any(steps["start"].values())
    assert steps["boxes only"] == {
        "hog_detector": True, "cnn_detector": False, "shape_predictor_5": False,
        "shape_predictor_68": True, "face_recognition_model": False,
    }
    assert steps["descriptors"]["face_recognition_model"] is True
    assert steps["descriptors"]["shape_predictor_5"] is False
    assert steps["default"]["shape_predictor_68"] is True
    assert steps["default"]["cnn_detector"] is False
    # The HOG detector was cached for the next process.
    assert list((tmp_path / "cache").glob("*frontal_face_detector.svm"))
