"""The search index of large collections (store/search_index.py: faiss product-quantization
codes, every answer re-measured exactly): searches through it give exact search's answers,
band by band; adds, deletes, kills mid-build, damage and compactions never change an
answer; deleted faces' codes are wiped to the all-zero code. Small collections with a
test-only threshold, a small first K (so later bands and the 4x growth happen) and no
hand-over to the exact scan; every test that claims the index answered counts the calls
that reached faiss."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from cli_helpers import import_test_extra, run_subprocess
from conftest import REPO_ROOT
from rekcli.service.context import ServiceContext
from rekcli.store import NewFace, Store
from rekcli.store import collection as collection_module
from rekcli.store import search_index

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
import face_model  # noqa: E402

faiss = import_test_extra("faiss")

BOX = {"Width": 0.25, "Height": 0.5, "Left": -0.05, "Top": 0.125}
N = 5000
MATCH = 0.6  # FaceMatchThreshold 80 is a distance of about 0.6


@pytest.fixture(autouse=True)
def index_settings(monkeypatch):
    monkeypatch.setenv(search_index.MIN_FACES_ENV, "1000")
    monkeypatch.setenv(search_index.BUILD_ENV, "off")
    # At 5000 rows the defaults would scan everything in one go: a small first K makes
    # searches go band by band and grow K, and no hand-over keeps them on the index.
    monkeypatch.setattr(search_index, "FIRST_K_MIN", 64)
    monkeypatch.setattr(search_index, "EXACT_SCAN_SHARE", 1.0)
    # One faiss thread, here and in the builders these tests start: on a machine whose
    # cores are busy, OpenMP threads waiting on each other made a 0.3 s training take 20 s.
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    yield
    faiss.omp_set_num_threads(threads)
    search_index._OPEN.clear()


@pytest.fixture
def faiss_calls(monkeypatch):
    """The K of every query that reached faiss (SearchIndex.nearest_rows), in order: a
    test cannot pass by silently searching exactly."""
    calls: list[int] = []
    real = search_index.SearchIndex.nearest_rows

    def counting(self, queries, k):
        calls.append(int(k))
        return real(self, queries, k)

    monkeypatch.setattr(search_index.SearchIndex, "nearest_rows", counting)
    return calls


@pytest.fixture
def notices():
    return []


@pytest.fixture
def ctx(tmp_path, notices):
    return ServiceContext(data_dir=tmp_path / "rekcli-data", notify=notices.append)


@pytest.fixture(scope="module")
def faces():
    """(N stored descriptors, 30 new photos of stored people); read-only arrays."""
    rng = np.random.default_rng(7)
    model = face_model.parametric()
    vectors, who, centres = face_model.collection(model, rng, N)
    queries, _ = face_model.probes(model, rng, centres, who, 30)
    vectors.flags.writeable = queries.flags.writeable = False
    return vectors, queries


@pytest.fixture
def collection(ctx, faces):
    with Store(ctx) as store:
        store.create_collection("c")
        collection = store.open_collection("c")
        collection.bulk_add_faces(records(faces[0]))
        yield collection
        collection.close()


@pytest.fixture(scope="module")
def real_descriptors(faces_dir):
    """Descriptors of every face in the shared photos of named people (dlib, once)."""
    from rekcli import engine

    found = []
    for path in sorted((faces_dir / "people").rglob("*")):
        if path.suffix.lower() in (".jpg", ".jpeg", ".png"):
            image = engine.decode_image(path.read_bytes())
            found += [face.descriptor for face in engine.analyze_faces(image, landmarks=False)]
    return np.asarray(found, dtype=np.float32)


def records(vectors):
    return [("img", None, NewFace(dict(BOX), 99.5, v)) for v in vectors]


def answers(collection, queries, k=10, max_distance=MATCH):
    return [[(face.face_id, distance) for face, distance in
             collection.nearest_faces(q, k, max_distance)] for q in queries]


def exact_answers(collection, queries, monkeypatch, **kwargs):
    with monkeypatch.context() as patch:
        patch.setenv(search_index.MIN_FACES_ENV, str(10 ** 9))
        return answers(collection, queries, **kwargs)


def env_of(collection) -> dict:
    return {"REKCLI_DATA_DIR": str(collection.store.region_dir.parent)}


def codebook(collection):
    """The bytes of the index file's codebook (trained by a full build only)."""
    data = index_path(collection).read_bytes()
    return data[search_index._HEADER_BYTES:search_index._HEADER_BYTES + 16 * 128 * 4]


def index_path(collection):
    return collection.path / search_index.INDEX_FILE


def index_bytes(collection) -> bytes:
    return index_path(collection).read_bytes()


def flip(path, offset: int, count: int = 4) -> None:
    with open(path, "r+b") as f:
        f.seek(offset)
        old = f.read(count)
        f.seek(offset)
        f.write(bytes(b ^ 0x5A for b in old))


def stored_codes(collection, rows) -> dict:
    """{row: its 32-byte code as the index file holds it}, unpacked with faiss."""
    index = search_index.SearchIndex(index_path(collection))
    codes_at, codes_bytes = index._codes_at, index._codes_bytes
    index.close()
    packer = faiss.IndexPQFastScan(128, search_index.SUBQUANTIZERS, 4).get_CodePacker()
    data = np.frombuffer(index_bytes(collection), np.uint8, codes_bytes, codes_at)
    blocks = data.reshape(-1, packer.block_size)
    # The row's own block: faiss's Python unpack_1 asserts an offset below
    # block_size * nvec (32,768), whatever the array holds.
    return {row: packer.unpack_1(blocks[row // packer.nvec:row // packer.nvec + 1],
                                 row % packer.nvec) for row in rows}


def delete_rows(collection, rows) -> list[str]:
    """Delete the faces at these rows (one write); their ids."""
    ids = ids_at(collection, rows)
    with collection.write() as tx:
        tx.delete_faces(ids)
    return ids


def wipe_count(collection) -> int:
    return search_index._wipe_count(index_path(collection))


def rows_of(collection, face_ids) -> list[int]:
    with collection.read() as tx:
        return sorted(face.row for face in tx.get_faces(face_ids).values())


def ids_at(collection, rows) -> list[str]:
    with collection.read() as tx:
        return [face.face_id for face in tx.faces_at_rows(rows).values()]


def found_ids(found) -> set:
    return {face_id for hits in found for face_id, _ in hits}


def check_store(collection):
    result = run_subprocess("check-store", "--collection-id", "c", env=env_of(collection))
    return result.returncode, json.loads(result.stdout)["Collections"][0]


def temp_files(collection) -> list[str]:
    return [n for n in os.listdir(collection.path) if n.startswith(search_index.TEMP_PREFIX)]


# -- answers ------------------------------------------------------------------------------


def test_search_through_the_index_equals_exact_search(collection, faces, monkeypatch,
                                                      faiss_calls):
    _, queries = faces
    built = search_index.build(collection)
    assert built["Kind"] == "FULL" and built["Rows"] == built["CoveredRows"] == N
    assert built["Margin"] > 0
    for kwargs in ({}, {"k": 1}, {"k": 3}, {"k": 20, "max_distance": math.inf}):
        expected = exact_answers(collection, queries, monkeypatch, **kwargs)
        faiss_calls.clear()
        assert answers(collection, queries, **kwargs) == expected
        assert len(faiss_calls) >= len(queries)
    found = answers(collection, queries)
    assert sum(len(a) for a in found) > len(queries)  # real matches

    def excluding(firsts):
        return [[(face.face_id, d) for face, d in collection.nearest_faces(
            q, 10, MATCH, exclude_face_ids=[first])] for q, first in zip(queries, firsts)]

    firsts = [hits[0][0] if hits else "none" for hits in found]
    with monkeypatch.context() as patch:
        patch.setenv(search_index.MIN_FACES_ENV, str(10 ** 9))
        expected = excluding(firsts)
    faiss_calls.clear()
    assert excluding(firsts) == expected and faiss_calls
    assert not {first for first, hits in zip(firsts, expected) if first in dict(hits)}


def test_a_process_that_searches_again_uses_the_index_from_an_eighth_of_the_threshold(
        collection, faces, monkeypatch, faiss_calls):
    _, queries = faces
    search_index.build(collection)
    # Past the resident threshold (threshold / 8) but under the threshold itself.
    monkeypatch.setenv(search_index.MIN_FACES_ENV, str(4 * N))
    expected = exact_answers(collection, queries[:1], monkeypatch)
    collection_module._SEARCHED.discard(str(collection.path))
    assert answers(collection, queries[:1]) == expected and not faiss_calls  # first: exact
    assert answers(collection, queries[:1]) == expected and faiss_calls  # again: the index
    monkeypatch.setenv(search_index.MIN_FACES_ENV, str(9 * N))  # N < 9N / 8: exact again
    faiss_calls.clear()
    assert answers(collection, queries[:1]) == expected and not faiss_calls


def test_a_wide_search_reads_band_after_band(collection, faces, monkeypatch, faiss_calls):
    queries = faces[1][:12]
    search_index.build(collection)
    wide = {"k": 100, "max_distance": 0.9}
    expected = exact_answers(collection, queries, monkeypatch, **wide)
    assert all(len(hits) == 100 for hits in expected)
    # Every K through faiss, however large (it answers "complete" once K covers the rows).
    monkeypatch.setattr(search_index, "EXACT_SCAN_SHARE", math.inf)
    bands = []
    for q, want in zip(queries, expected):
        faiss_calls.clear()
        assert answers(collection, [q], **wide) == [want]
        assert all(b == 4 * a for a, b in zip(faiss_calls, faiss_calls[1:]))
        bands.append(len(faiss_calls))
    assert min(bands) >= 1 and max(bands) >= 2  # some needed more than the first K
    # With the real hand-over, a K past that share of the rows is an exact scan.
    monkeypatch.setattr(search_index, "EXACT_SCAN_SHARE", 0.125)
    faiss_calls.clear()
    assert answers(collection, queries, **wide) == expected
    assert answers(collection, queries) == exact_answers(collection, queries, monkeypatch)


def test_users_through_the_index_equal_exact_search(collection, faces, monkeypatch,
                                                    faiss_calls):
    vectors, queries = faces
    ids = ids_at(collection, range(400))
    with collection.write() as tx:
        for u in range(100):
            tx.create_user(f"user-{u}")
            tx.set_face_user(ids[4 * u:4 * u + 4], f"user-{u}")
    search_index.build(collection)
    probes = np.concatenate([vectors[:400:7], queries])

    pairs = [np.stack([probes[i], probes[-1 - i]]) for i in range(10)]  # a user's faces

    def users(**kwargs):
        return ([collection.nearest_users(q, 5, MATCH, **kwargs) for q in probes]
                + [collection.nearest_users(q, 5, MATCH, **kwargs) for q in pairs])

    with monkeypatch.context() as patch:
        patch.setenv(search_index.MIN_FACES_ENV, str(10 ** 9))
        expected = users()
        expected_excluding = users(exclude_user_ids=["user-0", "user-1"])
    assert any(expected)
    # Few associated faces: they are measured exactly, faiss is not asked.
    assert users() == expected and not faiss_calls
    # Past _USER_SCAN_LIMIT the nearest faces are walked through the index.
    monkeypatch.setattr(collection_module, "_USER_SCAN_LIMIT", 0)
    assert users() == expected
    assert users(exclude_user_ids=["user-0", "user-1"]) == expected_excluding
    assert len(faiss_calls) >= 2 * (len(probes) + len(pairs))


def test_real_faces_through_the_index_equal_exact_search(collection, real_descriptors,
                                                         monkeypatch, faiss_calls):
    assert len(real_descriptors) >= 10  # ../shared/faces/people: 13 photos, a face each
    collection.bulk_add_faces(records(real_descriptors[::2]))
    search_index.build(collection)
    collection.bulk_add_faces(records(real_descriptors[1::2]))  # and some in the tail
    assert search_index.status(collection)["TailRows"] == len(real_descriptors[1::2])
    for kwargs in ({}, {"k": 100, "max_distance": 0.9}):
        expected = exact_answers(collection, real_descriptors, monkeypatch, **kwargs)
        faiss_calls.clear()
        assert answers(collection, real_descriptors, **kwargs) == expected
        assert len(faiss_calls) >= len(real_descriptors)
        assert all(hits and hits[0][1] < 1e-3 for hits in expected)  # each finds itself
    # Two photos of one person (both indexed and tail) find each other.
    same = exact_answers(collection, real_descriptors, monkeypatch)
    assert sum(len(hits) for hits in same) > len(real_descriptors)


# -- adds: the tail, appends, full builds -----------------------------------------------


def test_faces_added_after_the_build_are_scanned_then_appended(collection, faces,
                                                                monkeypatch, faiss_calls):
    vectors, queries = faces
    first = search_index.build(collection)
    rng = np.random.default_rng(3)
    near = queries[:10] + rng.standard_normal((10, 128)).astype(np.float32) * 0.01
    collection.bulk_add_faces(records(near))
    collection.bulk_add_faces(records(vectors[:190] + 0.02))
    status = search_index.status(collection)
    assert status["State"] == "CURRENT" and status["TailRows"] == 200
    assert status["CoveredRows"] == N

    found = answers(collection, queries)
    assert found == exact_answers(collection, queries, monkeypatch) and faiss_calls
    added = set(ids_at(collection, range(N, N + 10)))
    assert all(hits[0][0] in added for hits in found[:10])  # the tail's faces come first

    monkeypatch.setattr(search_index, "UPDATE_TAIL_ROWS", 100)
    assert search_index.status(collection)["State"] == "STALE"
    faiss_calls.clear()
    assert answers(collection, queries) == exact_answers(collection, queries, monkeypatch)
    assert faiss_calls  # a stale index is still used (its tail scanned exactly)

    # Faces deleted before the append, covered and in the tail: their codes stay zero.
    deleted_rows = [2, N + 11, N + 150]
    deleted = delete_rows(collection, deleted_rows)
    appended = search_index.build(collection)
    assert appended["Kind"] == "APPEND" and appended["Rows"] == 200
    # The margin is kept, or grows to cover the appended faces (calibrated on them too).
    assert appended["CoveredRows"] == N + 200 and appended["Margin"] >= first["Margin"]
    status = search_index.status(collection)
    assert status["State"] == "CURRENT" and status["TailRows"] == 0
    assert all(not c.any() for c in stored_codes(collection, deleted_rows).values())
    assert not collection.verify()["problems"]
    faiss_calls.clear()
    found = answers(collection, queries)
    assert found == exact_answers(collection, queries, monkeypatch) and faiss_calls
    assert not found_ids(found) & set(deleted)

    full = search_index.build(collection, full=True)
    assert full["Kind"] == "FULL" and full["Rows"] == full["CoveredRows"] == N + 200
    faiss_calls.clear()
    assert answers(collection, queries) == exact_answers(collection, queries, monkeypatch)
    assert faiss_calls
    assert not collection.verify()["problems"]


def test_a_stale_index_is_updated_in_the_background_by_appending(collection, faces,
                                                                 monkeypatch, faiss_calls):
    vectors, queries = faces
    first = search_index.build(collection)
    first_codebook = codebook(collection)
    collection.bulk_add_faces(records(vectors[:150] + 0.02))
    monkeypatch.setattr(search_index, "UPDATE_TAIL_ROWS", 100)
    monkeypatch.setenv(search_index.BUILD_ENV, "background")
    expected = exact_answers(collection, queries, monkeypatch)
    assert answers(collection, queries) == expected and faiss_calls  # used meanwhile
    resident = search_index._OPEN[str(index_path(collection))]
    deadline = time.monotonic() + 120
    while search_index.status(collection)["TailRows"]:
        assert time.monotonic() < deadline, "the background update did not finish"
        time.sleep(0.2)
    status = search_index.status(collection)
    assert status["State"] == "CURRENT" and status["CoveredRows"] == N + 150
    # Appended, not retrained: the codebook is the first build's (the margin may grow).
    assert codebook(collection) == first_codebook and status["Margin"] >= first["Margin"]
    faiss_calls.clear()
    assert answers(collection, queries) == expected and faiss_calls
    reloaded = search_index._OPEN[str(index_path(collection))]
    assert reloaded is not resident and reloaded.covered_rows == N + 150  # the new file


def test_a_build_that_a_compaction_overtook_is_dropped(collection, faces, monkeypatch,
                                                       faiss_calls):
    from rekcli.store import constants

    _, queries = faces
    monkeypatch.setattr(constants, "COMPACT_MIN_DELETED", 100)
    real_write = search_index.write_index

    def write_then_compact(*args, **kwargs):
        real_write(*args, **kwargs)
        delete_rows(collection, range(1, N, 2))  # renumbers the rows it was built from

    monkeypatch.setattr(search_index, "write_index", write_then_compact)
    assert search_index.build(collection) is None
    assert not index_path(collection).exists() and not temp_files(collection)
    assert answers(collection, queries) == exact_answers(collection, queries, monkeypatch)
    assert not faiss_calls


# -- deletes ------------------------------------------------------------------------------


def test_deleted_faces_never_come_back_and_their_codes_are_wiped(collection, faces,
                                                                   monkeypatch, faiss_calls):
    vectors, queries = faces
    search_index.build(collection)
    before = answers(collection, queries[:5])
    resident = search_index._OPEN[str(index_path(collection))]  # this process keeps it
    doomed = sorted(found_ids(before))
    assert doomed and faiss_calls
    rows = rows_of(collection, doomed)
    kept_row = next(r for r in range(N) if r not in rows)
    assert all(code.any() for code in stored_codes(collection, rows).values())
    wipes = wipe_count(collection)

    # Another process deletes them while this one holds the index open.
    deleted = run_subprocess("delete-faces", "--collection-id", "c", "--face-ids", *doomed,
                             env=env_of(collection))
    assert deleted.returncode == 0, deleted.stderr
    assert wipe_count(collection) == wipes + 1
    assert all(not code.any() for code in stored_codes(collection, rows).values())
    assert stored_codes(collection, [kept_row])[kept_row].any()

    faiss_calls.clear()
    after = answers(collection, queries)
    assert faiss_calls and not found_ids(after) & set(doomed)
    assert after == exact_answers(collection, queries, monkeypatch)
    reloaded = search_index._OPEN[str(index_path(collection))]
    assert reloaded is not resident and reloaded.wipes == wipes + 1

    # A delete in this process, through the same collection: wiped too.
    more = [hits[0][0] for hits in after[5:10] if hits]
    more_rows = rows_of(collection, more)
    assert more_rows
    with collection.write() as tx:
        tx.delete_faces(more)
    assert wipe_count(collection) == wipes + 2
    assert all(not c.any() for c in stored_codes(collection, rows + more_rows).values())
    faiss_calls.clear()
    assert not found_ids(answers(collection, queries)) & set(more) and faiss_calls

    code, entry = check_store(collection)
    assert code == 0 and entry["SearchIndex"] == "CURRENT" and not entry["Problems"]


def test_a_delete_killed_before_its_wipe_is_not_damage(collection, faces, monkeypatch,
                                                       faiss_calls):
    """kill -9 after a delete committed, before its rows were wiped: the rows wait in
    pending_tombstones (the next write wipes them), and check-store accepts that for the
    vector file; it must for the index too."""
    _, queries = faces
    search_index.build(collection)
    doomed = ids_at(collection, [7, 8])
    killed = run_subprocess("delete-faces", "--collection-id", "c", "--face-ids", *doomed,
                            env={**env_of(collection), "REKCLI_TEST_KILL_AT": "delete-committed"})
    assert killed.returncode == -9
    assert all(code.any() for code in stored_codes(collection, [7, 8]).values())
    code, entry = check_store(collection)
    assert code == 0 and entry["SearchIndex"] == "CURRENT" and not entry["Problems"]
    assert index_path(collection).exists()
    found = answers(collection, queries)
    assert found == exact_answers(collection, queries, monkeypatch) and faiss_calls
    assert not found_ids(found) & set(doomed)
    collection.bulk_add_faces(records(faces[0][:1]))  # the next write wipes them
    assert all(not code.any() for code in stored_codes(collection, [7, 8]).values())
    code, entry = check_store(collection)
    assert code == 0 and entry["SearchIndex"] == "CURRENT" and not entry["Problems"]


def test_an_append_over_a_delete_killed_before_its_wipe_wipes_it(collection, faces):
    """The build's snapshot sees the delete's rows in pending_tombstones while the index
    it extends still holds their codes; the write that installs it wipes the old file
    (which is then replaced): the appended file must not carry them."""
    vectors, _ = faces
    search_index.build(collection)
    collection.bulk_add_faces(records(vectors[:40] + 0.01))
    doomed = ids_at(collection, [7, N + 3])
    killed = run_subprocess("delete-faces", "--collection-id", "c", "--face-ids", *doomed,
                            env={**env_of(collection), "REKCLI_TEST_KILL_AT": "delete-committed"})
    assert killed.returncode == -9
    assert search_index.build(collection)["Kind"] == "APPEND"
    assert all(not code.any() for code in stored_codes(collection, [7, N + 3]).values())
    checked = collection.verify()
    assert not checked["problems"] and checked["search_index"] == "CURRENT"


def test_check_store_finds_codes_that_do_not_match_the_vectors(collection, faces):
    search_index.build(collection)
    delete_rows(collection, [5])
    code, entry = check_store(collection)
    assert code == 0 and entry["SearchIndex"] == "CURRENT" and not entry["Problems"]

    # A deleted face's code put back (as a wipe that never happened would leave it).
    index = search_index.SearchIndex(index_path(collection))
    codes_at = index._codes_at
    index.close()
    packer = faiss.IndexPQFastScan(128, search_index.SUBQUANTIZERS, 4).get_CodePacker()
    block_bytes = bytearray(index_bytes(collection)[codes_at:codes_at + packer.block_size])
    block = np.frombuffer(block_bytes, np.uint8).reshape(1, -1).copy()
    packer.pack_1(stored_codes(collection, [6])[6], 5, block)
    with open(index_path(collection), "r+b") as f:
        f.seek(codes_at)
        f.write(block.tobytes())
    checked = collection.verify()
    assert checked["search_index"] == "DAMAGED"
    assert "do not match" in " ".join(checked["problems"])
    assert not index_path(collection).exists()  # removed: the next search rebuilds it

    # Codes of live faces flipped.
    search_index.build(collection)
    index = search_index.SearchIndex(index_path(collection))
    codes_at = index._codes_at
    index.close()
    flip(index_path(collection), codes_at + 3 * packer.block_size + 17, 8)
    code, entry = check_store(collection)
    assert code == 254 and entry["SearchIndex"] == "DAMAGED"
    assert not index_path(collection).exists()

    # A codebook that does not match its checksum.
    search_index.build(collection)
    flip(index_path(collection), 4096 + 8)
    checked = collection.verify()
    assert checked["search_index"] == "DAMAGED"
    assert "search-index --rebuild" in " ".join(checked["problems"])


def test_faces_deleted_while_the_index_was_building_are_wiped_before_it_is_used(
        collection, faces, monkeypatch, ctx, faiss_calls):
    _, queries = faces
    doomed_rows = list(range(0, 50))
    doomed = ids_at(collection, doomed_rows)
    real_write = search_index.write_index

    def write_then_delete(*args, **kwargs):
        real_write(*args, **kwargs)
        with Store(ctx) as store:  # another connection, as another process would
            other = store.open_collection("c")
            with other.write() as tx:
                tx.delete_faces(doomed)
            other.close()

    monkeypatch.setattr(search_index, "write_index", write_then_delete)
    assert search_index.build(collection)["Kind"] == "FULL"
    assert all(not code.any() for code in stored_codes(collection, doomed_rows).values())
    found = answers(collection, queries)
    assert found == exact_answers(collection, queries, monkeypatch) and faiss_calls
    assert not found_ids(found) & set(doomed)
    assert not collection.verify()["problems"]


def test_a_build_while_another_process_adds_and_deletes_stays_exact(collection, faces,
                                                                     monkeypatch, faiss_calls):
    from rekcli.store import constants

    vectors, queries = faces
    # This process deletes up to a few thousand faces: no compaction (its own test).
    monkeypatch.setattr(constants, "COMPACT_MIN_DELETED", 10 ** 9)
    rng = np.random.default_rng(11)
    builder = subprocess.Popen(
        [sys.executable, "-m", "rekcli", "search-index", "--collection-id", "c", "--rebuild"],
        env={**os.environ, **env_of(collection)}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE)
    deleted_rows: list[int] = []
    deleted_ids: list[str] = []
    rounds = 0
    while (builder.poll() is None and rounds < 400) or rounds < 3:
        collection.bulk_add_faces(records(vectors[rng.integers(0, N, 20)] + 0.01))
        rows = sorted({int(r) for r in rng.integers(0, N + 20 * rounds, 10)} - set(deleted_rows))
        ids = ids_at(collection, rows)
        with collection.write() as tx:
            tx.delete_faces(ids)
        deleted_rows += rows
        deleted_ids += ids
        rounds += 1
    out, err = builder.communicate(timeout=120)
    assert builder.returncode == 0, err
    assert json.loads(out)["Rebuilt"] is True
    covered = search_index.status(collection)["CoveredRows"]
    wiped = [row for row in deleted_rows if row < covered]
    assert wiped and all(not c.any() for c in stored_codes(collection, wiped).values())
    found = answers(collection, queries)
    assert found == exact_answers(collection, queries, monkeypatch) and faiss_calls
    assert not found_ids(found) & set(deleted_ids)
    assert not collection.verify()["problems"]
    assert search_index.build(collection) is not None  # appends what was added meanwhile
    assert search_index.status(collection)["TailRows"] == 0
    assert not collection.verify()["problems"]


# -- kills, damage, compaction ----------------------------------------------------------


@pytest.mark.parametrize("point,with_old_index", [
    ("index-encoding", False), ("index-written", False), ("index-written", True),
    ("index-installing", True)])
def test_kill_9_mid_build_leaves_the_old_index_or_none(collection, faces, monkeypatch,
                                                       faiss_calls, point, with_old_index):
    vectors, queries = faces
    if with_old_index:
        search_index.build(collection)
        collection.bulk_add_faces(records(vectors[:20] + 0.01))
    before = index_bytes(collection) if with_old_index else None
    args = ["search-index", "--collection-id", "c", "--rebuild"]
    if point == "index-encoding" or not with_old_index:
        args.append("--full")
    result = run_subprocess(*args, env={**env_of(collection),
                                        "REKCLI_TEST_KILL_AT": point})
    assert result.returncode == -9
    if point != "index-encoding":
        assert temp_files(collection)  # it died with its file written, not renamed
    if with_old_index:
        assert index_bytes(collection) == before
        assert search_index.status(collection)["TailRows"] == 20
    else:
        assert not index_path(collection).exists()
    assert answers(collection, queries) == exact_answers(collection, queries, monkeypatch)
    assert bool(faiss_calls) == with_old_index
    assert search_index.build(collection) is not None  # the debris does not stop a build
    assert not temp_files(collection)
    assert search_index.status(collection)["TailRows"] == 0
    faiss_calls.clear()
    assert answers(collection, queries) == exact_answers(collection, queries, monkeypatch)
    assert faiss_calls


@pytest.mark.parametrize("with_old_index", [False, True])
def test_a_delete_removes_the_file_of_a_builder_that_died(collection, faces, with_old_index):
    """A builder killed after writing its temp file leaves a copy of every code; with a
    current index beside it no build comes to clear it, so a delete must: no deleted
    face's code may stay anywhere."""
    vectors, _ = faces
    if with_old_index:
        search_index.build(collection)
        collection.bulk_add_faces(records(vectors[:20] + 0.01))
    killed = run_subprocess("search-index", "--collection-id", "c", "--rebuild", "--full",
                            env={**env_of(collection), "REKCLI_TEST_KILL_AT": "index-written"})
    assert killed.returncode == -9 and temp_files(collection)
    delete_rows(collection, [3])
    assert not temp_files(collection)
    assert index_path(collection).exists() == with_old_index
    if with_old_index:
        assert not stored_codes(collection, [3])[3].any()


@pytest.mark.parametrize("where", ["header", "codebook", "truncated"])
def test_a_damaged_index_is_searched_around_with_a_warning_and_rebuilt(
        collection, faces, monkeypatch, notices, faiss_calls, where):
    vectors, queries = faces
    search_index.build(collection)
    path = index_path(collection)
    if where == "truncated":
        os.truncate(path, path.stat().st_size // 2)
    else:
        flip(path, {"header": 20, "codebook": 4096 + 8}[where])
    queries = np.concatenate([queries, vectors[:20]])
    expected = exact_answers(collection, queries, monkeypatch)
    assert answers(collection, queries) == expected and not faiss_calls
    assert notices and all("warning" in n and "search index" in n and "damaged" in n
                           for n in notices)
    assert search_index.status(collection)["State"] == "DAMAGED"

    if where == "header":  # the command line says it the same way (once is enough)
        face_id = ids_at(collection, [0])[0]
        searched = run_subprocess("search-faces", "--collection-id", "c", "--face-id",
                                  face_id, env=env_of(collection))
        assert searched.returncode == 0, searched.stderr
        assert b"warning" in searched.stderr and b"damaged" in searched.stderr
        assert b"Traceback" not in searched.stderr
        matches = [m["Face"]["FaceId"] for m in json.loads(searched.stdout)["FaceMatches"]]
        assert matches and face_id not in matches

    monkeypatch.setenv(search_index.BUILD_ENV, "background")
    assert answers(collection, queries[:1]) == expected[:1]  # starts the rebuild
    deadline = time.monotonic() + 120
    while search_index.status(collection)["State"] != "CURRENT":
        assert time.monotonic() < deadline, "the background rebuild did not finish"
        time.sleep(0.2)
    faiss_calls.clear()
    assert answers(collection, queries) == expected and faiss_calls


def test_a_delete_removes_an_index_it_cannot_wipe(collection, faces, monkeypatch,
                                                   faiss_calls):
    _, queries = faces
    for row, damage in enumerate(("header", "codebook", "truncated", "other rows")):
        search_index.build(collection)
        path = index_path(collection)
        if damage == "truncated":
            os.truncate(path, path.stat().st_size - 4096)
        elif damage == "other rows":  # built over the rows before a compaction
            data = bytearray(path.read_bytes())
            field = search_index._HEADER.unpack_from(data)
            data[:search_index._HEADER.size] = search_index._HEADER.pack(
                *field[:7], field[7] + 1, *field[8:])
            path.write_bytes(bytes(data))
        else:
            flip(path, {"header": 20, "codebook": 4096 + 8}[damage])
        delete_rows(collection, [row])
        assert not path.exists(), damage
    faiss_calls.clear()
    assert answers(collection, queries) == exact_answers(collection, queries, monkeypatch)
    assert not faiss_calls


def test_compaction_makes_the_index_obsolete(collection, faces, monkeypatch, faiss_calls):
    from rekcli.store import constants

    _, queries = faces
    monkeypatch.setattr(constants, "COMPACT_MIN_DELETED", 100)
    search_index.build(collection)
    old = index_bytes(collection)
    delete_rows(collection, range(0, N, 2))  # past the threshold: renumbered
    assert not index_path(collection).exists()
    faiss_calls.clear()
    assert answers(collection, queries) == exact_answers(collection, queries, monkeypatch)
    assert not faiss_calls

    # An index of the rows before the compaction (a process that held it put it back).
    index_path(collection).write_bytes(old)
    os.chmod(index_path(collection), 0o600)
    assert search_index.status(collection)["State"] == "OBSOLETE"
    assert answers(collection, queries) == exact_answers(collection, queries, monkeypatch)
    assert not faiss_calls
    assert collection.verify()["search_index"] == "OBSOLETE"
    collection.bulk_add_faces(records(faces[0][:1]))  # the next write removes it
    assert not index_path(collection).exists()

    assert search_index.build(collection)["Kind"] == "FULL"
    assert answers(collection, queries) == exact_answers(collection, queries, monkeypatch)
    assert faiss_calls


# -- files --------------------------------------------------------------------------------


def test_index_files_are_private_whatever_the_umask(collection, faces):
    old = os.umask(0)
    try:
        search_index.build(collection)
        collection.bulk_add_faces(records(faces[0][:10]))
        search_index.build(collection)  # an append writes a new file too
        delete_rows(collection, [1])
    finally:
        os.umask(old)
    for name in (search_index.INDEX_FILE, search_index.BUILD_LOCK_FILE):
        assert oct(os.stat(collection.path / name).st_mode & 0o777) == "0o600", name


def test_deleting_the_collection_removes_the_index(collection, ctx):
    search_index.build(collection)
    path = collection.path
    assert (path / search_index.INDEX_FILE).exists()
    collection.close()
    with Store(ctx) as store:
        store.delete_collection("c")
    assert not path.exists()


@pytest.mark.parametrize("by", ["build", "write"])
def test_an_index_of_the_old_format_is_removed(collection, faces, monkeypatch, faiss_calls,
                                               by):
    _, queries = faces
    old = collection.path / search_index.OLD_INDEX_FILES[0]
    if by == "write":
        search_index.build(collection)
    old.write_bytes(b"REKIVF\x00\x01" + bytes(8192))
    if by == "build":
        assert search_index.build(collection)["Kind"] == "FULL"
        assert index_path(collection).exists()
    else:
        delete_rows(collection, [3])
        assert not index_path(collection).exists()  # cannot tell which was current
    assert not old.exists()
    assert answers(collection, queries) == exact_answers(collection, queries, monkeypatch)
    assert bool(faiss_calls) == (by == "build")


# -- when it is built ---------------------------------------------------------------------


def test_the_first_search_past_the_threshold_builds_the_index_in_the_background(
        collection, faces, monkeypatch, faiss_calls):
    monkeypatch.setenv(search_index.BUILD_ENV, "background")
    _, queries = faces
    expected = exact_answers(collection, queries, monkeypatch)
    assert answers(collection, queries) == expected and not faiss_calls  # exact meanwhile
    deadline = time.monotonic() + 120
    while search_index.status(collection)["State"] != "CURRENT":
        assert time.monotonic() < deadline, "the background build did not finish"
        time.sleep(0.2)
    assert answers(collection, queries) == expected and faiss_calls


def test_small_collections_search_exactly_without_an_index(collection, faces, monkeypatch,
                                                           faiss_calls):
    monkeypatch.setenv(search_index.MIN_FACES_ENV, str(N + 1))
    monkeypatch.setenv(search_index.BUILD_ENV, "background")
    answers(collection, faces[1])
    assert not index_path(collection).exists()
    assert not (collection.path / search_index.BUILD_LOCK_FILE).exists()
    assert not search_index._OPEN and not faiss_calls


# -- the command --------------------------------------------------------------------------


def test_search_index_command_shows_and_rebuilds(collection):
    env = env_of(collection)

    def run(*args):
        result = run_subprocess("search-index", "--collection-id", "c", *args, env=env)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    shown = run()
    assert shown["State"] == "NONE" and shown["CollectionId"] == "c"
    assert shown["Faces"] == N and shown["Threshold"] == 1000
    assert shown["File"] == str(index_path(collection))
    built = run("--rebuild")
    assert built["Rebuilt"] is True and built["Build"] == "FULL"
    assert built["State"] == "CURRENT" and built["CoveredRows"] == N
    assert built["TailRows"] == 0 and built["BytesPerRow"] == 32 and built["Margin"] > 0
    assert built["Bytes"] == index_path(collection).stat().st_size
    assert built["BuildSeconds"] >= 0
    collection.bulk_add_faces(records(np.zeros((3, 128), np.float32) + 0.1))
    assert run()["TailRows"] == 3
    appended = run("--rebuild")
    assert appended["Build"] == "APPEND" and appended["CoveredRows"] == N + 3
    assert appended["Margin"] >= built["Margin"]
    assert run("--rebuild", "--full")["Build"] == "FULL"
    assert oct(os.stat(index_path(collection)).st_mode & 0o777) == "0o600"


def test_search_index_command_help_and_errors(tmp_path):
    page = run_subprocess("search-index", "--help")
    assert page.returncode == 0 and b"rekcli search-index - " in page.stdout
    missing = run_subprocess("search-index", "--collection-id", "nope",
                             env={"REKCLI_DATA_DIR": str(tmp_path / "data")})
    assert missing.returncode == 254 and b"ResourceNotFoundException" in missing.stderr
    assert run_subprocess("search-index").returncode == 252
    full_alone = run_subprocess("search-index", "--collection-id", "nope", "--full",
                                env={"REKCLI_DATA_DIR": str(tmp_path / "data")})
    assert full_alone.returncode == 252 and b"--rebuild" in full_alone.stderr


def test_without_faiss_every_search_is_exact_and_rebuild_says_how_to_get_it(
        collection, faces, monkeypatch, tmp_path):
    _, queries = faces
    search_index.build(collection)
    blocker = tmp_path / "no-faiss"
    blocker.mkdir()
    (blocker / "faiss.py").write_text("raise ImportError('faiss is blocked by the test')\n")
    env = {**env_of(collection),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(blocker),
                                                       os.environ.get("PYTHONPATH")]))}

    rebuilt = run_subprocess("search-index", "--collection-id", "c", "--rebuild", env=env)
    assert rebuilt.returncode == 255
    assert b"pip install 'rekcli[search-index]'" in rebuilt.stderr
    assert b"Traceback" not in rebuilt.stderr
    shown = run_subprocess("search-index", "--collection-id", "c", env=env)
    assert shown.returncode == 0 and json.loads(shown.stdout)["State"] == "UNAVAILABLE"

    face_id = ids_at(collection, [0])[0]
    searched = run_subprocess("search-faces", "--collection-id", "c", "--face-id", face_id,
                              "--max-faces", "20", env=env)
    assert searched.returncode == 0, searched.stderr
    got = [(m["Face"]["FaceId"], m["Similarity"])
           for m in json.loads(searched.stdout)["FaceMatches"]]
    exact = run_subprocess("search-faces", "--collection-id", "c", "--face-id", face_id,
                           "--max-faces", "20",
                           env={**env_of(collection), search_index.MIN_FACES_ENV: "999999999"})
    want = [(m["Face"]["FaceId"], m["Similarity"])
            for m in json.loads(exact.stdout)["FaceMatches"]]
    assert got == want and got

    # A delete where faiss cannot wipe the codes removes the index instead.
    deleted = run_subprocess("delete-faces", "--collection-id", "c", "--face-ids", face_id,
                             env=env)
    assert deleted.returncode == 0, deleted.stderr
    assert not index_path(collection).exists()
    assert answers(collection, queries) == exact_answers(collection, queries, monkeypatch)


def test_rows_past_the_first_thousand_blocks_are_wiped_checked_and_built(ctx, monkeypatch,
                                                                         faiss_calls):
    """Rows from 32,768 on (faiss's Python wrapper of pack_1 takes offsets within 32
    blocks of 32 rows only): deleting, checking and building around them."""
    rng = np.random.default_rng(5)
    model = face_model.parametric()
    vectors, who, centres = face_model.collection(model, rng, 33_000)
    queries, _ = face_model.probes(model, rng, centres, who, 5)
    with Store(ctx) as store:
        store.create_collection("big")
        big = store.open_collection("big")
        try:
            big.bulk_add_faces(records(vectors))
            search_index.build(big)
            rows = [40, 32_768, 32_800, 32_999]
            wipes = wipe_count(big)
            doomed = delete_rows(big, rows)
            assert wipe_count(big) == wipes + 1
            assert all(not c.any() for c in stored_codes(big, rows).values())
            assert not big.verify()["problems"]
            assert search_index.build(big, full=True)["Kind"] == "FULL"
            assert all(not c.any() for c in stored_codes(big, rows).values())
            assert not big.verify()["problems"]
            found = answers(big, np.concatenate([queries, vectors[rows]]))
            assert found == exact_answers(big, np.concatenate([queries, vectors[rows]]),
                                          monkeypatch) and faiss_calls
            assert not found_ids(found) & set(doomed)
        finally:
            big.close()


def test_a_row_exactly_at_a_band_bound_is_not_lost(collection, faces, monkeypatch):
    """Two identical faces, faiss's rows measured one at a time, no margin: the first band
    ends exactly at their distance, with the twin not measured yet; the next band must
    still give it (it once kept only rows past the bound)."""
    from rekcli.store import vectors as vec

    vectors, _ = faces
    collection.bulk_add_faces(records(vectors[:1]))  # row N: a twin of row 0
    search_index.build(collection)
    query = (vectors[0] + 0.01).astype(np.float32)
    d2 = float(vec.approx_squared_distances(collection.vectors.gather([0]), query[None])[0])

    def twins_only(self, queries, k):
        return np.array([0, N], dtype=np.int64), np.array([d2, d2]), math.inf

    monkeypatch.setattr(search_index.SearchIndex, "nearest_rows", twins_only)
    monkeypatch.setattr(search_index, "FIRST_MEASURED_ROWS", 1)
    monkeypatch.setenv(search_index.MARGIN_ENV, "0")
    found = collection.nearest_faces(query, 10, MATCH)
    assert len(found) == 2 and found[0][1] == found[1][1]


def test_faiss_refusing_a_search_means_a_warning_and_an_exact_answer(collection, faces,
                                                                     monkeypatch, notices):
    _, queries = faces
    search_index.build(collection)
    expected = exact_answers(collection, queries[:3], monkeypatch)

    def refusing(self, queries, k):
        raise RuntimeError("Error in faiss::IndexFastScan::search")

    monkeypatch.setattr(search_index.SearchIndex, "nearest_rows", refusing)
    assert answers(collection, queries[:3]) == expected
    assert notices and "search index" in notices[0] and "searching exactly" in notices[0]
