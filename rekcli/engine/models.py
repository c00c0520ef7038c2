"""The dlib models, each loaded on first use and kept for the life of the process.

Which operation needs what (load times measured on the 2-core reference machine):

| model | file | load | needed for |
|---|---|---|---|
| HOG face detector | built into dlib | 230 ms; 1 ms from our cache | detection (default) |
| MMOD CNN face detector | mmod_human_face_detector.dat | 5 ms | REKCLI_DETECTOR=cnn |
| 68-point shape model | shape_predictor_68_face_landmarks.dat, 100 MB | 370-560 ms | landmarks |
| 5-point shape model | shape_predictor_5_face_landmarks.dat, 9 MB | 50 ms | landmarks with REKCLI_FACE_MODEL=clean |
| ResNet descriptor, numpy | dlib_face_recognition_resnet_model_v1.dat, 22 MB | 70-100 ms | descriptors (resnet.py) |
| ResNet descriptor, dlib | the same file | 50-90 ms | REKCLI_DESCRIPTORS=dlib |

The 68-point model serves every analysis: landmarks, pose and the alignment of every
descriptor chip (see analysis.py for why one alignment, and why this one). Licences: the ResNet and the 5-point model are permissive; the 68-point
model was trained on iBUG 300-W, which is for non-commercial use.

REKCLI_FACE_MODEL=clean (the licence-clean mode, read at every call like the detector) puts
the 5-point model in its place: the 68-point file is then never opened by any process, and
the descriptors, aligned from 5 points, are not comparable with the default mode's
(analysis.py, similarity.py).

The weight files come from the `face-recognition-models` distribution. Its `__init__` imports
`pkg_resources`, which current setuptools no longer ships, so we never execute it: the
package's directory is found with importlib's spec machinery alone.

dlib builds the HOG detector by decoding a large text literal, which costs ~230 ms at every
start. Its serialised form loads in ~1 ms, so the first process writes it to
`$REKCLI_CACHE_DIR` (default `${XDG_CACHE_HOME:-~/.cache}/rekcli`; `$TMPDIR/rekcli-UID-cache`
when the home directory does not exist), atomically, keyed by
the dlib version, and later processes read it. A missing, unwritable or unreadable cache just
means the slow path.

hog_scan.py scans with the HOG detector's own weights, read from the same serialised state
(hog_weights), so there is no second copy of that model.

A dlib object detector is not safe to run from two threads at once (it keeps scan state in
the object), so each worker thread gets its own copy, rebuilt from the loaded one's
serialised state in about a millisecond.
"""

from __future__ import annotations

import functools
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from rekcli.engine.errors import UnknownDetector, UnknownFaceModel

DETECTOR_ENV = "REKCLI_DETECTOR"
DETECTORS = ("hog", "cnn")
DEFAULT_DETECTOR = "hog"
DESCRIPTORS_ENV = "REKCLI_DESCRIPTORS"  # "dlib": dlib's own ResNet instead of resnet.py
# Which landmark model fits the faces: "default" (68 points, iBUG 300-W, non-commercial) or
# "clean" (5 points; every model then in use is free for any use).
FACE_MODEL_ENV = "REKCLI_FACE_MODEL"
DEFAULT_FACE_MODEL = "default"
CLEAN_FACE_MODEL = "clean"
FACE_MODELS = (DEFAULT_FACE_MODEL, CLEAN_FACE_MODEL)

_MODELS_PACKAGE = "face_recognition_models"
_load_lock = threading.RLock()


def detector_name() -> str:
    """The detector chosen by $REKCLI_DETECTOR ("hog" unless set); read at every call."""
    name = os.environ.get(DETECTOR_ENV, "").strip().lower() or DEFAULT_DETECTOR
    if name not in DETECTORS:
        raise UnknownDetector(
            f"{DETECTOR_ENV}={os.environ.get(DETECTOR_ENV)!r} is not a face detector; "
            f"choose one of: {', '.join(DETECTORS)}"
        )
    return name


def face_model() -> str:
    """The landmark model chosen by $REKCLI_FACE_MODEL ("default" unless set); read at every
    call, so a process's settings (and its workers', which inherit the environment) decide."""
    name = os.environ.get(FACE_MODEL_ENV, "").strip().lower() or DEFAULT_FACE_MODEL
    if name not in FACE_MODELS:
        raise UnknownFaceModel(
            f"{FACE_MODEL_ENV}={os.environ.get(FACE_MODEL_ENV)!r} is not a face model; "
            f"choose one of: {', '.join(FACE_MODELS)}"
        )
    return name


@functools.lru_cache(maxsize=None)
def models_dir() -> Path:
    """The `models/` directory of face-recognition-models, found without importing it."""
    import importlib.util

    spec = importlib.util.find_spec(_MODELS_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "the face-recognition-models package is not installed "
            "(pip install face-recognition-models)"
        )
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "models"
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"no models/ directory in {list(spec.submodule_search_locations)}")


def model_path(file_name: str) -> Path:
    path = models_dir() / file_name
    if not path.is_file():
        raise FileNotFoundError(f"model file missing: {path}")
    return path


def _cached_once(loader):
    """Like functools.cache, but two threads asking at once still load the model only once."""
    result = []

    @functools.wraps(loader)
    def get():
        if not result:
            with _load_lock:
                if not result:
                    result.append(loader())
        return result[0]

    get.is_loaded = lambda: bool(result)  # type: ignore[attr-defined]
    return get


def cache_dir() -> Path:
    explicit = os.environ.get("REKCLI_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg) / "rekcli"
    home = os.path.expanduser("~")
    if not os.path.isdir(home):
        # A service account's HOME often does not exist (/nonexistent): creating it would make
        # a folder in / as root. The cache only saves time, so a private one in the temp
        # folder does (trusted only if it is ours and private, like any cache folder).
        import tempfile

        return Path(tempfile.gettempdir()) / f"rekcli-{os.geteuid()}-cache"
    return Path(home) / ".cache" / "rekcli"


@_cached_once
def hog_detector():
    """dlib's frontal-face HOG detector (5 sub-detectors: front, left/right profile, tilted)."""
    import dlib

    # The store's private-file rules apply to the cache too (imported here: the engine
    # package itself stays free of store imports).
    from rekcli.store.files import create_private_file, make_private_dir, untrusted_reason

    cached = cache_dir() / f"dlib-{dlib.__version__}-frontal_face_detector.svm"
    # A cache another user can write could hand us a planted detector: use none then.
    trusted = untrusted_reason(cached.parent) is None
    try:
        if trusted and cached.is_file():
            return dlib.fhog_object_detector(str(cached))
    except (OSError, RuntimeError):
        pass  # unreadable or damaged: rebuild it below
    detector = dlib.get_frontal_face_detector()
    if not trusted:
        return detector
    try:
        make_private_dir(cached.parent)
        partial = cached.with_name(f"{cached.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        create_private_file(partial)  # 0600 and not a planted link before dlib writes it
        detector.save(str(partial))
        os.replace(partial, cached)
    except (OSError, RuntimeError):
        try:
            partial.unlink()  # type: ignore[possibly-undefined]
        except (OSError, NameError):
            pass
    return detector


# dlib serialises a frontal_face_detector as: object_detector version 2, scanner version 1,
# an empty feature array (max size 0, size 0), cell size 8, padding 0, window 80 x 80,
# max_pyramid_levels = 1000, then min_pyramid_layer_width and _height = 64. Each integer is
# dlib's packed form: a length byte, then little-endian bytes. Only the level cap and the
# minimum layer size are rewritten (see hog_detector_for_this_thread).
_HOG_STATE_PREFIX = b"\x01\x02\x01\x01\x01\x00\x01\x00\x01\x08\x01\x00\x01\x50\x01\x50"
_HOG_LEVEL_LIMITS = b"\x02\xe8\x03" + b"\x01\x40\x01\x40"
# dlib scans no pyramid level narrower or lower than this (detection._pyramid_levels).
HOG_MIN_LAYER_PX = 64


def hog_levels_can_be_capped() -> bool:
    """Whether this dlib's HOG detector has the serialised layout described above."""
    return _hog_state().startswith(_HOG_STATE_PREFIX + _HOG_LEVEL_LIMITS)


@functools.lru_cache(maxsize=1)
def _hog_state() -> bytes:
    return hog_detector().__getstate__()[0]


@functools.lru_cache(maxsize=None)
def _capped_hog_state(max_levels: int) -> bytes:
    """The serialised HOG detector scanning exactly `max_levels` levels: the first level is
    always scanned, and with the minimum layer size at 1 px the cap alone ends the scan."""
    if not 0 < max_levels < 128 or not hog_levels_can_be_capped():
        raise RuntimeError(
            f"cannot cap dlib {_dlib_version()}'s HOG detector at {max_levels} levels")
    tail = _hog_state()[len(_HOG_STATE_PREFIX) + len(_HOG_LEVEL_LIMITS):]
    return _HOG_STATE_PREFIX + bytes((1, max_levels)) + b"\x01\x01\x01\x01" + tail


def _dlib_version() -> str:
    import dlib

    return dlib.__version__


@dataclass(frozen=True)
class HogWeights:
    """The HOG detector's parameters, read from its serialised state (see hog_weights)."""

    filters: object  # float64 array (filters, 31 planes, 10 rows, 10 columns)
    biases: object  # float64 array (filters,): a window's score is saliency - bias
    overlap_iou: float  # dlib suppresses a window whose box overlaps a better one by this IoU
    overlap_covered: float  # ... or covers this fraction of it (or is covered by it)


# After the level limits: nuclear-norm strength (a double), the number of weights per filter
# (31 x 10 x 10), the two thresholds of dlib's test_box_overlap, then the filters, each a
# column vector of 3100 weights (plane-major, then row, then column) and the bias.
_HOG_PLANES = 31
_HOG_WINDOW_CELLS = 10


@functools.lru_cache(maxsize=1)
def hog_weights() -> HogWeights:
    """The weights of dlib's frontal-face HOG detector, for hog_scan.py's own scan.

    Raises RuntimeError if this dlib serialises the detector differently from the layout
    described above (detection.py then falls back to dlib's own scan).
    """
    import numpy as np

    state = _hog_state()
    if not hog_levels_can_be_capped():
        raise RuntimeError(f"unknown HOG detector layout in dlib {_dlib_version()}")
    reader = _DlibReader(state, len(_HOG_STATE_PREFIX) + len(_HOG_LEVEL_LIMITS))
    reader.real()  # nuclear-norm regularisation strength: a training parameter
    dims = _HOG_PLANES * _HOG_WINDOW_CELLS * _HOG_WINDOW_CELLS
    if reader.integer() != dims:
        raise RuntimeError("unexpected HOG detector window size")
    overlap_iou, overlap_covered = reader.real(), reader.real()
    filters, biases = [], []
    for _ in range(reader.integer()):
        rows, columns = reader.integer(), reader.integer()
        if (abs(rows), abs(columns)) != (dims + 1, 1):
            raise RuntimeError("unexpected HOG detector weight vector")
        weights = [reader.real() for _ in range(dims + 1)]
        filters.append(weights[:dims])
        biases.append(weights[dims])
    if reader.position != len(state) or not filters:
        raise RuntimeError("unexpected HOG detector layout")
    shape = (len(filters), _HOG_PLANES, _HOG_WINDOW_CELLS, _HOG_WINDOW_CELLS)
    return HogWeights(np.array(filters).reshape(shape), np.array(biases),
                      overlap_iou, overlap_covered)


class _DlibReader:
    """dlib's serialisation of numbers: an integer is a byte holding its length (low 4 bits)
    and sign (bit 7), then that many little-endian bytes; a double is two integers, mantissa
    and exponent."""

    def __init__(self, data: bytes, position: int) -> None:
        self.data = data
        self.position = position

    def integer(self) -> int:
        if self.position >= len(self.data):
            raise RuntimeError("truncated HOG detector state")
        head = self.data[self.position]
        size = head & 0x0F
        start = self.position + 1
        if start + size > len(self.data):
            raise RuntimeError("truncated HOG detector state")
        value = int.from_bytes(self.data[start:start + size], "little")
        self.position = start + size
        return -value if head & 0x80 else value

    def real(self) -> float:
        import math

        mantissa = self.integer()
        return math.ldexp(mantissa, self.integer())


_per_thread = threading.local()


def hog_detector_for_this_thread(max_levels: int | None = None):
    """A HOG detector owned by the calling thread (see module docstring).

    max_levels: scan exactly this many levels of dlib's image pyramid (None: as many as
    dlib's own rule gives); detection.py's pyramid split scans one part of the pyramid each.
    A detector keeps the feature pyramid of its last image, so only the uncapped one and the
    one-level one (the split's first job) are kept per thread; other caps, which vary with
    the image size, are built for the call (under a millisecond) and freed after it.
    """
    cache = getattr(_per_thread, "hog", None)
    if cache is None:
        cache = _per_thread.hog = {}
    detector = cache.get(max_levels)
    if detector is None:
        if max_levels is None and threading.current_thread() is threading.main_thread():
            detector = hog_detector()
        else:
            import dlib

            state = _hog_state() if max_levels is None else _capped_hog_state(max_levels)
            detector = dlib.fhog_object_detector.__new__(dlib.fhog_object_detector)
            detector.__setstate__((state,))
        if max_levels in (None, 1):
            cache[max_levels] = detector
    return detector


def _load_cnn_detector():
    import dlib

    return dlib.cnn_face_detection_model_v1(str(model_path("mmod_human_face_detector.dat")))


cnn_detector = _cached_once(_load_cnn_detector)
cnn_detector.__doc__ = "dlib's MMOD CNN face detector (slow on a CPU; REKCLI_DETECTOR=cnn)."


def cnn_detector_for_this_thread():
    """A CNN detector owned by the calling thread (a network keeps per-run state too)."""
    if threading.current_thread() is threading.main_thread():
        return cnn_detector()
    detector = getattr(_per_thread, "cnn", None)
    if detector is None:
        detector = _per_thread.cnn = _load_cnn_detector()  # 0.7 MB file, ~5 ms
    return detector


@_cached_once
def shape_predictor_68():
    import dlib

    return dlib.shape_predictor(str(model_path("shape_predictor_68_face_landmarks.dat")))


@_cached_once
def shape_predictor_5():
    import dlib

    return dlib.shape_predictor(str(model_path("shape_predictor_5_face_landmarks.dat")))


def shape_predictor():
    """The landmark model of the current face model: 68 points, or 5 in the clean mode."""
    if face_model() == CLEAN_FACE_MODEL:
        return shape_predictor_5()
    return shape_predictor_68()


def face_recognition_model():
    """The descriptor ResNet chosen by $REKCLI_DESCRIPTORS (read at every call).

    By default dlib's network run in numpy (`resnet_model`, ~9x faster than the dlib-bin
    wheel, which has no BLAS); REKCLI_DESCRIPTORS=dlib gives dlib's own. Both answer
    `compute_face_descriptor(image, faces)` with the same descriptors to ~1e-6.
    """
    if os.environ.get(DESCRIPTORS_ENV, "").strip().lower() == "dlib":
        return dlib_face_recognition_model()
    return resnet_model()


face_recognition_model.is_loaded = (  # type: ignore[attr-defined]
    lambda: dlib_face_recognition_model.is_loaded() or resnet_model.is_loaded()
)


@_cached_once
def dlib_face_recognition_model():
    import dlib

    return dlib.face_recognition_model_v1(
        str(model_path("dlib_face_recognition_resnet_model_v1.dat"))
    )


@_cached_once
def resnet_model():
    """The same ResNet as numpy weights (engine/resnet.py): ~75 ms to parse, no cache needed.

    It runs numpy's OpenBLAS on one thread while it computes (see resnet.blas_threads_limited).
    """
    from rekcli.engine import resnet

    return resnet.load_model(model_path("dlib_face_recognition_resnet_model_v1.dat"))
