"""Store: faces and vectors - adding, idempotency, deletion, exact search, full disks."""

from __future__ import annotations

import errno
import math
import os
import re

import numpy as np
import pytest

from rekcli.service.context import ServiceContext
from rekcli.store import NewFace, Store, StoredFace, constants, face_record
from rekcli.store import collection as collection_module
from rekcli.store import vectors as vectors_module
from rekcli.store.errors import DISK_FULL_MESSAGE, CollectionFull, DiskFull

BOX = {"Width": 0.25, "Height": 0.5, "Left": -0.05, "Top": 0.125}
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


@pytest.fixture
def ctx(tmp_path):
    return ServiceContext(data_dir=tmp_path / "data")


@pytest.fixture
def store(ctx):
    with Store(ctx) as store:
        store.create_collection("c")
        yield store


@pytest.fixture
def collection(store):
    return store.open_collection("c")


def unit_vectors(rng, n):
    x = rng.standard_normal((n, 128)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def new_faces(vectors, confidence=99.5):
    return [NewFace(dict(BOX), confidence, v) for v in vectors]


def brute_force(vectors: np.ndarray, query: np.ndarray) -> np.ndarray:
    return np.sqrt(((vectors.astype(np.float64) - query.astype(np.float64)) ** 2).sum(axis=1))


def test_add_faces_records_everything(collection):
    rng = np.random.default_rng(0)
    vectors = unit_vectors(rng, 3)
    stored = collection.add_faces("img-1", "photo.jpg", new_faces(vectors))
    assert len(stored) == 3
    assert len({face.face_id for face in stored}) == 3
    for face in stored:
        assert UUID4.match(face.face_id)
        assert face.image_id == "img-1"
        assert face.external_image_id == "photo.jpg"
        assert face.bounding_box == BOX
        assert face.confidence == 99.5
        assert face.index_faces_model_version == "1.0"
        assert face.user_id is None
    descriptors = collection.descriptors([f.face_id for f in stored])
    for face, vector in zip(stored, vectors):
        np.testing.assert_array_equal(descriptors[face.face_id], vector)
    assert collection.counts() == (3, 0)
    with collection.read() as tx:
        assert tx.get_faces([stored[1].face_id])[stored[1].face_id] == stored[1]


def test_face_record_shape_and_order():
    face = StoredFace("f", {"Width": 1, "Height": 2, "Left": 3, "Top": 4}, "i", None, 99.0, "1.0")
    assert list(face_record(face)) == ["FaceId", "BoundingBox", "ImageId", "Confidence",
                                       "IndexFacesModelVersion"]
    full = StoredFace("f", dict(BOX), "i", "e", 99.0, "1.0", user_id="u")
    assert list(face_record(full)) == ["FaceId", "BoundingBox", "ImageId", "ExternalImageId",
                                       "Confidence", "IndexFacesModelVersion", "UserId"]
    assert list(face_record(full)["BoundingBox"]) == ["Width", "Height", "Left", "Top"]


def test_same_image_and_external_id_is_idempotent(collection):
    rng = np.random.default_rng(1)
    first = collection.add_faces("img-1", "a.jpg", new_faces(unit_vectors(rng, 2)))
    again = collection.add_faces("img-1", "a.jpg", new_faces(unit_vectors(rng, 2)))
    assert again == first
    assert collection.counts() == (2, 0)
    # A different ExternalImageId, or none at all, indexes the same picture again.
    other = collection.add_faces("img-1", "b.jpg", new_faces(unit_vectors(rng, 2)))
    none1 = collection.add_faces("img-1", None, new_faces(unit_vectors(rng, 2)))
    none2 = collection.add_faces("img-1", None, new_faces(unit_vectors(rng, 2)))
    ids = {f.face_id for f in first + other + none1 + none2}
    assert len(ids) == 8
    assert collection.counts() == (8, 0)
    assert collection.verify()["problems"] == []


def test_no_faces_stores_nothing(collection):
    assert collection.add_faces("img", "x", []) == []
    assert collection.counts() == (0, 0)


@pytest.mark.parametrize("bad", [np.zeros(127), np.full(128, np.nan), np.zeros((2, 128))])
def test_bad_descriptors_are_refused_before_anything_is_written(collection, bad):
    with pytest.raises(ValueError):
        collection.add_faces("img", None, [NewFace(BOX, 99.0, bad)])
    assert collection.counts() == (0, 0)


def test_quota_of_faces_per_collection(collection, monkeypatch):
    monkeypatch.setattr(constants, "MAX_FACES_PER_COLLECTION", 3)
    rng = np.random.default_rng(2)
    collection.add_faces("a", None, new_faces(unit_vectors(rng, 2)))
    with pytest.raises(CollectionFull):
        collection.add_faces("b", None, new_faces(unit_vectors(rng, 2)))
    collection.add_faces("c", None, new_faces(unit_vectors(rng, 1)))
    assert collection.counts() == (3, 0)
    assert collection.verify()["problems"] == []


def test_delete_tombstones_the_vector_and_search_skips_it(collection):
    rng = np.random.default_rng(3)
    vectors = unit_vectors(rng, 5)
    stored = collection.add_faces("img", None, new_faces(vectors))
    with collection.write() as tx:
        assert tx.delete_faces([stored[2].face_id, "missing"]) == [stored[2].face_id]
    assert collection.counts() == (4, 0)
    matrix = collection.vectors.matrix(5)
    assert matrix[stored[2].row, constants.NORM_COLUMN] == constants.TOMBSTONE_NORM
    found = collection.nearest_faces(vectors[2], k=5)
    assert stored[2].face_id not in [face.face_id for face, _ in found]
    assert len(found) == 4
    report = collection.verify()
    assert report["problems"] == []
    assert (report["faces"], report["live_vectors"], report["committed_rows"]) == (4, 4, 5)
    with collection.read() as tx:
        assert tx.conn.execute("SELECT COUNT(*) FROM pending_tombstones").fetchone()[0] == 0


def _tombstone_fails(self, rows):
    raise OSError(errno.EIO, "simulated failure")


def test_pending_tombstones_are_finished_by_the_next_writer(collection, monkeypatch):
    rng = np.random.default_rng(4)
    vectors = unit_vectors(rng, 3)
    stored = collection.add_faces("img", None, new_faces(vectors))
    # As if the process died between the commit and the tombstone write.
    monkeypatch.setattr(vectors_module.VectorFile, "tombstone", _tombstone_fails)
    with collection.write() as tx:
        tx.delete_faces([stored[0].face_id])
    monkeypatch.undo()
    collection.vectors.forget_mapping()
    assert collection.vectors.matrix(3)[stored[0].row, constants.NORM_COLUMN] < 2
    # Search is already right: the row has no face any more.
    found = collection.nearest_faces(vectors[0], k=1)
    assert found[0][0].face_id != stored[0].face_id
    assert collection.verify()["problems"] == []
    with collection.write():
        pass
    collection.vectors.forget_mapping()
    assert collection.vectors.matrix(3)[stored[0].row, constants.NORM_COLUMN] == constants.TOMBSTONE_NORM


def _faces_by_row(collection):
    with collection.read() as tx:
        return {f.row: f for f in tx.list_faces(None, 10**9)}


@pytest.mark.parametrize("n,k", [(500, 1), (3000, 10), (20000, 7)])
def test_nearest_faces_is_exact(collection, n, k):
    rng = np.random.default_rng(n)
    vectors = unit_vectors(rng, n)
    vectors[10] = vectors[11]  # an exact tie
    collection.bulk_add_faces([("img", None, f) for f in new_faces(vectors)], batch_size=4000)
    by_row = _faces_by_row(collection)
    for trial in range(5):
        query = vectors[trial * 7] + rng.standard_normal(128).astype(np.float32) * 0.05
        expected = brute_force(vectors, query)
        order = np.lexsort(([by_row[r].face_id for r in range(n)], expected))[:k]
        found = collection.nearest_faces(query, k)
        assert [face.face_id for face, _ in found] == [by_row[r].face_id for r in order]
        np.testing.assert_allclose([d for _, d in found], expected[order], rtol=1e-6)
    # With a distance cut-off: exactly the faces within it.
    query = vectors[10]
    expected = brute_force(vectors, query)
    limit = float(np.sort(expected)[5]) + 1e-9
    found = collection.nearest_faces(query, 100, max_distance=limit)
    assert sorted(f.row for f, _ in found) == sorted(np.flatnonzero(expected <= limit).tolist())
    assert [d for _, d in found] == sorted(d for _, d in found)
    # Excluding faces.
    excluded = [by_row[10].face_id, by_row[11].face_id]
    found = collection.nearest_faces(query, 3, exclude_face_ids=excluded)
    assert not set(excluded) & {f.face_id for f, _ in found}
    assert len(found) == 3


def test_nearest_faces_skips_untombstoned_deleted_rows(collection, monkeypatch):
    """Many deleted-but-not-yet-tombstoned rows nearest to the query: still k live answers."""
    rng = np.random.default_rng(7)
    base = unit_vectors(rng, 1)[0]
    near = base + rng.standard_normal((300, 128)).astype(np.float32) * 0.01
    far = unit_vectors(rng, 20000)
    vectors = np.vstack([near, far])
    ids = collection.bulk_add_faces([("img", None, f) for f in new_faces(vectors)])
    monkeypatch.setattr(vectors_module.VectorFile, "tombstone", _tombstone_fails)
    with collection.write() as tx:
        tx.delete_faces(ids[:295])
    found = collection.nearest_faces(base, 10)
    expected = brute_force(vectors[295:], base)
    order = np.argsort(expected)[:10]
    assert [f.face_id for f, _ in found] == [ids[295 + i] for i in order]


def test_empty_collection_search(collection):
    query = np.ones(128, dtype=np.float32) / math.sqrt(128)
    assert collection.nearest_faces(query, 5) == []
    assert collection.nearest_users(query, 5) == []


def _make_users(collection, rng, users=30, per_user=4, loose=200):
    vectors = unit_vectors(rng, users * per_user + loose)
    ids = collection.bulk_add_faces([("img", None, f) for f in new_faces(vectors)])
    owner = {}
    with collection.write() as tx:
        for u in range(users):
            tx.create_user(f"user-{u:03d}")
            chunk = ids[u * per_user:(u + 1) * per_user]
            tx.set_face_user(chunk, f"user-{u:03d}")
            owner.update({fid: f"user-{u:03d}" for fid in chunk})
    return vectors, ids, owner


@pytest.mark.parametrize("scan_limit", [collection_module._USER_SCAN_LIMIT, 0])
def test_nearest_users_is_exact(collection, monkeypatch, scan_limit):
    monkeypatch.setattr(collection_module, "_USER_SCAN_LIMIT", scan_limit)
    rng = np.random.default_rng(11)
    vectors, ids, owner = _make_users(collection, rng)

    def expected_users(queries, exclude=()):
        best = {}
        for i, fid in enumerate(ids):
            user = owner.get(fid)
            if user is None or user in exclude:
                continue
            d = min(brute_force(vectors[i:i + 1], q)[0] for q in np.atleast_2d(queries))
            best[user] = min(best.get(user, math.inf), d)
        return sorted((d, u) for u, d in best.items())

    for trial in range(3):
        query = vectors[trial * 9] + rng.standard_normal(128).astype(np.float32) * 0.05
        found = collection.nearest_users(query, 5)
        expected = expected_users(query)[:5]
        assert [u for u, _, _ in found] == [u for _, u in expected]
        np.testing.assert_allclose([d for _, _, d in found], [d for d, _ in expected], rtol=1e-6)
        assert all(status == "ACTIVE" for _, status, _ in found)
    # Several query descriptors (a user's faces), excluding that user.
    queries = vectors[0:4]
    found = collection.nearest_users(queries, 3, exclude_user_ids=["user-000"])
    expected = expected_users(queries, exclude={"user-000"})[:3]
    assert [u for u, _, _ in found] == [u for _, u in expected]
    # A cut-off.
    cut = expected[1][0] + 1e-9
    found = collection.nearest_users(queries, 10, max_distance=cut, exclude_user_ids=["user-000"])
    assert [u for u, _, _ in found] == [u for d, u in expected_users(queries, {"user-000"})
                                        if d <= cut]


def test_user_counts_stay_exact(collection):
    rng = np.random.default_rng(5)
    stored = collection.add_faces("img", None, new_faces(unit_vectors(rng, 4)))
    ids = [f.face_id for f in stored]
    with collection.write() as tx:
        tx.create_user("a")
        tx.create_user("b")
        tx.set_face_user(ids[:3], "a")
        tx.set_face_user(ids[2:], "b")  # moves one face from a to b
    with collection.read() as tx:
        assert tx.get_user("a").face_count == 2
        assert tx.get_user("b").face_count == 2
        assert tx.get_user("b").status == "ACTIVE"
    with collection.write() as tx:
        tx.delete_faces([ids[0]])
        tx.delete_user("b")
    with collection.read() as tx:
        assert tx.get_user("a").face_count == 1
        assert tx.get_user("b") is None
        assert tx.get_faces([ids[3]])[ids[3]].user_id is None
    assert collection.counts() == (3, 1)
    assert collection.verify()["problems"] == []


# -- full disk --------------------------------------------------------------------------------


def test_disk_full_while_writing_vectors(collection, monkeypatch):
    rng = np.random.default_rng(8)
    collection.add_faces("img-0", None, new_faces(unit_vectors(rng, 2)))
    real_pwrite = os.pwrite

    def half_then_enospc(fd, data, offset):
        if len(data) > 8:
            real_pwrite(fd, bytes(data[: len(data) // 2]), offset)  # a torn write
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(vectors_module.os, "pwrite", half_then_enospc)
    with pytest.raises(DiskFull) as raised:
        collection.add_faces("img-1", None, new_faces(unit_vectors(rng, 3)))
    assert str(raised.value) == DISK_FULL_MESSAGE
    monkeypatch.undo()
    assert collection.counts() == (2, 0)
    assert collection.vectors.size_bytes() == 2 * constants.ROW_BYTES
    assert collection.verify()["problems"] == []
    collection.add_faces("img-2", None, new_faces(unit_vectors(rng, 1)))
    assert collection.counts() == (3, 0)
    assert collection.verify()["problems"] == []


def test_disk_full_in_sqlite(collection, monkeypatch):
    rng = np.random.default_rng(9)
    collection.add_faces("img-0", None, new_faces(unit_vectors(rng, 1)))
    conn = collection.conn
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")  # SQLITE_FULL on the next growth
    with pytest.raises(DiskFull) as raised:
        collection.add_faces("img-1", None, new_faces(unit_vectors(rng, 400)))
    assert str(raised.value) == DISK_FULL_MESSAGE
    conn.execute("PRAGMA max_page_count = 1073741823")
    assert collection.counts() == (1, 0)
    report = collection.verify()
    assert report["problems"] == []
    assert report["file_rows"] == 1  # the vectors written for the failed request are gone
    collection.add_faces("img-2", None, new_faces(unit_vectors(rng, 2)))
    assert collection.counts() == (3, 0)


def test_interrupted_write_debris_is_ignored_then_truncated(collection):
    rng = np.random.default_rng(10)
    vectors = unit_vectors(rng, 2)
    collection.add_faces("img", None, new_faces(vectors))
    with open(collection.vectors.path, "ab") as f:
        f.write(b"\x01" * (constants.ROW_BYTES + 7))  # a torn append of a dead writer
    collection.vectors.forget_mapping()
    assert len(collection.nearest_faces(vectors[0], 10)) == 2
    assert collection.verify()["problems"] == []
    collection.add_faces("img2", None, new_faces(unit_vectors(rng, 1)))
    assert collection.vectors.size_bytes() == 3 * constants.ROW_BYTES
    assert collection.verify()["problems"] == []


def test_external_image_ids_and_user_ids_never_become_paths(ctx, collection):
    before = sorted(p.name for p in collection.path.iterdir())
    rng = np.random.default_rng(12)
    hostile = "..:..:etc:passwd"
    stored = collection.add_faces("img", hostile, new_faces(unit_vectors(rng, 1)))
    with collection.write() as tx:
        tx.create_user("../..:user")
        tx.set_face_user([stored[0].face_id], "../..:user")
    with collection.read() as tx:
        face = tx.get_faces([stored[0].face_id])[stored[0].face_id]
    assert (face.external_image_id, face.user_id) == (hostile, "../..:user")
    after = sorted(p.name for p in collection.path.iterdir()
                   if not p.name.endswith(("-wal", "-shm")))
    assert after == before == ["meta.sqlite", "vectors.f32", "write.lock"]
    assert sorted(p.name for p in ctx.region_dir.iterdir()
                  if not p.name.endswith(("-wal", "-shm"))) == ["catalog.sqlite", "collections"]
