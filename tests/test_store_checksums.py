"""Damaged vector files and descriptors are reported by name, never answered around."""

from __future__ import annotations

import os

import numpy as np
import pytest

from cli_helpers import run_subprocess
from rekcli.service.context import ServiceContext
from rekcli.store import NewFace, Store

BOX = {"Width": 0.25, "Height": 0.5, "Left": 0.1, "Top": 0.125}
ROWS = 12


def descriptors(seed: int, n: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, 128)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True) * 0.5


@pytest.fixture
def data_dir(tmp_path):
    data_dir = tmp_path / "data"
    vectors = descriptors(7, ROWS)
    # Close neighbours of the first face, so a search for it matches all of them.
    vectors = vectors[0] + 0.01 * (vectors - vectors[0])
    with Store(ServiceContext(data_dir=data_dir, notify=lambda m: None)) as store:
        store.create_collection("c")
        collection = store.open_collection("c")
        stored = collection.add_faces("img", "photo.jpg",
                                      [NewFace(dict(BOX), 99.0, v) for v in vectors])
        collection.close()
    (tmp_path / "face_id").write_text(stored[0].face_id)
    return data_dir


def _collection_dir(data_dir):
    [path] = (data_dir / "us-east-1" / "collections").iterdir()
    return path


def _cli(data_dir, *args):
    return run_subprocess(*args, env={"REKCLI_DATA_DIR": str(data_dir)})


def _search(data_dir):
    face_id = (data_dir.parent / "face_id").read_text()
    return _cli(data_dir, "search-faces", "--collection-id", "c", "--face-id", face_id,
                "--max-faces", "100", "--face-match-threshold", "0")


def _delete(data_dir):
    return _cli(data_dir, "delete-faces", "--collection-id", "c", "--face-ids",
                "11111111-1111-4111-8111-111111111111")


def _assert_reported(result, path, cause):
    assert result.returncode == 254, result.stderr
    err = result.stderr.decode()
    assert "InternalServerError" in err
    assert str(path) in err and "collection c" in err
    assert cause in err, err
    assert result.stdout == b""


def test_a_healthy_collection_searches_all_its_faces(data_dir):
    result = _search(data_dir)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count(b'"FaceId"') == ROWS - 1  # every other face matches


def _remove(path):
    os.unlink(path)


def _truncate_rows(path):
    os.truncate(path, os.path.getsize(path) - 3 * 528)


def _truncate_mid_row(path):
    os.truncate(path, os.path.getsize(path) // 2 + 7)


def _directory(path):
    os.unlink(path)
    os.mkdir(path)


def _symlink(path):
    os.rename(path, path.with_name("elsewhere.f32"))
    os.symlink(path.with_name("elsewhere.f32"), path)


VECTOR_DAMAGE = {"missing": (_remove, "the file is missing"),
                 "truncated": (_truncate_rows, "the file is truncated: 4752 bytes; its 12 "
                                               "committed rows need 6336"),
                 "mid-row": (_truncate_mid_row, "not a whole number of rows"),
                 "directory": (_directory, "it is a directory, not a file"),
                 "symlink": (_symlink, "it is a symbolic link")}


@pytest.mark.parametrize("damage", list(VECTOR_DAMAGE))
def test_a_damaged_vector_file_is_reported_by_name_and_cause(data_dir, damage):
    vectors = _collection_dir(data_dir) / "vectors.f32"
    make, cause = VECTOR_DAMAGE[damage]
    make(vectors)
    _assert_reported(_search(data_dir), vectors, cause)
    _assert_reported(_delete(data_dir), vectors, cause)
