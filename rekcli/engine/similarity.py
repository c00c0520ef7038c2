"""Descriptor distance -> Rekognition-style Similarity (0-100), and back.

dlib's ResNet descriptor was trained so that two faces of one person lie closer than 0.6
(Euclidean) and faces of different people further apart. Rekognition answers a Similarity
from 0 to 100 whose default match threshold is 80. We map one onto the other with a
logistic curve, rescaled so that identical descriptors score exactly 100:

    similarity(d) = 100 * L(d) / L(0),   L(d) = 1 / (1 + exp((d - MIDPOINT) / SPREAD))

MIDPOINT and SPREAD are chosen so that d = 0.6 (dlib's decision distance) lands just above 80
(80.05): every pair dlib calls "same person" matches at AWS's default threshold, and every
pair it calls "different" does not. Typical values: d=0.3 -> 98.5, d=0.45 -> 94.2,
d=0.55 -> 86.4, d=0.65 -> 71.6, d=0.75 -> 50.0, d=0.9 -> 20.0, d=1.0 -> 9.1.
The curve is strictly decreasing, so ranking by distance equals ranking by similarity.

The licence-clean mode (REKCLI_FACE_MODEL=clean) aligns the chips from 5 points, which
brings different people closer: on the shared photos (benchmarks/bench_clean_mode.py, 44
faces, 28 same-person and 642 different-people pairs) the largest same-person distance is
0.523 (0.517 with 68 points) and the smallest between different people 0.590 (0.628), which
the default curve would score 81.5, a false match. Its curve is the same one moved to the
middle of that gap, so that d = 0.56 lands just above 80 (MIDPOINT 0.71): those two pairs
score 85.0 and 75.3. Each mode's descriptors are only ever compared with their own (a
collection refuses the other mode's), so the calibration follows the current mode.
"""

from __future__ import annotations

import math

SPREAD = 0.1083
# Face model (engine/models.py) -> the distance that scores 50.
MIDPOINTS = {"default": 0.75, "clean": 0.71}
MIDPOINT = MIDPOINTS["default"]


def _midpoint(face_model: str | None) -> float:
    if face_model is None:
        from rekcli.engine import models

        face_model = models.face_model()
    return MIDPOINTS[face_model]


def _l0(midpoint: float) -> float:
    return 1.0 / (1.0 + math.exp((0.0 - midpoint) / SPREAD))


def similarity_from_distance(distance, face_model: str | None = None):
    """Similarity 0-100 for a descriptor distance (a float, or a numpy array of them), under
    the calibration of `face_model` (None: the current one, $REKCLI_FACE_MODEL)."""
    midpoint = _midpoint(face_model)
    l0 = _l0(midpoint)
    if isinstance(distance, (int, float)):
        z = (distance - midpoint) / SPREAD
        if z > 700:  # exp would overflow; the similarity is 0 to float precision anyway
            return 0.0
        return min(100.0, 100.0 / (1.0 + math.exp(z)) / l0)
    import numpy as np

    z = np.clip((np.asarray(distance, dtype=np.float64) - midpoint) / SPREAD, -700, 700)
    return np.minimum(100.0, 100.0 / (1.0 + np.exp(z)) / l0)


def distance_from_similarity(similarity: float, face_model: str | None = None) -> float:
    """The largest distance whose similarity is still >= `similarity` (inverse of the curve).

    Used to turn a FaceMatchThreshold into a distance cut-off for vector search.
    """
    if similarity <= 0:
        return math.inf
    if similarity >= 100:
        return 0.0
    midpoint = _midpoint(face_model)
    ratio = 100.0 / (similarity * _l0(midpoint)) - 1.0
    return midpoint + SPREAD * math.log(ratio)
