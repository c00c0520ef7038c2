"""The face engine: pixels in, faces and 128-d descriptors out, computed by dlib.

This package is imported by every command that might touch an image, so importing it must
stay cheap: nothing here imports numpy, cv2 or dlib. The heavy work lives in submodules
that load on the first call:

    images.py      bytes -> upright RGB pixels (magic bytes, header limits, EXIF orientation)
    models.py      the dlib model files, each loaded once per process and only when needed
    detection.py   where the faces are (HOG by default, CNN with REKCLI_DETECTOR=cnn)
    landmarks.py   dlib's 68 points -> Rekognition's 30 landmark types (5 points -> 9 in the
                   licence-clean mode, REKCLI_FACE_MODEL=clean)
    pose.py        roll, yaw, pitch from landmarks and a 3-D head model (cv2.solvePnP)
    quality.py     brightness and sharpness of a face's pixels
    attributes.py  EyesOpen, MouthOpen, Smile: what landmark geometry honestly measures
    age_gender.py  AgeRange and Gender from Cydral's networks (optional `age-gender` extra)
    analysis.py    analyze_faces: the pipeline that ties the steps together
    similarity.py  descriptor distance -> Rekognition-style Similarity

The engine knows nothing of AWS: no error codes, no ratios, no JSON. The service layer
turns a `FaceAnalysis` into a FaceDetail and an `ImageError` into an AWS exception.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rekcli.engine.errors import (
    CorruptImage,
    ImageError,
    ImageTooManyPixels,
    UnknownDetector,
    UnknownFaceModel,
    UnsupportedImageFormat,
)

# The engine's warnings (a detector it cannot split, a scan not built) reach stderr only with
# --debug, which adds a handler in cli/main.py. Without a handler of rekcli's own, Python
# would print them anyway (logging.lastResort), for example from batch worker processes.
logging.getLogger("rekcli").addHandler(logging.NullHandler())

if TYPE_CHECKING:  # pragma: no cover - for type checkers only
    import numpy as np

__all__ = [
    "CorruptImage",
    "DecodedImage",
    "FaceAnalysis",
    "ImageError",
    "ImageTooManyPixels",
    "UnknownDetector",
    "UnknownFaceModel",
    "UnsupportedImageFormat",
    "analysis_fingerprint",
    "analyze_faces",
    "compute_descriptors",
    "decode_image",
    "descriptor_distance",
    "estimate_age_and_gender",
    "image_dimensions",
]


@dataclass
class DecodedImage:
    """An image ready for analysis: H x W x 3 uint8 RGB, EXIF orientation already applied."""

    pixels: "np.ndarray"
    width: int
    height: int


@dataclass
class FaceAnalysis:
    """One face, in pixel coordinates of the upright image.

    box: left, top, width, height; may extend past the image edges.
    confidence: 0-100, from the detector score (see detection.confidence_from_score).
    landmarks: Rekognition landmark type -> (x, y) pixels; "Left"/"Right" are the viewer's
        sides. The 5 default types always, all 30 when analysed with detailed=True (in the
        licence-clean mode, the 3 and 9 of them that 5 points measure: landmarks.py).
    pose: roll, yaw, pitch in degrees with Rekognition's signs (see pose.py); None only
        for faces analysed with landmarks=False.
    quality: brightness, sharpness, each 0-100 (see quality.py).
    attributes: only with detailed=True: "EyesOpen", "MouthOpen", "Smile" -> (value, confidence);
        none in the licence-clean mode (no eyelids or lips among 5 points).
    descriptor: float32 (128,) dlib ResNet descriptor, or None when not asked for; a later
        `compute_descriptors` call can fill it.
    alignment: the landmark fit the face chip is aligned from (opaque; engine use only).
    age_gender: an age_gender.AgeGender (age_low, age_high, gender, gender_confidence), or
        None until `estimate_age_and_gender` fills it (and when its models are absent).
    """

    box: tuple[float, float, float, float]
    confidence: float
    landmarks: dict[str, tuple[float, float]]
    pose: "tuple[float, float, float] | None"
    quality: tuple[float, float]
    attributes: dict[str, tuple[bool, float]] = field(default_factory=dict)
    descriptor: "np.ndarray | None" = None
    alignment: object = field(default=None, repr=False, compare=False)
    age_gender: object = None


def analysis_fingerprint() -> str:
    """Names what decides the faces analyze_faces finds and what it measures of them: the
    source of the engine (its C scan included) and of the QualityFilter rules, the chosen
    detector and landmark model, whether the C scan is built, the dlib and OpenCV releases in
    use, and the age and gender models' (none without the extra: a result saved without
    AgeRange is stale once they are installed). Results stored under another fingerprint are
    stale.

    Any edit of those sources changes it (a comment too: being stale costs one more
    analysis, being wrongly current would skip a photo for good). Imports no numpy, cv2 or
    dlib: the batch jobs ask before any image work.
    """
    from rekcli.engine import models

    return (f"engine {_engine_source_digest()}; detector {models.detector_name()}; "
            f"landmarks {models.face_model()}; scan {_hog_scan_in_use()}; "
            f"dlib {_release_of('dlib', '_dlib_pybind11')}; opencv {_release_of('cv2')}; "
            f"age-gender {_age_gender_models()}")


def _age_gender_models() -> str:
    """The releases that estimate AgeRange and Gender, or "none" (found, not imported)."""
    from rekcli.engine import age_gender

    if not age_gender.available():
        return "none"
    return _release_of("age_and_gender", "onnxruntime")


@functools.lru_cache(maxsize=1)
def _hog_scan_in_use() -> str:
    """"compiled <digest of the built extension>" when hog_scan's C extension is installed,
    else "dlib": scores differ between the scans (and between builds) by float rounding,
    which can move a window that sits on the threshold. (Which CPU clone of the extension
    runs is not named: those differ by ~5e-7.)"""
    import hashlib
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("rekcli.engine._fhog")
    if spec is None or not spec.origin:
        return "dlib"
    return "compiled " + hashlib.sha256(Path(spec.origin).read_bytes()).hexdigest()[:12]


@functools.lru_cache(maxsize=1)
def _engine_source_digest() -> str:
    import hashlib
    import importlib.util
    from pathlib import Path

    engine_dir = Path(__file__).resolve().parent
    quality_rules = importlib.util.find_spec("rekcli.service.quality").origin
    digest = hashlib.sha256()
    sources = sorted(engine_dir.glob("*.py")) + sorted(engine_dir.glob("*.c"))
    for path in sources + [Path(quality_rules)]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


@functools.lru_cache(maxsize=None)
def _release_of(*modules: str) -> str:
    """The distributions that provide these top-level modules, with their versions (~30 ms
    once: every installed distribution is listed). dlib-bin records its extension module,
    _dlib_pybind11, rather than dlib."""
    from importlib import metadata

    installed = metadata.packages_distributions()
    providers = {name for module in modules for name in installed.get(module, [])}
    versions = sorted(f"{name} {metadata.version(name)}" for name in providers)
    return ", ".join(versions) or "unknown"


def image_dimensions(data: bytes) -> tuple[int, int]:
    """(width, height) from the JPEG/PNG header alone, in stored (not EXIF-rotated) orientation."""
    from rekcli.engine.images import image_dimensions as _image_dimensions

    return _image_dimensions(data)


def decode_image(data: bytes) -> DecodedImage:
    """Check and decode JPEG/PNG bytes into upright RGB pixels (see images.decode_image)."""
    from rekcli.engine.images import decode_image as _decode_image

    return _decode_image(data)


def analyze_faces(
    image: DecodedImage,
    *,
    max_faces: int = 100,
    detailed: bool = False,
    descriptors: bool = True,
    landmarks: bool = True,
) -> list[FaceAnalysis]:
    """The `max_faces` largest faces of `image`, largest first (see analysis.analyze_faces).

    Models load on first use. `landmarks=False` skips the landmark geometry (pose,
    attributes) for callers that need only boxes and descriptors; descriptors do not change.
    """
    from rekcli.engine.analysis import analyze_faces as _analyze_faces

    return _analyze_faces(
        image,
        max_faces=max_faces,
        detailed=detailed,
        descriptors=descriptors,
        landmarks=landmarks,
    )


def compute_descriptors(image: DecodedImage, faces: list[FaceAnalysis]) -> None:
    """Fill in the descriptor of each face of `faces` that has none, in one batched call.

    Descriptors are a costly step (~8 ms a face in resnet.py, ~75 ms with dlib-bin's own
    network), so callers that filter faces first (QualityFilter, MaxFaces) analyse with descriptors=False and then compute
    them only for the faces they keep.
    """
    from rekcli.engine.analysis import compute_descriptors as _compute_descriptors

    _compute_descriptors(image, faces)


def estimate_age_and_gender(image: DecodedImage, faces: list[FaceAnalysis]) -> bool:
    """Fill `age_gender` of each face of `faces` (analysed from `image` with landmarks).

    Returns False, changing nothing, when the age and gender models are not installed
    (`age_gender.INSTALL_HINT` says how to get them). ~4 ms a face, plus ~0.2 s once per
    process to import onnxruntime and load the two networks.
    """
    from rekcli.engine import age_gender

    if not age_gender.available():
        logging.getLogger(__name__).debug(
            "AgeRange and Gender omitted: the models are not installed (%s)",
            age_gender.INSTALL_HINT)
        return False
    import numpy as np

    fitted = [face for face in faces if face.alignment is not None]
    pixels = np.ascontiguousarray(image.pixels)
    estimates = age_gender.estimate(pixels, [face.alignment for face in fitted]) or []
    for face, estimate in zip(fitted, estimates):
        face.age_gender = estimate
    return True


def descriptor_distance(a, b) -> float:
    """Euclidean distance between two face descriptors."""
    import numpy as np

    return float(np.linalg.norm(np.asarray(a, dtype=np.float32) - np.asarray(b, dtype=np.float32)))
