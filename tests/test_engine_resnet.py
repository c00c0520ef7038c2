"""engine/resnet.py: the numpy ResNet gives dlib's descriptors, from dlib's own model file."""

from __future__ import annotations

import numpy as np
import pytest

from rekcli.engine import models, resnet

MODEL_FILE = "dlib_face_recognition_resnet_model_v1.dat"
MAX_DISTANCE = 1e-3  # measured: ~1.3e-6 (float32 sums in another order than dlib's)


def _photos(faces_dir):
    photos = sorted(p for p in (faces_dir / "people").rglob("*")
                    if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    photos += sorted(p for p in (faces_dir / "groups").glob("*")
                     if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    return photos


def _aligned_faces(path):
    """Pixels and dlib shapes of the faces analyze_faces finds, as descriptors align them."""
    import dlib

    from rekcli import engine

    image = engine.decode_image(path.read_bytes())
    pixels = np.ascontiguousarray(image.pixels)
    faces = engine.analyze_faces(image, descriptors=False, landmarks=False)
    shapes = dlib.full_object_detections()
    for face in faces:
        alignment = face.alignment
        if not hasattr(alignment, "num_parts"):  # a box: fit 5 points, as analysis does
            alignment = models.shape_predictor_5()(pixels, alignment)
        shapes.append(alignment)
    return pixels, shapes


def test_descriptors_match_dlib_on_every_test_face(faces_dir):
    import dlib

    reference_model = models.dlib_face_recognition_model()
    distances = {}
    for path in _photos(faces_dir):
        pixels, shapes = _aligned_faces(path)
        if len(shapes) == 0:
            continue
        expected = np.array(reference_model.compute_face_descriptor(pixels, shapes),
                            dtype=np.float32)
        chips = np.stack(dlib.get_face_chips(pixels, shapes, size=resnet.CHIP_SIZE,
                                             padding=resnet.CHIP_PADDING))
        ours = resnet.descriptors_from_chips(chips)
        assert ours.dtype == np.float32 and ours.shape == (len(shapes), 128)
        for index, distance in enumerate(np.linalg.norm(ours - expected, axis=1)):
            distances[f"{path.parent.name}/{path.name}#{index}"] = float(distance)

    assert len(distances) >= 20, f"too few faces found to compare: {len(distances)}"
    worst = max(distances, key=distances.get)
    assert distances[worst] < MAX_DISTANCE, (
        f"{worst}: distance {distances[worst]:.2e} to dlib's descriptor "
        f"({len(distances)} faces compared)")


def test_the_engine_uses_the_numpy_network_unless_dlib_is_asked_for(faces_dir, monkeypatch):
    from rekcli.engine import analysis

    pixels, shapes = _aligned_faces(faces_dir / "groups" / "two_people.jpg")
    assert len(shapes) >= 1
    monkeypatch.delenv("REKCLI_DESCRIPTORS", raising=False)
    assert models.face_recognition_model() is models.resnet_model()
    ours = analysis._descriptors(pixels, list(shapes))
    monkeypatch.setenv("REKCLI_DESCRIPTORS", "dlib")
    assert models.face_recognition_model() is models.dlib_face_recognition_model()
    theirs = analysis._descriptors(pixels, list(shapes))
    assert len(ours) == len(theirs) == len(shapes)
    for a, b in zip(ours, theirs):
        assert a.dtype == b.dtype == np.float32 and a.shape == b.shape == (128,)
        assert np.linalg.norm(a - b) < MAX_DISTANCE
    assert analysis._descriptors(pixels, []) == []


def test_batches_and_single_faces_give_the_same_descriptors():
    chips = np.random.default_rng(7).integers(0, 256, size=(resnet.BATCH + 3, 150, 150, 3),
                                              dtype=np.uint8)
    together = resnet.descriptors_from_chips(chips)
    one_by_one = np.concatenate([resnet.descriptors_from_chips(chips[i : i + 1])
                                 for i in range(len(chips))])
    assert np.abs(together - one_by_one).max() < 1e-5
    assert resnet.descriptors_from_chips(chips[:0]).shape == (0, 128)


def test_wrong_chip_shapes_are_refused():
    with pytest.raises(ValueError, match="150, 150, 3"):
        resnet.descriptors_from_chips(np.zeros((1, 120, 120, 3), dtype=np.uint8))


def test_the_model_file_is_checked_layer_by_layer():
    data = models.model_path(MODEL_FILE).read_bytes()
    model = resnet.parse_model(data)
    convolutions = [step for step in model.steps if step[0] == "con"]
    assert len(convolutions) == 29  # 1 stem + 14 residual blocks x 2
    assert all(step[0] != "affine" for step in model.steps)  # all folded into their con
    assert model.mean_rgb.shape == (3,)

    with pytest.raises(resnet.ModelFormatError):
        resnet.parse_model(data[: len(data) // 2])  # truncated
    with pytest.raises(resnet.ModelFormatError):
        resnet.parse_model(data + b"\x00")  # trailing bytes
    with pytest.raises(resnet.ModelFormatError, match="loss_metric"):
        resnet.parse_model(data.replace(b"loss_metric_2", b"loss_mmod_xx2", 1))


def test_the_blas_thread_limit_covers_the_network_only(monkeypatch):
    """Search's matrix products keep every OpenBLAS thread; only the network runs on one."""
    from rekcli.engine import resnet

    for name in resnet._THREAD_ENV:
        monkeypatch.delenv(name, raising=False)
    controls = resnet._openblas_thread_controls()
    if not controls:
        pytest.skip("numpy here is not linked with OpenBLAS")
    before = [get() for get, _ in controls]
    with resnet.blas_threads_limited(1):
        assert [get() for get, _ in controls] == [1] * len(controls)
    assert [get() for get, _ in controls] == before
