"""Delete means delete: no byte of a deleted descriptor stays anywhere under the data dir."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from rekcli.service.context import ServiceContext
from rekcli.store import NewFace, Store

BOX = {"Width": 0.25, "Height": 0.5, "Left": 0.1, "Top": 0.125}


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path / "data"


def descriptors(seed: int, n: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, 128)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def all_bytes_under(root: Path) -> list[tuple[Path, bytes]]:
    found = []
    for folder, _, names in os.walk(root):
        for name in names:
            path = Path(folder) / name
            if path.is_file() and not path.is_symlink():
                found.append((path, path.read_bytes()))
    return found


def leaks(root: Path, deleted: np.ndarray) -> list[str]:
    """Places where any 16 consecutive bytes of a deleted descriptor (float32) still are."""
    files = all_bytes_under(root)
    found = []
    for vector in deleted:
        raw = vector.astype("<f4").tobytes()
        for start in range(0, len(raw) - 16 + 1, 4):
            window = raw[start:start + 16]
            for path, content in files:
                if window in content:
                    found.append(f"{path.name} holds bytes {start}..{start + 16}")
    return found


def add(collection, vectors, image: str) -> list[str]:
    stored = collection.add_faces(image, image, [NewFace(dict(BOX), 99.0, v) for v in vectors])
    return [face.face_id for face in stored]


def delete(collection, face_ids) -> None:
    with collection.write() as tx:
        tx.delete_faces(face_ids)


def test_one_delete_leaves_no_byte_of_the_descriptor(data_dir):
    vectors = descriptors(1, 6)
    with Store(ServiceContext(data_dir=data_dir)) as store:
        store.create_collection("c")
        collection = store.open_collection("c")
        face_ids = add(collection, vectors, "img")
        assert not leaks(data_dir, vectors[2:3]) == []  # the check finds live descriptors
        delete(collection, [face_ids[2]])
        assert leaks(data_dir, vectors[2:3]) == []
        # The others are intact and still found.
        found = collection.nearest_faces(vectors[3], k=1)
        assert found[0][0].face_id == face_ids[3]
        collection.close()


def test_index_delete_churn_leaves_no_byte_of_any_deleted_descriptor(data_dir):
    deleted = []
    kept = {}
    with Store(ServiceContext(data_dir=data_dir)) as store:
        store.create_collection("c")
        collection = store.open_collection("c")
        for round_ in range(12):
            vectors = descriptors(100 + round_, 5)
            face_ids = add(collection, vectors, f"img-{round_}")
            gone = [0, 2, 4] if round_ % 3 else [1]
            delete(collection, [face_ids[i] for i in gone])
            deleted.extend(vectors[i] for i in gone)
            kept.update({face_ids[i]: vectors[i] for i in range(5) if i not in gone})
        assert leaks(data_dir, np.array(deleted)) == []
        for face_id, vector in list(kept.items())[::5]:
            assert collection.nearest_faces(vector, k=1)[0][0].face_id == face_id
        assert collection.verify()["problems"] == []
        collection.close()


def test_the_delete_faces_command_leaves_no_byte_of_the_descriptor(data_dir):
    from cli_helpers import run_subprocess

    vectors = descriptors(7, 8)
    with Store(ServiceContext(data_dir=data_dir)) as store:
        store.create_collection("c")
        collection = store.open_collection("c")
        face_ids = add(collection, vectors, "img")
        collection.close()
    result = run_subprocess("delete-faces", "--collection-id", "c", "--face-ids", face_ids[1],
                            face_ids[6], env={"REKCLI_DATA_DIR": str(data_dir)})
    assert result.returncode == 0, result.stderr
    assert leaks(data_dir, vectors[[1, 6]]) == []
    assert len(leaks(data_dir, vectors[[0]])) > 0  # the kept ones are still there
