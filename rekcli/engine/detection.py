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
and descriptor chips are taken from the original pixels.

The 40-px promise against the 200 ms target (obama-1080p.jpg, 2-core machine)
------------------------------------------------------------------------------
HOG cost is proportional to the pixels scanned. The 44 faces pasted at a given size into a
1920 x 1080 canvas and run through this module:

| NATIVE_FACE_PX (1080p scale) | 36 px | 40 px | 44 px | 48 px | 1080p detection |
|---|---|---|---|---|---|
| 56 (1.4x) | 10/44 | 32/44 | 40/44 | 43/44 | ~165 ms |
| 60 (1.5x, chosen) | 24/44 | 39/44 | 42/44 | 43/44 | ~190 ms |
| 64 (1.6x) | 33/44 | 41/44 | 43/44 | 44/44 | ~225 ms |
| 68 (1.7x) | 40/44 | 42/44 | 43/44 | 44/44 | ~245 ms |

60 is the knee: 89% of 40-px faces and 95% of 44-px faces inside the target. The times are
with both cores: one thread would need ~310 ms at 1.5x. dlib releases the GIL while it
scans, so a large working copy is cut into two overlapping parts scanned in parallel. A face
up to 0.8 x the overlap (SPLIT_OVERLAP_FACES x the native size = 240 working px) lies wholly
inside one part; bigger faces, which the cut may split, are found by a third pass over a
coarse copy scaled so that exactly that size lands on the native size (~10% of the pixels).
The part scanned by the thread that also runs the coarse pass is made smaller, so both
threads finish together. Duplicates from the passes are merged by greedy non-maximum
suppression (highest score kept). Grayscale costs 20% less than RGB and finds the same faces.

Boxes come back in pixels of the original image as floats; they may extend past its edges
(dlib places windows partly outside the image for faces cut by the border).

Confidence
----------
dlib's HOG score is an SVM margin: 0 is the trained decision boundary (HOG_THRESHOLD; our
noface/ photos score at most -0.25), real faces score 0.15-3. We map the score through a
logistic curve:

    confidence = 100 / (1 + exp(-(score - HOG_SCORE_MIDPOINT) / HOG_SCORE_SPREAD))

with midpoint -0.6 and spread 0.3: score 0 -> 88.1, 0.5 -> 97.5, 1 -> 99.5, 2 -> 99.99. A
clear frontal face thus gets Rekognition-like 99.5+, and the borderline detections that
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

import math
from dataclasses import dataclass

from rekcli.engine import models

# Smallest face (box width, px) the HOG detector finds reliably at scale 1 (measured).
NATIVE_FACE_PX = 60.0
# Rekognition's promise: 40 px faces in a 1920 x 1080 image, proportionally more above.
PROMISED_FACE_PX = 40.0
PROMISE_IMAGE_PIXELS = 1920 * 1080
# Below this face size we do not promise anything, however small the image.
MIN_FACE_FLOOR_PX = 30.0

HOG_THRESHOLD = 0.0
HOG_SCORE_MIDPOINT = -0.6
HOG_SCORE_SPREAD = 0.3

# Split the scan over two threads only when there is enough work for it to pay. The split
# is part of what is detected (its coarse pass sees faces at another pyramid phase), so it
# must not depend on how busy the machine is: batch workers split exactly as single calls.
SPLIT_MIN_PIXELS = 600_000
# Overlap of the two parts, in smallest faces (working pixels = this x the native size).
SPLIT_OVERLAP_FACES = 4

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
    if name == "cnn":
        return _detect_cnn(pixels)
    return _detect_hog(pixels)


# --- HOG ---------------------------------------------------------------------------------


def _detect_hog(pixels) -> list[Detection]:
    import cv2

    height, width = pixels.shape[:2]
    gray = cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY)
    found = _scan(gray, working_scale(width, height), NATIVE_FACE_PX, _hog_pass)
    return [
        Detection(box, score, confidence_from_score(score, "hog"))
        for box, score in non_max_suppression(found)
    ]


def _hog_pass(image, scale: float, dx: int = 0, dy: int = 0):
    """(box in original pixels, score) for each HOG detection in a working copy."""
    import numpy as np

    detector = models.hog_detector_for_this_thread()
    rects, scores, _ = detector.run(np.ascontiguousarray(image), 0, HOG_THRESHOLD)
    return [(_to_original(r, scale, dx, dy), float(score)) for r, score in zip(rects, scores)]


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


def _cnn_pass(image, scale: float, dx: int = 0, dy: int = 0):
    import numpy as np

    detector = models.cnn_detector_for_this_thread()
    return [
        (_to_original(d.rect, scale, dx, dy), float(d.confidence))
        for d in detector(np.ascontiguousarray(image), 0)
        if d.confidence > CNN_THRESHOLD
    ]


# --- the scan: working copy, split over two threads ----------------------------------------


def _scan(source, scale: float, native_face_px: float, run_pass):
    """Detections of `run_pass` over `source` scaled by `scale`, in original pixels.

    Large working copies are cut in two overlapping parts scanned in parallel, plus a coarse
    pass for faces too big to be guaranteed whole in one part (see module docstring). The
    part scanned by the thread that also takes the coarse pass is made smaller by the coarse
    pass's pixel count, so both threads finish together.
    """
    working = _resize(source, scale)
    h, w = working.shape[:2]
    overlap = int(SPLIT_OVERLAP_FACES * native_face_px)
    if h * w < SPLIT_MIN_PIXELS or max(h, w) < 3 * overlap:
        return run_pass(working, scale)

    # Faces up to 0.8 * overlap working px are whole in one part; the coarse copy must find
    # every face from that size up, so that size must land on the detector's native size.
    coarse_scale = scale * native_face_px / (0.8 * overlap)
    coarse = _resize(source, coarse_scale) if coarse_scale < scale else None
    coarse_pixels = coarse.shape[0] * coarse.shape[1] if coarse is not None else 0
    vertical_cut = w >= h  # cut across the longer side
    length, breadth = (w, h) if vertical_cut else (h, w)
    cut = int((length - coarse_pixels / breadth) / 2)
    cut = min(max(cut, overlap), length - overlap)
    start_b, end_a = cut - overlap // 2, cut + overlap // 2
    if vertical_cut:
        part_a, part_b, offset_b = working[:, :end_a], working[:, start_b:], (start_b, 0)
    else:
        part_a, part_b, offset_b = working[:end_a], working[start_b:], (0, start_b)
    jobs = [(part_a, scale, (0, 0)), (part_b, scale, offset_b)]
    if coarse is not None:
        jobs.append((coarse, coarse_scale, (0, 0)))

    def run(job):
        image, job_scale, (dx, dy) = job
        return run_pass(image, job_scale, dx, dy)

    return [item for result in _pool().map(run, jobs) for item in result]


def _to_original(rect, scale: float, dx: int, dy: int) -> tuple[float, float, float, float]:
    """A dlib rectangle in a (part of a) working copy -> (left, top, width, height) original px."""
    return (
        (rect.left() + dx) / scale,
        (rect.top() + dy) / scale,
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
    intersection covers more than `containment_limit` of the smaller box (a face cut at a
    tile seam inside the whole face found by another pass).
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


def _pool():
    """Two worker threads, created on first use (dlib scans without holding the GIL)."""
    global _executor
    if _executor is None:
        from concurrent.futures import ThreadPoolExecutor

        _executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="rekcli-detect")
    return _executor
