"""Where the faces are: dlib's HOG detector (default) or its MMOD CNN (REKCLI_DETECTOR=cnn).

Working resolution
------------------
Rekognition promises to find faces of 40 x 40 px in a 1920 x 1080 image, and proportionally
larger ones in larger images. dlib's HOG detector scans an 80 x 80 window over a 5/6 image
pyramid. Measured on the 44 faces of our people/ and groups/ photos, shrunk to a given size
and scanned at the image's own scale, it finds 6/44 at 48 px, 31/44 at 56, 39/44 at 60,
42/44 at 64 and all at 72. We call NATIVE_FACE_PX = 60 its native size and detect on a
grayscale working copy scaled by

    scale = NATIVE_FACE_PX / smallest_face,
    smallest_face = max(MIN_FACE_FLOOR_PX, 40 * sqrt(width * height / (1920 * 1080)))

i.e. the promise is kept proportionally by area, and never below MIN_FACE_FLOOR_PX = 30
(at most 2x upsampling, as dlib's own pyramid_up; this finds all 43 marked faces of the
PASCAL set, 37-110 px in 500-px images, where 1.67x and 2.14x each miss one). Because the
smallest face grows with the square root of the area, the working copy of any image at or
above 1920 x 1080 has the same pixel count, 1.5^2 x 1920 x 1080 = 4.7 MP, whatever its
aspect ratio: detection cost is bounded. Boxes are mapped back to original pixels; landmarks
and descriptor chips are taken from the original pixels. The working copy is grayscale:
it costs 20% less than RGB and finds the same faces.

The 40-px promise against the 200 ms target (obama-1080p.jpg, 2-core machine)
------------------------------------------------------------------------------
HOG cost is proportional to the pixels scanned. The 43 faces of people/ and groups/ found
with confidence >= 90 (tests/test_engine_photos.py pastes all 44 found; 41 at 40 px), pasted
at a given size into a 1920 x 1080 canvas and run through this module (re-measured with the
C scan; the last column is dlib's own scan, split over two threads, for comparison):

| NATIVE_FACE_PX (1080p scale) | 36 px | 40 px | 44 px | 48 px | 1080p detection | dlib's scan |
|---|---|---|---|---|---|---|
| 56 (1.4x) | 14/43 | 30/43 | 41/43 | 43/43 | 66 ms | ~165 ms |
| 60 (1.5x, chosen) | 22/43 | 42/43 | 42/43 | 43/43 | 74-76 ms | ~190 ms |
| 64 (1.6x) | 33/43 | 42/43 | 43/43 | 43/43 | 85 ms | ~225 ms |
| 68 (1.7x) | 42/43 | 43/43 | 43/43 | 43/43 | 94 ms | ~245 ms |

60 was chosen as the knee under the 200 ms target with dlib's scan: it finds 42 of the 43
faces at the promised 40 px. The C scan leaves room for 68, which would also find the 36-px
faces (below the promise) for 25% more detection time in every call and every batch; we
keep 60, so that the promise costs no more than it must. The first call of a process takes
~150 ms: it also reads the detector's weights (hog_scan.py). None of these settings finds a
face in noface/.

The scan: ours in C, or dlib's
------------------------------
hog_scan.py computes what one dlib scan computes (the same pyramid levels, fHOG features,
filter responses to 2e-6, windows and suppression) in 2.5x less CPU, with the per-level
work in a C extension built at install (engine/_fhog.c). If it was not built (no C compiler),
dlib's own detector scans instead, with its serialised level limits rewritten so that it
can scan one part of the pyramid (models.hog_detector_for_this_thread); the two scans find
the same windows, with scores that differ by float rounding.

Two cores: the pyramid split
----------------------------
Each scan builds an image pyramid (level k+1 is dlib's pyramid_down<6> of level k, 5/6
the size) and runs the filters over the features of every level; levels 0 and 1 together
cost about as much as all the levels below them. So one thread scans levels 0 and 1, the
other levels 2 and below; each level image is made once with dlib's own pyramid_down<6>,
exactly the levels one dlib scan would cover are scanned (_pyramid_levels), and boxes are
mapped up to level 0 with dlib's rect_up. Nothing is scanned twice. Our scan then applies
dlib's suppression of overlapping windows to the windows of both halves together, exactly as
one dlib call does. (With dlib's scan, the fallback, each pass suppresses within itself only,
and a box mapped up from level 2 or below is rounded twice, so each edge may move by a
working pixel; our non-maximum suppression merges what is left either way.)
Results never depend on how the work is scheduled, so batch workers, which already keep
both cores busy with processes, run the two halves one after the other. If a dlib release
serialises its detector differently, detection falls back to one dlib scan on one core.

Boxes come back in pixels of the original image as floats; they may extend past its edges
(dlib places windows partly outside the image for faces cut by the border).

Confidence
----------
dlib's HOG score is an SVM margin: 0 is the trained decision boundary, real faces score
0.15-3. We keep windows down to HOG_THRESHOLD = -0.1: over every shared photo (people/,
groups/, detection/, noface/, edge/) the only window scoring between -0.2 and 0 is a real
face (the half-hidden child in obama_and_biden.jpg, -0.03), and noface/ scores at most -0.25.
These are the photos the tests use, so there is no held-out set behind this choice: a
borderline window of an unseen photo may be a false face, with a confidence of 84-88 that
QualityFilter's LOW_CONFIDENCE rule (AUTO: below 91) keeps out of collections.
We map the score through a logistic curve:

    confidence = 100 / (1 + exp(-(score - HOG_SCORE_MIDPOINT) / HOG_SCORE_SPREAD))

with midpoint -0.6 and spread 0.3: score -0.1 -> 84.1, 0 -> 88.1, 0.5 -> 97.5, 1 -> 99.5,
2 -> 99.99. A clear frontal face thus gets Rekognition-like 99.5+, and the borderline detections that
QualityFilter's LOW_CONFIDENCE rule exists for get visibly less.

The CNN detector
----------------
The MMOD CNN (REKCLI_DETECTOR=cnn) is more robust to pose and lighting but scans only ~0.2
MP/s here, holding the GIL (so one pass, one core), and needs faces of ~80 px
(CNN_NATIVE_FACE_PX). It uses the same working-resolution rule with its working copy capped
at CNN_MAX_WORKING_PIXELS = 1 MP: ~5-6 s per image, and in images above ~0.35 MP the
smallest face it finds is larger than the HOG promise (~115 px in 1920 x 1080). Its scores
(about 1.0-1.2 for clear faces, threshold 0) map through the same curve with midpoint -0.3
and spread 0.2.
"""

from __future__ import annotations

import functools
import logging
import math
import os
from dataclasses import dataclass

from rekcli.engine import models

_log = logging.getLogger(__name__)

# Smallest face (box width, px) the HOG detector finds reliably at scale 1 (measured).
NATIVE_FACE_PX = 60.0
# Rekognition's promise: 40 px faces in a 1920 x 1080 image, proportionally more above.
PROMISED_FACE_PX = 40.0
PROMISE_IMAGE_PIXELS = 1920 * 1080
# Below this face size we do not promise anything, however small the image.
MIN_FACE_FLOOR_PX = 30.0

HOG_THRESHOLD = -0.1
HOG_SCORE_MIDPOINT = -0.6
HOG_SCORE_SPREAD = 0.3

# The CNN detector's window is larger and its cost per pixel ~75x HOG's: it gets its own
# native size and a working-pixel cap, so a 12 MP photo does not take a minute.
CNN_NATIVE_FACE_PX = 80.0
CNN_MAX_WORKING_PIXELS = 1_000_000
CNN_THRESHOLD = 0.0
CNN_SCORE_MIDPOINT = -0.3
CNN_SCORE_SPREAD = 0.2


@dataclass
class Detection:
    box: tuple[float, float, float, float]  # left, top, width, height in original pixels
    score: float  # the detector's raw score
    confidence: float  # 0-100


def smallest_promised_face(width: int, height: int) -> float:
    """The smallest face width (px) we promise to find in a width x height image."""
    proportional = PROMISED_FACE_PX * math.sqrt(width * height / PROMISE_IMAGE_PIXELS)
    return max(MIN_FACE_FLOOR_PX, proportional)


def working_scale(width: int, height: int, native_face_px: float | None = None) -> float:
    """Factor from original to working pixels (see module docstring)."""
    native = NATIVE_FACE_PX if native_face_px is None else native_face_px
    return native / smallest_promised_face(width, height)


def confidence_from_score(score: float, detector: str = "hog") -> float:
    midpoint, spread = (
        (HOG_SCORE_MIDPOINT, HOG_SCORE_SPREAD)
        if detector == "hog"
        else (CNN_SCORE_MIDPOINT, CNN_SCORE_SPREAD)
    )
    z = -(score - midpoint) / spread
    if z > 700:
        return 0.0
    return 100.0 / (1.0 + math.exp(z))


def detect_faces(pixels) -> list[Detection]:
    """All faces in an RGB image, in no particular order."""
    name = models.detector_name()
    if _remembered is None:
        return _detect(name, pixels)
    import hashlib

    import numpy as np

    pixels = np.ascontiguousarray(pixels)
    key = (name, pixels.shape, hashlib.sha256(pixels.data).digest())
    found = _remembered.pop(key, None)
    if found is None:
        found = _detect(name, pixels)
    _remembered[key] = found  # most recently used last
    while len(_remembered) > _remembered_capacity:
        _remembered.popitem(last=False)
    return list(found)


def _detect(name: str, pixels) -> list[Detection]:
    return _detect_cnn(pixels) if name == "cnn" else _detect_hog(pixels)


# --- remembered detections ---------------------------------------------------------------
#
# A long-lived process (a `rekcli serve` worker) often sees the same image again: a door
# camera compares every frame with one reference photo, a script searches the same query
# photo in several collections. Detection is most of the cost of a call (~0.1 s of a 1 MP
# photo's ~0.15 s), and it depends only on the pixels and the detector, so such a process
# keeps the detections of the last images it saw, keyed by a SHA-256 of the decoded pixels
# (~2 ms for 1 MP). Landmarks, quality and descriptors are still computed every call. Off by
# default: a one-shot CLI call or a batch of distinct photos would only pay for the hash.

_remembered = None  # OrderedDict of (detector, shape, pixel digest) -> [Detection], or None
_remembered_capacity = 0


def remember_detections(capacity: int) -> None:
    """Keep the detections of the last `capacity` distinct images (0: remember none)."""
    global _remembered, _remembered_capacity
    from collections import OrderedDict

    _remembered = OrderedDict() if capacity > 0 else None
    _remembered_capacity = capacity


# --- HOG ---------------------------------------------------------------------------------


def _detect_hog(pixels) -> list[Detection]:
    import cv2

    height, width = pixels.shape[:2]
    gray = cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY)
    scale = working_scale(width, height)
    found = _scan_hog(_resize(gray, scale), scale)
    return [
        Detection(box, score, confidence_from_score(score, "hog"))
        for box, score in non_max_suppression(found)
    ]


def _hog_pass(image, scale: float, max_levels: int | None = None, levels_down: int = 0):
    """(box in original pixels, score) for each HOG detection in `image`.

    `image` is the working copy, or its pyramid level `levels_down` (boxes are mapped up that
    many levels first); max_levels caps the levels scanned.
    """
    import dlib
    import numpy as np

    detector = models.hog_detector_for_this_thread(max_levels)
    rects, scores, _ = detector.run(np.ascontiguousarray(image), 0, HOG_THRESHOLD)
    if levels_down:
        pyramid = dlib.pyramid_down(6)
        rects = [pyramid.rect_up(rect, levels_down) for rect in rects]
    return [(_to_original(r, scale), float(score)) for r, score in zip(rects, scores)]


# --- CNN ---------------------------------------------------------------------------------


def _detect_cnn(pixels) -> list[Detection]:
    height, width = pixels.shape[:2]
    scale = working_scale(width, height, CNN_NATIVE_FACE_PX)
    scale = min(scale, math.sqrt(CNN_MAX_WORKING_PIXELS / (width * height)))
    # dlib's CNN keeps the GIL while it runs, so splitting the scan would only add work.
    found = _cnn_pass(_resize(pixels, scale), scale)
    return [
        Detection(box, score, confidence_from_score(score, "cnn"))
        for box, score in non_max_suppression(found)
    ]


def _cnn_pass(image, scale: float):
    import numpy as np

    detector = models.cnn_detector_for_this_thread()
    return [
        (_to_original(d.rect, scale), float(d.confidence))
        for d in detector(np.ascontiguousarray(image), 0)
        if d.confidence > CNN_THRESHOLD
    ]


# --- the scan: the pyramid split over two threads ------------------------------------------


_parallel = True


def scan_in_parallel(enabled: bool) -> None:
    """Run the two halves of each scan on two threads (default) or one after the other.

    Only the schedule changes, never the result: batch workers turn it off because their
    processes already use every core.
    """
    global _parallel
    _parallel = enabled


def _scan_hog(working, scale: float):
    """(box in original pixels, score) for each HOG detection in the working copy, after
    dlib's own suppression of overlapping windows.

    One job scans pyramid levels 0 and 1, one level at a time, the other levels 2 and below
    (see module docstring). Each level image is made once, by dlib's own
    pyramid_down<6>, exactly as one dlib scan would make it, and a level is scanned exactly
    when one dlib scan would scan it (_pyramid_levels). The scan itself is hog_scan's C
    extension when it was built, else dlib's detector with its level limits rewritten.
    """
    import dlib

    from rekcli.engine import hog_scan

    compiled = hog_scan.available()
    if not compiled and not models.hog_levels_can_be_capped():
        _warn_no_split()
        return _hog_pass(working, scale)
    pyramid = dlib.pyramid_down(6)
    levels = _pyramid_levels(pyramid, *working.shape[:2])
    level_1 = pyramid(working) if levels > 1 else None
    make_jobs = _compiled_scan_jobs if compiled else _dlib_scan_jobs
    jobs = make_jobs(working, level_1, levels, pyramid, scale)
    results = _pool().map(lambda job: job(), jobs) if _parallel else [job() for job in jobs]
    found = [item for result in results for item in result]
    if not compiled:
        return found  # dlib suppressed within each pass; non_max_suppression does the rest
    return [(_box_to_original(box, scale), score)
            for score, box in hog_scan.suppress_overlapping(found)]


def _compiled_scan_jobs(working, level_1, levels: int, pyramid, scale: float):
    """The two halves with hog_scan: (score, box in working pixels), not yet suppressed."""
    from rekcli.engine import hog_scan

    def fine_levels():
        images = [working] if level_1 is None else [working, level_1]
        return hog_scan.scan_levels(images, 0, HOG_THRESHOLD)

    def coarse_levels():
        images = _levels_below(level_1, levels - 2, pyramid)
        return hog_scan.scan_levels(images, 2, HOG_THRESHOLD)

    return fine_levels, coarse_levels


def _dlib_scan_jobs(working, level_1, levels: int, pyramid, scale: float):
    """The two halves with dlib's detector, capped to their levels: (box in original
    pixels, score), suppressed within each pass."""
    def fine_levels():
        found = _hog_pass(working, scale, max_levels=1)
        if level_1 is not None:
            found += _hog_pass(level_1, scale, max_levels=1, levels_down=1)
        return found

    def coarse_levels():
        if levels <= 2:
            return []
        level_2 = next(_levels_below(level_1, 1, pyramid))
        return _hog_pass(level_2, scale, max_levels=levels - 2, levels_down=2)

    return fine_levels, coarse_levels


def _levels_below(image, count: int, pyramid):
    """The next `count` pyramid levels below `image`, each made from the one before."""
    for _ in range(count):
        image = pyramid(image)
        yield image


@functools.lru_cache(maxsize=1)
def _warn_no_split() -> None:
    """Once per process (logged, so shown with --debug only)."""
    _log.warning("this dlib serialises its HOG detector differently: one scan, one core")


def _pyramid_levels(pyramid, height: int, width: int) -> int:
    """How many pyramid levels one dlib scan of a height x width image covers.

    dlib's rule (scan_fhog_pyramid::load): shrink the image's rectangle one level at a time
    and stop after the first one narrower or lower than the detector's minimum layer size.
    It counts on rectangles, and an image made by pyramid_down can be a pixel smaller than its
    rectangle, so the coarse job is told its count instead of working it out from level 2.
    """
    import dlib

    rect = dlib.rectangle(0, 0, width - 1, height - 1)
    levels = 0
    while True:
        rect = pyramid.rect_down(rect)
        levels += 1
        if rect.width() < models.HOG_MIN_LAYER_PX or rect.height() < models.HOG_MIN_LAYER_PX:
            return levels


def _box_to_original(box, scale: float) -> tuple[float, float, float, float]:
    """(left, top, right, bottom) inclusive working pixels -> (left, top, width, height) in
    original pixels."""
    left, top, right, bottom = box
    return (left / scale, top / scale, (right - left + 1) / scale, (bottom - top + 1) / scale)


def _to_original(rect, scale: float) -> tuple[float, float, float, float]:
    """A dlib rectangle in a working copy -> (left, top, width, height) in original pixels."""
    return (
        rect.left() / scale,
        rect.top() / scale,
        rect.width() / scale,
        rect.height() / scale,
    )


# --- shared ------------------------------------------------------------------------------


def _resize(image, scale: float):
    import cv2

    if abs(scale - 1.0) < 1e-3:
        return image
    h, w = image.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(image, size, interpolation=interpolation)


def non_max_suppression(found, iou_limit: float = 0.4, containment_limit: float = 0.7):
    """Keep the best-scoring box of each group of boxes that cover the same face.

    Two boxes are the same face when their IoU exceeds `iou_limit`, or when their
    intersection covers more than `containment_limit` of the smaller box (the same face found
    at two pyramid levels by the two halves of the scan, which dlib could not suppress).
    """
    kept: list[tuple[tuple[float, float, float, float], float]] = []
    for box, score in sorted(found, key=lambda item: -item[1]):
        if all(
            not _same_face(box, other, iou_limit, containment_limit) for other, _ in kept
        ):
            kept.append((box, score))
    return kept


def _same_face(a, b, iou_limit: float, containment_limit: float) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = min(ax + aw, bx + bw) - max(ax, bx)
    ih = min(ay + ah, by + bh) - max(ay, by)
    if iw <= 0 or ih <= 0:
        return False
    inter = iw * ih
    area_a, area_b = aw * ah, bw * bh
    return (
        inter / (area_a + area_b - inter) > iou_limit
        or inter / min(area_a, area_b) > containment_limit
    )


_executor = None


def _forget_pool_after_fork() -> None:
    """A forked child inherits the executor object but not its threads: start afresh."""
    global _executor
    _executor = None


os.register_at_fork(after_in_child=_forget_pool_after_fork)


def _pool():
    """Two worker threads, created on first use (dlib scans without holding the GIL)."""
    global _executor
    if _executor is None:
        from concurrent.futures import ThreadPoolExecutor

        _executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="rekcli-detect")
    return _executor
