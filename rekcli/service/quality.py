"""QualityFilter: which Rekognition reasons reject a detected face at a given level.

Rekognition documents the levels only in words (NONE: no filtering; LOW: drop only the
lowest-quality detections; MEDIUM; HIGH: keep only the best; AUTO: the service picks the
bar) and the reasons only by name. These are our rules, on the engine's outputs
(engine/detection.py for Confidence, engine/quality.py for Brightness and Sharpness,
engine/pose.py for Pose). A face is rejected with every reason whose rule it breaks, listed
in the API's enum order; an empty list means it passes.

| reason | measure | LOW | AUTO | MEDIUM | HIGH |
|---|---|---|---|---|---|
| EXTREME_POSE | abs(Yaw) above / Pitch below (face down) / Pitch above (face up) | 75 / -60 / 60 | 60 / -40 / 45 | 45 / -30 / 45 | 30 / -20 / 30 |
| LOW_BRIGHTNESS | Brightness below | 1 | 2 | 20 | 30 |
| LOW_SHARPNESS | Sharpness below | 0.3 | 0.5 | 25 | 50 |
| LOW_CONFIDENCE | Confidence below | 85 | 88 | 91 | 98 |
| SMALL_BOUNDING_BOX | shorter box side (px) below N x max(1, sqrt(W x H / (1920 x 1080))) | N = 30 | N = 36 | N = 50 | N = 80 |
| LOW_FACE_QUALITY | share of the box outside the image above | 0.5 | 0.4 | 0.3 | 0.1 |

AUTO, the default of IndexFaces, is set by measurement to keep every face whose matches stay
reliable and drop the faces that cannot be used. MEDIUM and HIGH are Rekognition's
recommendations for good faces (they drop usable faces on purpose); LOW is AUTO widened.

The measurement (benchmarks/bench_quality_calibration.py, 780 analyses, ~4 min): the 12
photos of the 5 people in people/ who have two or more, each degraded one way at a time
and analysed as rekcli analyses any photo; the face found is compared (Similarity) with the
person's other photos and with 37 strangers (the other people and groups/bald_guys.jpg).
A face is *reliable* when every same-person Similarity is >= 80 (the default
FaceMatchThreshold) and above the best stranger's. Undegraded: same person 89.7-99.9,
strangers at most 75.5 (median 33).

- Size (faces shrunk to 20-120 px in a 1280 x 960 photo, 1.2 MP): the detector reports
  boxes of 37.5, 44.6, 53.4 ... px; it finds none below ~28 px of face. Every face it found
  at 44.6 px and up was reliable (same person >= 87.9, median 95.5); at 37.5 px 32 of 33
  (the other one has Confidence 86.6). 45 px faces match at 89.1-96.5. Detail, not box
  size, is what fails: faces shrunk to 16 px and enlarged again (box 37.5, Sharpness 1-4)
  match 5/10, at 20 px 10/11, at 24 px and up all. Bars of 40, 45, 50 px would drop 43, 67,
  75 reliable faces and no unreliable one; 36 drops none (the old AUTO bar, 50, rejected
  the issue's 40-50 px faces that match at 86-98).
- Sharpness (Gaussian blur of 0-8% of the face width, faces at 150 and 45 px): reliable at
  up to 2% (Sharpness 3-8), 3% 21/22, 4% 11/18, 5% 3/16, 6-8% none (same person at worst
  43-50, strangers up to 86: a blurred face looks like everyone). Sharpness does not
  separate the two sides: the 274 reliable and 55 unreliable faces of the size, resolution
  and blur tables overlap between 0.3 and 2.3. A bar of 0.5 drops 2 reliable faces
  (matching at 82) and keeps 18 unreliable ones, mostly near misses (13 match their person
  at 73.7-79.7 at worst, 2 at 83-85 below a stranger, 3 at 63-69); 1.0 drops 13 reliable
  faces, 2.0 drops 33, 25 (the old AUTO bar) drops 111.
- Brightness (pixel values x 0.06-3): every darkened face the detector found was
  reliable, down to Brightness 2.2 (x 0.06; the detector then finds 8/12); a bar of 3
  drops 3 of them, 5 drops 12, 20 (the old AUTO bar) 47. Brightened faces are reliable up
  to Brightness 73.7; above it 4 of 26 fail (at 74.7-88.8) and 22 match (up to 97.8). No
  reason of the API names overexposure, so no rule checks it.
- Pose: the photos' own yaw (0-30) is reliable; as a stand-in for faces turned further,
  faces foreshortened horizontally read yaw up to 50 and stay reliable (the six read at
  40-50 match their person at 82.7-94.9); the 2 failures read yaw 7 and 26. Foreshortened
  vertically, faces read pitch -35 to +34; 4 of 27 fail, at pitch -13 to 15, and every
  face read beyond 20 either way matched: the measured pitch does not predict the
  failures. Over these and the turned faces, a pitch bar of 20 degrees either way drops 14
  reliable faces, 30 drops 2, 40 none. No face turned further was measured: the yaw bar,
  60, is Rekognition's recommendation (45) widened past the largest reliable yaw measured
  (the issue's 48-degree face matched at 86-98); pitch down to -40 likewise; pitch up
  keeps Rekognition's 45.
- Roll (in-plane, 0-90): reliable at 15 and 30 degrees; at 45 the detector finds 9/12 and 4
  of them have a mis-fitted landmark shape (same person 42-66) that the measured roll does
  not reveal (it reads -13 to 1); past 45 nothing is found. Roll stays unrestricted.
- Cut by the image edge (10-50% of the face cut off): every face found was reliable; the
  share of its box outside the image was at most 0.33 (the detector finds none past ~40%
  cut). 0.3 drops 7 reliable faces, 0.4 none.
- Confidence does not predict reliability: faces at 84.7 were reliable and at 99.9 not.
  A bar of 88 drops 10 reliable faces and 7 unreliable: it is the HOG detector's own
  decision boundary (88.1), below which the trained detector would not call the window a
  face; a false face of an unseen photo would score there (engine/detection.py).

Why the other numbers:
- Size scales with the image as the detector's reach does: in larger photos the smallest
  face the detector finds grows with the square root of the area (engine/detection.py),
  so the bar does too; in photos up to 1920 x 1080 it stays at N px.
- MEDIUM, HIGH: Rekognition recommends faces turned less than 45 degrees (yaw), tilted
  less than 30 degrees down and 45 up, and 50 px for comparison; HIGH narrows it.
  Pitch is positive for a face tilted up (engine/pose.py).
- LOW_FACE_QUALITY ("not enough detail for search"; Rekognition does not define it): a face
  cut by the image edge, whose descriptor is computed from a partly invented chip.

NONE never rejects.
"""

from __future__ import annotations

import math

LEVELS = ("NONE", "AUTO", "LOW", "MEDIUM", "HIGH")

# level -> (max |yaw|, min pitch, max pitch, min brightness, min sharpness, min confidence,
#           min face side at 1920 x 1080, max share of the box outside the image)
_RULES = {
    "LOW": (75.0, -60.0, 60.0, 1.0, 0.3, 85.0, 30.0, 0.5),
    "AUTO": (60.0, -40.0, 45.0, 2.0, 0.5, 88.0, 36.0, 0.4),
    "MEDIUM": (45.0, -30.0, 45.0, 20.0, 25.0, 91.0, 50.0, 0.3),
    "HIGH": (30.0, -20.0, 30.0, 30.0, 50.0, 98.0, 80.0, 0.1),
}

_REFERENCE_PIXELS = 1920 * 1080


def rules_of(level: str) -> tuple:
    """The thresholds of QualityFilter `level` (() for NONE): what a stored decision made
    with this filter depended on."""
    return _RULES.get(level, ())


def quality_filter_reasons(face, level: str, image_width: int, image_height: int) -> list[str]:
    """The reasons `face` (an engine FaceAnalysis) fails QualityFilter `level`; [] = passes."""
    if level not in LEVELS:
        raise ValueError(f"unknown QualityFilter {level!r}; expected one of {', '.join(LEVELS)}")
    if level == "NONE":
        return []
    (max_yaw, min_pitch, max_pitch, min_brightness, min_sharpness, min_confidence,
     min_side, max_outside) = _RULES[level]

    reasons = []
    if face.pose is not None:
        _roll, yaw, pitch = face.pose
        if abs(yaw) > max_yaw or pitch < min_pitch or pitch > max_pitch:
            reasons.append("EXTREME_POSE")
    elif face.landmarks:  # landmarks were fitted but no head pose explains them
        reasons.append("EXTREME_POSE")
    brightness, sharpness = face.quality
    if brightness < min_brightness:
        reasons.append("LOW_BRIGHTNESS")
    if sharpness < min_sharpness:
        reasons.append("LOW_SHARPNESS")
    if face.confidence < min_confidence:
        reasons.append("LOW_CONFIDENCE")
    _left, _top, width, height = face.box
    scale = max(1.0, math.sqrt(image_width * image_height / _REFERENCE_PIXELS))
    if min(width, height) < min_side * scale:
        reasons.append("SMALL_BOUNDING_BOX")
    if share_outside_image(face.box, image_width, image_height) > max_outside:
        reasons.append("LOW_FACE_QUALITY")
    return reasons


def share_outside_image(box, image_width: int, image_height: int) -> float:
    """The fraction of the box's area that lies outside the image (0 = wholly inside)."""
    left, top, width, height = box
    area = width * height
    if area <= 0:
        return 1.0
    inside_w = max(0.0, min(left + width, image_width) - max(left, 0.0))
    inside_h = max(0.0, min(top + height, image_height) - max(top, 0.0))
    return 1.0 - inside_w * inside_h / area
