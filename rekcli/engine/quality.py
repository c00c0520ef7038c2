"""Brightness and sharpness of a face, each 0-100, measured from the face's own pixels.

Both are measured on the face box (clipped to the image) in grayscale (ITU-R 601 luma, as
cv2 computes it), so the background does not count.

Brightness = 100 * mean luma / 255. The mean of the face, not of the image: a face in the
shade of a sunny scene is dark. Our photos' faces measure 35-71; Rekognition's published
examples show 29-71.

Sharpness. The face crop is resized to SHARPNESS_SIZE px on its longer side (larger faces
shrunk, smaller ones enlarged, as the descriptor's 150-px aligned chip will be), and we take
the variance V of its 3 x 3 Laplacian: how much fine detail survives at the scale faces are
compared at. A small face therefore measures less sharp than the same face photographed
larger: it does hold less detail. V spans decades (sharp portraits 140-1700 here; the same
faces blurred by a Gaussian of 1% of the face width 40-120, 2% 8-35), so it is mapped on a
log scale with a logistic curve:

    sharpness = 100 * V^2 / (V^2 + SHARPNESS_MIDPOINT^2),   SHARPNESS_MIDPOINT = 60

V = 60 -> 50; V = 150 -> 86; V = 400 -> 98; V = 30 -> 20; V = 10 -> 3. Our portraits
land at 85-100 (Rekognition's examples show 78-87), faces in group shots at 47-100, and
visibly blurred faces below 40.

The low end matters for matching: faces blurred by 2% of their width still match their
person (medians of benchmarks/bench_quality_calibration.py: Sharpness 8 at 2%, 1.9 at 3%,
1.0 at 4%, 0.6 at 5%, 0.4 at 6%), and they stop matching at 4-6%. QualityFilter's AUTO bar,
0.5 (V = 4.3), sits there (service/quality.py); the ordering of faces, not the curve,
decides what a bar keeps.
"""

from __future__ import annotations

SHARPNESS_SIZE = 100
SHARPNESS_MIDPOINT = 60.0


def face_crop(gray, box):
    """The part of `gray` inside `box` (left, top, width, height), clipped; None if empty."""
    height, width = gray.shape[:2]
    left, top, box_width, box_height = box
    x0, y0 = max(0, int(round(left))), max(0, int(round(top)))
    x1 = min(width, int(round(left + box_width)))
    y1 = min(height, int(round(top + box_height)))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    return gray[y0:y1, x0:x1]


def brightness(crop) -> float:
    if crop is None:
        return 0.0
    return float(min(100.0, max(0.0, crop.mean() * 100.0 / 255.0)))


def sharpness(crop) -> float:
    import cv2
    import numpy as np

    if crop is None:
        return 0.0
    scale = SHARPNESS_SIZE / max(crop.shape[:2])
    size = (max(3, round(crop.shape[1] * scale)), max(3, round(crop.shape[0] * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(crop, size, interpolation=interpolation).astype(np.float32)
    variance = float(cv2.Laplacian(resized, cv2.CV_32F, ksize=1).var())
    return 100.0 * variance**2 / (variance**2 + SHARPNESS_MIDPOINT**2)


def face_quality(gray, box) -> tuple[float, float]:
    """(brightness, sharpness) of the face in `box` of a grayscale image."""
    crop = face_crop(gray, box)
    return brightness(crop), sharpness(crop)
