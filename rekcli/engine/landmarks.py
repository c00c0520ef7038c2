"""Rekognition's landmark types, measured with dlib's 68-point shape model.

"Left" and "Right" are the viewer's sides of the image, not the subject's: Rekognition's
`eyeLeft` is the eye with the smaller X, the subject's right eye on a frontal photo. dlib's
68-point layout (iBUG 300-W, 0-based) numbers points the same way, from the image's left, so
points 36-41 are the image-left eye and 42-47 the image-right eye.

Mapping (our derivation; Rekognition does not publish one):

| Rekognition | dlib 68 | Rekognition | dlib 68 |
|---|---|---|---|
| eyeLeft, leftPupil | mean(36-41) | eyeRight, rightPupil | mean(42-47) |
| leftEyeLeft / leftEyeRight | 36 / 39 | rightEyeLeft / rightEyeRight | 42 / 45 |
| leftEyeUp / leftEyeDown | mean(37,38) / mean(40,41) | rightEyeUp / rightEyeDown | mean(43,44) / mean(46,47) |
| leftEyeBrowLeft / Up / Right | 17 / 19 / 21 | rightEyeBrowLeft / Up / Right | 22 / 24 / 26 |
| nose (tip) | 30 | noseLeft / noseRight | 31 / 35 |
| mouthLeft / mouthRight | 48 / 54 | mouthUp / mouthDown | 51 / 57 |
| upperJawlineLeft / midJawlineLeft | 0 / 4 | chinBottom | 8 |
| midJawlineRight / upperJawlineRight | 12 / 16 | | |

Order: the list order of Rekognition's current outputs: the five DEFAULT types (eyeLeft,
eyeRight, mouthLeft, mouthRight, nose), then the other 25 in the API's enum order.
"""

from __future__ import annotations

DEFAULT_LANDMARKS = ("eyeLeft", "eyeRight", "mouthLeft", "mouthRight", "nose")

ALL_LANDMARKS = DEFAULT_LANDMARKS + (
    "leftEyeBrowLeft",
    "leftEyeBrowRight",
    "leftEyeBrowUp",
    "rightEyeBrowLeft",
    "rightEyeBrowRight",
    "rightEyeBrowUp",
    "leftEyeLeft",
    "leftEyeRight",
    "leftEyeUp",
    "leftEyeDown",
    "rightEyeLeft",
    "rightEyeRight",
    "rightEyeUp",
    "rightEyeDown",
    "noseLeft",
    "noseRight",
    "mouthUp",
    "mouthDown",
    "leftPupil",
    "rightPupil",
    "upperJawlineLeft",
    "midJawlineLeft",
    "chinBottom",
    "midJawlineRight",
    "upperJawlineRight",
)

# Each type is the mean of these dlib 68-point indices.
DLIB68_POINTS: dict[str, tuple[int, ...]] = {
    "eyeLeft": (36, 37, 38, 39, 40, 41),
    "eyeRight": (42, 43, 44, 45, 46, 47),
    "mouthLeft": (48,),
    "mouthRight": (54,),
    "nose": (30,),
    "leftEyeBrowLeft": (17,),
    "leftEyeBrowRight": (21,),
    "leftEyeBrowUp": (19,),
    "rightEyeBrowLeft": (22,),
    "rightEyeBrowRight": (26,),
    "rightEyeBrowUp": (24,),
    "leftEyeLeft": (36,),
    "leftEyeRight": (39,),
    "leftEyeUp": (37, 38),
    "leftEyeDown": (40, 41),
    "rightEyeLeft": (42,),
    "rightEyeRight": (45,),
    "rightEyeUp": (43, 44),
    "rightEyeDown": (46, 47),
    "noseLeft": (31,),
    "noseRight": (35,),
    "mouthUp": (51,),
    "mouthDown": (57,),
    "leftPupil": (36, 37, 38, 39, 40, 41),
    "rightPupil": (42, 43, 44, 45, 46, 47),
    "upperJawlineLeft": (0,),
    "midJawlineLeft": (4,),
    "chinBottom": (8,),
    "midJawlineRight": (12,),
    "upperJawlineRight": (16,),
}


def shape_to_array(shape):
    """A dlib full_object_detection as an (N, 2) float64 array of pixel coordinates."""
    import numpy as np

    return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)


def rekognition_landmarks(points, detailed: bool) -> dict[str, tuple[float, float]]:
    """Landmark type -> (x, y) from the 68 dlib points, in Rekognition's output order."""
    names = ALL_LANDMARKS if detailed else DEFAULT_LANDMARKS
    result = {}
    for name in names:
        indices = DLIB68_POINTS[name]
        x = float(sum(points[i][0] for i in indices) / len(indices))
        y = float(sum(points[i][1] for i in indices) / len(indices))
        result[name] = (x, y)
    return result
