"""Issue 19.2 and 19.4: the store is private by construction, and untrusted folders are refused."""

from __future__ import annotations

import json
import os
import stat

import numpy as np
import pytest

from cli_helpers import run_subprocess
from rekcli.service.context import ServiceContext
from rekcli.store import NewFace, Store

BOX = {"Width": 0.25, "Height": 0.5, "Left": 0.1, "Top": 0.125}
OTHER_UID = 4242  # we run as root: chown makes a folder "another user's"


@pytest.fixture
def loose_umask():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _mode(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def _populate(data_dir, collection_id="c") -> dict:
    """A collection with a few faces, written by the store API (no dlib needed)."""
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((3, 128)).astype(np.float32)
    with Store(ServiceContext(data_dir=data_dir, notify=lambda m: None)) as store:
        store.create_collection(collection_id)
        collection = store.open_collection(collection_id)
        collection.add_faces("img", "photo.jpg", [NewFace(dict(BOX), 99.0, v) for v in vectors])
        with collection.read():  # a connection is open: its -wal and -shm exist now
            return {p: _mode(p) for p in _entries(data_dir)}


def _entries(root):
    found = [root]
    for directory, subdirs, files in os.walk(root):
        found += [os.path.join(directory, name) for name in subdirs + files]
    return found


def test_everything_under_the_data_dir_is_private_under_umask_022(tmp_path, loose_umask):
    data_dir = tmp_path / "data"
    modes = _populate(data_dir)
    names = {os.path.basename(p) for p in modes}
    assert {"catalog.sqlite", "meta.sqlite", "meta.sqlite-wal", "meta.sqlite-shm",
            "write.lock", "vectors.f32"} <= names
    loose = {p: oct(mode) for p, mode in modes.items()
             if mode != (0o700 if os.path.isdir(p) else 0o600)}
    assert loose == {}


def test_a_symlink_planted_at_the_lock_file_is_not_followed(tmp_path):
    data_dir = tmp_path / "data"
    _populate(data_dir)
    [collection_dir] = (data_dir / "us-east-1" / "collections").iterdir()
    victim = tmp_path / "victim"
    victim.write_text("keep")
    (collection_dir / "write.lock").unlink()
    (collection_dir / "write.lock").symlink_to(victim)
    with Store(ServiceContext(data_dir=data_dir, notify=lambda m: None)) as store:
        collection = store.open_collection("c")
        with pytest.raises(Exception):
            collection.add_faces("img2", None, [NewFace(dict(BOX), 99.0, np.ones(128, np.float32))])
    assert victim.read_text() == "keep"


def test_a_loose_store_is_tightened_on_the_next_write_and_said_once(tmp_path):
    data_dir = tmp_path / "data"
    _populate(data_dir)
    for path in _entries(data_dir):
        os.chmod(path, 0o755 if os.path.isdir(path) else 0o644)
    env = {"REKCLI_DATA_DIR": str(data_dir)}
    read = run_subprocess("list-collections", env=env)
    assert read.returncode == 0 and read.stderr == b""  # reads change nothing
    assert _mode(data_dir / "us-east-1" / "catalog.sqlite") == 0o644
    first = run_subprocess("create-collection", "--collection-id", "d", env=env)
    assert first.returncode == 0, first.stderr
    assert b"private" in first.stderr and str(data_dir).encode() in first.stderr
    assert json.loads(first.stdout)["StatusCode"] == 200
    loose = [p for p in _entries(data_dir) if _mode(p) & 0o077]
    assert loose == []
    second = run_subprocess("create-collection", "--collection-id", "e", env=env)
    assert second.returncode == 0 and second.stderr == b""


@pytest.mark.parametrize("which", ["data", "region"])
def test_a_folder_owned_by_another_user_is_refused(tmp_path, which):
    data_dir = tmp_path / "data"
    _populate(data_dir)
    target = data_dir if which == "data" else data_dir / "us-east-1"
    os.chown(target, OTHER_UID, OTHER_UID)
    result = run_subprocess("list-collections", env={"REKCLI_DATA_DIR": str(data_dir)})
    assert result.returncode == 253
    assert str(target).encode() in result.stderr
    assert b"user id 4242" in result.stderr and b"chown" in result.stderr
    assert result.stdout == b""


def test_a_group_writable_data_dir_is_refused_unless_shared_with_the_group(tmp_path):
    data_dir = tmp_path / "data"
    _populate(data_dir)
    os.chmod(data_dir, 0o770)
    env = {"REKCLI_DATA_DIR": str(data_dir)}
    refused = run_subprocess("list-collections", env=env)
    assert refused.returncode == 253
    assert b"writable by its group" in refused.stderr and b"REKCLI_SHARED_STORE=group" in refused.stderr
    shared = run_subprocess("list-collections", env={**env, "REKCLI_SHARED_STORE": "group"})
    assert shared.returncode == 0, shared.stderr
    assert json.loads(shared.stdout)["CollectionIds"] == ["c"]


def test_a_world_writable_data_dir_is_refused_even_when_shared(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    os.chmod(data_dir, 0o777)
    result = run_subprocess("list-collections", env={"REKCLI_DATA_DIR": str(data_dir),
                                                     "REKCLI_SHARED_STORE": "group"})
    assert result.returncode == 253 and b"writable by others" in result.stderr


def test_a_configured_endpoint_does_not_lift_the_check_for_batch_commands(tmp_path):
    """An API command with an endpoint opens no local store; a batch command always does."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    os.chmod(data_dir, 0o777)
    env = {"REKCLI_DATA_DIR": str(data_dir), "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}
    result = run_subprocess("batch", "list-collections", "--input-file", os.devnull, env=env)
    assert result.returncode == 253 and b"writable by others" in result.stderr
    remote = run_subprocess("list-collections", env=env)
    assert remote.returncode == 255 and b"Could not connect to the endpoint URL" in remote.stderr
    os.chmod(data_dir, 0o700)
    local = run_subprocess("batch", "list-collections", "--input-file", os.devnull, env=env)
    assert local.returncode == 0
    assert b"the endpoint http://127.0.0.1:9 is not used" in local.stderr  # said, not hidden


def test_a_group_shared_store_is_created_group_readable_never_world(tmp_path, loose_umask):
    data_dir = tmp_path / "data"
    result = run_subprocess("create-collection", "--collection-id", "g",
                            env={"REKCLI_DATA_DIR": str(data_dir), "REKCLI_SHARED_STORE": "group"})
    assert result.returncode == 0, result.stderr
    modes = {oct(_mode(p)) for p in _entries(data_dir / "us-east-1")}
    assert modes <= {"0o770", "0o660"}


def test_an_untrusted_model_cache_is_refused(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    os.chmod(cache, 0o777)
    result = run_subprocess("list-collections", env={"REKCLI_CACHE_DIR": str(cache)})
    assert result.returncode == 253 and str(cache).encode() in result.stderr


def test_every_connection_zeroes_deleted_content(tmp_path):
    """secure_delete (issue 19.9): a removed tag's bytes are gone from the database files,
    not left in a free page for anyone who copies the file. (Python builds whose SQLite is
    compiled with SQLITE_SECURE_DELETE pass without rekcli's PRAGMA; others need it.)"""
    from rekcli.store.sqlite import connect

    data_dir = tmp_path / "data"
    secret = "Jane-Doe-badge-0451"
    with Store(ServiceContext(data_dir=data_dir, notify=lambda m: None)) as store:
        store.create_collection("c", tags={"owner": secret * 40})
        store.remove_tags("c", ["owner"])
    region = data_dir / "us-east-1"
    leftovers = [p.name for p in region.iterdir() if p.is_file()
                 and secret.encode() in p.read_bytes()]
    assert leftovers == []
    conn = connect(region / "catalog.sqlite")
    assert conn.execute("PRAGMA secure_delete").fetchone()[0] == 1
    conn.close()


def test_the_model_cache_is_created_private(tmp_path):
    import subprocess
    import sys

    cache = tmp_path / "cache" / "rekcli"
    script = "import os; os.umask(0o022); from rekcli.engine import models; models.hog_detector()"
    subprocess.run([sys.executable, "-c", script], check=True,
                   env={**os.environ, "REKCLI_CACHE_DIR": str(cache)})
    files = list(cache.iterdir())
    assert files and all(_mode(f) == 0o600 for f in files)
    assert _mode(cache) == 0o700 and _mode(cache.parent) == 0o700
