"""dlib's HOG face-detector scan, with the per-level work done by our C extension (_fhog.c).

What it computes is what `dlib.fhog_object_detector.run(image, 0, threshold)` computes: the
image pyramid (dlib's own pyramid_down<6>, levels counted by dlib's rule), at each level the
fHOG features and the responses of the detector's 5 filters, every window scoring at least
`threshold` (score = filter response - the filter's bias), and dlib's suppression of windows
that overlap a better one (test_box_overlap with the detector's own thresholds). Scores agree
with dlib's to 2e-6 (float rounding in a different order); tests/test_engine_hog_scan.py
compares every window of the shared photos.

It takes 2.5-2.8x less CPU than dlib's scan (pyramid included: 56 against 138 ms per image
over the 31 shared photos, 112 against 318 ms for a 1080p working copy, one core) because
of how _fhog.c computes; the weights are read from dlib's own serialised detector
(models.hog_weights), so there is no second copy of the model.

If the extension was not built (no C compiler at install), `available()` is False and
detection.py uses dlib's scan instead: the same faces, slower.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

try:
    from rekcli.engine import _fhog
except ImportError:  # built at install when a C compiler is present (setup.py)
    _fhog = None

_log = logging.getLogger(__name__)

CELL_PX = 8
WINDOW_CELLS = 10
# dlib drops the separable components of a filter plane whose singular value is below
# max(1e-4, 0.001 x the largest); we keep the same ones (build_fhog_filterbank).
_SINGULAR_VALUE_FLOOR = 1e-4
_SINGULAR_VALUE_RATIO = 0.001


def available() -> bool:
    """Whether the C scan can be used (extension built, detector layout understood)."""
    if _fhog is None:
        _say_once("rekcli.engine._fhog was not built (no C compiler at install?): "
                  "detection uses dlib's slower scan")
        return False
    return _detector_understood()


@functools.lru_cache(maxsize=1)
def _detector_understood() -> bool:
    try:
        _filterbank()
    except (RuntimeError, ValueError, IndexError, ArithmeticError) as error:
        _say_once(f"cannot read this dlib's HOG detector ({error}): "
                  "detection uses dlib's slower scan")
        return False
    return True


@functools.lru_cache(maxsize=None)
def _say_once(message: str) -> None:
    """Logged once per process (so shown with --debug only)."""
    _log.warning(message)


@dataclass(frozen=True)
class Filterbank:
    """The detector's filters as separable components, in the arrays _fhog.scan takes."""

    row_taps: object  # float32 (components, 10)
    col_taps: object  # float32 (components, 10)
    planes: object  # int32 (components,): the feature plane each component filters
    filters: object  # int32 (components,): the filter whose response it adds to
    biases: object  # float64 (filters,)
    overlap_iou: float
    overlap_covered: float


@functools.lru_cache(maxsize=1)
def _filterbank() -> Filterbank:
    import numpy as np

    from rekcli.engine import models

    weights = models.hog_weights()
    rows, cols, planes, filters = [], [], [], []
    for k, filter_planes in enumerate(weights.filters):
        for p, plane in enumerate(filter_planes):
            u, singular, vt = np.linalg.svd(plane)
            floor = max(_SINGULAR_VALUE_FLOOR, singular.max() * _SINGULAR_VALUE_RATIO)
            for j in np.flatnonzero(singular >= floor):
                root = np.sqrt(singular[j])
                cols.append(u[:, j] * root)
                rows.append(vt[j] * root)
                planes.append(p)
                filters.append(k)
    order = np.argsort(planes, kind="stable")  # one plane's components one after the other

    def frozen(values, dtype):
        array = np.ascontiguousarray(np.array(values, dtype)[order])
        array.flags.writeable = False  # shared by every scan of the process
        return array

    return Filterbank(
        row_taps=frozen(rows, np.float32),
        col_taps=frozen(cols, np.float32),
        planes=frozen(planes, np.int32),
        filters=frozen(filters, np.int32),
        biases=weights.biases.astype(np.float64),
        overlap_iou=weights.overlap_iou,
        overlap_covered=weights.overlap_covered,
    )


# A window: (score, (left, top, right, bottom)) in pixels of level 0 of the pyramid,
# inclusive corners as dlib's rectangles.
Window = tuple[float, tuple[int, int, int, int]]


def scan_levels(level_images, first_level: int, threshold: float) -> list[Window]:
    """Every window scoring >= threshold in the given consecutive pyramid levels.

    level_images[i] is pyramid level first_level + i (grayscale uint8, C-contiguous);
    boxes are mapped up to level 0. No suppression: see suppress_overlapping.
    """
    found: list[Window] = []
    for i, image in enumerate(level_images):
        found += [(score, box) for _, score, box in
                  windows_of_level(image, first_level + i, threshold)]
    return found


def windows_of_level(image, level: int, threshold: float):
    """(filter, score, box in level-0 pixels) for each filter's windows scoring >= threshold
    in one pyramid level."""
    import dlib
    import numpy as np

    bank = _filterbank()
    hits = _fhog.scan(np.ascontiguousarray(image, dtype=np.uint8), bank.row_taps,
                      bank.col_taps, bank.planes, bank.filters, bank.biases + threshold)
    pyramid = dlib.pyramid_down(6)
    windows = []
    for k, row, column, response in hits:
        box = _window_box(row, column)
        if level:
            box = pyramid.rect_up(dlib.rectangle(*box), level)
            box = (box.left(), box.top(), box.right(), box.bottom())
        windows.append((k, response - float(bank.biases[k]), box))
    return windows


def _window_box(row: int, column: int) -> tuple[int, int, int, int]:
    """The pixel box of the window at (row, column) of _fhog.scan's output.

    In dlib's saliency image that window is centred at (row + 5, column + 5) and spans
    10 x 10 feature cells, starting at (row, column); dlib's fhog_to_image (with filter
    padding 10) maps each corner cell to a pixel: 8 pixels a cell, minus the 4-cell filter
    padding and the one-cell border of the features, plus half a cell towards the outside.
    """
    def pixel(cell: int) -> int:
        p = (cell + 1 - (WINDOW_CELLS - 1) // 2) * CELL_PX + 1
        return p + (CELL_PX // 2 if p >= 0 else -(CELL_PX // 2))

    last = WINDOW_CELLS - 1
    return (pixel(column), pixel(row), pixel(column + last), pixel(row + last))


def suppress_overlapping(windows: list[Window]) -> list[Window]:
    """dlib's suppression: best first, drop a window that overlaps one already kept."""
    bank = _filterbank()
    kept: list[Window] = []
    for window in sorted(windows, key=lambda item: -item[0]):
        if not any(_overlap(window[1], other[1], bank) for other in kept):
            kept.append(window)
    return kept


def _overlap(a, b, bank: Filterbank) -> bool:
    """dlib's test_box_overlap: IoU over the bounding box, or either box mostly covered."""
    inner_w = min(a[2], b[2]) - max(a[0], b[0]) + 1
    inner_h = min(a[3], b[3]) - max(a[1], b[1]) + 1
    if inner_w <= 0 or inner_h <= 0:
        return False
    inner = inner_w * inner_h
    outer = (max(a[2], b[2]) - min(a[0], b[0]) + 1) * (max(a[3], b[3]) - min(a[1], b[1]) + 1)
    area_a = (a[2] - a[0] + 1) * (a[3] - a[1] + 1)
    area_b = (b[2] - b[0] + 1) * (b[3] - b[1] + 1)
    return (inner / outer > bank.overlap_iou or inner / area_a > bank.overlap_covered
            or inner / area_b > bank.overlap_covered)
