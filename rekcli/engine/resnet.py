"""dlib's face recognition ResNet, re-implemented in numpy: chips in, 128-d descriptors out.

The `dlib-bin` wheel is built without BLAS, so `compute_face_descriptor` spends ~75 ms per
face in dlib's own matrix code. The same network run through numpy's OpenBLAS GEMM gives
the same descriptors (to float rounding) several times faster. This module:

1. reads `dlib_face_recognition_resnet_model_v1.dat` (dlib's binary serialisation) directly,
   checking every layer against the network type it was saved from, and
2. runs its forward pass on face chips cut by dlib (`dlib.get_face_chips(img, shapes,
   size=150, padding=0.25)`, exactly the chips `compute_face_descriptor` cuts).

The network (`anet_type` of dlib's examples/dnn_face_recognition_ex.cpp), in execution order:

    input_rgb_image_sized<150>   x = (pixel - channel mean) / 256, planes R, G, B
    con 32 7x7 /2 -> affine -> relu -> max_pool 3x3 /2
    level 4: 3 x ares<32>          (35x35)
    level 3: ares_down<64>,  3 x ares<64>
    level 2: ares_down<128>, 2 x ares<128>
    level 1: ares_down<256>, 2 x ares<256>
    level 0: ares_down<256>
    avg_pool_everything -> fc_no_bias 128 -> loss_metric (outputs the fc values unchanged)

    ares<N>:      relu(x + affine(con3x3(relu(affine(con3x3(x))))))
    ares_down<N>: relu(avg_pool2x2/2(x) + affine(con3x3(relu(affine(con3x3/2(x))))))

dlib conventions reproduced here (dlib/dnn/layers.h, dlib/cuda/cpu_dlib.cpp):
- con/pool padding defaults to 0 for stride != 1 and to size/2 for stride 1; outputs are
  1 + (in + 2*pad - size) // stride; convolution windows start at row*stride - pad and read
  zeros outside the image; pools average/max over the window clipped to the image.
- affine (batch norm folded at save time) is x*gamma[k] + beta[k] per channel.
- add_prev adds tensors of different shapes as if both were zero-padded at the end of each
  dimension to the larger one. In ares_down<256> of level 1 the block gives 3x3 while the
  pooled skip gives 4x4 (and 128 channels vs 256), so this matters.

Here activations are channels-last (n, rows, cols, channels) and each convolution is one
GEMM over an im2col matrix, with the affine that follows it folded into its weights and
bias. The summation order differs from dlib's, so descriptors match to ~1e-6, not bitwise.

Serialisation facts (dlib/serialize.h, dlib/float_details.h, dlib/cuda/tensor.h, core.h):
integers are a control byte (bit 7: negative; low 4 bits: byte count) then little-endian
bytes; a bool is the ASCII byte '1' or '0'; a float is two integers, mantissa then exponent
(value = mantissa * 2**exponent); a string is its length then its bytes; a tensor is version,
n, k, nr, nc then (version 2) little-endian float32 values; an alias_tensor is version, n, k,
nr, nc. A network is stored outer layer first, and each add_layer writes its version, then
its subnetwork, then its own layer details, so all the layer versions come first (outermost
first) and the layer details follow innermost first.
"""

from __future__ import annotations

import math
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import as_strided

CHIP_SIZE = 150
CHIP_PADDING = 0.25
DESCRIPTOR_SIZE = 128
BATCH = 16  # faces per forward pass; bounds memory (the largest im2col is ~50 MB at 16)


class ModelFormatError(ValueError):
    """The .dat file is not the network this module implements."""


# --------------------------------------------------------------------------------------
# The network type, as the sequence of dlib layers in execution order.


@dataclass(frozen=True)
class _Layer:
    kind: str  # con, affine, relu, max_pool, avg_pool, tag, skip, add_prev, fc
    num_outputs: int = 0  # con filters, fc outputs
    size: int = 0  # con/pool window (square); 0 = the whole input
    stride: int = 1
    tag: int = 0  # tag/skip/add_prev: which tag


def _dlib_default_padding(size: int, stride: int) -> int:
    return 0 if stride != 1 else size // 2


def _ares(n: int, down: bool) -> list[_Layer]:
    block = [
        _Layer("tag", tag=1),
        _Layer("con", num_outputs=n, size=3, stride=2 if down else 1),
        _Layer("affine"),
        _Layer("relu"),
        _Layer("con", num_outputs=n, size=3, stride=1),
        _Layer("affine"),
    ]
    if down:
        block += [
            _Layer("tag", tag=2),
            _Layer("skip", tag=1),
            _Layer("avg_pool", size=2, stride=2),
            _Layer("add_prev", tag=2),
        ]
    else:
        block += [_Layer("add_prev", tag=1)]
    return block + [_Layer("relu")]


def _network_layers() -> list[_Layer]:
    """anet_type of dnn_face_recognition_ex.cpp, input layer and loss excluded."""
    layers = [
        _Layer("con", num_outputs=32, size=7, stride=2),
        _Layer("affine"),
        _Layer("relu"),
        _Layer("max_pool", size=3, stride=2),
    ]
    for n, count, down in ((32, 3, False), (64, 3, True), (128, 2, True), (256, 2, True)):
        if down:
            layers += _ares(n, down=True)
        for _ in range(count):
            layers += _ares(n, down=False)
    layers += _ares(256, down=True)
    layers += [_Layer("avg_pool", size=0, stride=1), _Layer("fc", num_outputs=DESCRIPTOR_SIZE)]
    return layers


# --------------------------------------------------------------------------------------
# dlib's serialisation format.


class _Reader:
    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def fail(self, what: str):
        raise ModelFormatError(f"{what} (at byte {self.pos})")

    def int(self) -> int:
        data, pos = self.data, self.pos
        if pos >= len(data):
            self.fail("unexpected end of file")
        control = data[pos]
        size = control & 0x0F
        if size > 8 or pos + 1 + size > len(data):
            self.fail("bad integer")
        value = int.from_bytes(data[pos + 1 : pos + 1 + size], "little")
        self.pos = pos + 1 + size
        return -value if control & 0x80 else value

    def bool(self) -> bool:
        byte = self.data[self.pos : self.pos + 1]
        if byte not in (b"0", b"1"):
            self.fail(f"bad bool {byte!r}")
        self.pos += 1
        return byte == b"1"

    def float(self) -> float:
        mantissa = self.int()
        exponent = self.int()
        if exponent < 32000:
            return math.ldexp(mantissa, exponent)
        return {32000: float("inf"), 32001: float("-inf")}.get(exponent, float("nan"))

    def size(self, what: str) -> int:
        """A count or dimension: never negative (a -1 would make numpy read the rest)."""
        value = self.int()
        if value < 0:
            self.fail(f"negative {what} {value}")
        return value

    def string(self) -> str:
        size = self.size("string length")
        if self.pos + size > len(self.data):
            self.fail("string runs past the end of the file")
        text = self.data[self.pos : self.pos + size]
        self.pos += size
        return text.decode("latin-1")

    def expect_string(self, *allowed: str) -> str:
        text = self.string()
        if text not in allowed:
            self.fail(f"expected {' or '.join(allowed)}, found {text[:40]!r}")
        return text

    def version(self, allowed: tuple[int, ...], what: str) -> int:
        version = self.int()
        if version not in allowed:
            self.fail(f"unsupported {what} version {version}")
        return version

    def tensor(self) -> np.ndarray:
        version = self.version((1, 2), "tensor")
        shape = tuple(self.size("tensor dimension") for _ in range(4))
        count = int(np.prod(shape))
        if version == 2:  # little-endian IEEE float32
            end = self.pos + 4 * count
            if end > len(self.data):
                self.fail("tensor runs past the end of the file")
            # a view into the file's bytes: _plan copies what the model keeps
            values = np.frombuffer(self.data, dtype="<f4", count=count, offset=self.pos)
            self.pos = end
        else:  # one dlib float (mantissa, exponent) per value
            values = np.array([self.float() for _ in range(count)], dtype=np.float32)
        return values.reshape(shape)

    def alias_tensor(self) -> tuple[int, int, int, int]:
        self.version((1,), "alias_tensor")
        return tuple(self.size("tensor dimension") for _ in range(4))


@dataclass
class _Parsed:
    layer: _Layer
    params: dict = field(default_factory=dict)


def _read_details(reader: _Reader, layer: _Layer) -> dict:
    """One layer's own serialised state; checks its hyperparameters against `layer`."""
    kind = layer.kind
    if kind == "con":
        version = reader.expect_string("con_4", "con_5")  # con_5 adds use_bias at the end
        params = reader.tensor().reshape(-1)
        num_filters, nr, nc, stride_y, stride_x, pad_y, pad_x = (reader.int() for _ in range(7))
        filters = reader.alias_tensor()
        biases = reader.alias_tensor()
        for _ in range(4):  # learning-rate and weight-decay multipliers
            reader.float()
        use_bias = reader.bool() if version == "con_5" else True
        pad = _dlib_default_padding(layer.size, layer.stride)
        if (num_filters, nr, nc, stride_y, stride_x, pad_y, pad_x) != (
            layer.num_outputs, layer.size, layer.size, layer.stride, layer.stride, pad, pad
        ):
            reader.fail(f"con layer differs from the expected {layer}")
        count = int(np.prod(filters))
        if filters[0] != num_filters or params.size != count + (num_filters if use_bias else 0):
            reader.fail("con parameters of the wrong size")
        weights = params[:count].reshape(filters)  # (filters, channels, rows, cols)
        if use_bias:
            bias = params[count : count + num_filters]
        else:
            bias = np.zeros(num_filters, np.float32)
        if bias.size != num_filters or tuple(biases)[1] != num_filters:
            reader.fail("con bias of the wrong size")
        return {"weights": weights, "bias": bias, "pad": pad}
    if kind == "affine":
        reader.expect_string("affine_")
        params = reader.tensor().reshape(-1)
        gamma = reader.alias_tensor()
        reader.alias_tensor()  # beta: same shape as gamma
        mode = reader.int()
        if mode != 0:  # CONV_MODE: one gamma/beta per channel
            reader.fail("affine layer not in CONV_MODE")
        channels = int(np.prod(gamma))
        if params.size != 2 * channels:
            reader.fail("affine parameters of the wrong size")
        return {"gamma": params[:channels], "beta": params[channels : 2 * channels]}
    if kind in ("relu", "add_prev"):
        reader.expect_string(f"{kind}_")
        return {}
    if kind in ("max_pool", "avg_pool"):
        reader.expect_string(f"{kind}_2")
        nr, nc, stride_y, stride_x, pad_y, pad_x = (reader.int() for _ in range(6))
        pad = _dlib_default_padding(layer.size, layer.stride)
        if (nr, nc, stride_y, stride_x, pad_y, pad_x) != (
            layer.size, layer.size, layer.stride, layer.stride, pad, pad
        ):
            reader.fail(f"{kind} layer differs from the expected {layer}")
        return {}
    if kind == "fc":
        reader.expect_string("fc_2")
        num_outputs = reader.int()
        num_inputs = reader.int()
        params = reader.tensor().reshape(-1)
        reader.alias_tensor()  # weights
        reader.alias_tensor()  # biases (unused without bias)
        bias_mode = reader.int()
        for _ in range(4):
            reader.float()
        if num_outputs != layer.num_outputs or bias_mode != 1:  # FC_NO_BIAS
            reader.fail("fc layer differs from fc_no_bias<128>")
        if num_inputs <= 0 or params.size < num_inputs * num_outputs:
            reader.fail("fc parameters of the wrong size")
        weights = params[: num_inputs * num_outputs].reshape(num_inputs, num_outputs)
        return {"weights": weights}
    raise AssertionError(kind)


def _read_add_layer_trailer(reader: _Reader, version: int, input_layer: bool) -> None:
    """The bookkeeping an add_layer saves after its details (flags and empty tensors)."""
    for _ in range(3):  # this_layer_setup_called, gradient_input_is_stale, output disabled
        reader.bool()
    # x_grad, cached_output, then grad_final (input layer) or params_grad (version 2)
    tensors = 3 if input_layer or version >= 2 else 2
    for _ in range(tensors):
        reader.tensor()
    if input_layer and version >= 3:
        reader.int()  # sample expansion factor


def parse_model(data: bytes) -> "ResNetModel":
    """Parse the bytes of dlib_face_recognition_resnet_model_v1.dat into a runnable model."""
    layers = _network_layers()
    reader = _Reader(data)
    reader.version((1,), "add_loss_layer")
    if reader.expect_string("loss_metric_", "loss_metric_2") == "loss_metric_2":
        reader.float()  # margin
        reader.float()  # distance threshold
    # Versions of every layer, outermost first; the innermost add_layer holds the input.
    versions: dict[int, int] = {}
    for index in range(len(layers) - 1, 0, -1):
        if layers[index].kind in ("tag", "skip"):
            reader.version((1,), f"add_{layers[index].kind}_layer")
        else:
            versions[index] = reader.version((1, 2), "add_layer")
    input_version = reader.version((2, 3), "input add_layer")

    reader.expect_string("input_rgb_image_sized")
    mean_rgb = np.array([reader.float() for _ in range(3)], dtype=np.float32)
    rows, cols = reader.int(), reader.int()
    if (rows, cols) != (CHIP_SIZE, CHIP_SIZE):
        reader.fail(f"input is {rows}x{cols}, expected {CHIP_SIZE}x{CHIP_SIZE}")

    parsed = [_Parsed(layers[0], _read_details(reader, layers[0]))]
    _read_add_layer_trailer(reader, input_version, input_layer=True)
    for index in range(1, len(layers)):
        layer = layers[index]
        if layer.kind in ("tag", "skip"):
            parsed.append(_Parsed(layer))
            continue
        parsed.append(_Parsed(layer, _read_details(reader, layer)))
        _read_add_layer_trailer(reader, versions[index], input_layer=False)
    if reader.pos != len(data):
        reader.fail(f"{len(data) - reader.pos} unread bytes after the network")
    return ResNetModel(mean_rgb, _plan(parsed))


# --------------------------------------------------------------------------------------
# The forward pass.


def _plan(parsed: list[_Parsed]) -> list[tuple]:
    """Execution steps, with each con's following affine (and relu) folded into it."""
    steps: list[tuple] = []
    index = 0
    while index < len(parsed):
        item = parsed[index]
        kind = item.layer.kind
        if kind == "con":
            weights = item.params["weights"].astype(np.float64)
            bias = item.params["bias"].astype(np.float64)
            follower = parsed[index + 1] if index + 1 < len(parsed) else None
            if follower is not None and follower.layer.kind == "affine":
                gamma = follower.params["gamma"].astype(np.float64)
                beta = follower.params["beta"].astype(np.float64)
                if gamma.size != weights.shape[0]:  # would broadcast silently otherwise
                    raise ModelFormatError(f"affine of {gamma.size} channels after a con of "
                                           f"{weights.shape[0]} filters")
                weights = weights * gamma[:, None, None, None]
                bias = bias * gamma + beta
                index += 1
            relu = index + 1 < len(parsed) and parsed[index + 1].layer.kind == "relu"
            if relu:
                index += 1
            filters, channels, size, _ = weights.shape
            # (filters, channels, rows, cols) -> im2col order (rows, cols, channels) x filters
            matrix = weights.transpose(2, 3, 1, 0).reshape(size * size * channels, filters)
            steps.append(
                ("con", np.ascontiguousarray(matrix, dtype=np.float32),
                 bias.astype(np.float32), size, item.layer.stride, item.params["pad"], relu)
            )
        elif kind == "affine":
            steps.append(("affine", np.array(item.params["gamma"], dtype=np.float32),
                          np.array(item.params["beta"], dtype=np.float32)))
        elif kind in ("max_pool", "avg_pool"):
            steps.append((kind, item.layer.size, item.layer.stride))
        elif kind in ("tag", "skip", "add_prev"):
            steps.append((kind, item.layer.tag))
        elif kind == "relu":
            steps.append(("relu",))
        elif kind == "fc":
            steps.append(("fc", np.array(item.params["weights"], dtype=np.float32)))
        index += 1
    return steps


def _conv(x: np.ndarray, matrix: np.ndarray, bias: np.ndarray, size: int, stride: int,
          pad: int, relu: bool) -> np.ndarray:
    n, rows, cols, channels = x.shape
    if pad:
        padded = np.zeros((n, rows + 2 * pad, cols + 2 * pad, channels), dtype=np.float32)
        padded[:, pad : pad + rows, pad : pad + cols, :] = x
        x = padded
        rows += 2 * pad
        cols += 2 * pad
    out_rows = 1 + (rows - size) // stride
    out_cols = 1 + (cols - size) // stride
    s_n, s_r, s_c, s_k = x.strides
    windows = as_strided(
        x,
        shape=(n, out_rows, out_cols, size, size, channels),
        strides=(s_n, s_r * stride, s_c * stride, s_r, s_c, s_k),
        writeable=False,
    )
    columns = windows.reshape(n * out_rows * out_cols, size * size * channels)  # copies
    out = columns @ matrix
    out += bias
    if relu:
        np.maximum(out, 0, out=out)
    return out.reshape(n, out_rows, out_cols, matrix.shape[1])


def _pool(x: np.ndarray, size: int, stride: int, kind: str) -> np.ndarray:
    n, rows, cols, channels = x.shape
    if size == 0:  # avg_pool_everything
        return x.mean(axis=(1, 2), keepdims=True, dtype=np.float32)
    out_rows = 1 + (rows - size) // stride
    out_cols = 1 + (cols - size) // stride
    out = None
    for dy in range(size):
        for dx in range(size):
            window = x[:, dy : dy + stride * (out_rows - 1) + 1 : stride,
                       dx : dx + stride * (out_cols - 1) + 1 : stride, :]
            if out is None:
                out = window.copy()
            elif kind == "max_pool":
                np.maximum(out, window, out=out)
            else:
                out += window
    if kind == "avg_pool":
        out /= np.float32(size * size)
    return out


def _add_zero_padded(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """dlib's tt::add for tensors of different shapes: both zero-padded at the end."""
    if a.shape == b.shape:
        return a + b
    shape = tuple(max(p, q) for p, q in zip(a.shape, b.shape))
    out = np.zeros(shape, dtype=np.float32)
    out[tuple(slice(0, s) for s in a.shape)] = a
    out[tuple(slice(0, s) for s in b.shape)] += b
    return out


class ResNetModel:
    """The parsed network. Stateless once built, so one instance serves every thread."""

    def __init__(self, mean_rgb: np.ndarray, steps: list[tuple]):
        self.mean_rgb = mean_rgb
        self.steps = steps

    def descriptors(self, chips: np.ndarray) -> np.ndarray:
        """(n, 150, 150, 3) uint8 RGB chips -> (n, 128) float32 descriptors."""
        chips = np.asarray(chips)
        if chips.ndim != 4 or chips.shape[1:] != (CHIP_SIZE, CHIP_SIZE, 3):
            raise ValueError(f"expected (n, {CHIP_SIZE}, {CHIP_SIZE}, 3) chips, got {chips.shape}")
        out = np.empty((chips.shape[0], DESCRIPTOR_SIZE), dtype=np.float32)
        with blas_threads_limited(1):
            for start in range(0, chips.shape[0], BATCH):
                out[start : start + BATCH] = self._forward(chips[start : start + BATCH])
        return out

    def compute_face_descriptor(self, image: np.ndarray, faces) -> list[np.ndarray]:
        """What dlib's face_recognition_model_v1.compute_face_descriptor(image, faces) gives
        (num_jitters=1): one (128,) float32 descriptor per face.

        image: H x W x 3 uint8 RGB. faces: dlib.full_object_detections (or a list) of 5- or
        68-point shapes. dlib cuts the chips exactly as its compute_face_descriptor does.
        """
        import dlib

        if len(faces) == 0:
            return []
        if not isinstance(faces, dlib.full_object_detections):
            batch = dlib.full_object_detections()
            for face in faces:
                batch.append(face)
            faces = batch
        chips = dlib.get_face_chips(np.ascontiguousarray(image), faces, size=CHIP_SIZE,
                                    padding=CHIP_PADDING)
        return [vector.copy() for vector in self.descriptors(np.stack(chips))]

    def _forward(self, chips: np.ndarray) -> np.ndarray:
        # input_rgb_image_sized: (pixel - mean) / 256, in float32 like dlib
        x = (chips.astype(np.float32) - self.mean_rgb) / np.float32(256.0)
        tags: dict[int, np.ndarray] = {}
        for step in self.steps:
            kind = step[0]
            if kind == "con":
                x = _conv(x, *step[1:])
            elif kind == "affine":
                x = x * step[1] + step[2]
            elif kind == "relu":
                np.maximum(x, 0, out=x)
            elif kind in ("max_pool", "avg_pool"):
                x = _pool(x, step[1], step[2], kind)
            elif kind == "tag":
                tags[step[1]] = x
            elif kind == "skip":
                x = tags[step[1]]
            elif kind == "add_prev":
                x = _add_zero_padded(x, tags[step[1]])
            elif kind == "fc":
                # dlib flattens (k, rows, cols); ours is (rows, cols, k): same when 1x1
                assert x.shape[1:3] == (1, 1), x.shape
                x = x.reshape(x.shape[0], -1) @ step[1]
        return x


def load_model(path: "str | os.PathLike[str]") -> ResNetModel:
    return parse_model(Path(path).read_bytes())


# --------------------------------------------------------------------------------------
# OpenBLAS threads.

_THREAD_ENV = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")
_SET_THREADS = ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
                "openblas_set_num_threads64_", "openblas_set_num_threads")


@contextmanager
def blas_threads_limited(count: int = 1):
    """Run numpy's OpenBLAS on `count` threads inside the block, then restore its setting.

    Measured on the 2-core machine (benchmarks/bench_descriptors.py): a second OpenBLAS
    thread saves ~1 ms a face when the machine is idle, but as soon as another process holds
    a core (batch workers, a parallel job) OpenBLAS's threads wait for each other at every
    GEMM and a face takes 10-150 ms, once 880 ms, against a steady 7 ms on one thread. The
    limit covers the network only: the store's search keeps all of OpenBLAS's threads.
    threadpoolctl would be the tidy way; without it, this calls the get/set functions of the
    OpenBLAS library numpy loaded. Best effort: nothing changes when the user set a thread
    count in the environment or no OpenBLAS is found (another BLAS).
    """
    if any(os.environ.get(name) for name in _THREAD_ENV):
        yield
        return
    controls = _openblas_thread_controls()
    previous = [get() for get, _ in controls]
    for _, set_threads in controls:
        set_threads(count)
    try:
        yield
    finally:
        for (_, set_threads), threads in zip(controls, previous):
            set_threads(threads)


_controls: list | None = None


def _openblas_thread_controls() -> list:
    """(get, set) thread-count functions of every OpenBLAS loaded, found once per process."""
    global _controls
    if _controls is None:
        import ctypes

        found = []
        for path in _openblas_libraries():
            try:
                library = ctypes.CDLL(path)
            except OSError:
                continue
            for name in _SET_THREADS:
                setter = getattr(library, name, None)
                getter = getattr(library, name.replace("set_num_threads", "get_num_threads"), None)
                if setter is not None and getter is not None:
                    setter.argtypes, setter.restype = [ctypes.c_int], None
                    getter.argtypes, getter.restype = [], ctypes.c_int
                    found.append((getter, setter))
                    break
        _controls = found
    return _controls


def _openblas_libraries() -> list[str]:
    """Paths of the OpenBLAS libraries loaded in this process (numpy loaded its own)."""
    paths: list[str] = []
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            for line in maps:
                fields = line.split(maxsplit=5)
                if len(fields) == 6:
                    path = fields[5].strip()
                    if "openblas" in os.path.basename(path).lower() and path not in paths:
                        paths.append(path)
    except OSError:  # not Linux: look where numpy's wheels keep their libraries
        import glob

        base = os.path.dirname(np.__file__)
        for folder in (base + ".libs", os.path.join(base, ".dylibs")):
            paths += glob.glob(os.path.join(folder, "*openblas*"))
    return paths


def descriptors_from_chips(chips: np.ndarray) -> np.ndarray:
    """(n, 150, 150, 3) uint8 RGB face chips -> (n, 128) float32 descriptors.

    The chips must be cut as dlib's compute_face_descriptor cuts them:
    `dlib.get_face_chips(image, shapes, size=150, padding=0.25)`. The model loads once per
    process (see models.resnet_model).
    """
    from rekcli.engine import models

    return models.resnet_model().descriptors(chips)
