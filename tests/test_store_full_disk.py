"""Issue 19.6: on a real full filesystem (a small tmpfs), reads work, writes say the disk is
full, an existing collection is never "not found", and delete-collection frees space."""

from __future__ import annotations

import errno
import json
import os
import subprocess

import numpy as np
import pytest

from cli_helpers import run_subprocess
from rekcli.service.context import ServiceContext
from rekcli.store import NewFace, Store
from rekcli.store.sqlite import DISK_FULL_MESSAGE

BOX = {"Width": 0.25, "Height": 0.5, "Left": 0.1, "Top": 0.125}


@pytest.fixture
def small_fs(tmp_path):
    mount_point = tmp_path / "fs"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs",
                              str(mount_point)], capture_output=True)
    if mounted.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"cannot mount a tmpfs on CI: {mounted.stderr!r}")
        pytest.skip("mounting a tmpfs needs root (CAP_SYS_ADMIN)")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=True)


@pytest.fixture
def full_store(small_fs):
    """Two collections with faces on the small filesystem; returns (data dir, face ids)."""
    data_dir = small_fs / "data"
    vectors = np.random.default_rng(11).standard_normal((20, 128)).astype(np.float32)
    face_ids = {}
    with Store(ServiceContext(data_dir=data_dir, notify=lambda m: None)) as store:
        for collection_id in ("c", "d"):
            store.create_collection(collection_id)
            stored = store.open_collection(collection_id).add_faces(
                "img", "photo.jpg", [NewFace(dict(BOX), 99.0, v) for v in vectors])
            face_ids[collection_id] = [face.face_id for face in stored]
    return data_dir, face_ids["c"]


def _fill(mount_point, leave_free: int = 0) -> None:
    """Write a filler file until the filesystem is full, then free `leave_free` bytes."""
    filler = mount_point / "filler"
    with open(filler, "wb", buffering=0) as f:
        for chunk in (1 << 16, 4096, 1):
            try:
                while True:
                    f.write(b"\0" * chunk)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
    if leave_free:
        os.truncate(filler, max(0, os.path.getsize(filler) - leave_free))
    assert _free_bytes(mount_point) <= leave_free + 4096


def _free_bytes(path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def _cli(data_dir, *args):
    return run_subprocess(*args, env={"REKCLI_DATA_DIR": str(data_dir)})


def _ok(result) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("leave_free", [0, 4096, 12288])
def test_reads_work_and_writes_say_the_disk_is_full(full_store, small_fs, leave_free):
    data_dir, face_ids = full_store
    _fill(small_fs, leave_free)
    assert _ok(_cli(data_dir, "list-collections"))["CollectionIds"] == ["c", "d"]
    faces = _ok(_cli(data_dir, "list-faces", "--collection-id", "c"))["Faces"]
    assert len(faces) == 20
    assert _ok(_cli(data_dir, "describe-collection", "--collection-id", "d"))["FaceCount"] == 20
    matches = _ok(_cli(data_dir, "search-faces", "--collection-id", "c",
                       "--face-id", face_ids[0]))
    assert "FaceMatches" in matches
    for args in (("create-collection", "--collection-id", "new"),
                 ("delete-faces", "--collection-id", "c", "--face-ids", face_ids[1])):
        result = _cli(data_dir, *args)
        assert result.returncode == 254, result.stderr
        assert DISK_FULL_MESSAGE.encode() in result.stderr.replace(b"\n", b" ")
        assert b"does not exist" not in result.stderr
    assert len(_ok(_cli(data_dir, "list-faces", "--collection-id", "c"))["Faces"]) == 20


def test_delete_collection_works_on_a_full_disk_and_frees_its_space(full_store, small_fs):
    data_dir, _ = full_store
    _fill(small_fs)
    before = _free_bytes(small_fs)
    assert _ok(_cli(data_dir, "delete-collection", "--collection-id", "c"))["StatusCode"] == 200
    assert _free_bytes(small_fs) > before + 16384
    assert _ok(_cli(data_dir, "list-collections"))["CollectionIds"] == ["d"]
    gone = _cli(data_dir, "describe-collection", "--collection-id", "c")
    assert gone.returncode == 254 and b"ResourceNotFoundException" in gone.stderr
    assert len(_ok(_cli(data_dir, "list-faces", "--collection-id", "d"))["Faces"]) == 20
