"""The CompareFaces-like response of the reference's worked example (awscli-v2-conventions
§1.8), shared by the formatter tests: its text and table renderings are known byte for byte."""

COMPARE_FACES = {
    "SourceImageFace": {
        "BoundingBox": {"Width": 0.31, "Height": 0.42, "Left": 0.35, "Top": 0.2},
        "Confidence": 99.99871063232422,
    },
    "FaceMatches": [{
        "Similarity": 98.76,
        "Face": {
            "BoundingBox": {"Width": 0.25, "Height": 0.33, "Left": 0.1, "Top": 0.12},
            "Confidence": 99.9,
            "Pose": {"Roll": -1.5, "Yaw": 3.0, "Pitch": 0.5},
        },
    }],
    "UnmatchedFaces": [{
        "BoundingBox": {"Width": 0.2, "Height": 0.25, "Left": 0.6, "Top": 0.1},
        "Confidence": 97.5,
    }],
    "SourceImageOrientationCorrection": "ROTATE_0",
}
