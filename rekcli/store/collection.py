"""One collection: its faces, users and idempotency tokens (SQLite) and vectors (vectors.f32).

Directory of a collection (named by a random hex id recorded in the region catalog; user ids
never become paths):

    meta.sqlite     WAL database: info (one row), faces, users, pending_tombstones,
                    request_tokens, _migrations
    vectors.f32     append-only float32 rows, one per face ever added (see vectors.py)
    write.lock      flock target serialising writers across processes

Writes: `with collection.write() as tx:` takes the flock, opens BEGIN IMMEDIATE, first
repairs what an interrupted writer may have left (truncates vectors past the committed row
count, re-applies pending tombstones), runs the caller's changes and commits. Vectors of
new faces are written and fsynced past the committed count before the transaction that
extends the count commits, so a kill -9 at any instant leaves either the whole request or
none of it. Reads use a plain BEGIN snapshot and never write.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator, Sequence

from rekcli.service.errors import (
    InternalServerError,
    ResourceNotFoundException,
    ServiceQuotaExceededException,
)
from rekcli.store import constants
from rekcli.store.files import open_private
from rekcli.store.locking import WriteLock
from rekcli.store.migrations import COLLECTION_MIGRATIONS, COLLECTION_SCHEMA_VERSION
from rekcli.store.records import (
    CollectionInfo,
    NewFace,
    RequestTokenRecord,
    StoredFace,
    UserRecord,
    bounding_box,
)
from rekcli.store.sqlite import (
    StoreDamaged,
    apply_migrations,
    connect,
    schema_version,
    storage_errors,
    transaction,
)
from rekcli.store.vectors import VectorFile

if TYPE_CHECKING:  # pragma: no cover
    from rekcli.store.catalog import Store

META_DB = "meta.sqlite"
VECTORS_FILE = "vectors.f32"
LOCK_FILE = "write.lock"

_FACE_COLUMNS = ("row, face_id, image_id, external_image_id, bbox_width, bbox_height, "
                 "bbox_left, bbox_top, confidence, model_version, user_id")

# Below this many user-associated faces, nearest_users reads all of them at once instead of
# walking the nearest faces in distance order (cheaper when associations are sparse).
_USER_SCAN_LIMIT = 20_000


def not_found(collection_id: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(f"The collection id: {collection_id} does not exist")


def _face_from_row(row: Sequence) -> StoredFace:
    return StoredFace(
        face_id=row[1],
        bounding_box=bounding_box(row[4], row[5], row[6], row[7]),
        image_id=row[2],
        external_image_id=row[3],
        confidence=row[8],
        index_faces_model_version=row[9],
        user_id=row[10],
        row=row[0],
    )


def initialise_collection_dir(path: Path, collection_id: str, face_model_version: str,
                              created_at: float, clock) -> None:
    """Create the files of an empty collection in `path` (a staging dir) and fsync them."""
    conn = connect(path / META_DB, create=True)
    try:
        apply_migrations(conn, COLLECTION_MIGRATIONS, clock)
        with transaction(conn):
            conn.execute(
                "INSERT INTO info (id, collection_id, face_model_version, created_at, "
                "row_floats, committed_rows, face_count, user_count) "
                "VALUES (1, ?, ?, ?, ?, 0, 0, 0)",
                (collection_id, face_model_version, created_at, constants.ROW_FLOATS))
    finally:
        conn.close()  # checkpoints the WAL into meta.sqlite and removes -wal/-shm
    for name in (VECTORS_FILE, LOCK_FILE):
        fd = open_private(path / name, os.O_RDWR | os.O_CREAT | os.O_EXCL)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    fsync_path(path / META_DB)
    fsync_path(path)


def fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Collection:
    """An open collection. Get one from `Store.open_collection(collection_id)`.

    Cheap to open: nothing is read until used, and search maps vectors.f32 lazily.
    """

    def __init__(self, store: "Store", info: CollectionInfo, path: Path):
        self.store = store
        self.info = info
        self.collection_id = info.collection_id
        self.face_model_version = info.face_model_version
        self.path = Path(path)
        self._conn: sqlite3.Connection | None = None
        self.vectors = VectorFile(self.path / VECTORS_FILE, self.collection_id)

    # -- connection and transactions -----------------------------------------------------

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            try:
                conn = connect(self.path / META_DB)
            except (sqlite3.Error, StoreDamaged):
                if not self.path.is_dir():
                    # Deleted by another process after we looked it up (delete renames the
                    # whole folder away). A folder still there is damage, reported by name.
                    raise not_found(self.collection_id) from None
                raise
            if schema_version(conn) < COLLECTION_SCHEMA_VERSION:
                # A collection written by an older rekcli: upgrade it once, under the lock.
                with WriteLock(self.path / LOCK_FILE):
                    apply_migrations(conn, COLLECTION_MIGRATIONS, self.store.clock)
            elif schema_version(conn) > COLLECTION_SCHEMA_VERSION:
                version = schema_version(conn)
                conn.close()
                raise InternalServerError(
                    f"The collection id: {self.collection_id} was written by a newer rekcli "
                    f"(schema {version}); upgrade rekcli to use it.")
            self._conn = conn
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self.vectors.forget_mapping()

    def __enter__(self) -> "Collection":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def read(self) -> Iterator["CollectionTransaction"]:
        """A consistent read-only snapshot (BEGIN ... COMMIT, never writes)."""
        with storage_errors(self.path / META_DB):
            with transaction(self.conn, write=False) as conn:
                yield CollectionTransaction(self, conn, writable=False)

    @contextmanager
    def write(self) -> Iterator["CollectionTransaction"]:
        """The collection's write lock plus one SQLite write transaction.

        Do compute-heavy work (descriptors, uuid generation) before entering.
        """
        with storage_errors(self.path / META_DB):
            self.store.tighten()  # an older store with looser modes becomes private
            conn = self.conn  # first: opening may migrate, which takes the lock itself
            lock = WriteLock(self.path / LOCK_FILE)
            try:
                lock.acquire()
            except FileNotFoundError:
                raise not_found(self.collection_id) from None
            try:
                # DeleteCollection renames the directory away while holding this lock.
                if not (self.path / META_DB).exists():
                    raise not_found(self.collection_id)
                tx = CollectionTransaction(self, conn, writable=True)
                with transaction(conn):
                    tx.recover()
                    yield tx
                tx.after_commit()
            finally:
                lock.release()

    # -- faces -----------------------------------------------------------------------------

    def add_faces(self, image_id: str, external_image_id: str | None,
                  faces: Sequence[NewFace]) -> list[StoredFace]:
        """Store `faces` of one image; returns them as stored, in the given order.

        AWS idempotency (reference §1.9): if faces of the same image_id with the same
        non-None external_image_id are already stored, nothing is stored and those faces
        are returned. ServiceQuotaExceededException past MAX_FACES_PER_COLLECTION.
        """
        from rekcli.store.vectors import augmented_rows

        rows = augmented_rows([f.descriptor for f in faces]) if faces else None
        entries = [(str(uuid.uuid4()), image_id, external_image_id, face) for face in faces]
        with self.write() as tx:
            if external_image_id is not None:
                existing = tx.faces_of_image(image_id, external_image_id)
                if existing:
                    return existing
            if not entries:
                return []
            return tx.append_faces(entries, rows)

    def bulk_add_faces(self, records: Sequence[tuple[str, str | None, NewFace]],
                       batch_size: int = 50_000) -> list[str]:
        """Fast path for imports and benchmarks: (image_id, external_image_id, face) records,
        one transaction per batch, no idempotency check. Returns the new FaceIds."""
        from rekcli.store.vectors import augmented_rows

        face_ids: list[str] = []
        for start in range(0, len(records), batch_size):
            batch = records[start:start + batch_size]
            rows = augmented_rows([face.descriptor for _, _, face in batch])
            entries = [(str(uuid.uuid4()), image_id, ext, face) for image_id, ext, face in batch]
            with self.write() as tx:
                tx.append_faces(entries, rows, return_faces=False)
            face_ids.extend(entry[0] for entry in entries)
        return face_ids

    def state(self) -> tuple[float, int]:
        """(creation time, generation) from one snapshot; the generation changes whenever
        faces or users change (never on reads)."""
        with self.read() as tx:
            info = tx.info()
        return info["created_at"], info["generation"]

    def generation(self) -> int:
        return self.state()[1]

    def remember_image_without_faces(self, image_id: str, external_image_id: str,
                                     quality_filter: str, analysed_by: str) -> None:
        """Note that IndexFaces of this image stored no face with this QualityFilter."""
        with self.write() as tx:
            tx.remember_image_without_faces(image_id, external_image_id, quality_filter,
                                            analysed_by)

    def counts(self) -> tuple[int, int]:
        """(FaceCount, UserCount), exact, from counters kept in the same transactions."""
        with self.read() as tx:
            info = tx.info()
            return info["face_count"], info["user_count"]

    def descriptors(self, face_ids: Iterable[str]) -> dict:
        """{face_id: float32 (128,) descriptor} for the faces that exist."""
        with self.read() as tx:
            faces = list(tx.get_faces(face_ids).values())
            rows = self.vectors.read_rows([face.row for face in faces])
        return {face.face_id: rows[i, :constants.DESCRIPTOR_SIZE].copy()
                for i, face in enumerate(faces)}

    # -- search ----------------------------------------------------------------------------

    def nearest_faces(self, descriptor, k: int, max_distance: float = math.inf,
                      exclude_face_ids: Iterable[str] = ()) -> list[tuple[StoredFace, float]]:
        """The k faces nearest to `descriptor` with Euclidean distance <= max_distance,
        best first (ties by FaceId), as (face, distance). Exact: one matrix-vector product
        over the memory-mapped vectors, argpartition, then the few candidates are
        re-measured in float64."""
        import numpy as np

        from rekcli.store import vectors as vec

        if k <= 0:
            return []
        query = vec.as_descriptors(descriptor)
        eps = vec.epsilon_for(query)
        with self.read() as tx:
            n = tx.info()["committed_rows"]
            if n == 0:
                return []
            matrix = self.vectors.matrix(n)
            d2 = vec.approx_squared_distances(matrix, query)
            excluded = [face.row for face in tx.get_faces(exclude_face_ids).values()]
            if excluded:
                d2[excluded] = np.inf
            limit = max_distance * max_distance + eps if math.isfinite(max_distance) else math.inf
            found: list[StoredFace] = []
            cutoff = math.inf
            for rows, values in vec.ranked_rows(d2, limit, first_chunk=k + 16):
                keep = values <= cutoff
                rows, values = rows[keep], values[keep]
                if rows.size == 0:
                    break
                by_row = tx.faces_at_rows(rows)
                for row, value in zip(rows.tolist(), values.tolist()):
                    face = by_row.get(row)
                    if face is None:
                        continue  # deleted, tombstone not written yet
                    found.append(face)
                    if len(found) == k:
                        cutoff = value + eps
                if values[-1] > cutoff:
                    break
            if not found:
                return []
            exact = vec.exact_distances(matrix, [face.row for face in found], query)
        ranked = sorted(zip(exact.tolist(), [face.face_id for face in found], found))
        return [(face, distance) for distance, _, face in ranked
                if distance <= max_distance][:k]

    def nearest_users(self, descriptor, k: int, max_distance: float = math.inf,
                      exclude_user_ids: Iterable[str] = ()) -> list[tuple[str, str, float]]:
        """The k users nearest to `descriptor`, best first (ties by UserId), as
        (user_id, user_status, distance).

        A user's distance is the smallest distance between any of its faces and the query
        (single linkage). `descriptor` may also be several descriptors (m, 128) - a user's
        faces - and then the smallest over every (query, face) pair counts. Users without
        faces have no vector and never match.
        """
        import numpy as np

        from rekcli.store import vectors as vec

        if k <= 0:
            return []
        query = vec.as_descriptors(descriptor)
        eps = vec.epsilon_for(query)
        exclude = set(exclude_user_ids)
        with self.read() as tx:
            n = tx.info()["committed_rows"]
            associated = tx.associated_face_count()
            if n == 0 or associated == 0:
                return []
            matrix = self.vectors.matrix(n)
            d2 = vec.approx_squared_distances(matrix, query)
            limit = max_distance * max_distance + eps if math.isfinite(max_distance) else math.inf
            limit = min(limit, float(np.finfo(np.float32).max))
            if associated <= _USER_SCAN_LIMIT:
                pairs = [(row, user) for row, user in tx.associated_rows() if user not in exclude]
                rows = np.array([row for row, _ in pairs], dtype=np.int64)
                users = [user for _, user in pairs]
                keep = np.flatnonzero(d2[rows] <= limit) if rows.size else rows
                rows = rows[keep]
                users = [users[i] for i in keep.tolist()]
            else:
                rows_found: list[int] = []
                users = []
                first_seen: dict[str, float] = {}
                cutoff = math.inf
                for chunk_rows, values in vec.ranked_rows(d2, limit, first_chunk=8 * k + 64):
                    keep = values <= cutoff
                    chunk_rows, values = chunk_rows[keep], values[keep]
                    if chunk_rows.size == 0:
                        break
                    owners = tx.users_at_rows(chunk_rows)
                    for row, value in zip(chunk_rows.tolist(), values.tolist()):
                        user = owners.get(row)
                        if user is None or user in exclude:
                            continue
                        rows_found.append(row)
                        users.append(user)
                        if user not in first_seen:
                            first_seen[user] = value
                            if len(first_seen) == k:
                                cutoff = value + eps
                    if values[-1] > cutoff:
                        break
                rows = np.array(rows_found, dtype=np.int64)
            if rows.size == 0:
                return []
            exact = vec.exact_distances(matrix, rows, query)
        best: dict[str, float] = {}
        for user, distance in zip(users, exact.tolist()):
            if distance < best.get(user, math.inf):
                best[user] = distance
        ranked = sorted((distance, user) for user, distance in best.items()
                        if distance <= max_distance)[:k]
        # A user that owns a face is ACTIVE (UserRecord.status).
        return [(user, "ACTIVE", distance) for distance, user in ranked]

    # -- checks ----------------------------------------------------------------------------

    def verify(self) -> dict:
        """Cross-check SQLite against vectors.f32 (for tests and `fsck`-style tools).

        Returns counts; `problems` lists every inconsistency found (empty when healthy).
        """
        import numpy as np

        problems = []
        with self.read() as tx:
            info = tx.info()
            committed = info["committed_rows"]
            size = self.vectors.size_bytes()
            if size < committed * constants.ROW_BYTES:
                problems.append(f"vectors.f32 has {size} bytes, needs "
                                f"{committed * constants.ROW_BYTES}")
                return {"problems": problems}
            matrix = self.vectors.matrix(committed)
            live_rows = np.flatnonzero(np.isfinite(matrix[:, constants.NORM_COLUMN]))
            pending = {row for (row,) in tx.conn.execute("SELECT row FROM pending_tombstones")}
            live_vectors = set(live_rows.tolist()) - pending
            face_rows = {row for (row,) in tx.conn.execute("SELECT row FROM faces")}
            face_rows_count = len(face_rows)
            users = tx.conn.execute("SELECT COUNT(*) FROM users").fetchone()[0]
            per_user = dict(tx.conn.execute(
                "SELECT u.user_id, u.face_count - (SELECT COUNT(*) FROM faces f "
                "WHERE f.user_id = u.user_id) FROM users u"))
            orphans = tx.conn.execute(
                "SELECT COUNT(*) FROM faces WHERE user_id IS NOT NULL AND user_id NOT IN "
                "(SELECT user_id FROM users)").fetchone()[0]
        if face_rows != live_vectors:
            problems.append(f"{len(face_rows ^ live_vectors)} rows differ between faces and "
                            "live vectors")
        if any(row >= committed for row in face_rows):
            problems.append("a face points past the committed vectors")
        if info["face_count"] != face_rows_count:
            problems.append(f"face_count {info['face_count']} != {face_rows_count} faces")
        if info["user_count"] != users:
            problems.append(f"user_count {info['user_count']} != {users} users")
        if any(per_user.values()):
            problems.append("a user's face_count disagrees with its faces")
        if orphans:
            problems.append(f"{orphans} faces point to missing users")
        return {"problems": problems, "face_count": info["face_count"],
                "user_count": info["user_count"], "faces": face_rows_count,
                "live_vectors": len(live_vectors), "committed_rows": committed,
                "file_rows": size // constants.ROW_BYTES}


class CollectionTransaction:
    """What may be read or changed inside one transaction of a collection.

    Obtained from `Collection.read()` (read-only) or `Collection.write()`.
    """

    def __init__(self, collection: Collection, conn: sqlite3.Connection, writable: bool):
        self.collection = collection
        self.conn = conn
        self.writable = writable
        self._deleted_rows: list[int] = []

    def _require_writable(self) -> None:
        if not self.writable:
            raise RuntimeError("this transaction is read-only")

    # -- bookkeeping ------------------------------------------------------------------------

    def info(self) -> dict:
        row = self.conn.execute(
            "SELECT committed_rows, face_count, user_count, created_at, face_model_version, "
            "row_floats, generation FROM info WHERE id = 1").fetchone()
        return {"committed_rows": row[0], "face_count": row[1], "user_count": row[2],
                "created_at": row[3], "face_model_version": row[4], "row_floats": row[5],
                "generation": row[6]}

    def _changed(self) -> None:
        """Record that faces or users changed in this transaction (see info's generation)."""
        self.conn.execute("UPDATE info SET generation = generation + 1 WHERE id = 1")

    def recover(self) -> None:
        """Undo what an interrupted writer may have left; runs first in every write."""
        info = self.info()
        if info["row_floats"] != constants.ROW_FLOATS:
            raise InternalServerError("vectors.f32 has an unknown row layout")
        committed_bytes = info["committed_rows"] * constants.ROW_BYTES
        self.collection.vectors.check(info["committed_rows"])
        if self.collection.vectors.size_bytes() > committed_bytes:
            self.collection.vectors.truncate(info["committed_rows"])
        pending = [row for (row,) in self.conn.execute("SELECT row FROM pending_tombstones")]
        if pending:
            self.collection.vectors.tombstone(pending)
            self.conn.execute("DELETE FROM pending_tombstones")
        horizon = self.collection.store.clock() - constants.REQUEST_TOKEN_TTL_SECONDS
        self.conn.execute("DELETE FROM request_tokens WHERE created_at < ?", (horizon,))

    def after_commit(self) -> None:
        """Write the +inf tombstones of faces deleted by the committed transaction.

        Best effort: the deletion is already durable, search skips rows without a face, and
        the next writer finishes the job from pending_tombstones if this fails.
        """
        rows, self._deleted_rows = self._deleted_rows, []
        if not rows:
            return
        try:
            self.collection.vectors.tombstone(rows)
            with transaction(self.conn):
                self.conn.execute(
                    "DELETE FROM pending_tombstones WHERE row IN "
                    "(SELECT value FROM json_each(?))", (json.dumps(rows),))
        except (OSError, sqlite3.Error):
            pass

    # -- faces -----------------------------------------------------------------------------

    def append_faces(self, entries, rows, return_faces: bool = True) -> list[StoredFace]:
        """entries: (face_id, image_id, external_image_id, NewFace); rows: augmented vectors."""
        self._require_writable()
        info = self.info()
        if info["face_count"] + len(entries) > constants.MAX_FACES_PER_COLLECTION:
            raise ServiceQuotaExceededException(
                f"The collection id: {self.collection.collection_id} would exceed the limit of "
                f"{constants.MAX_FACES_PER_COLLECTION} faces per collection.")
        start = info["committed_rows"]
        version = self.collection.face_model_version
        try:
            # Vectors first, fsynced, past the committed count: invisible until COMMIT.
            self.collection.vectors.append(start, rows)
            values = []
            for offset, (face_id, image_id, ext, face) in enumerate(entries):
                box = face.bounding_box
                values.append((start + offset, face_id, image_id, ext,
                               float(box["Width"]), float(box["Height"]), float(box["Left"]),
                               float(box["Top"]), float(face.confidence), version))
            self.conn.executemany(
                "INSERT INTO faces (row, face_id, image_id, external_image_id, bbox_width, "
                "bbox_height, bbox_left, bbox_top, confidence, model_version) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", values)
            self.conn.execute(
                "UPDATE info SET committed_rows = ?, face_count = face_count + ? WHERE id = 1",
                (start + len(entries), len(entries)))
            self._changed()
        except BaseException:
            try:  # best effort; the next writer truncates anyway
                self.collection.vectors.truncate(start)
            except OSError:
                pass
            raise
        if not return_faces:
            return []
        return [_face_from_row(value + (None,)) for value in values]

    def get_faces(self, face_ids: Iterable[str]) -> dict[str, StoredFace]:
        ids = list(dict.fromkeys(face_ids))
        if not ids:
            return {}
        cursor = self.conn.execute(
            f"SELECT {_FACE_COLUMNS} FROM faces WHERE face_id IN "
            "(SELECT value FROM json_each(?))", (json.dumps(ids),))
        return {row[1]: _face_from_row(row) for row in cursor}

    def faces_at_rows(self, rows) -> dict[int, StoredFace]:
        cursor = self.conn.execute(
            f"SELECT {_FACE_COLUMNS} FROM faces WHERE row IN (SELECT value FROM json_each(?))",
            (json.dumps([int(r) for r in rows]),))
        return {row[0]: _face_from_row(row) for row in cursor}

    def users_at_rows(self, rows) -> dict[int, str]:
        cursor = self.conn.execute(
            "SELECT row, user_id FROM faces WHERE user_id IS NOT NULL AND row IN "
            "(SELECT value FROM json_each(?))", (json.dumps([int(r) for r in rows]),))
        return dict(cursor.fetchall())

    def faces_of_image(self, image_id: str, external_image_id: str) -> list[StoredFace]:
        cursor = self.conn.execute(
            f"SELECT {_FACE_COLUMNS} FROM faces WHERE image_id = ? AND external_image_id = ? "
            "ORDER BY row", (image_id, external_image_id))
        return [_face_from_row(row) for row in cursor]

    def list_faces(self, after_face_id: str | None, limit: int, user_id: str | None = None,
                   face_ids: Sequence[str] | None = None) -> list[StoredFace]:
        """Faces in FaceId order, after `after_face_id`, optionally filtered."""
        where, params = [], []
        if after_face_id is not None:
            where.append("face_id > ?")
            params.append(after_face_id)
        if user_id is not None:
            where.append("user_id = ?")
            params.append(user_id)
        if face_ids is not None:
            where.append("face_id IN (SELECT value FROM json_each(?))")
            params.append(json.dumps(list(face_ids)))
        sql = f"SELECT {_FACE_COLUMNS} FROM faces"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY face_id LIMIT ?"
        params.append(int(limit))
        return [_face_from_row(row) for row in self.conn.execute(sql, params)]

    def delete_faces(self, face_ids: Iterable[str]) -> list[str]:
        """Delete faces (their vectors get tombstoned after commit). Returns those deleted.

        Faces still associated with a user are deleted too and the user's count adjusted;
        the service decides beforehand whether that is allowed.
        """
        self._require_writable()
        faces = self.get_faces(face_ids)
        if not faces:
            return []
        rows = [face.row for face in faces.values()]
        payload = json.dumps(rows)
        self.conn.execute(
            "UPDATE users SET face_count = face_count - (SELECT COUNT(*) FROM faces f WHERE "
            "f.user_id = users.user_id AND f.row IN (SELECT value FROM json_each(?))) "
            "WHERE user_id IN (SELECT user_id FROM faces WHERE user_id IS NOT NULL AND row IN "
            "(SELECT value FROM json_each(?)))", (payload, payload))
        self.conn.execute("DELETE FROM faces WHERE row IN (SELECT value FROM json_each(?))",
                          (payload,))
        self.conn.execute("INSERT OR IGNORE INTO pending_tombstones (row) "
                          "SELECT value FROM json_each(?)", (payload,))
        self.conn.execute("UPDATE info SET face_count = face_count - ? WHERE id = 1",
                          (len(rows),))
        self._changed()
        self._deleted_rows.extend(rows)
        return list(faces)

    # -- users -----------------------------------------------------------------------------

    def get_user(self, user_id: str) -> UserRecord | None:
        row = self.conn.execute("SELECT user_id, face_count FROM users WHERE user_id = ?",
                                (user_id,)).fetchone()
        return UserRecord(row[0], row[1]) if row else None

    def list_users(self, after_user_id: str | None, limit: int) -> list[UserRecord]:
        if after_user_id is None:
            cursor = self.conn.execute(
                "SELECT user_id, face_count FROM users ORDER BY user_id LIMIT ?", (limit,))
        else:
            cursor = self.conn.execute(
                "SELECT user_id, face_count FROM users WHERE user_id > ? "
                "ORDER BY user_id LIMIT ?", (after_user_id, limit))
        return [UserRecord(user_id, count) for user_id, count in cursor]

    def create_user(self, user_id: str) -> UserRecord:
        self._require_writable()
        self.conn.execute("INSERT INTO users (user_id, face_count, created_at) VALUES (?, 0, ?)",
                          (user_id, self.collection.store.clock()))
        self.conn.execute("UPDATE info SET user_count = user_count + 1 WHERE id = 1")
        self._changed()
        return UserRecord(user_id, 0)

    def delete_user(self, user_id: str) -> None:
        """Remove the user; its faces stay in the collection, disassociated."""
        self._require_writable()
        self.conn.execute("UPDATE faces SET user_id = NULL WHERE user_id = ?", (user_id,))
        deleted = self.conn.execute("DELETE FROM users WHERE user_id = ?", (user_id,)).rowcount
        self.conn.execute("UPDATE info SET user_count = user_count - ? WHERE id = 1", (deleted,))
        self._changed()

    def user_faces(self, user_id: str) -> list[StoredFace]:
        cursor = self.conn.execute(
            f"SELECT {_FACE_COLUMNS} FROM faces WHERE user_id = ? ORDER BY face_id", (user_id,))
        return [_face_from_row(row) for row in cursor]

    def set_face_user(self, face_ids: Sequence[str], user_id: str | None) -> None:
        """Associate faces with `user_id` (None: disassociate), keeping user counts exact."""
        self._require_writable()
        payload = json.dumps(list(face_ids))
        self.conn.execute(
            "UPDATE users SET face_count = face_count - (SELECT COUNT(*) FROM faces f WHERE "
            "f.user_id = users.user_id AND f.face_id IN (SELECT value FROM json_each(?))) "
            "WHERE user_id IN (SELECT user_id FROM faces WHERE user_id IS NOT NULL AND face_id IN "
            "(SELECT value FROM json_each(?)))", (payload, payload))
        self.conn.execute("UPDATE faces SET user_id = ? WHERE face_id IN "
                          "(SELECT value FROM json_each(?))", (user_id, payload))
        if user_id is not None:
            self.conn.execute(
                "UPDATE users SET face_count = (SELECT COUNT(*) FROM faces WHERE user_id = ?) "
                "WHERE user_id = ?", (user_id, user_id))
        self._changed()

    # -- images IndexFaces stored no face of -------------------------------------------------

    def remember_image_without_faces(self, image_id: str, external_image_id: str,
                                     quality_filter: str, analysed_by: str) -> None:
        self._require_writable()
        self.conn.execute(
            "INSERT OR REPLACE INTO images_without_faces (image_id, external_image_id, "
            "quality_filter, analysed_by, created_at) VALUES (?, ?, ?, ?, ?)",
            (image_id, external_image_id, quality_filter, analysed_by,
             self.collection.store.clock()))

    def image_without_faces(self, image_id: str, external_image_id: str, quality_filter: str,
                            analysed_by: str) -> bool:
        return self.conn.execute(
            "SELECT 1 FROM images_without_faces WHERE image_id = ? AND external_image_id = ? "
            "AND quality_filter = ? AND analysed_by = ?",
            (image_id, external_image_id, quality_filter, analysed_by)).fetchone() is not None

    def distances_to_faces(self, rows: Sequence[int], reference_rows: Sequence[int]) -> list[float]:
        """For each face row in `rows`, its smallest Euclidean distance to the faces at
        `reference_rows` (e.g. a face against a user's faces)."""
        import numpy as np

        from rekcli.store.vectors import exact_distances

        vectors = self.collection.vectors
        references = vectors.read_rows(list(reference_rows))[:, :constants.DESCRIPTOR_SIZE]
        faces = vectors.read_rows(list(rows))
        return exact_distances(faces, np.arange(len(rows)), references).tolist()

    def associated_face_count(self) -> int:
        return self.conn.execute(
            "SELECT COUNT(*) FROM faces WHERE user_id IS NOT NULL").fetchone()[0]

    def associated_rows(self) -> list[tuple[int, str]]:
        return self.conn.execute(
            "SELECT row, user_id FROM faces WHERE user_id IS NOT NULL").fetchall()

    # -- idempotency tokens ------------------------------------------------------------------

    def find_request_token(self, token: str) -> RequestTokenRecord | None:
        row = self.conn.execute(
            "SELECT token, operation, fingerprint, response, created_at FROM request_tokens "
            "WHERE token = ?", (token,)).fetchone()
        if row is None:
            return None
        if row[4] < self.collection.store.clock() - constants.REQUEST_TOKEN_TTL_SECONDS:
            return None
        return RequestTokenRecord(row[0], row[1], row[2], json.loads(row[3]))

    def record_request_token(self, token: str, operation: str, fingerprint: str,
                             response: dict) -> None:
        self._require_writable()
        self.conn.execute(
            "INSERT OR REPLACE INTO request_tokens (token, operation, fingerprint, response, "
            "created_at) VALUES (?, ?, ?, ?, ?)",
            (token, operation, fingerprint, json.dumps(response), self.collection.store.clock()))
