"""Store under kill -9 and under concurrent writer processes."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np

from rekcli.service.context import ServiceContext
from rekcli.service.collections import describe_collection
from rekcli.service.faces_admin import list_faces
from rekcli.store import Store

REPO = Path(__file__).resolve().parent.parent

# A writer that adds faces (and now and then deletes one) forever, printing each
# acknowledged change after the call returned: "A <face_id> <seed> <i> <j>" / "D <face_id>",
# and "d <face_id>" before it asks to delete a face (which may then be gone or not).
WRITER = textwrap.dedent("""
    import sys
    from pathlib import Path
    import numpy as np
    from rekcli.service.context import ServiceContext
    from rekcli.store import NewFace, Store

    def descriptor(seed, i, j):
        v = np.random.default_rng([seed, i, j]).standard_normal(128).astype(np.float32)
        return v / np.linalg.norm(v)

    data_dir, seed, limit = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    box = {"Width": 0.1, "Height": 0.1, "Left": 0.1, "Top": 0.1}
    collection = Store(ServiceContext(data_dir=data_dir)).open_collection("c")
    mine = []
    i = 0
    while limit < 0 or i < limit:
        faces = [NewFace(box, 99.0, descriptor(seed, i, j)) for j in range(1 + i % 3)]
        stored = collection.add_faces(f"img-{seed}-{i}", f"ext-{seed}-{i}", faces)
        for j, face in enumerate(stored):
            print(f"A {face.face_id} {seed} {i} {j}", flush=True)
            mine.append(face.face_id)
        if i % 4 == 3:
            victim = mine.pop(0)
            print(f"d {victim}", flush=True)  # about to delete: it may vanish from here on
            with collection.write() as tx:
                tx.delete_faces([victim])
            print(f"D {victim}", flush=True)
        i += 1
""")


def descriptor(seed, i, j):
    v = np.random.default_rng([seed, i, j]).standard_normal(128).astype(np.float32)
    return v / np.linalg.norm(v)


def start_writer(data_dir: Path, seed: int, limit: int = -1) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", WRITER, str(data_dir), str(seed), str(limit)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=dict(os.environ, PYTHONPATH=str(REPO)))


def parse_acknowledged(output: bytes):
    """({face_id: descriptor seed}, acknowledged deletions, requested deletions)."""
    added, deleted, doomed = {}, set(), set()
    text = output.decode()
    lines = text.split("\n")
    if not text.endswith("\n"):
        lines = lines[:-1]  # a line cut by the kill was never acknowledged
    for line in lines:
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "A":
            added[parts[1]] = (int(parts[2]), int(parts[3]), int(parts[4]))
        elif parts[0] == "D":
            deleted.add(parts[1])
        elif parts[0] == "d":
            doomed.add(parts[1])
    return added, deleted, doomed


def check_collection(ctx: ServiceContext, added: dict, deleted: set, doomed: set) -> None:
    with Store(ctx) as store:
        collection = store.open_collection("c")
        report = collection.verify()
        assert report["problems"] == [], report
        expected_alive = set(added) - doomed
        with collection.read() as tx:
            present = tx.get_faces(list(added))
        assert expected_alive <= set(present), "an acknowledged face was lost"
        assert not (deleted & set(present)), "an acknowledged deletion came back"
        descriptors = collection.descriptors(list(expected_alive))
        for face_id in expected_alive:
            np.testing.assert_array_equal(descriptors[face_id], descriptor(*added[face_id]))
    # describe == list == vectors
    faces, token = [], None
    while True:
        request = {"CollectionId": "c", "MaxResults": 4096}
        if token:
            request["NextToken"] = token
        page = list_faces(ctx, request)
        faces += page["Faces"]
        token = page.get("NextToken")
        if not token:
            break
    described = describe_collection(ctx, {"CollectionId": "c"})["FaceCount"]
    assert described == len(faces) == report["live_vectors"] == report["faces"]
    assert len({f["FaceId"] for f in faces}) == len(faces)


def test_kill_9_at_random_moments_loses_no_acknowledged_face(tmp_path):
    ctx = ServiceContext(data_dir=tmp_path / "data")
    with Store(ctx) as store:
        store.create_collection("c")
    rng = random.Random(1234)
    added, deleted, doomed = {}, set(), set()
    for round_ in range(6):
        proc = start_writer(ctx.data_dir, seed=round_)
        # Wait for the first acknowledgement (interpreter start-up), then kill at random.
        first = proc.stdout.readline()
        assert first, proc.stderr.read().decode()
        time.sleep(rng.uniform(0.0, 0.4))
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate()
        assert proc.returncode == -signal.SIGKILL
        round_added, round_deleted, round_doomed = parse_acknowledged(first + out)
        added.update(round_added)
        deleted |= round_deleted
        doomed |= round_doomed
        check_collection(ctx, added, deleted, doomed)
    assert len(set(added) - deleted) > 20  # the writers did get work done


def test_four_concurrent_writers_lose_nothing(tmp_path):
    ctx = ServiceContext(data_dir=tmp_path / "data")
    with Store(ctx) as store:
        store.create_collection("c")
    procs = [start_writer(ctx.data_dir, seed=100 + n, limit=24) for n in range(4)]
    added, deleted, doomed = {}, set(), set()
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
        a, d, doomed_here = parse_acknowledged(out)
        doomed |= doomed_here
        assert not (set(a) & set(added)), "a FaceId was handed out twice"
        added.update(a)
        deleted |= d
    # 24 requests of 1, 2, 3, 1, 2, 3... faces = 48 faces per writer, 6 deletions each.
    assert len(added) == 4 * 48
    assert len(deleted) == 4 * 6
    check_collection(ctx, added, deleted, doomed)
    with Store(ctx) as store:
        assert store.open_collection("c").counts() == (4 * 42, 0)
