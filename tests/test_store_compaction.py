"""Online compaction of vector files: under kill -9, and with readers searching meanwhile."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from rekcli.service.context import ServiceContext
from rekcli.store import NewFace, Store, constants
from rekcli.store import vectors as vectors_module

REPO = Path(__file__).resolve().parent.parent
BOX = {"Width": 0.25, "Height": 0.5, "Left": 0.1, "Top": 0.125}
N = 40

# The child: low compaction thresholds, then one write; the parent may have it killed at a
# named point (REKCLI_TEST_KILL_AT).
CHILD = textwrap.dedent("""
    import sys
    from pathlib import Path
    import numpy as np
    from rekcli.service.context import ServiceContext
    from rekcli.store import NewFace, Store, constants

    constants.COMPACT_MIN_DELETED = 1
    data_dir, action = Path(sys.argv[1]), sys.argv[2]
    collection = Store(ServiceContext(data_dir=data_dir)).open_collection("c")
    if action == "delete":
        with collection.write() as tx:
            tx.delete_faces(sys.argv[3:])
    else:
        vector = np.load(sys.argv[3])
        box = {"Width": 0.1, "Height": 0.1, "Left": 0.1, "Top": 0.1}
        collection.add_faces("new", "new", [NewFace(box, 99.0, vector)])
    print("done", flush=True)
""")


def descriptors(seed: int, n: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, 128)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def run_child(data_dir: Path, kill_at: str | None, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop(vectors_module.KILL_AT_ENV, None)
    if kill_at:
        env[vectors_module.KILL_AT_ENV] = kill_at
    return subprocess.run([sys.executable, "-c", CHILD, str(data_dir), *args],
                          capture_output=True, timeout=120, env=env)


def make_collection(data_dir: Path, vectors: np.ndarray) -> list[str]:
    with Store(ServiceContext(data_dir=data_dir)) as store:
        store.create_collection("c")
        collection = store.open_collection("c")
        stored = collection.add_faces("img", "e", [NewFace(dict(BOX), 99.0, v) for v in vectors])
        collection.close()
    return [face.face_id for face in stored]


def vector_files(collection) -> list[str]:
    return sorted(name for name in os.listdir(collection.path)
                  if vectors_module.is_vector_file_name(name))


def assert_faces_exactly(collection, expected: dict) -> None:
    """The collection holds exactly `expected` ({face_id: vector}), each found by search."""
    with collection.read() as tx:
        listed = {face.face_id for face in tx.list_faces(None, 10_000)}
    assert listed == set(expected)
    for face_id, vector in expected.items():
        [(face, distance)] = collection.nearest_faces(vector, k=1)
        assert face.face_id == face_id and distance < 1e-5


def assert_clean_after_next_write(collection, gone: np.ndarray, data_dir: Path) -> None:
    from test_store_deletion import leaks

    with collection.write():
        pass
    report = collection.verify()
    assert report["problems"] == []
    assert report["committed_rows"] == report["faces"]  # compacted
    assert len(vector_files(collection)) == 1
    assert leaks(data_dir, gone) == []


@pytest.fixture(autouse=True)
def low_threshold(monkeypatch):
    """Compaction due as soon as a quarter of the rows are deleted (as in the children)."""
    monkeypatch.setattr(constants, "COMPACT_MIN_DELETED", 1)


DELETE_POINTS = ["delete-committed", "compact-created", "compact-copying", "compact-copied",
                 "compact-renumbered", "compact-committed"]


@pytest.mark.parametrize("point", DELETE_POINTS + [None])
def test_kill_during_compaction_after_a_delete_loses_and_resurrects_nothing(tmp_path, point):
    data_dir = tmp_path / "data"
    vectors = descriptors(1, N)
    face_ids = make_collection(data_dir, vectors)
    doomed = face_ids[::2]
    result = run_child(data_dir, point, "delete", *doomed)
    if point is None:
        assert result.returncode == 0, result.stderr
    else:
        assert result.returncode == -9, result.stderr  # killed exactly there
    # The delete committed before every point: those faces are gone, the others all there.
    kept = {face_id: vectors[i] for i, face_id in enumerate(face_ids) if face_id not in doomed}
    with Store(ServiceContext(data_dir=data_dir)) as store:
        collection = store.open_collection("c")
        assert_faces_exactly(collection, kept)
        assert_clean_after_next_write(collection, vectors[::2], data_dir)
        assert_faces_exactly(collection, kept)
        assert collection.vectors.path.name == "vectors-1.f32"
        collection.close()


UPGRADE_POINTS = ["compact-created", "compact-copying", "compact-copied", "compact-renumbered",
                  "compact-committed"]


@pytest.mark.parametrize("point", UPGRADE_POINTS)
def test_kill_during_the_upgrade_of_a_collection_without_checksums(tmp_path, point):
    from test_store_checksums import make_legacy

    data_dir = tmp_path / "data"
    vectors = descriptors(2, N)
    face_ids = make_collection(data_dir, vectors)
    with Store(ServiceContext(data_dir=data_dir)) as store:
        collection = store.open_collection("c")
        with collection.write() as tx:
            tx.delete_faces(face_ids[:5])
        collection.close()
    make_legacy(collection.path)
    new_vector = descriptors(3, 1)[0]
    np.save(tmp_path / "new.npy", new_vector)
    result = run_child(data_dir, point, "add", str(tmp_path / "new.npy"))
    assert result.returncode == -9, result.stderr
    kept = {face_id: vectors[i] for i, face_id in enumerate(face_ids) if i >= 5}
    with Store(ServiceContext(data_dir=data_dir)) as store:
        collection = store.open_collection("c")
        with collection.read() as tx:
            new = [face.face_id for face in tx.faces_of_image("new", "new")]
        # The add commits with the upgrade or not at all (committed only at the last point).
        assert len(new) == (1 if point == "compact-committed" else 0)
        kept.update({face_id: new_vector for face_id in new})
        assert_faces_exactly(collection, kept)
        assert_clean_after_next_write(collection, vectors[:5], data_dir)
        assert collection.vectors.fmt == constants.VECTOR_FORMAT
        assert_faces_exactly(collection, kept)
        collection.close()


def test_compaction_happens_at_the_threshold_and_keeps_answers(tmp_path, monkeypatch):
    monkeypatch.setattr(constants, "COMPACT_MIN_DELETED", 10)
    data_dir = tmp_path / "data"
    vectors = descriptors(4, N)
    face_ids = make_collection(data_dir, vectors)
    with Store(ServiceContext(data_dir=data_dir)) as store:
        collection = store.open_collection("c")
        for i in range(9):  # 9 deleted rows: under both thresholds
            with collection.write() as tx:
                tx.delete_faces([face_ids[i]])
        assert collection.vectors.path.name == "vectors.f32"
        assert collection.verify()["committed_rows"] == N
        with collection.write() as tx:  # the 10th: 10 >= 10 and 10 >= 25% of 40
            tx.delete_faces([face_ids[9]])
        assert vector_files(collection) == ["vectors-1.f32"]
        assert collection.vectors.size_bytes() == (N - 10) * constants.ROW_BYTES
        kept = {face_ids[i]: vectors[i] for i in range(10, N)}
        assert_faces_exactly(collection, kept)
        assert collection.verify()["problems"] == []
        collection.close()


# Readers search for faces that are never deleted, in a loop, while a writer adds and deletes
# other faces with compaction due at every delete; every answer must be exact.
READER = textwrap.dedent("""
    import sys
    from pathlib import Path
    import numpy as np
    from rekcli.service.context import ServiceContext
    from rekcli.store import Store

    data_dir, stop = Path(sys.argv[1]), Path(sys.argv[2])
    stable = np.load(sys.argv[3])
    ids = sys.argv[4:]
    searches = 0
    while not stop.exists():
        collection = Store(ServiceContext(data_dir=data_dir)).open_collection("c")
        for i in range(len(ids)):
            found = collection.nearest_faces(stable[i], k=1, max_distance=0.5)
            if not found or found[0][0].face_id != ids[i] or found[0][1] > 1e-5:
                print("WRONG", i, found, flush=True)
                sys.exit(1)
            searches += 1
        collection.close()
    print("searches", searches, flush=True)
""")

CHURNER = textwrap.dedent("""
    import sys
    from pathlib import Path
    import numpy as np
    from rekcli.service.context import ServiceContext
    from rekcli.store import NewFace, Store, constants

    constants.COMPACT_MIN_DELETED = 1
    data_dir, rounds = Path(sys.argv[1]), int(sys.argv[2])
    collection = Store(ServiceContext(data_dir=data_dir)).open_collection("c")
    box = {"Width": 0.1, "Height": 0.1, "Left": 0.1, "Top": 0.1}
    for r in range(rounds):
        x = np.random.default_rng(1000 + r).standard_normal((30, 128)).astype(np.float32)
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        stored = collection.add_faces(f"churn-{r}", "c", [NewFace(box, 99.0, v) for v in x])
        with collection.write() as tx:
            tx.delete_faces([face.face_id for face in stored[:25]])
    print("generation", collection.vectors.path.name, flush=True)
""")


def test_searches_stay_exact_while_compactions_run(tmp_path):
    data_dir = tmp_path / "data"
    stable = descriptors(5, 20)
    face_ids = make_collection(data_dir, stable)
    np.save(tmp_path / "stable.npy", stable)
    stop = tmp_path / "stop"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    readers = [subprocess.Popen([sys.executable, "-c", READER, str(data_dir), str(stop),
                                 str(tmp_path / "stable.npy"), *face_ids],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
               for _ in range(2)]
    try:
        churn = subprocess.run([sys.executable, "-c", CHURNER, str(data_dir), "40"],
                               capture_output=True, timeout=300, env=env)
    finally:
        stop.touch()
        outputs = [reader.communicate(timeout=120) for reader in readers]
    assert churn.returncode == 0, churn.stderr
    generation = int(churn.stdout.split()[-1].decode().split("-")[1].split(".")[0])
    assert generation >= 20  # compactions did run while the readers searched
    for reader, (out, err) in zip(readers, outputs):
        assert reader.returncode == 0, out + err
        assert int(out.split()[-1]) > 0
    with Store(ServiceContext(data_dir=data_dir)) as store:
        collection = store.open_collection("c")
        report = collection.verify()
        assert report["problems"] == []
        assert report["faces"] == 20 + 40 * 5
        collection.close()


def test_damage_stops_compaction_but_not_the_committed_delete(tmp_path):
    from rekcli.store.sqlite import StoreDamaged

    data_dir = tmp_path / "data"
    vectors = descriptors(6, N)
    face_ids = make_collection(data_dir, vectors)
    with Store(ServiceContext(data_dir=data_dir)) as store:
        collection = store.open_collection("c")
        with open(collection.path / "vectors.f32", "r+b") as f:  # a live face's low bit
            f.seek(30 * constants.ROW_BYTES + 8)
            byte = f.read(1)[0]
            f.seek(30 * constants.ROW_BYTES + 8)
            f.write(bytes([byte ^ 1]))
        with collection.write() as tx:
            tx.delete_faces(face_ids[:20])  # compaction due: it finds the damage, copies nothing
        assert collection.counts() == (N - 20, 0)
        assert vector_files(collection) == ["vectors.f32"]
        with pytest.raises(StoreDamaged, match=r"\(30\) do not match their checksums"):
            with collection.write():
                pass
        collection.close()


def test_a_full_disk_puts_compaction_off_and_the_write_goes_ahead(tmp_path, monkeypatch):
    """ENOSPC injected at the OS write call, for the compacted file only."""
    import errno

    data_dir = tmp_path / "data"
    vectors = descriptors(8, N)
    face_ids = make_collection(data_dir, vectors)
    real_pwrite = os.pwrite

    def pwrite(fd, data, offset):
        if os.path.basename(os.readlink(f"/proc/self/fd/{fd}")).startswith("vectors-"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_pwrite(fd, data, offset)

    with Store(ServiceContext(data_dir=data_dir)) as store:
        collection = store.open_collection("c")
        monkeypatch.setattr(os, "pwrite", pwrite)
        with collection.write() as tx:
            tx.delete_faces(face_ids[:20])
        assert collection.counts() == (N - 20, 0)
        with collection.write() as tx:  # compaction due, fails again: the delete goes ahead
            tx.delete_faces(face_ids[20:22])
        assert vector_files(collection) == ["vectors.f32"]
        monkeypatch.setattr(os, "pwrite", real_pwrite)  # space again
        with collection.write():
            pass
        assert vector_files(collection) == ["vectors-1.f32"]
        assert_faces_exactly(collection, {face_ids[i]: vectors[i] for i in range(22, N)})
        assert collection.verify()["problems"] == []
        collection.close()
