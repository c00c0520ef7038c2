"""The store of one region: a catalog of collections and the collections' directories.

Layout under `ctx.region_dir` (e.g. `$REKCLI_DATA_DIR/us-east-1/`):

    catalog.sqlite                 WAL database: collections (id, CollectionId, directory
                                   name, FaceModelVersion, creation time), tags, secrets
    collections/<32 hex>/          one directory per collection, named by a random uuid
                                   recorded in the catalog (see collection.py)
    collections/.staging-<hex>/    a collection being created (not yet visible)
    collections/.trash-<hex>/      a deleted collection being removed

CollectionIds never become paths. Creating a collection builds it in a staging directory,
then - inside one catalog write transaction - renames it into place and inserts its row;
deleting removes the row in one transaction and only then moves the directory to the trash
and removes it. A crash at any point leaves either a complete, listed collection or an
unlisted directory; unlisted directories are removed by the next create/delete (while it
holds the catalog's write lock, so no creator is between its rename and its commit).
Read paths (describe, list, search) never create anything.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from rekcli.store import constants
from rekcli.store.collection import (
    LOCK_FILE,
    Collection,
    fsync_path,
    initialise_collection_dir,
    not_found,
)
from rekcli.store.errors import CollectionExists, StoreError, TooManyTags
from rekcli.store.files import create_private_file, make_private_dir, tighten_tree
from rekcli.store.locking import WriteLock
from rekcli.store.migrations import CATALOG_MIGRATIONS
from rekcli.store.records import CollectionInfo
from rekcli.store.sqlite import (
    StoreDamaged,
    apply_migrations,
    connect,
    is_disk_full,
    storage_errors,
    transaction,
)

CATALOG_DB = "catalog.sqlite"
COLLECTIONS_DIR = "collections"
STAGING_PREFIX = ".staging-"
TRASH_PREFIX = ".trash-"
# Folders the catalog does not list are set aside under this prefix, never deleted: they are
# usually the leftover of a crash between a create's rename and its commit, but they may also
# be real collections whose catalog was lost or restored from an older backup.
ORPHAN_PREFIX = ".orphan-"
# Written into a collection folder just before the catalog change that could orphan it (a
# create's rename, a delete's commit) and removed once that change is done: an unlisted
# folder carrying one is a crash leftover and is deleted; one without is kept aside.
CREATING_MARKER = "CREATING"
DELETING_MARKER = "DELETING"

_INFO_COLUMNS = "collection_id, face_model_version, created_at, dir_name"


class Store:
    """All collections of one region. `Store(ctx)` with a ServiceContext (region_dir, clock).

    Opening a Store touches nothing on disk; use it as a context manager (or call close()).
    """

    def __init__(self, ctx):
        self.ctx = ctx
        self.region_dir = Path(ctx.region_dir)
        self.clock = ctx.clock
        self.collections_dir = self.region_dir / COLLECTIONS_DIR
        self._conn: sqlite3.Connection | None = None
        self._open: list[Collection] = []
        self._tightened = False

    # -- plumbing ---------------------------------------------------------------------------

    def _catalog(self, create: bool = False) -> sqlite3.Connection | None:
        """The catalog connection; None when there is no store yet and `create` is False.

        A catalog that is missing or empty while collection folders exist is damage, reported
        by name: re-creating it would hide every collection (and the next sweep would set
        them aside).
        """
        if self._conn is None:
            path = self.region_dir / CATALOG_DB
            if self.region_dir.exists() and not self.region_dir.is_dir():
                raise StoreDamaged(self.region_dir, "the region folder is not a folder")
            # Without collection folders, a catalog still being created by another process
            # (empty, or without tables yet) is no damage: it is joined, never replaced.
            fresh = not self._collection_folders()
            if not self._has_catalog(path, fresh):
                if not create:
                    return None
                make_private_dir(self.collections_dir)
                self.tighten()
                conn = connect(path, create=True)
            else:
                if create:
                    self.tighten()
                conn = connect(path, allow_no_schema=fresh)
            try:
                apply_migrations(conn, CATALOG_MIGRATIONS, self.clock)
            except BaseException:
                conn.close()
                raise
            self._conn = conn
        return self._conn

    def _has_catalog(self, path: Path, fresh: bool) -> bool:
        """False when there is no catalog yet (missing or still empty); raises StoreDamaged
        when collections exist without one."""
        try:
            size = os.stat(path, follow_symlinks=False).st_size
        except FileNotFoundError:
            size = None
        if size:
            return True
        if not fresh:
            raise StoreDamaged(path, "the file is missing" if size is None else
                               "the file is empty")
        return False

    def _collection_folders(self) -> list[str]:
        try:
            return [e.name for e in os.scandir(self.collections_dir)
                    if not e.name.startswith(".")]
        except FileNotFoundError:
            return []
        except NotADirectoryError:
            raise StoreDamaged(self.collections_dir, "it is not a folder") from None

    def tighten(self) -> None:
        """Before a write: make an older, looser store private, and tell the user once."""
        if self._tightened:
            return
        self._tightened = True
        # The data dir itself and this region's store; batch journals are their writer's.
        data_dir = self.region_dir.parent
        tightened = tighten_tree(data_dir, recursive=False) + tighten_tree(self.region_dir)
        if tightened:
            self.ctx.notify(
                f"rekcli: made {len(tightened)} files and folders under {data_dir} "
                f"private to their owner (they were readable or writable by others)")

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection | None]:
        with storage_errors(self.region_dir / CATALOG_DB):
            conn = self._catalog()
            if conn is None:
                yield None
                return
            with transaction(conn, write=False):
                yield conn

    def close(self) -> None:
        for collection in self._open:
            collection.close()
        self._open.clear()
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _now(self) -> float:
        return round(self.clock(), 3)  # AWS timestamps carry milliseconds

    # -- collections ------------------------------------------------------------------------

    def create_collection(self, collection_id: str, tags: dict | None = None,
                          face_model_version: str | None = None) -> CollectionInfo:
        """Create an empty collection, atomically. CollectionExists if taken.

        face_model_version: what made the faces it will hold (default FACE_MODEL_VERSION);
        recorded once, never changed."""
        tags = dict(tags or {})
        if len(tags) > constants.MAX_TAGS_PER_RESOURCE:
            raise too_many_tags()
        with storage_errors(self.region_dir / CATALOG_DB):
            conn = self._catalog(create=True)
            with transaction(conn, write=False):
                if self._lookup(conn, collection_id) is not None:
                    raise already_exists(collection_id)
            face_model_version = face_model_version or constants.FACE_MODEL_VERSION
            created_at = self._now()
            dir_name = uuid.uuid4().hex
            staging = self.collections_dir / f"{STAGING_PREFIX}{dir_name}"
            final = self.collections_dir / dir_name
            make_private_dir(staging)
            try:
                initialise_collection_dir(staging, collection_id, face_model_version,
                                          created_at, self.clock)
                create_private_file(staging / CREATING_MARKER)
                with transaction(conn):
                    if self._lookup(conn, collection_id) is not None:
                        raise already_exists(collection_id)
                    os.rename(staging, final)
                    cursor = conn.execute(
                        "INSERT INTO collections (collection_id, dir_name, "
                        "face_model_version, created_at) VALUES (?, ?, ?, ?)",
                        (collection_id, dir_name, face_model_version, created_at))
                    conn.executemany(
                        "INSERT INTO tags (collection_pk, key, value) VALUES (?, ?, ?)",
                        [(cursor.lastrowid, k, v) for k, v in tags.items()])
                    fsync_path(self.collections_dir)  # the rename is durable before COMMIT
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                if final.exists() and not self._is_listed(conn, dir_name):
                    shutil.rmtree(final, ignore_errors=True)
                raise
            _remove_marker(final / CREATING_MARKER)
            self._sweep(conn)
        return CollectionInfo(collection_id, face_model_version, created_at, dir_name)

    def delete_collection(self, collection_id: str) -> None:
        """Remove a collection: gone from the catalog in one transaction, then its files.

        On a full disk the catalog cannot log the change; the collection's own files are then
        removed first (the user asked for them to go, and deleting a collection is how a user
        frees space), and the change is recorded in the space they leave. Dying in between
        leaves the collection listed without files: it answers CollectionNotFound and
        the next delete-collection removes it from the list.
        """
        with storage_errors(self.region_dir / CATALOG_DB):
            conn = self._catalog()
            if conn is None:
                raise not_found(collection_id)
            self.tighten()
            try:
                dir_name = self._forget(conn, collection_id)
            except (OSError, sqlite3.Error) as exc:
                if not is_disk_full(exc):
                    raise
                self._remove_dir(self._dir_name(conn, collection_id), wait=True)
                dir_name = self._forget(conn, collection_id)
            try:
                self._remove_dir(dir_name, wait=True)
            except StoreError:
                pass  # a stuck writer holds it: the next sweep removes the directory
            self._sweep(conn)

    def _forget(self, conn: sqlite3.Connection, collection_id: str) -> str:
        """Delete the collection's catalog rows, durably; returns its directory name."""
        marker = None
        try:
            with transaction(conn):
                row = conn.execute("SELECT id, dir_name FROM collections WHERE "
                                   "collection_id = ?", (collection_id,)).fetchone()
                if row is None:
                    raise not_found(collection_id)
                marker = self.collections_dir / row[1] / DELETING_MARKER
                try:
                    create_private_file(marker)
                except FileNotFoundError:
                    pass  # the folder is already gone; nothing to mark
                conn.execute("DELETE FROM tags WHERE collection_pk = ?", (row[0],))
                conn.execute("DELETE FROM collections WHERE id = ?", (row[0],))
        except BaseException:  # not deleted (the COMMIT included): the folder stays live
            if marker is not None:
                _remove_marker(marker)
            raise
        return row[1]

    def _dir_name(self, conn: sqlite3.Connection, collection_id: str) -> str:
        with transaction(conn, write=False):
            info = self._lookup(conn, collection_id)
        if info is None:
            raise not_found(collection_id)
        return info.dir_name

    def _remove_dir(self, dir_name: str, wait: bool) -> None:
        """Move a collection directory to the trash under its write lock, then delete it.

        With wait=False a directory whose lock is held is left for a later sweep.
        """
        if self._move_to_trash(dir_name, wait):
            shutil.rmtree(self.collections_dir / f"{TRASH_PREFIX}{dir_name}", ignore_errors=True)

    def _move_to_trash(self, dir_name: str, wait: bool, prefix: str = TRASH_PREFIX) -> bool:
        path = self.collections_dir / dir_name
        lock = WriteLock(path / LOCK_FILE)
        try:
            if not lock.acquire(blocking=wait):
                return False
        except FileNotFoundError:
            lock = None  # damaged or already moved: nothing to wait for
        try:
            os.rename(path, self.collections_dir / f"{prefix}{dir_name}")
            return True
        except FileNotFoundError:
            return False
        finally:
            if lock is not None:
                lock.release()

    def _sweep(self, conn: sqlite3.Connection) -> None:
        """Remove leftovers of interrupted creates/deletes. Best effort, never fails a call."""
        try:
            # Under the catalog's write lock no creator is between its rename and its commit,
            # so a directory the catalog does not list is an orphan: set aside, kept.
            with transaction(conn):
                known = {name for (name,) in conn.execute("SELECT dir_name FROM collections")}
                for entry in os.scandir(self.collections_dir):
                    if entry.name[0] == "." or not entry.is_dir():
                        continue
                    if entry.name in known:
                        # A listed folder's marker is stale (a create died after its COMMIT):
                        # left there, it would get the folder deleted if the catalog were lost.
                        for name in (CREATING_MARKER, DELETING_MARKER):
                            _remove_marker(os.path.join(entry.path, name))
                    else:
                        self._move_to_trash(entry.name, wait=False, prefix=TRASH_PREFIX
                                            if _crash_leftover(entry.path) else ORPHAN_PREFIX)
            now = time.time()
            for entry in os.scandir(self.collections_dir):
                if entry.name.startswith(TRASH_PREFIX):
                    shutil.rmtree(entry.path, ignore_errors=True)
                elif (entry.name.startswith(STAGING_PREFIX)
                      and now - entry.stat().st_mtime > constants.STALE_STAGING_SECONDS):
                    # Young staging directories may belong to a create in progress.
                    shutil.rmtree(entry.path, ignore_errors=True)
        except (OSError, sqlite3.Error, StoreError):
            pass

    @staticmethod
    def _is_listed(conn: sqlite3.Connection, dir_name: str) -> bool:
        try:
            return conn.execute("SELECT 1 FROM collections WHERE dir_name = ?",
                                (dir_name,)).fetchone() is not None
        except sqlite3.Error:
            return True  # cannot tell: keep the files, a later sweep decides

    @staticmethod
    def _lookup(conn: sqlite3.Connection, collection_id: str) -> CollectionInfo | None:
        row = conn.execute(f"SELECT {_INFO_COLUMNS} FROM collections WHERE collection_id = ?",
                           (collection_id,)).fetchone()
        return CollectionInfo(*row) if row else None

    def collection_info(self, collection_id: str) -> CollectionInfo:
        with self._read() as conn:
            info = self._lookup(conn, collection_id) if conn is not None else None
        if info is None:
            raise not_found(collection_id)
        return info

    def open_collection(self, collection_id: str) -> Collection:
        """The collection, ready to read and write. CollectionNotFound if missing."""
        info = self.collection_info(collection_id)
        collection = Collection(self, info, self.collections_dir / info.dir_name)
        self._open.append(collection)
        return collection

    def list_collections(self, limit: int, after_pk: int | None = None,
                         offset: int = 0) -> tuple[list[tuple[int, CollectionInfo]], bool]:
        """Collections in CollectionId order: ([(catalog pk, info)], more_after).

        Resumes after the collection whose catalog pk is `after_pk`; if that one has been
        deleted meanwhile, after the first `offset` collections instead.
        """
        with self._read() as conn:
            if conn is None:
                return [], False
            after_id = None
            if after_pk is not None:
                row = conn.execute("SELECT collection_id FROM collections WHERE id = ?",
                                   (after_pk,)).fetchone()
                after_id = row[0] if row else None
            if after_id is not None:
                rows = conn.execute(
                    f"SELECT id, {_INFO_COLUMNS} FROM collections WHERE collection_id > ? "
                    "ORDER BY collection_id LIMIT ?", (after_id, limit + 1)).fetchall()
            else:
                rows = conn.execute(
                    f"SELECT id, {_INFO_COLUMNS} FROM collections ORDER BY collection_id "
                    "LIMIT ? OFFSET ?", (limit + 1, offset if after_pk is not None else 0)
                ).fetchall()
        items = [(row[0], CollectionInfo(*row[1:])) for row in rows]
        return items[:limit], len(items) > limit

    def pagination_secret(self) -> bytes | None:
        """The key that signs pagination tokens of this region (None: no catalog yet)."""
        with self._read() as conn:
            if conn is None:
                return None
            row = conn.execute("SELECT value FROM secrets WHERE name = 'pagination'").fetchone()
        return bytes(row[0]) if row else None

    # -- tags -------------------------------------------------------------------------------

    def get_tags(self, collection_id: str) -> dict[str, str]:
        with self._read() as conn:
            pk = self._pk(conn, collection_id)
            rows = conn.execute("SELECT key, value FROM tags WHERE collection_pk = ? "
                                "ORDER BY key", (pk,)).fetchall()
        return dict(rows)

    def set_tags(self, collection_id: str, tags: dict[str, str]) -> None:
        """Add or overwrite tags; TooManyTags past MAX_TAGS_PER_RESOURCE."""
        with storage_errors(self.region_dir / CATALOG_DB):
            conn = self._catalog()
            if conn is None:
                raise not_found(collection_id)
            self.tighten()
            with transaction(conn):
                pk = self._pk(conn, collection_id)
                existing = {k for (k,) in conn.execute(
                    "SELECT key FROM tags WHERE collection_pk = ?", (pk,))}
                if len(existing | set(tags)) > constants.MAX_TAGS_PER_RESOURCE:
                    raise too_many_tags()
                conn.executemany(
                    "INSERT OR REPLACE INTO tags (collection_pk, key, value) VALUES (?, ?, ?)",
                    [(pk, k, v) for k, v in tags.items()])

    def remove_tags(self, collection_id: str, keys) -> None:
        with storage_errors(self.region_dir / CATALOG_DB):
            conn = self._catalog()
            if conn is None:
                raise not_found(collection_id)
            self.tighten()
            with transaction(conn):
                pk = self._pk(conn, collection_id)
                conn.executemany("DELETE FROM tags WHERE collection_pk = ? AND key = ?",
                                 [(pk, k) for k in keys])

    def _pk(self, conn: sqlite3.Connection | None, collection_id: str) -> int:
        row = None
        if conn is not None:
            row = conn.execute("SELECT id FROM collections WHERE collection_id = ?",
                               (collection_id,)).fetchone()
        if row is None:
            raise not_found(collection_id)
        return row[0]


def already_exists(collection_id: str) -> CollectionExists:
    return CollectionExists(collection_id)


def too_many_tags() -> TooManyTags:
    return TooManyTags(constants.MAX_TAGS_PER_RESOURCE)


def _crash_leftover(path: str) -> bool:
    """An unlisted collection folder left by a create or delete that died half-way."""
    return any(os.path.exists(os.path.join(path, m)) for m in (CREATING_MARKER, DELETING_MARKER))


def _remove_marker(path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
