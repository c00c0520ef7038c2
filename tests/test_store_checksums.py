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


# -- damaged rows ---------------------------------------------------------------------------


def _overwrite_row(path, row, values):
    with open(path, "r+b") as f:
        f.seek(row * 528)
        f.write(np.asarray(values, dtype="<f4").tobytes())


def _flip_bit(path, row, column, bit):
    with open(path, "r+b") as f:
        offset = row * 528 + column * 4 + bit // 8
        f.seek(offset)
        byte = f.read(1)[0]
        f.seek(offset)
        f.write(bytes([byte ^ (1 << (bit % 8))]))


def test_a_nan_descriptor_is_reported_not_dropped_from_search(data_dir):
    vectors = _collection_dir(data_dir) / "vectors.f32"
    _overwrite_row(vectors, 5, np.full(128, np.nan))
    result = _search(data_dir)
    _assert_reported(result, vectors, "1 row(s) (5) do not match their checksums")


@pytest.mark.parametrize("column,bit", [(3, 30), (3, 20), (77, 25), (128, 29), (131, 3)])
def test_a_flipped_bit_in_a_matching_row_is_reported(data_dir, column, bit):
    vectors = _collection_dir(data_dir) / "vectors.f32"
    _flip_bit(vectors, 7, column, bit)
    _assert_reported(_search(data_dir), vectors, "(7) do not match their checksums")


def test_a_damaged_searched_face_is_reported(data_dir):
    vectors = _collection_dir(data_dir) / "vectors.f32"
    _flip_bit(vectors, 0, 10, 2)  # the low bits of the searched face's own descriptor
    _assert_reported(_search(data_dir), vectors, "(0) do not match their checksums")


def test_a_live_face_whose_row_was_wiped_is_never_read_as_a_descriptor(data_dir):
    """A row wiped under a snapshot that still lists its face (a delete that committed in
    between) reads as damage, never as an all-zero descriptor with a valid checksum."""
    from rekcli.store.sqlite import StoreDamaged

    with Store(ServiceContext(data_dir=data_dir, notify=lambda m: None)) as store:
        collection = store.open_collection("c")
        try:
            collection.vectors.tombstone([0])  # what a delete does to the row, alone
            with pytest.raises(StoreDamaged):
                collection.vectors.read_rows([0])
            assert collection.vectors.read_rows([1]).shape == (1, 132)
        finally:
            collection.close()


# -- collections from before checksums ----------------------------------------------------------


def make_legacy(collection_dir):
    """Turn a collection into what rekcli wrote before checksums: no checksum columns,
    +inf tombstones, format 0 (the columns exist: the migration adds them with 0)."""
    import sqlite3

    vectors = collection_dir / "vectors.f32"
    matrix = np.fromfile(vectors, dtype="<f4").reshape(-1, 132)
    tomb = matrix[:, 128] == 2 ** 20
    matrix[:, 129:] = 0
    matrix[tomb, 128] = np.inf
    matrix.tofile(vectors)
    conn = sqlite3.connect(collection_dir / "meta.sqlite")
    with conn:
        conn.execute("UPDATE info SET vector_format = 0")
    conn.close()


def test_a_collection_without_checksums_works_and_is_upgraded_by_the_next_write(tmp_path):
    data_dir = tmp_path / "data"
    vectors = descriptors(11, 30)
    with Store(ServiceContext(data_dir=data_dir)) as store:
        store.create_collection("c")
        collection = store.open_collection("c")
        stored = collection.add_faces("img", "e", [NewFace(dict(BOX), 99.0, v) for v in vectors])
        with collection.write() as tx:
            tx.delete_faces([stored[3].face_id, stored[20].face_id])
        collection.close()
        path = collection.path
        make_legacy(path)
        collection = store.open_collection("c")
        before = [[(f.face_id, round(d, 5)) for f, d in collection.nearest_faces(v, k=3)]
                  for v in vectors]
        assert collection.verify()["problems"] == []
        assert collection.vectors.fmt == 0
        with collection.write():
            pass  # any write upgrades
        assert collection.vectors.fmt == 1
        assert sorted(name for name in os.listdir(path) if "vectors" in name) == ["vectors-1.f32"]
        after = [[(f.face_id, round(d, 5)) for f, d in collection.nearest_faces(v, k=3)]
                 for v in vectors]
        assert after == before
        report = collection.verify()
        assert report["problems"] == []
        assert report["committed_rows"] == report["faces"] == 28
        collection.close()


def test_a_nan_row_in_a_collection_without_checksums_is_reported(tmp_path):
    data_dir = tmp_path / "data"
    with Store(ServiceContext(data_dir=data_dir)) as store:
        store.create_collection("c")
        collection = store.open_collection("c")
        collection.add_faces("img", "e", [NewFace(dict(BOX), 99.0, v)
                                          for v in descriptors(12, 8)])
        collection.close()
        make_legacy(collection.path)
        _overwrite_row(collection.path / "vectors.f32", 2, np.full(128, np.nan))
        collection = store.open_collection("c")
        with pytest.raises(Exception, match=r"\(2\) are not valid descriptors"):
            collection.nearest_faces(descriptors(13, 1)[0], k=3)
        # The upgrade refuses to seal damage under a fresh checksum.
        with pytest.raises(Exception, match=r"\(2\) are not valid descriptors"):
            with collection.write():
                pass
        assert collection.vectors.fmt == 0
        collection.close()


def test_an_upgrade_put_off_by_a_full_disk_keeps_the_old_format_consistent(tmp_path,
                                                                           monkeypatch):
    """ENOSPC injected at the OS write call for the upgraded file: faces added meanwhile
    are written in the old format, and the upgrade happens once there is space."""
    import errno

    data_dir = tmp_path / "data"
    vectors = descriptors(14, 6)
    with Store(ServiceContext(data_dir=data_dir)) as store:
        store.create_collection("c")
        collection = store.open_collection("c")
        collection.add_faces("img", "e", [NewFace(dict(BOX), 99.0, v) for v in vectors[:5]])
        collection.close()
        make_legacy(collection.path)
        real_pwrite = os.pwrite

        def pwrite(fd, data, offset):
            if os.path.basename(os.readlink(f"/proc/self/fd/{fd}")).startswith("vectors-"):
                raise OSError(errno.ENOSPC, "No space left on device")
            return real_pwrite(fd, data, offset)

        collection = store.open_collection("c")
        monkeypatch.setattr(os, "pwrite", pwrite)
        [added] = collection.add_faces("img2", "e2", [NewFace(dict(BOX), 99.0, vectors[5])])
        assert collection.vectors.fmt == 0
        assert collection.verify()["problems"] == []
        assert collection.nearest_faces(vectors[5], k=1)[0][0].face_id == added.face_id
        monkeypatch.setattr(os, "pwrite", real_pwrite)
        with collection.write():
            pass
        assert collection.vectors.fmt == 1
        assert collection.verify()["problems"] == []
        assert collection.nearest_faces(vectors[5], k=1)[0][0].face_id == added.face_id
        collection.close()
