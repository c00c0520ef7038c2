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

The licence-clean mode (REKCLI_FACE_MODEL=clean) fits dlib's 5-point model instead: points
0/1 are the image-right eye's outer/inner corners, 2/3 the image-left eye's outer/inner
corners, 4 the base of the nose (the subnasale, 68-point index 33: checked against the
68-point fit on the shared photos). That gives 9 types and no more:

| Rekognition | dlib 5 | Rekognition | dlib 5 |
|---|---|---|---|
| eyeLeft, leftPupil | mean(2, 3) | eyeRight, rightPupil | mean(0, 1) |
| leftEyeLeft / leftEyeRight | 2 / 3 | rightEyeLeft / rightEyeRight | 1 / 0 |
| nose | 4 (the base of the nose, not its tip: a median 21 % of the eye distance lower) | | |

An eye's centre is the mean of its two corners (the 68-point mapping averages six points; on
the shared photos the two differ by a median 1.7 % of the eye distance:
benchmarks/bench_clean_mode.py). The mouth, brows, eyelids
and jaw are not measured by the 5 points, so those types are omitted, never guessed.
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


# Each type the 5-point model measures is the mean of these dlib 5-point indices.
DLIB5_POINTS: dict[str, tuple[int, ...]] = {
    "eyeLeft": (2, 3),
    "eyeRight": (0, 1),
    "nose": (4,),
    "leftEyeLeft": (2,),
    "leftEyeRight": (3,),
    "rightEyeLeft": (1,),
    "rightEyeRight": (0,),
    "leftPupil": (2, 3),
    "rightPupil": (0, 1),
}
# The 68-point index of each 5-point index (the same anatomical point; pose.py's head model
# is indexed the 68-point way).
DLIB5_AS_DLIB68 = {0: 45, 1: 42, 2: 36, 3: 39, 4: 33}


def shape_to_array(shape):
    """A dlib full_object_detection as an (N, 2) float64 array of pixel coordinates."""
    import numpy as np

    return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)


def rekognition_landmarks(points, detailed: bool) -> dict[str, tuple[float, float]]:
    """Landmark type -> (x, y) from the 68 (or 5) dlib points, in Rekognition's output
    order; with 5 points, only the types they measure."""
    names = ALL_LANDMARKS if detailed else DEFAULT_LANDMARKS
    mapping = DLIB5_POINTS if len(points) == 5 else DLIB68_POINTS
    result = {}
    for name in names:
        indices = mapping.get(name)
        if indices is None:
            continue
        x = float(sum(points[i][0] for i in indices) / len(indices))
        y = float(sum(points[i][1] for i in indices) / len(indices))
        result[name] = (x, y)
    return result
