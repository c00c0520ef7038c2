"""The C HOG scan (engine/_fhog.c via hog_scan.py) against dlib's own scan, window by window."""

from __future__ import annotations

import os

import numpy as np
import pytest

import cv2  # noqa: E402 - a required dependency: a broken install must fail
import dlib  # noqa: E402

from rekcli.engine import decode_image, detection, hog_scan, models

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def compiled_scan():
    """The extension is built at install where a C compiler is present. Without it these
    tests skip, except on CI (where $CI is set), which must test what users run."""
    if hog_scan._fhog is None:
        message = "rekcli.engine._fhog is not built (no C compiler at install?)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)

# Scores are sums of ~3,000 float products taken in another order than dlib's: measured at
# most 1.9e-6 apart over every window of the shared photos.
SCORE_TOLERANCE = 5e-6
THRESHOLD = -1.0  # far below the detection threshold: ~20x more windows to compare


@pytest.fixture(scope="module")
def unsuppressed_dlib():
    """dlib's detector with its box-overlap test set to 1.0 and 1.0: every window is kept.

    The test is serialised after the level limits (bytes 19-22), the nuclear norm (23-26)
    and the feature count (27-29): two doubles, each a packed mantissa and exponent."""
    state = models._hog_state()
    assert state[27:30] == b"\x02\x1c\x0c"  # 3100 features: the layout described above
    detector = dlib.fhog_object_detector.__new__(dlib.fhog_object_detector)
    detector.__setstate__((state[:30] + b"\x01\x01\x01\x00" * 2 + state[50:],))
    return detector


def every_window_of_our_scan(gray) -> dict:
    """{(box, filter): score} of every window scoring >= THRESHOLD, at every level."""
    pyramid = dlib.pyramid_down(6)
    images = [gray]
    for _ in range(detection._pyramid_levels(pyramid, *gray.shape) - 1):
        images.append(pyramid(images[-1]))
    return {(box, k): score for level, image in enumerate(images)
            for k, score, box in hog_scan.windows_of_level(image, level, THRESHOLD)}


def every_window_of_dlib(detector, gray) -> dict:
    rects, scores, filters = detector.run(gray, 0, THRESHOLD)
    return {((r.left(), r.top(), r.right(), r.bottom()), int(k)): s
            for r, s, k in zip(rects, scores, filters)}


def assert_same_windows(ours: dict, theirs: dict, what) -> None:
    """The same (box, filter) windows with the same scores; a window within rounding of the
    threshold may be on either side of it."""
    clear = lambda windows: {w for w, s in windows.items() if s > THRESHOLD + SCORE_TOLERANCE}
    assert clear(ours) <= set(theirs) and clear(theirs) <= set(ours), what
    worst = max((abs(ours[w] - theirs[w]) for w in set(ours) & set(theirs)), default=0.0)
    assert worst < SCORE_TOLERANCE, what


def gray_photo(faces_dir, name):
    return cv2.cvtColor(decode_image((faces_dir / name).read_bytes()).pixels, cv2.COLOR_RGB2GRAY)


@pytest.mark.parametrize("name", [
    "groups/bald_guys.jpg", "groups/obama_and_biden.jpg", "people/obama/obama.jpg",
    "detection/2008_002470.jpg", "noface/dogs.jpg", "edge/obama-240p.jpg",
])
def test_every_window_and_score_is_dlibs(unsuppressed_dlib, faces_dir, name):
    gray = gray_photo(faces_dir, name)
    working = np.ascontiguousarray(detection._resize(gray, detection.working_scale(
        gray.shape[1], gray.shape[0])))
    ours = every_window_of_our_scan(working)
    theirs = every_window_of_dlib(unsuppressed_dlib, working)
    assert len(theirs) > 20
    assert_same_windows(ours, theirs, name)


def test_every_window_at_awkward_sizes(unsuppressed_dlib, faces_dir):
    """Sizes that are not multiples of the 8-px cell, around the 64-px minimum layer and
    the 80-px window, thin strips, odd widths: each edge case of the cell grid shows."""
    photo = gray_photo(faces_dir, "people/obama/obama3.jpg")
    (box, _), *_ = detection._scan_hog(photo, 1.0)
    left, top, width, height = (int(v) for v in box)
    head = photo[top - height // 4: top + height * 5 // 4, left - width // 4: left + width * 5 // 4]
    images = [cv2.resize(head, (w, h), interpolation=cv2.INTER_AREA)
              for w in range(17, 140, 11) for h in range(18, 120, 13)]
    strip = np.tile(cv2.resize(head, (70, 70), interpolation=cv2.INTER_AREA), (1, 9))
    images += [strip, np.ascontiguousarray(strip.T), cv2.resize(head, (333, 251))]
    windows = 0
    for image in images:
        image = np.ascontiguousarray(image)
        theirs = every_window_of_dlib(unsuppressed_dlib, image)
        assert_same_windows(every_window_of_our_scan(image), theirs, image.shape)
        windows += len(theirs)
    assert windows > 80


def test_suppression_keeps_what_dlib_keeps(faces_dir):
    """After dlib's own overlap test, the same windows as one dlib call, same order."""
    gray = gray_photo(faces_dir, "groups/bald_guys.jpg")
    rects, scores, _ = models.hog_detector().run(gray, 0, detection.HOG_THRESHOLD)
    ours = detection._scan_hog(gray, 1.0)
    assert len(ours) == len(rects) >= 20
    for (box, score), rect, their_score in zip(ours, rects, scores):
        assert box == detection._to_original(rect, 1.0)
        assert score == pytest.approx(their_score, abs=SCORE_TOLERANCE)


def test_the_separable_filters_rebuild_the_detector_weights():
    weights = models.hog_weights()
    assert weights.filters.shape == (5, 31, 10, 10) and weights.biases.shape == (5,)
    bank = hog_scan._filterbank()
    rebuilt = np.zeros_like(weights.filters)
    for rows, cols, plane, k in zip(bank.row_taps, bank.col_taps, bank.planes, bank.filters):
        rebuilt[k, plane] += np.outer(cols, rows)
    # dlib drops components below 0.1% of a plane's largest: what remains is that small
    assert np.abs(rebuilt - weights.filters).max() < 2e-3 * np.abs(weights.filters).max()
    assert 200 < len(bank.planes) < 5 * 31 * 3  # rank 1-3 per plane (nuclear-norm training)


def test_scan_rejects_bad_arguments():
    from rekcli.engine import _fhog

    bank = hog_scan._filterbank()
    taps = (bank.row_taps, bank.col_taps, bank.planes, bank.filters, bank.biases)
    image = np.zeros((100, 100), np.uint8)
    with pytest.raises(ValueError, match="2-D uint8"):
        _fhog.scan(np.zeros((100, 100), np.float32), *taps)
    with pytest.raises(ValueError, match="2-D uint8"):
        _fhog.scan(np.zeros((100, 100, 3), np.uint8), *taps)
    with pytest.raises(ValueError, match="2-D uint8"):
        _fhog.scan(np.zeros((100, 100), bool), *taps)
    with pytest.raises(ValueError, match="planes"):
        _fhog.scan(image, bank.row_taps, bank.col_taps, bank.planes.astype(np.float32),
                   bank.filters, bank.biases)
    with pytest.raises(ValueError, match="thresholds"):
        _fhog.scan(image, bank.row_taps, bank.col_taps, bank.planes, bank.filters,
                   bank.biases.astype(np.int64))
    with pytest.raises(ValueError, match="not C-contiguous"):
        _fhog.scan(np.zeros((100, 200), np.uint8)[:, ::2], *taps)  # not contiguous
    with pytest.raises(ValueError, match="out of range"):
        _fhog.scan(image, bank.row_taps, bank.col_taps, bank.planes + 40, bank.filters,
                   bank.biases)
    with pytest.raises(ValueError, match="out of range"):
        _fhog.scan(image, bank.row_taps, bank.col_taps, bank.planes, bank.filters, bank.biases[:2])
    with pytest.raises(ValueError, match="row_taps"):
        _fhog.scan(image, bank.row_taps[:5], bank.col_taps, bank.planes, bank.filters, bank.biases)
    with pytest.raises(TypeError):
        _fhog.scan(image, *taps[:4])


@pytest.mark.parametrize("shape", [(0, 0), (1, 1), (2, 50), (19, 400), (400, 19)])
def test_images_with_fewer_than_3_cells_a_side_have_no_window(shape):
    image = np.full(shape, 128, np.uint8)
    bank = hog_scan._filterbank()
    from rekcli.engine import _fhog

    assert _fhog.scan(image, bank.row_taps, bank.col_taps, bank.planes, bank.filters,
                      bank.biases - 100) == []


def test_the_shared_filterbank_arrays_are_read_only():
    """Scans run without the GIL, so the process's bank must not change under one. (The C
    side also copies what it validated; that guards against a caller's own writable arrays
    and is not tested here: only a thread race shows it.)"""
    bank = hog_scan._filterbank()
    for array in (bank.row_taps, bank.col_taps, bank.planes, bank.filters):
        assert not array.flags.writeable


@pytest.mark.parametrize("cut", [23, 40, 5000])
def test_a_detector_state_it_cannot_read_means_dlibs_scan(faces_dir, monkeypatch, cut):
    state = models._hog_state()
    monkeypatch.setattr(models, "_hog_state", lambda: state[:cut])
    for cached in (models.hog_weights, hog_scan._filterbank, hog_scan._detector_understood):
        cached.cache_clear()
    try:
        assert not hog_scan.available()
    finally:
        monkeypatch.undo()
        for cached in (models.hog_weights, hog_scan._filterbank,
                       hog_scan._detector_understood):
            cached.cache_clear()
    assert hog_scan.available()


def test_without_the_extension_detection_uses_dlibs_scan(faces_dir, monkeypatch):
    pixels = decode_image((faces_dir / "groups" / "two_people.jpg").read_bytes()).pixels
    compiled = detection.detect_faces(pixels)
    monkeypatch.setattr(hog_scan, "_fhog", None)
    assert not hog_scan.available()
    fallback = detection.detect_faces(pixels)
    assert len(fallback) == len(compiled) == 2
    for ours, theirs in zip(sorted(compiled, key=lambda d: d.score),
                            sorted(fallback, key=lambda d: d.score)):
        assert ours.score == pytest.approx(theirs.score, abs=SCORE_TOLERANCE)
        assert ours.box == pytest.approx(theirs.box, abs=2.0)


def test_the_analysis_fingerprint_names_the_scan(monkeypatch):
    """Windows near the threshold may differ between the scans: stored results say which."""
    import rekcli.engine as engine

    compiled = engine.analysis_fingerprint()
    assert "scan compiled" in compiled
    monkeypatch.setattr(engine, "_hog_scan_in_use", lambda: "dlib")
    assert engine.analysis_fingerprint() != compiled


def test_without_the_extension_nothing_is_printed_unless_asked():
    """The fallback is logged, and rekcli's logs reach stderr only with --debug: not from a
    library call, nor from a batch worker (Python's last-resort handler is never used)."""
    import subprocess
    import sys

    code = ("import sys; sys.modules['rekcli.engine._fhog'] = None\n"  # import fails
            "import numpy as np\n"
            "from rekcli.engine import detection, hog_scan\n"
            "assert hog_scan._fhog is None\n"
            "detection.detect_faces(np.zeros((200, 200, 3), np.uint8))\n"
            "print(hog_scan.available())\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert (result.stdout, result.stderr) == ("False\n", "")
