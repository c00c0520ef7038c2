"""QualityFilter: which Rekognition reasons reject a detected face at a given level.

Rekognition documents the levels only in words (NONE: no filtering; LOW: drop only the
lowest-quality detections; MEDIUM; HIGH: keep only the best; AUTO: the service picks the
bar) and the reasons only by name. These are our rules, measured on the engine's outputs
(engine/detection.py for Confidence, engine/quality.py for Brightness and Sharpness,
engine/pose.py for Pose). A face is rejected with every reason whose rule it breaks, listed
in the API's enum order; an empty list means it passes.

| reason | measure | LOW | MEDIUM, AUTO | HIGH |
|---|---|---|---|---|
| EXTREME_POSE | abs(Yaw) above / Pitch below (face down) / Pitch above (face up) | 60 / -45 / 60 | 45 / -30 / 45 | 30 / -20 / 30 |
| LOW_BRIGHTNESS | Brightness below | 10 | 20 | 30 |
| LOW_SHARPNESS | Sharpness below | 10 | 25 | 50 |
| LOW_CONFIDENCE | Confidence below | 89 | 91 | 98 |
| SMALL_BOUNDING_BOX | shorter box side (px) below N x max(1, sqrt(W x H / (1920 x 1080))) | N = 40 | N = 50 | N = 80 |
| LOW_FACE_QUALITY | share of the box outside the image above | 0.5 | 0.3 | 0.1 |

Why these numbers:
- Pose: Rekognition recommends faces turned less than 45 degrees (yaw), tilted less than 30
  degrees down and 45 up; roll is unrestricted. That is MEDIUM; LOW and HIGH widen and
  narrow it. Pitch is positive for a face tilted up (engine/pose.py).
- Size: Rekognition detects faces from 40 px in 1920 x 1080 and recommends 50 px for
  comparison, proportionally more in larger images (we scale by the square root of the
  area, as the detector does); in smaller images the pixel counts stay as they are.
- Confidence: the HOG detector keeps scores from -0.1 (confidence 84.1), just under its
  trained decision boundary, 0, which maps to 88.1. 89 drops detections below 0.02 past the
  boundary, 91 needs a margin of 0.09, 98 a clear face (score 0.57; our portraits score 0.9
  and up).
- Brightness and sharpness: faces in our photos measure brightness 36-71 and sharpness
  85-100; a face blurred by a Gaussian of 2% of its width drops below 25 (engine/quality.py).
- LOW_FACE_QUALITY ("not enough detail for search"; Rekognition does not define it): a face
  cut by the image edge, whose descriptor is computed from a partly invented chip.

NONE never rejects. AUTO uses the MEDIUM bar: it is the default of IndexFaces, and every
face of our test portraits passes it.
"""

from __future__ import annotations

import math

LEVELS = ("NONE", "AUTO", "LOW", "MEDIUM", "HIGH")

# level -> (max |yaw|, min pitch, max pitch, min brightness, min sharpness, min confidence,
#           min face side at 1920 x 1080, max share of the box outside the image)
_RULES = {
    "LOW": (60.0, -45.0, 60.0, 10.0, 10.0, 89.0, 40.0, 0.5),
    "MEDIUM": (45.0, -30.0, 45.0, 20.0, 25.0, 91.0, 50.0, 0.3),
    "HIGH": (30.0, -20.0, 30.0, 30.0, 50.0, 98.0, 80.0, 0.1),
}
_RULES["AUTO"] = _RULES["MEDIUM"]

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
