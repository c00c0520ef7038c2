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
"""

from __future__ import annotations

import math

MIDPOINT = 0.75
SPREAD = 0.1083
_L0 = 1.0 / (1.0 + math.exp((0.0 - MIDPOINT) / SPREAD))


def similarity_from_distance(distance):
    """Similarity 0-100 for a descriptor distance (a float, or a numpy array of them)."""
    if isinstance(distance, (int, float)):
        z = (distance - MIDPOINT) / SPREAD
        if z > 700:  # exp would overflow; the similarity is 0 to float precision anyway
            return 0.0
        return min(100.0, 100.0 / (1.0 + math.exp(z)) / _L0)
    import numpy as np

    z = np.clip((np.asarray(distance, dtype=np.float64) - MIDPOINT) / SPREAD, -700, 700)
    return np.minimum(100.0, 100.0 / (1.0 + np.exp(z)) / _L0)


def distance_from_similarity(similarity: float) -> float:
    """The largest distance whose similarity is still >= `similarity` (inverse of the curve).

    Used to turn a FaceMatchThreshold into a distance cut-off for vector search.
    """
    if similarity <= 0:
        return math.inf
    if similarity >= 100:
        return 0.0
    ratio = 100.0 / (similarity * _L0) - 1.0
    return MIDPOINT + SPREAD * math.log(ratio)
