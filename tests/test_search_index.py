"""The search index of large collections (store/search_index.py): searches through it give
exact search's answers; adds, deletes, kills mid-build and damage never change an answer;
deleted faces leave no byte behind in it. Small collections with a test-only threshold."""

from __future__ import annotations

import os
import sys
import time

import numpy as np
import pytest

from cli_helpers import run_subprocess
from conftest import REPO_ROOT
from rekcli.service.context import ServiceContext
from rekcli.store import NewFace, Store
from rekcli.store import collection as collection_module
from rekcli.store import search_index

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
import face_model  # noqa: E402

BOX = {"Width": 0.25, "Height": 0.5, "Left": -0.05, "Top": 0.125}
N = 5000
MATCH = 0.6  # FaceMatchThreshold 80 is a distance of about 0.6


@pytest.fixture(autouse=True)
def index_settings(monkeypatch):
    monkeypatch.setenv(search_index.MIN_FACES_ENV, "1000")
    monkeypatch.setenv(search_index.BUILD_ENV, "off")
    # Every list probed: the index path then must give exactly the exhaustive answer, so
    # any difference is a bug of the plumbing (recall is measured by bench_search.py).
    monkeypatch.setattr(search_index, "SEARCH_INDEX_PROBE_FRACTION", 1.0)
    yield
    search_index._OPEN.clear()


@pytest.fixture
def notices():
    return []


@pytest.fixture
def ctx(tmp_path, notices):
    return ServiceContext(data_dir=tmp_path / "rekcli-data", notify=notices.append)


@pytest.fixture
def faces():
    rng = np.random.default_rng(7)
    model = face_model.parametric()
    vectors, who, centres = face_model.collection(model, rng, N)
    queries, _ = face_model.probes(model, rng, centres, who, 30)
    return vectors, queries


@pytest.fixture
def collection(ctx, faces):
    with Store(ctx) as store:
        store.create_collection("c")
        collection = store.open_collection("c")
        collection.bulk_add_faces(records(faces[0]))
        yield collection
        collection.close()


def records(vectors):
    return [("img", None, NewFace(dict(BOX), 99.5, v)) for v in vectors]


def answers(collection, queries, k=10, max_distance=MATCH):
    return [[(face.face_id, distance) for face, distance in
             collection.nearest_faces(q, k, max_distance)] for q in queries]


def exact_answers(collection, queries, monkeypatch, **kwargs):
    with monkeypatch.context() as patch:
        patch.setenv(search_index.MIN_FACES_ENV, str(10 ** 9))
        return answers(collection, queries, **kwargs)


def index_in_use(collection) -> bool:
    return str(collection.path / search_index.INDEX_FILE) in search_index._OPEN


def index_bytes(collection) -> bytes:
    return (collection.path / search_index.INDEX_FILE).read_bytes()


def test_search_through_the_index_equals_exact_search(collection, faces, monkeypatch):
    _, queries = faces
    built = search_index.build(collection)
    assert built["Rows"] == N and built["Lists"] == search_index.list_count(N)
    for kwargs in ({}, {"k": 3}, {"k": 20, "max_distance": float("inf")}):
        expected = exact_answers(collection, queries, monkeypatch, **kwargs)
        assert answers(collection, queries, **kwargs) == expected
        assert index_in_use(collection)
    assert sum(len(a) for a in answers(collection, queries)) > len(queries)  # real matches


def test_users_through_the_index_equal_exact_search(collection, faces, monkeypatch):
    monkeypatch.setattr(collection_module, "_USER_SCAN_LIMIT", 0)  # walk the nearest faces
    vectors, queries = faces
    with collection.read() as tx:
        ids = [face.face_id for face in tx.list_faces(None, 400)]
    with collection.write() as tx:
        for u in range(100):
            tx.create_user(f"user-{u}")
            tx.set_face_user(ids[4 * u:4 * u + 4], f"user-{u}")
    search_index.build(collection)

    def users():
        return [collection.nearest_users(q, 5, MATCH) for q in vectors[:400:7]]

    with monkeypatch.context() as patch:
        patch.setenv(search_index.MIN_FACES_ENV, str(10 ** 9))
        expected = users()
    assert users() == expected and any(expected)
    assert index_in_use(collection)


def test_faces_added_after_the_build_are_found(collection, faces, monkeypatch):
    vectors, queries = faces
    search_index.build(collection)
    rng = np.random.default_rng(3)
    near = queries[:10] + rng.standard_normal((10, 128)).astype(np.float32) * 0.01
    collection.bulk_add_faces(records(near))
    status = search_index.status(collection)
    assert status["State"] == "CURRENT" and status["TailRows"] == 10
    found = answers(collection, queries)
    assert found == exact_answers(collection, queries, monkeypatch)
    with collection.read() as tx:
        added = {face.face_id for face in tx.faces_at_rows(range(N, N + 10)).values()}
    assert all(any(face_id in added for face_id, _ in hits[:1]) for hits in found[:10])


def test_deleted_faces_never_come_back_and_their_bytes_are_gone(collection, faces,
                                                                  monkeypatch):
    vectors, queries = faces
    search_index.build(collection)
    first = answers(collection, queries[:5])
    doomed = sorted({face_id for hits in first for face_id, _ in hits})
    assert doomed
    with collection.read() as tx:
        rows = [face.row for face in tx.get_faces(doomed).values()]
    with collection.write() as tx:
        tx.delete_faces(doomed)
    after = answers(collection, queries)
    assert not {face_id for hits in after for face_id, _ in hits} & set(doomed)
    assert after == exact_answers(collection, queries, monkeypatch)
    data = index_bytes(collection)
    for row in rows:
        assert vectors[row].tobytes() not in data
    assert vectors[[r for r in range(N) if r not in rows][0]].tobytes() in data  # sanity


def test_faces_deleted_while_the_index_was_building_are_wiped_before_it_is_used(
        collection, faces, monkeypatch, ctx):
    vectors, queries = faces
    doomed_rows = list(range(0, 50))
    real_write = search_index.write_index

    def write_then_delete(*args, **kwargs):
        real_write(*args, **kwargs)
        with Store(ctx) as store:  # another connection, as another process would
            other = store.open_collection("c")
            with other.read() as tx:
                ids = [f.face_id for f in tx.faces_at_rows(doomed_rows).values()]
            with other.write() as tx:
                tx.delete_faces(ids)
            other.close()

    monkeypatch.setattr(search_index, "write_index", write_then_delete)
    assert search_index.build(collection) is not None
    data = index_bytes(collection)
    for row in doomed_rows:
        assert vectors[row].tobytes() not in data
    assert answers(collection, queries) == exact_answers(collection, queries, monkeypatch)


@pytest.mark.parametrize("point", ["index-copying", "index-written", "index-installing"])
def test_kill_9_mid_build_leaves_the_old_index_or_none(collection, faces, monkeypatch, point):
    vectors, queries = faces
    with_old_index = point == "index-installing"
    if with_old_index:
        search_index.build(collection)
        collection.bulk_add_faces(records(vectors[:20] + 0.01))
    before = index_bytes(collection) if with_old_index else None
    result = run_subprocess("search-index", "--collection-id", "c", "--rebuild",
                            env={"REKCLI_DATA_DIR": str(collection.store.region_dir.parent),
                                 "REKCLI_TEST_KILL_AT": point})
    assert result.returncode == -9
    index_file = collection.path / search_index.INDEX_FILE
    if with_old_index:
        assert index_bytes(collection) == before
        assert search_index.status(collection)["TailRows"] == 20
    else:
        assert not index_file.exists()
    assert answers(collection, queries) == exact_answers(collection, queries, monkeypatch)
    assert search_index.build(collection) is not None  # the debris does not stop a build
    assert not [n for n in os.listdir(collection.path) if n.startswith(search_index.TEMP_PREFIX)]
    assert search_index.status(collection)["TailRows"] == 0


@pytest.mark.parametrize("where", ["header", "centroids", "row"])
def test_a_damaged_index_is_searched_around_with_a_warning(collection, faces, monkeypatch,
                                                           notices, where):
    vectors, queries = faces
    search_index.build(collection)
    path = collection.path / search_index.INDEX_FILE
    index = search_index.SearchIndex(path)
    offset = {"header": 20, "centroids": 4096 + 8,
              "row": index._rows_at + 3 * 528 + 8}[where]
    index.close()
    with open(path, "r+b") as f:
        f.seek(offset)
        old = f.read(4)
        f.seek(offset)
        f.write(bytes(b ^ 0x5A for b in old))
    queries = np.concatenate([queries, vectors[:40]])  # some land in the damaged list
    expected = exact_answers(collection, queries, monkeypatch)
    assert answers(collection, queries) == expected
    assert notices and "search index" in notices[0] and "damaged" in notices[0]
    assert search_index.status(collection)["State"] in ("DAMAGED", "CURRENT")
    search_index.build(collection)
    assert search_index.status(collection)["State"] == "CURRENT"


def test_the_first_search_past_the_threshold_builds_the_index_in_the_background(
        collection, faces, monkeypatch):
    monkeypatch.setenv(search_index.BUILD_ENV, "background")
    monkeypatch.setenv("REKCLI_DATA_DIR", str(collection.store.region_dir.parent))
    _, queries = faces
    expected = exact_answers(collection, queries, monkeypatch)
    assert answers(collection, queries) == expected  # answered exactly meanwhile
    deadline = time.monotonic() + 120
    while search_index.status(collection)["State"] != "CURRENT":
        assert time.monotonic() < deadline, "the background build did not finish"
        time.sleep(0.2)
    assert answers(collection, queries) == expected
    assert index_in_use(collection)


def test_small_collections_search_exactly_without_an_index(collection, faces, monkeypatch):
    monkeypatch.setenv(search_index.MIN_FACES_ENV, str(N + 1))
    monkeypatch.setenv(search_index.BUILD_ENV, "background")
    answers(collection, faces[1])
    assert not (collection.path / search_index.INDEX_FILE).exists()
    assert not (collection.path / search_index.BUILD_LOCK_FILE).exists()
    assert not index_in_use(collection)


def test_compaction_and_collection_deletion_remove_the_index(collection, faces, ctx,
                                                              monkeypatch):
    from rekcli.store import constants

    monkeypatch.setattr(constants, "COMPACT_MIN_DELETED", 100)
    search_index.build(collection)
    with collection.read() as tx:
        ids = [face.face_id for face in tx.list_faces(None, N)]
    with collection.write() as tx:
        tx.delete_faces(ids[: N // 2])  # past the compaction threshold: renumbered
    assert not (collection.path / search_index.INDEX_FILE).exists()
    _, queries = faces
    assert answers(collection, queries) == exact_answers(collection, queries, monkeypatch)
    search_index.build(collection)
    path = collection.path
    with Store(ctx) as store:
        store.delete_collection("c")
    assert not path.exists()


def test_search_index_command_shows_and_rebuilds(collection):
    env = {"REKCLI_DATA_DIR": str(collection.store.region_dir.parent)}
    import json

    shown = run_subprocess("search-index", "--collection-id", "c", env=env)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["State"] == "NONE"
    built = run_subprocess("search-index", "--collection-id", "c", "--rebuild", env=env)
    report = json.loads(built.stdout)
    assert report["Rebuilt"] is True and report["State"] == "CURRENT"
    assert report["Rows"] == N and report["Faces"] == N and report["TailRows"] == 0
    assert oct(os.stat(collection.path / search_index.INDEX_FILE).st_mode & 0o777) == "0o600"


def test_check_store_checks_the_index(collection, faces):
    import json

    env = {"REKCLI_DATA_DIR": str(collection.store.region_dir.parent)}
    vectors, _ = faces
    search_index.build(collection)
    with collection.read() as tx:
        doomed = tx.faces_at_rows([5])[5]
    with collection.write() as tx:
        tx.delete_faces([doomed.face_id])

    def check():
        result = run_subprocess("check-store", "--collection-id", "c", env=env)
        return result.returncode, json.loads(result.stdout)["Collections"][0]

    code, entry = check()
    assert code == 0 and entry["SearchIndex"] == "CURRENT" and not entry["Problems"]
    # A deleted face's descriptor put back into its slot is found.
    index = search_index.SearchIndex(collection.path / search_index.INDEX_FILE)
    offset = index._rows_at + int(index.slot_of_row[5]) * 528
    index.close()
    from rekcli.store.vectors import augmented_rows

    with open(collection.path / search_index.INDEX_FILE, "r+b") as f:
        f.seek(offset)
        f.write(augmented_rows(vectors[5:6]).tobytes())
    code, entry = check()
    assert code == 254 and "still hold their descriptors" in " ".join(entry["Problems"])
    with open(collection.path / search_index.INDEX_FILE, "r+b") as f:
        f.seek(4096)
        f.write(b"\xff" * 8)
    code, entry = check()
    assert code == 254 and entry["SearchIndex"] == "DAMAGED"
    assert "search-index --rebuild" in " ".join(entry["Problems"])


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


def test_real_faces_through_the_index_equal_exact_search(collection, real_descriptors,
                                                         monkeypatch):
    assert len(real_descriptors) >= 10  # ../shared/faces/people: 13 photos, a face each
    collection.bulk_add_faces(records(real_descriptors))
    search_index.build(collection)
    expected = exact_answers(collection, real_descriptors, monkeypatch)
    assert answers(collection, real_descriptors) == expected
    assert index_in_use(collection)
    assert all(hits for hits in expected)  # each real face finds at least itself


def test_search_index_command_help_and_errors(tmp_path):
    page = run_subprocess("search-index", "--help")
    assert page.returncode == 0 and b"rekcli search-index - " in page.stdout
    missing = run_subprocess("search-index", "--collection-id", "nope",
                             env={"REKCLI_DATA_DIR": str(tmp_path / "data")})
    assert missing.returncode == 254 and b"ResourceNotFoundException" in missing.stderr
    assert run_subprocess("search-index").returncode == 252
