"""`rekcli check-store`: a healthy store passes (exit 0); each damage is reported by file."""

from __future__ import annotations

import json
import os
import sqlite3

import numpy as np
import pytest

from cli_helpers import run_subprocess
from rekcli.service.context import ServiceContext
from rekcli.store import NewFace, Store

BOX = {"Width": 0.25, "Height": 0.5, "Left": 0.1, "Top": 0.125}


def descriptors(seed: int, n: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, 128)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture
def data_dir(tmp_path):
    data_dir = tmp_path / "data"
    with Store(ServiceContext(data_dir=data_dir, notify=lambda m: None)) as store:
        for name, seed in (("family", 1), ("friends", 2)):
            store.create_collection(name)
            collection = store.open_collection(name)
            stored = collection.add_faces("img", "e", [NewFace(dict(BOX), 99.0, v)
                                                       for v in descriptors(seed, 10)])
            with collection.write() as tx:
                tx.delete_faces([stored[4].face_id])
                tx.create_user("ann")
            collection.close()
    return data_dir


def _dirs(data_dir) -> dict:
    with Store(ServiceContext(data_dir=data_dir, notify=lambda m: None)) as store:
        return {name: store.open_collection(name).path for name in ("family", "friends")}


def check(data_dir, *args):
    result = run_subprocess("check-store", *args, env={"REKCLI_DATA_DIR": str(data_dir)})
    report = json.loads(result.stdout) if result.stdout else None
    return result, report


def by_id(report) -> dict:
    return {entry["CollectionId"]: entry for entry in report["Collections"]}


def test_a_healthy_store_passes(data_dir):
    result, report = check(data_dir)
    assert result.returncode == 0, result.stderr
    assert report["Healthy"] is True and report["Catalog"]["Problems"] == []
    family = by_id(report)["family"]
    assert (family["FaceCount"], family["UserCount"], family["Rows"], family["DeletedRows"]) \
        == (9, 1, 10, 1)
    assert family["VectorFormat"] == 1 and family["Problems"] == []
    result, report = check(data_dir, "--collection-id", "friends")
    assert result.returncode == 0 and list(by_id(report)) == ["friends"]


def test_an_unknown_collection_and_bad_options(data_dir):
    result, _ = check(data_dir, "--collection-id", "nobody")
    assert result.returncode == 254 and b"ResourceNotFoundException" in result.stderr
    result, _ = check(data_dir, "--frobnicate")
    assert result.returncode == 252


def _flip_low_bit(path):
    """A finite, tiny change: no search would notice it, the checksum does."""
    with open(path, "r+b") as f:
        f.seek(2 * 528 + 40)
        byte = f.read(1)[0]
        f.seek(2 * 528 + 40)
        f.write(bytes([byte ^ 1]))


def _nan_row(path):
    with open(path, "r+b") as f:
        f.seek(7 * 528)
        f.write(np.full(128, np.nan, dtype="<f4").tobytes())


def _undelete(path):
    """A deleted face's row holding a descriptor again (as before rekcli wiped them)."""
    with open(path, "r+b") as f:
        f.seek(4 * 528)
        f.write(descriptors(9, 1).astype("<f4").tobytes())


def _truncate(path):
    os.truncate(path, 5 * 528)


def _remove(path):
    os.unlink(path)


def _scribble_pages(path):
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        f.seek(4096)
        f.write(np.random.default_rng(5).integers(0, 256, size - 4096, np.uint8).tobytes())


DAMAGE = {
    "low bit": ("vectors.f32", _flip_low_bit, "1 row(s) (2) do not match their checksums"),
    "nan": ("vectors.f32", _nan_row, "1 row(s) (7) do not match their checksums"),
    "undeleted": ("vectors.f32", _undelete, "(4) do not match their checksums"),
    "truncated": ("vectors.f32", _truncate, "the file is truncated"),
    "missing": ("vectors.f32", _remove, "the file is missing"),
    "database pages": ("meta.sqlite", _scribble_pages, "meta.sqlite"),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_each_damage_is_reported_by_file_and_the_rest_still_checked(data_dir, damage):
    name, make, expected = DAMAGE[damage]
    damaged = _dirs(data_dir)["family"] / name
    # Everything settled (WAL checkpointed) before the damage, as on a machine at rest.
    make(damaged)
    result, report = check(data_dir)
    assert result.returncode == 254, result.stderr
    assert report["Healthy"] is False
    problems = " ".join(by_id(report)["family"]["Problems"])
    assert str(damaged) in problems and expected in problems, problems
    assert by_id(report)["friends"]["Problems"] == []
    assert b"damaged" in result.stderr


@pytest.mark.parametrize("only", [[], ["--collection-id", "family"]])
def test_a_damaged_catalog_is_reported(data_dir, only):
    catalog = data_dir / "us-east-1" / "catalog.sqlite"
    os.truncate(catalog, 0)
    result, report = check(data_dir, *only)
    assert result.returncode == 254
    assert str(catalog) in " ".join(report["Catalog"]["Problems"])
    assert report["Healthy"] is False


def test_check_store_changes_nothing(data_dir):
    family = _dirs(data_dir)["family"]
    _nan_row(family / "vectors.f32")
    before = (family / "vectors.f32").read_bytes()
    check(data_dir)
    assert (family / "vectors.f32").read_bytes() == before
    conn = sqlite3.connect(family / "meta.sqlite")
    assert conn.execute("SELECT COUNT(*) FROM faces").fetchone()[0] == 9
    conn.close()
