"""Store: region catalog, collection directories, atomic create/delete, schema versions."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from rekcli.service.context import ServiceContext
from rekcli.store import FACE_MODEL_VERSION, NewFace, Store, constants, migrations
from rekcli.store import collection as collection_module
from rekcli.store.errors import (
    CollectionExists,
    CollectionNotFound,
    DiskFull,
    NewerFormat,
    TooManyTags,
)
from rekcli.store.sqlite import (
    StoreDamaged,
    apply_migrations,
    applied_migrations,
    connect,
    schema_version,
)

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def ctx(tmp_path):
    return ServiceContext(data_dir=tmp_path / "data")


def all_files(root: Path) -> list[Path]:
    """Files and directories under root, without SQLite's transient -wal/-shm files."""
    if not root.exists():
        return []
    return sorted(p for p in root.rglob("*") if not p.name.endswith(("-wal", "-shm")))


def test_face_model_version_constant():
    assert FACE_MODEL_VERSION == "1.0"


def test_create_lays_out_catalog_and_random_directory(ctx):
    with Store(ctx) as store:
        info = store.create_collection("family")
        assert info.collection_id == "family"
        assert info.face_model_version == "1.0"
    region = ctx.region_dir
    assert (region / "catalog.sqlite").is_file()
    dirs = [p.name for p in (region / "collections").iterdir()]
    assert dirs == [info.dir_name]
    assert len(info.dir_name) == 32 and all(c in "0123456789abcdef" for c in info.dir_name)
    files = sorted(p.name for p in (region / "collections" / info.dir_name).iterdir())
    assert files == ["meta.sqlite", "vectors.f32", "write.lock"]


@pytest.mark.parametrize("collection_id", ["..", ".", "-", "a..b", "..-_.", "x" * 255])
def test_collection_ids_never_become_paths(ctx, collection_id):
    with Store(ctx) as store:
        store.create_collection(collection_id)
        collection = store.open_collection(collection_id)
        assert collection.path.parent == ctx.region_dir / "collections"
        assert collection.collection_id == collection_id
    outside = [p for p in all_files(ctx.data_dir)
               if p != ctx.region_dir and ctx.region_dir not in p.parents]
    assert outside == []
    for entry in (ctx.region_dir / "collections").iterdir():
        assert len(entry.name) == 32


def test_collection_ids_are_case_sensitive(ctx):
    with Store(ctx) as store:
        store.create_collection("Family")
        store.create_collection("family")
        items, more = store.list_collections(10)
    assert [info.collection_id for _, info in items] == ["Family", "family"]
    assert not more


def test_create_twice_is_already_exists_and_leaves_nothing(ctx):
    with Store(ctx) as store:
        store.create_collection("family")
        before = all_files(ctx.region_dir)
        with pytest.raises(CollectionExists) as raised:
            store.create_collection("family")
        assert raised.value.collection_id == "family"
    assert all_files(ctx.region_dir) == before


def test_read_paths_create_nothing(ctx):
    with Store(ctx) as store:
        assert store.list_collections(10) == ([], False)
        assert store.pagination_secret() is None
        with pytest.raises(CollectionNotFound) as raised:
            store.open_collection("nope")
        assert raised.value.collection_id == "nope"
        with pytest.raises(CollectionNotFound):
            store.delete_collection("nope")
        with pytest.raises(CollectionNotFound):
            store.get_tags("nope")
    assert not ctx.data_dir.exists()


def test_delete_removes_catalog_row_and_files(ctx):
    with Store(ctx) as store:
        info = store.create_collection("family", {"k": "v"})
        store.delete_collection("family")
        with pytest.raises(CollectionNotFound):
            store.open_collection("family")
        assert store.list_collections(10) == ([], False)
        # The same id can be created again, as a fresh collection.
        again = store.create_collection("family")
        assert again.dir_name != info.dir_name
        assert store.get_tags("family") == {}
    assert [p.name for p in (ctx.region_dir / "collections").iterdir()] == [again.dir_name]


def test_open_collection_after_delete_by_another_store(ctx):
    with Store(ctx) as first, Store(ctx) as second:
        first.create_collection("family")
        collection = first.open_collection("family")
        second.delete_collection("family")
        with pytest.raises(CollectionNotFound):
            collection.counts()
        with pytest.raises(CollectionNotFound):
            with collection.write():
                pass


def test_failed_create_leaves_nothing_behind(ctx, monkeypatch):
    def no_space(*args, **kwargs):
        raise OSError(28, "No space left on device")

    with Store(ctx) as store:
        store.create_collection("first")
        monkeypatch.setattr("rekcli.store.catalog.initialise_collection_dir", no_space)
        with pytest.raises(DiskFull, match="disk space"):
            store.create_collection("second")
        monkeypatch.undo()
        assert [info.collection_id for _, info in store.list_collections(10)[0]] == ["first"]
    assert len(list((ctx.region_dir / "collections").iterdir())) == 1


def _run_and_die(ctx: ServiceContext, body: str) -> None:
    """Run `body` in a child that is killed (os._exit) where the patch says."""
    script = textwrap.dedent("""
        import os, sys
        from pathlib import Path
        from rekcli.service.context import ServiceContext
        from rekcli.store import Store
        import rekcli.store.catalog as catalog
        ctx = ServiceContext(data_dir=Path(sys.argv[1]))
        store = Store(ctx)
    """) + textwrap.dedent(body)
    proc = subprocess.run([sys.executable, "-c", script, str(ctx.data_dir)],
                          env=dict(os.environ, PYTHONPATH=str(REPO)), capture_output=True)
    assert proc.returncode == 9, proc.stderr.decode()


def test_crash_during_create_leaves_no_visible_collection_and_is_swept(ctx):
    with Store(ctx) as store:
        store.create_collection("keep")
    # Die after the directory is renamed into place, before the catalog row commits.
    _run_and_die(ctx, """
        catalog.fsync_path = lambda path: os._exit(9)
        store.create_collection("half")
    """)
    with Store(ctx) as store:
        with pytest.raises(CollectionNotFound):
            store.open_collection("half")
        assert [i.collection_id for _, i in store.list_collections(10)[0]] == ["keep"]
        assert len(list((ctx.region_dir / "collections").iterdir())) == 2  # the orphan
        store.create_collection("half")  # works, and sweeps the orphan
        names = {p.name for p in (ctx.region_dir / "collections").iterdir()}
        listed = {i.dir_name for _, i in store.list_collections(10)[0]}
    assert names == listed


def test_a_lost_catalog_is_reported_and_the_collections_files_are_left_in_place(ctx):
    """A lost catalog must neither cost the collections' files nor be re-created over them
    (issue 19.5): every call names the missing file until it is restored."""
    with Store(ctx) as store:
        store.create_collection("precious")
        dir_name = store.collection_info("precious").dir_name
    (ctx.region_dir / "catalog.sqlite").unlink()
    for suffix in ("-wal", "-shm"):
        (ctx.region_dir / f"catalog.sqlite{suffix}").unlink(missing_ok=True)
    with Store(ctx) as store:
        with pytest.raises(StoreDamaged, match="catalog.sqlite"):
            store.create_collection("other")
        with pytest.raises(StoreDamaged, match="catalog.sqlite"):
            store.list_collections(10)
    assert (ctx.region_dir / "collections" / dir_name / "meta.sqlite").exists()
    assert not (ctx.region_dir / "catalog.sqlite").exists()


def test_crash_during_delete_leaves_collection_gone_and_files_swept(ctx):
    with Store(ctx) as store:
        store.create_collection("doomed")
        store.create_collection("keep")
    # Die after the catalog row is deleted, before the files are removed.
    _run_and_die(ctx, """
        catalog.Store._remove_dir = lambda self, name, wait: os._exit(9)
        store.delete_collection("doomed")
    """)
    with Store(ctx) as store:
        with pytest.raises(CollectionNotFound):
            store.open_collection("doomed")
        assert len(list((ctx.region_dir / "collections").iterdir())) == 2
        store.delete_collection("keep")  # sweeps the leftover directory too
    assert list((ctx.region_dir / "collections").iterdir()) == []


def test_stale_staging_directories_are_swept(ctx, monkeypatch):
    with Store(ctx) as store:
        store.create_collection("a")
        stale = ctx.region_dir / "collections" / ".staging-0123"
        fresh = ctx.region_dir / "collections" / ".staging-4567"
        stale.mkdir()
        fresh.mkdir()
        os.utime(stale, (0, 0))
        store.create_collection("b")
    assert not stale.exists()
    assert fresh.exists()  # could belong to a create in progress


def test_face_model_version_is_fixed_at_creation(ctx, monkeypatch):
    monkeypatch.setattr(constants, "FACE_MODEL_VERSION", "9.9")
    with Store(ctx) as store:
        store.create_collection("old")
    monkeypatch.undo()
    with Store(ctx) as store:
        store.create_collection("new")
        assert store.open_collection("old").face_model_version == "9.9"
        assert store.open_collection("new").face_model_version == "1.0"
        with store.open_collection("old").read() as tx:
            assert tx.info()["face_model_version"] == "9.9"


def test_schema_versions_are_recorded(ctx):
    with Store(ctx) as store:
        store.create_collection("family")
        path = store.open_collection("family").path
    catalog = sqlite3.connect(ctx.region_dir / "catalog.sqlite")
    assert applied_migrations(catalog) == ["m001_catalog"]
    assert schema_version(catalog) == migrations.CATALOG_SCHEMA_VERSION
    assert catalog.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    meta = sqlite3.connect(path / "meta.sqlite")
    assert applied_migrations(meta) == ["m001_collection", "m002_collection",
                                        "m003_collection"]
    assert schema_version(meta) == migrations.COLLECTION_SCHEMA_VERSION
    assert meta.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {name for (name,) in meta.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"info", "faces", "users", "pending_tombstones", "request_tokens",
            "images_without_faces", "_migrations"} <= tables


def test_migrations_apply_once_and_atomically(tmp_path):
    conn = connect(tmp_path / "x.sqlite", create=True)

    def m001_first(c):
        c.execute("CREATE TABLE a (x)")

    def m002_broken(c):
        c.execute("CREATE TABLE b (x)")
        raise RuntimeError("boom")

    assert apply_migrations(conn, [m001_first]) == ["m001_first"]
    assert apply_migrations(conn, [m001_first]) == []
    with pytest.raises(RuntimeError):
        apply_migrations(conn, [m001_first, m002_broken])
    # The failed migration left neither its table nor its record behind.
    tables = {n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "b" not in tables
    assert applied_migrations(conn) == ["m001_first"]
    assert schema_version(conn) == 1


def test_old_collection_schema_is_upgraded_on_open(ctx, monkeypatch):
    """A collection made by the first schema gets m002 on first use, its data kept."""
    monkeypatch.setattr(collection_module, "COLLECTION_MIGRATIONS", [migrations.m001_collection])
    monkeypatch.setattr(collection_module, "COLLECTION_SCHEMA_VERSION", 1)
    with Store(ctx) as store:
        store.create_collection("family")
        path = store.open_collection("family").path
    monkeypatch.undo()
    old = sqlite3.connect(path / "meta.sqlite")  # a user written by the old code
    with old:
        old.execute("INSERT INTO users (user_id, face_count, created_at) VALUES ('before', 0, 0)")
        old.execute("UPDATE info SET user_count = 1")
    old.close()
    with Store(ctx) as store:
        collection = store.open_collection("family")
        with collection.write() as tx:  # the first use is a write: no self-deadlock
            tx.create_user("after")
        assert collection.counts() == (0, 2)
        assert applied_migrations(collection.conn) == ["m001_collection", "m002_collection",
                                                       "m003_collection"]
        assert collection.generation() == 1  # counted from the upgrade on


def make_face(seed: int):
    import numpy as np

    vector = np.random.default_rng(seed).normal(size=128).astype(np.float32)
    box = {"Width": 0.2, "Height": 0.3, "Left": 0.1, "Top": 0.1}
    return NewFace(box, 99.0, vector / np.linalg.norm(vector))


def test_generation_changes_with_faces_and_users_only(ctx):
    with Store(ctx) as store:
        store.create_collection("family")
        collection = store.open_collection("family")
        seen = [collection.generation()]

        def changed() -> bool:
            seen.append(collection.generation())
            return seen[-1] != seen[-2]

        (face,) = collection.add_faces("img", "ext", [make_face(1)])
        assert changed()
        collection.add_faces("img", "ext", [make_face(1)])  # idempotent: nothing stored
        assert not changed()
        with collection.write() as tx:
            tx.create_user("u")
        assert changed()
        with collection.write() as tx:
            tx.set_face_user([face.face_id], "u")
        assert changed()
        collection.remember_image_without_faces("img2", "ext2", "AUTO", "engine 1")
        with collection.read() as tx:
            tx.list_faces(None, 10)
        assert not changed()
        with collection.write() as tx:
            tx.delete_faces([face.face_id])
        assert changed()
        with collection.write() as tx:
            tx.delete_user("u")
        assert changed()
        created, generation = collection.state()
        assert generation == seen[-1] and created > 0


def test_images_without_faces_are_remembered_per_filter_and_analysis(ctx):
    with Store(ctx) as store:
        store.create_collection("family")
        collection = store.open_collection("family")
        collection.remember_image_without_faces("img", "ext", "AUTO", "engine 1")
        collection.remember_image_without_faces("img", "ext", "NONE", "engine 1")
        with collection.read() as tx:
            assert tx.image_without_faces("img", "ext", "AUTO", "engine 1")
            assert not tx.image_without_faces("img", "ext", "AUTO", "engine 2")
            assert not tx.image_without_faces("img", "ext", "HIGH", "engine 1")
            assert not tx.image_without_faces("img", "other", "AUTO", "engine 1")
            assert not tx.image_without_faces("img2", "ext", "AUTO", "engine 1")
        # A newer analysis replaces the note: rows never pile up per engine release.
        collection.remember_image_without_faces("img", "ext", "AUTO", "engine 2")
        with collection.read() as tx:
            assert tx.image_without_faces("img", "ext", "AUTO", "engine 2")
            assert not tx.image_without_faces("img", "ext", "AUTO", "engine 1")
            rows = tx.conn.execute("SELECT COUNT(*) FROM images_without_faces").fetchone()[0]
        assert rows == 2


def test_newer_collection_schema_is_refused(ctx):
    with Store(ctx) as store:
        store.create_collection("family")
        path = store.open_collection("family").path
    conn = sqlite3.connect(path / "meta.sqlite")
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with Store(ctx) as store:
        with pytest.raises(NewerFormat, match="newer rekcli") as raised:
            store.open_collection("family").counts()
        assert (raised.value.collection_id, raised.value.version) == ("family", 99)


def test_tags_limit(ctx):
    with Store(ctx) as store:
        store.create_collection("family", {f"k{i}": "v" for i in range(50)})
        store.set_tags("family", {"k0": "new"})  # overwriting does not add
        with pytest.raises(TooManyTags):
            store.set_tags("family", {"k50": "v"})
        assert store.get_tags("family")["k0"] == "new"
        with pytest.raises(TooManyTags):
            store.create_collection("other", {f"k{i}": "v" for i in range(51)})


def test_concurrent_creates_of_one_id_yield_exactly_one_collection(ctx):
    script = textwrap.dedent("""
        import sys
        from pathlib import Path
        from rekcli.service.context import ServiceContext
        from rekcli.store import Store
        from rekcli.store.errors import CollectionExists
        with Store(ServiceContext(data_dir=Path(sys.argv[1]))) as store:
            try:
                store.create_collection("same")
                print("created")
            except CollectionExists:
                print("exists")
            store.create_collection("own-" + sys.argv[2])
    """)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    procs = [subprocess.Popen([sys.executable, "-c", script, str(ctx.data_dir), str(n)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
             for n in range(4)]
    outcomes = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err.decode()
        outcomes.append(out.decode().strip())
    assert sorted(outcomes) == ["created", "exists", "exists", "exists"]
    with Store(ctx) as store:
        items, _ = store.list_collections(10)
        assert [i.collection_id for _, i in items] == ["own-0", "own-1", "own-2", "own-3", "same"]
        dirs = {p.name for p in (ctx.region_dir / "collections").iterdir()}
        assert dirs == {i.dir_name for _, i in items}


def test_a_stale_marker_on_a_live_collection_is_cleared_by_the_sweep(ctx):
    """A create that died after its COMMIT leaves CREATING on a listed folder; the sweep must
    clear it, or a later lost catalog would get that live collection deleted."""
    from rekcli.store.catalog import CREATING_MARKER

    with Store(ctx) as store:
        store.create_collection("live")
        folder = ctx.region_dir / "collections" / store.collection_info("live").dir_name
    (folder / CREATING_MARKER).touch()
    with Store(ctx) as store:
        store.create_collection("other")  # runs the sweep
    assert not (folder / CREATING_MARKER).exists()
    assert (folder / "meta.sqlite").exists()
