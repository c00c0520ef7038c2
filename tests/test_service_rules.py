"""The face-by-image service rules on their own, with a stubbed engine: request dict in,
response dict out, no photo and no dlib. The faces are made up (FaceAnalysis values), so each
rule is shown on the exact case it decides: QualityFilter, MaxFaces and EXCEEDS_MAX_FACES,
the order of UnindexedFaces, which faces get a descriptor, FACE_NOT_LARGEST, "no usable
face", and pairing stored faces with this call's FaceDetails by box.

The end-to-end tests show the same rules on real photos; these show them one at a time.
"""

from __future__ import annotations

import numpy as np
import pytest

from rekcli.engine import DecodedImage, FaceAnalysis
from rekcli.service import faces_by_image
from rekcli.service.errors import InvalidParameterException
from rekcli.service.images import LoadedImage

WIDTH, HEIGHT = 1000, 800
IMAGE = LoadedImage(data=b"made-up image", pixels=DecodedImage(None, WIDTH, HEIGHT))


def face(side: float, *, left: float = 100.0, confidence: float = 99.9,
         yaw: float = 0.0, brightness: float = 80.0, sharpness: float = 80.0) -> FaceAnalysis:
    """A made-up face: a square box `side` pixels wide, the five default landmarks."""
    top = 100.0
    landmarks = {"eyeLeft": (left + side * 0.3, top + side * 0.4),
                 "eyeRight": (left + side * 0.7, top + side * 0.4),
                 "mouthLeft": (left + side * 0.35, top + side * 0.8),
                 "mouthRight": (left + side * 0.65, top + side * 0.8),
                 "nose": (left + side * 0.5, top + side * 0.6)}
    return FaceAnalysis(box=(left, top, side, side), confidence=confidence, landmarks=landmarks,
                        pose=(0.0, yaw, 0.0), quality=(brightness, sharpness))


@pytest.fixture
def engine(monkeypatch):
    """The engine's three calls replaced: `engine.faces` is what analysis finds (largest
    first, as the engine answers), `engine.described` the faces given a descriptor."""

    class Stub:
        faces: list = []
        described: list = []

    def analyze(image, max_faces=None, descriptors=False, **options):
        found = list(Stub.faces)[:max_faces]
        if descriptors:  # the engine describes what it returns when asked to
            compute_descriptors(image, found)
        return found

    def compute_descriptors(image, faces):
        for item in faces:
            item.descriptor = np.full(128, item.box[2], dtype=np.float32)
            Stub.described.append(item)

    monkeypatch.setattr(faces_by_image, "_analyze", analyze)
    monkeypatch.setattr(faces_by_image, "_compute_descriptors", compute_descriptors)
    monkeypatch.setattr(faces_by_image, "_estimate_age_and_gender", lambda *args: None)
    Stub.faces, Stub.described = [], []
    return Stub


def index_request(**members) -> dict:
    return {"CollectionId": "c", "Image": {"Bytes": b""}, "QualityFilter": "AUTO", **members}


def widths(details: list[dict]) -> list[float]:
    return [round(d["BoundingBox"]["Width"] * WIDTH) for d in details]


# ---- IndexFaces ----------------------------------------------------------------------------


def test_max_faces_keeps_the_largest_and_reports_the_rest_as_exceeds_max_faces(engine):
    engine.faces = [face(400), face(300), face(200), face(100)]
    analysed = faces_by_image.analyse_for_indexing(IMAGE, index_request(MaxFaces=2))
    assert widths(analysed["Details"]) == [400, 300]
    assert [u["Reasons"] for u in analysed["UnindexedFaces"]] == [["EXCEEDS_MAX_FACES"]] * 2
    assert widths([u["FaceDetail"] for u in analysed["UnindexedFaces"]]) == [200, 100]


def test_only_the_faces_stored_get_a_descriptor(engine):
    engine.faces = [face(400), face(300), face(200)]
    analysed = faces_by_image.analyse_for_indexing(IMAGE, index_request(MaxFaces=1))
    assert [f.box[2] for f in engine.described] == [400]
    assert len(analysed["Descriptors"]) == 1 and analysed["Descriptors"][0][0] == 400


def test_quality_filter_reasons_and_unindexed_faces_largest_first(engine):
    """A face failing the filter is not counted against MaxFaces; the faces not indexed, for
    whatever reason, are listed largest first."""
    engine.faces = [face(420, yaw=80), face(300), face(250), face(200, confidence=50)]
    analysed = faces_by_image.analyse_for_indexing(IMAGE, index_request(MaxFaces=1))
    assert widths(analysed["Details"]) == [300]
    unindexed = analysed["UnindexedFaces"]
    assert widths([u["FaceDetail"] for u in unindexed]) == [420, 250, 200]
    assert [u["Reasons"] for u in unindexed] == [
        ["EXTREME_POSE"], ["EXCEEDS_MAX_FACES"], ["LOW_CONFIDENCE"]]


def test_quality_filter_none_indexes_every_face_and_high_is_stricter(engine):
    engine.faces = [face(300, confidence=95, sharpness=40), face(30)]
    none = faces_by_image.analyse_for_indexing(IMAGE, index_request(QualityFilter="NONE"))
    assert widths(none["Details"]) == [300, 30] and none["UnindexedFaces"] == []
    high = faces_by_image.analyse_for_indexing(IMAGE, index_request(QualityFilter="HIGH"))
    assert high["Details"] == []
    assert [u["Reasons"] for u in high["UnindexedFaces"]] == [
        ["LOW_SHARPNESS", "LOW_CONFIDENCE"], ["SMALL_BOUNDING_BOX"]]


def test_no_face_at_all_is_an_empty_success(engine):
    analysed = faces_by_image.analyse_for_indexing(IMAGE, index_request())
    assert (analysed["Details"], analysed["UnindexedFaces"], engine.described) == ([], [], [])


# ---- pairing stored faces with this call's details ------------------------------------------


class Stored:
    def __init__(self, left: float, width: float):
        self.bounding_box = {"Width": width, "Height": width, "Left": left, "Top": 0.1}


def detail(left: float, width: float) -> dict:
    return {"BoundingBox": {"Width": width, "Height": width, "Left": left, "Top": 0.1}}


def test_one_to_one_when_the_counts_agree():
    stored, details = [Stored(0.5, 0.1), Stored(0.1, 0.2)], [detail(0.1, 0.2), detail(0.5, 0.1)]
    assert faces_by_image._pair_by_box(stored, details) == list(zip(stored, details))


def test_earlier_faces_get_the_detail_whose_box_is_closest():
    """An image indexed before under the same ExternalImageId answers its earlier faces: each
    is paired with the nearest box of this call's details."""
    stored = [Stored(0.52, 0.1)]
    details = [detail(0.1, 0.2), detail(0.5, 0.1)]
    assert faces_by_image._pair_by_box(stored, details) == [(stored[0], details[1])]
    assert faces_by_image._pair_by_box(stored, []) == []


# ---- SearchFacesByImage and SearchUsersByImage ----------------------------------------------


def test_search_uses_the_largest_face_and_refuses_an_image_without_a_usable_one(engine):
    engine.faces = [face(300, left=50), face(200)]
    analysed = faces_by_image.analyse_for_search(IMAGE, {"QualityFilter": "NONE"})
    assert round(analysed["SearchedFaceBoundingBox"]["Width"] * WIDTH) == 300
    assert analysed["Descriptor"][0] == 300
    engine.faces = [face(300, yaw=80)]
    with pytest.raises(InvalidParameterException, match="no faces"):
        faces_by_image.analyse_for_search(IMAGE, {"QualityFilter": "AUTO"})


def test_search_users_searches_the_largest_face_and_lists_the_others_as_not_largest(engine):
    engine.faces = [face(300), face(200), face(100)]
    analysed = faces_by_image.analyse_for_user_search(IMAGE, {"QualityFilter": "AUTO"})
    assert round(analysed["SearchedFace"]["FaceDetail"]["BoundingBox"]["Width"] * WIDTH) == 300
    assert [u["Reasons"] for u in analysed["UnsearchedFaces"]] == [["FACE_NOT_LARGEST"]] * 2
    assert [f.box[2] for f in engine.described] == [300]


def test_search_users_with_a_filtered_largest_face_searches_nothing(engine):
    engine.faces = [face(300, brightness=0.5), face(200)]
    analysed = faces_by_image.analyse_for_user_search(IMAGE, {"QualityFilter": "AUTO"})
    assert "Descriptor" not in analysed and engine.described == []
    assert [u["Reasons"] for u in analysed["UnsearchedFaces"]] == [
        ["LOW_BRIGHTNESS"], ["FACE_NOT_LARGEST"]]
    engine.faces = []
    assert faces_by_image.analyse_for_user_search(IMAGE, {"QualityFilter": "AUTO"}) == {}
