"""Face detection on real photos: recall on the marked set, no false faces, small faces."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from rekcli.engine import UnknownDetector, decode_image
from rekcli.engine import detection

import numpy as np  # noqa: E402 - a required dependency: a broken install must fail
import cv2  # noqa: E402

pytestmark = pytest.mark.e2e


def iou(a, b) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = min(ax + aw, bx + bw) - max(ax, bx)
    ih = min(ay + ah, by + bh) - max(ay, by)
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    return inter / (aw * ah + bw * bh - inter)


def decode(path):
    return decode_image(path.read_bytes())


def marked_faces(faces_dir):
    """(file name, [boxes]) from dlib imglab's training.xml and testing.xml."""
    for name in ("training.xml", "testing.xml"):
        root = ET.parse(faces_dir / "detection" / name).getroot()
        for image in root.iter("image"):
            boxes = [
                tuple(int(box.get(k)) for k in ("left", "top", "width", "height"))
                for box in image.iter("box")
            ]
            yield image.get("file"), boxes


def test_every_marked_face_is_found(faces_dir):
    total, found, missed = 0, 0, []
    for file_name, boxes in marked_faces(faces_dir):
        detections = detection.detect_faces(decode(faces_dir / "detection" / file_name).pixels)
        for box in boxes:
            total += 1
            best = max((iou(box, d.box) for d in detections), default=0.0)
            if best >= 0.3:
                found += 1
            else:
                missed.append((file_name, box, round(best, 2)))
    assert total == 43
    assert found == total, f"recall {found}/{total}; missed {missed}"


def test_no_face_is_reported_in_photos_without_people(faces_dir):
    reported = {}
    for path in sorted((faces_dir / "noface").iterdir()):
        detections = detection.detect_faces(decode(path).pixels)
        if detections:
            reported[path.name] = [(d.box, d.score) for d in detections]
    assert reported == {}


def test_face_cut_by_the_edge_gets_a_box_past_the_edge(faces_dir):
    image = decode(faces_dir / "edge" / "obama_partial_face.jpg")
    (face,) = detection.detect_faces(image.pixels)
    left, top, width, height = face.box
    assert left < 0 < left + width <= image.width


# --- the working resolution ------------------------------------------------------------------


def test_working_resolution_keeps_the_promise_at_bounded_cost():
    assert detection.smallest_promised_face(1920, 1080) == pytest.approx(40.0)
    assert detection.smallest_promised_face(3840, 2160) == pytest.approx(80.0)
    assert detection.smallest_promised_face(500, 375) == detection.MIN_FACE_FLOOR_PX
    assert detection.working_scale(500, 375) == pytest.approx(2.0)
    reference = detection.working_scale(1920, 1080) ** 2 * 1920 * 1080
    for width, height in [(1920, 1080), (4000, 3000), (8000, 8000), (1080, 1920), (20000, 500)]:
        working = detection.working_scale(width, height) ** 2 * width * height
        assert working == pytest.approx(reference)
    assert reference < 5_000_000


def _one_dlib_scan(image_pixels):
    """What a single dlib call over the whole working copy finds, in original pixels."""
    gray = cv2.cvtColor(image_pixels, cv2.COLOR_RGB2GRAY)
    height, width = gray.shape
    scale = detection.working_scale(width, height)
    found = detection._hog_pass(detection._resize(gray, scale), scale)
    return detection.non_max_suppression(found)


@pytest.mark.parametrize("photo", ["groups/bald_guys.jpg", "groups/obama_and_biden.jpg",
                                   "detection/2008_001322.jpg", "people/obama/obama3.jpg"])
def test_pyramid_split_finds_what_one_scan_finds(faces_dir, photo):
    """Same faces, same scores; a box edge mapped up from level 2 may move by a working pixel."""
    image = decode(faces_dir / photo)
    split = sorted(detection.detect_faces(image.pixels), key=lambda d: -d.score)
    whole = _one_dlib_scan(image.pixels)
    assert [d.score for d in split] == pytest.approx([score for _, score in whole], abs=5e-6)
    two_pixels = 2.01 / detection.working_scale(image.width, image.height)  # width: both edges
    for face, (box, _) in zip(split, whole):
        assert face.box == pytest.approx(box, abs=two_pixels)


def test_pyramid_split_scans_the_same_levels_as_one_scan_in_tiny_images(faces_dir):
    """A face filling a tiny photo is found at a 64-79 px pyramid level, which one dlib scan
    covers (dlib's minimum layer is 64 px, smaller than its 80-px window)."""
    photo = decode(faces_dir / "people" / "obama" / "obama.jpg").pixels
    (face,) = detection.detect_faces(photo)
    left, top, width, height = (int(v) for v in face.box)
    crop = photo[top: top + height, left: left + width]
    compared = 0
    for side in range(34, 64):
        small = cv2.resize(crop, (side, side), interpolation=cv2.INTER_AREA)
        whole = _one_dlib_scan(small)
        split = sorted(detection.detect_faces(small), key=lambda d: -d.score)
        assert [d.score for d in split] == pytest.approx([score for _, score in whole], abs=5e-6), side
        compared += bool(whole)
    assert compared >= 10  # the face is found at many of these sizes


@pytest.mark.parametrize("side", [95, 850, 1020])
def test_pyramid_split_covers_the_deepest_level_of_one_scan(faces_dir, side):
    """A headshot filling the photo is found at the deepest pyramid levels. At these sizes
    an image made by pyramid_down is a pixel smaller than dlib's rectangle for it, so counting
    levels from level 2's own size would lose the last level (at 95 px: score 0.19 -> 0.01)."""
    photo = decode(faces_dir / "people" / "obama" / "obama3.jpg").pixels
    (face,) = detection.detect_faces(photo)
    left, top, width, height = (int(v) for v in face.box)
    headshot = photo[top: top + height, left: left + width]
    shrink = cv2.INTER_AREA if side < headshot.shape[0] else cv2.INTER_LINEAR
    small = np.ascontiguousarray(cv2.resize(headshot, (side, side), interpolation=shrink))
    split = sorted(d.score for d in detection.detect_faces(small))
    assert split == pytest.approx(sorted(score for _, score in _one_dlib_scan(small)), abs=5e-6)
    assert split


def test_without_a_cappable_detector_detection_falls_back_to_one_scan(faces_dir, monkeypatch):
    image = decode(faces_dir / "groups" / "two_people.jpg")
    monkeypatch.setattr(detection.models, "hog_levels_can_be_capped", lambda: False)
    from rekcli.engine import hog_scan

    monkeypatch.setattr(hog_scan, "available", lambda: False)
    found = detection.detect_faces(image.pixels)
    assert sorted(d.score for d in found) == pytest.approx(
        sorted(score for _, score in _one_dlib_scan(image.pixels)), abs=1e-6)


def test_detection_in_a_forked_child_after_the_parent_detected(faces_dir):
    """The parent's detection threads do not survive fork; the child must start its own."""
    import multiprocessing

    image = decode(faces_dir / "people" / "obama" / "obama.jpg")
    parent = detection.detect_faces(image.pixels)
    context = multiprocessing.get_context("fork")
    with context.Pool(1) as pool:
        child = pool.apply_async(_count_faces, (image.pixels,)).get(timeout=60)
    assert child == len(parent) == 1


def _count_faces(pixels) -> int:
    return len(detection.detect_faces(pixels))


# dlib serialises the detector's box-overlap test after its level limits (bytes 19-22), the
# nuclear norm (23-26) and the feature count (27-29): two doubles, each a packed mantissa and
# exponent. 1.0 and 1.0 suppress no box, so a scan returns every window above the threshold.
_OVERLAP_TEST = slice(30, 50)
_NO_SUPPRESSION = b"\x01\x01\x01\x00" * 2


@pytest.fixture
def every_window(monkeypatch):
    """HOG detectors without dlib's non-maximum suppression; (one-scan detector, threshold).

    Detection uses dlib's own scan here (the fallback when the C scan is not built); the C
    scan's windows are compared with dlib's in test_engine_hog_scan.py."""
    import dlib

    from rekcli.engine import hog_scan, models

    monkeypatch.setattr(hog_scan, "available", lambda: False)

    original = models._hog_state()
    assert original[27:30] == b"\x02\x1c\x0c"  # 3100 features: the layout described above
    state = original[:_OVERLAP_TEST.start] + _NO_SUPPRESSION + original[_OVERLAP_TEST.stop:]

    def fresh_caches():
        models._capped_hog_state.cache_clear()
        models._per_thread.hog = {}

    monkeypatch.setattr(models, "_hog_state", lambda: state)
    detection.scan_in_parallel(False)  # one thread, whose detector cache we control
    fresh_caches()
    whole = dlib.fhog_object_detector.__new__(dlib.fhog_object_detector)
    whole.__setstate__((state,))
    yield whole, -1.0
    detection.scan_in_parallel(True)
    monkeypatch.undo()
    fresh_caches()


def test_dlib_pyramid_split_returns_every_window_one_scan_returns(every_window, faces_dir,
                                                                 monkeypatch):
    """Exactly the same windows, with nothing suppressed (some 800 of them), for a headshot
    at sizes around dlib's 64-px minimum layer, in thin strips and at sizes where
    pyramid_down's images are a pixel smaller than dlib's rectangles: a level scanned too
    few or too many times shows."""
    whole, threshold = every_window
    monkeypatch.setattr(detection, "HOG_THRESHOLD", threshold)
    photo = decode(faces_dir / "people" / "obama" / "obama3.jpg").pixels
    left, top, width, height = (int(v) for v in detection.detect_faces(photo)[0].box)
    head = cv2.cvtColor(photo[top - height // 4: top + height * 5 // 4,
                             left - width // 4: left + width * 5 // 4], cv2.COLOR_RGB2GRAY)
    strip = np.tile(cv2.resize(head, (70, 70), interpolation=cv2.INTER_AREA), (1, 34))
    images = [cv2.resize(head, (w, h), interpolation=cv2.INTER_AREA)
              for w in range(60, 140, 9) for h in range(63, 114, 5)]
    images += [strip, strip.T] + [cv2.resize(head, (side, side)) for side in (95, 850, 1020)]
    windows = 0
    for image in images:
        image = np.ascontiguousarray(image)
        _, one_scan, _ = whole.run(image, 0, threshold)
        split = [score for _, score in detection._scan_hog(image, 1.0)]
        assert sorted(split) == pytest.approx(sorted(one_scan), abs=1e-6), image.shape
        windows += len(one_scan)
    assert windows > 500


def test_the_schedule_never_changes_what_is_found(faces_dir):
    image = decode(faces_dir / "groups" / "bald_guys.jpg")
    in_parallel = detection.detect_faces(image.pixels)
    detection.scan_in_parallel(False)
    try:
        one_after_the_other = detection.detect_faces(image.pixels)
    finally:
        detection.scan_in_parallel(True)
    assert len(in_parallel) >= 20
    assert [(d.box, d.score) for d in one_after_the_other] == [(d.box, d.score) for d in in_parallel]


def test_big_faces_are_found_by_the_coarse_levels(faces_dir):
    """A face far above the native size is found at a deep pyramid level, once."""
    photo = decode(faces_dir / "people" / "obama" / "obama.jpg").pixels
    (face,) = detection.detect_faces(photo)
    left, top, width, height = (int(v) for v in face.box)
    crop = photo[max(0, top - height // 2): top + height * 3 // 2,
                 max(0, left - width // 2): left + width * 3 // 2]
    k = 420 / width  # a 420-px face: 630 working px, eight times the detection window
    crop = cv2.resize(crop, None, fx=k, fy=k)
    canvas = np.full((1080, 1920, 3), 90, np.uint8)
    canvas[100: 100 + crop.shape[0], 700: 700 + crop.shape[1]] = crop[: 980, : 1220]
    found = detection.detect_faces(canvas)
    assert len(found) == 1, [d.box for d in found]
    assert found[0].box[2] == pytest.approx(420, rel=0.25)


# --- confidence and the detector choice ---------------------------------------------------


def test_confidence_mapping():
    assert detection.confidence_from_score(0.0) == pytest.approx(88.08, abs=0.01)
    assert detection.confidence_from_score(2.0) > 99.9
    scores = np.linspace(-3, 5, 81)
    confidences = [detection.confidence_from_score(float(s)) for s in scores]
    assert all(0.0 <= c <= 100.0 for c in confidences)
    assert confidences == sorted(confidences)
    assert detection.confidence_from_score(1e6) == 100.0
    assert detection.confidence_from_score(-1e6) == 0.0


def test_portrait_faces_get_high_confidence(faces_dir):
    (face,) = detection.detect_faces(decode(faces_dir / "people" / "obama" / "obama.jpg").pixels)
    assert face.confidence > 99


def test_non_max_suppression_keeps_the_best_of_each_face():
    found = [
        ((0, 0, 100, 100), 1.0),
        ((5, 5, 100, 100), 2.0),  # the same face, better scored
        ((30, 30, 40, 40), 0.5),  # inside it
        ((300, 0, 50, 50), 0.1),  # another face
    ]
    kept = detection.non_max_suppression(found)
    assert kept == [((5, 5, 100, 100), 2.0), ((300, 0, 50, 50), 0.1)]


def test_unknown_detector_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("REKCLI_DETECTOR", "yolo")
    with pytest.raises(UnknownDetector, match="hog, cnn"):
        detection.detect_faces(np.zeros((100, 100, 3), np.uint8))
    assert issubclass(UnknownDetector, ValueError)


def test_cnn_detector_is_selectable(faces_dir, monkeypatch):
    monkeypatch.setenv("REKCLI_DETECTOR", "CNN")
    pixels = decode(faces_dir / "people" / "obama" / "obama_small.jpg").pixels
    pixels = cv2.resize(pixels, (160, 120), interpolation=cv2.INTER_AREA)  # the CNN is slow
    (face,) = detection.detect_faces(pixels)
    monkeypatch.setenv("REKCLI_DETECTOR", "hog")
    (hog_face,) = detection.detect_faces(pixels)
    assert iou(face.box, hog_face.box) > 0.5
    assert face.confidence > 95


def test_remembered_detections_are_exact_and_bounded(faces_dir):
    """A serve worker remembers detections by pixels: the same image is answered from
    memory with what a scan finds; a changed pixel or an evicted image is scanned again."""
    pixels = np.ascontiguousarray(decode(faces_dir / "people" / "obama" / "obama.jpg").pixels)
    scanned = detection.detect_faces(pixels)
    detection.remember_detections(2)
    try:
        first = detection.detect_faces(pixels)
        assert [(d.box, d.score) for d in first] == [(d.box, d.score) for d in scanned]
        again = detection.detect_faces(pixels.copy())  # same pixels, another buffer
        assert all(a is b for a, b in zip(again, first))
        changed = pixels.copy()
        changed[0, 0, 0] ^= 1
        assert all(a is not b for a, b in zip(detection.detect_faces(changed), first))
        detection.detect_faces(pixels[::2, ::2])  # a third image evicts the oldest
        assert all(a is not b for a, b in zip(detection.detect_faces(pixels), first))
    finally:
        detection.remember_detections(0)
