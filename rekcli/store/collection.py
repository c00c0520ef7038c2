"""One collection: its faces, users and idempotency tokens (SQLite) and vectors (vectors.f32).

Directory of a collection (named by a random hex id recorded in the region catalog; user ids
never become paths):

    meta.sqlite     WAL database: info (one row), faces, users, pending_tombstones,
                    request_tokens, _migrations
    vectors.f32     append-only float32 rows, one per face added since the last compaction
                    (vectors-<n>.f32 after the n-th compaction; see vectors.py)
    write.lock      flock target serialising writers across processes

Writes: `with collection.write() as tx:` takes the flock, opens BEGIN IMMEDIATE, first
repairs what an interrupted writer may have left (truncates vectors past the committed row
count, re-applies pending tombstones), runs the caller's changes and commits. Vectors of
new faces are written and fsynced past the committed count before the transaction that
extends the count commits, so a kill -9 at any instant leaves either the whole request or
none of it. Reads use a plain BEGIN snapshot and never write.

Deletion: the transaction that deletes faces records their rows in pending_tombstones; right
after it commits the rows are overwritten (zeros, a norm that never matches), and if the
process dies in between the next writer does it first. Compaction: once deleted rows pass
a threshold (constants.py), a write copies the live rows, checked, into the next
generation's file, fsyncs it, and in the same SQLite transaction renumbers the faces and
switches the generation; the old file is removed after the commit (or by the next writer).
A kill -9 at any point leaves either the old file and numbering or the new ones. Readers
keep the file their snapshot names (already mapped files stay valid after the unlink), and
one that finds it gone takes a new snapshot.
"""

from __future__ import annotations

import json
import math
import os
import re
import sqlite3
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator, Sequence

from rekcli.store import constants, search_index
from rekcli.store.errors import CollectionFull, CollectionNotFound, NewerFormat, StoreFailure
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
    is_disk_full,
    schema_version,
    storage_errors,
    transaction,
)
from rekcli.store.vectors import VectorFile, VectorsMissing, fault_point, is_vector_file_name
from rekcli.store.vectors import file_name as vector_file_name

if TYPE_CHECKING:  # pragma: no cover
    from rekcli.store.catalog import Store

META_DB = "meta.sqlite"
VECTORS_FILE = "vectors.f32"
LOCK_FILE = "write.lock"

_FACE_COLUMNS = ("row, face_id, image_id, external_image_id, bbox_width, bbox_height, "
                 "bbox_left, bbox_top, confidence, model_version, user_id")

# Live rows copied per step of a compaction (about 35 MB).
_COMPACT_CHUNK = 65536

# Below this many user-associated faces, nearest_users reads all of them at once instead of
# walking the nearest faces in distance order (cheaper when associations are sparse).
_USER_SCAN_LIMIT = 20_000

# Collection folder -> when this process last started a background index build for it.
_BUILDS_STARTED: dict[str, float] = {}
# Collections this process has searched: a process that searches one again (a server, a
# batch job) uses its search index from a lower size (search_index.resident_min_faces).
_SEARCHED: set[str] = set()


def not_found(collection_id: str) -> CollectionNotFound:
    return CollectionNotFound(collection_id)


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
            columns = {row[1] for row in conn.execute("PRAGMA table_info(info)")}
            if "vector_format" in columns:  # absent only where tests play an older rekcli
                conn.execute("UPDATE info SET vector_format = ?", (constants.VECTOR_FORMAT,))
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


def compaction_due(info: dict) -> bool:
    """A legacy file is rewritten in the current format at the first write; a current one
    once enough of its rows belong to deleted faces."""
    if info["vector_format"] != constants.VECTOR_FORMAT:
        return True
    deleted = info["committed_rows"] - info["face_count"]
    return (deleted >= constants.COMPACT_MIN_DELETED
            and deleted >= constants.COMPACT_DELETED_FRACTION * info["committed_rows"])


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
        self._vectors: VectorFile | None = None  # the file of the latest snapshot seen

    def vector_file(self, info: dict) -> VectorFile:
        """The vector file a snapshot's `info` names (its mapping kept while current)."""
        path = self.path / vector_file_name(info["vector_generation"])
        current = self._vectors
        if current is None or current.path != path or current.fmt != info["vector_format"]:
            current = VectorFile(path, self.collection_id, info["vector_format"])
            self._vectors = current
        return current

    @property
    def vectors(self) -> VectorFile:
        """The current vector file (for tests and tools)."""
        with self.read() as tx:
            return self.vector_file(tx.info())

    def _reading(self, work):
        """Run `work(tx, vectors)` in a read snapshot with the vector file it names.

        Tried again in a newer snapshot when a compaction removed that file after the
        snapshot began, and once when a row looked damaged: a row being wiped by a
        concurrent delete can be read half written. Damage that stays is reported.
        """
        missing, suspected = None, False
        while True:
            try:
                with self.read() as tx:
                    return work(tx, self.vector_file(tx.info()))
            except VectorsMissing as exc:
                if missing == exc.path:
                    raise  # the same file missing in a newer snapshot: damage
                missing = exc.path
            except StoreDamaged:
                if suspected:
                    raise
                suspected = True

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
                raise NewerFormat(self.collection_id, version)
            self._conn = conn
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._vectors is not None:
            self._vectors.forget_mapping()

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
        are returned. CollectionFull past MAX_FACES_PER_COLLECTION.
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
        """{face_id: float32 (128,) descriptor} for the faces that exist (checked)."""
        def work(tx, vectors):
            faces = list(tx.get_faces(face_ids).values())
            return faces, vectors.read_rows([face.row for face in faces])

        faces, rows = self._reading(work)
        return {face.face_id: rows[i, :constants.DESCRIPTOR_SIZE].copy()
                for i, face in enumerate(faces)}

    # -- search ----------------------------------------------------------------------------

    def _distances(self, vectors: VectorFile, n: int, query, eps: float):
        """(matrix, squared distances) of the first n rows to `query`; damaged rows raise."""
        matrix = vectors.matrix(n)
        return matrix, self._scan(vectors, matrix, 0, n, query, eps)

    @staticmethod
    def _scan(vectors: VectorFile, matrix, start: int, end: int, query, eps: float):
        """Squared distances of rows start..end of `matrix` to `query` (damage raises)."""
        from rekcli.store import vectors as vec

        def check(d2):
            vec.check_distances(d2, eps, vectors.fmt,
                                lambda rows: vectors.verify(matrix, rows + start, live=False))

        return vec.approx_squared_distances(matrix[start:end], query, check=check)

    def _ranked_rows(self, info: dict, vectors: VectorFile, query, eps: float, limit: float,
                     first_chunk: int, excluded=()):
        """(matrix, chunks): rows with squared distance <= limit to `query`, in ascending
        (distance, row) order, as vec.ranked_rows yields them, without the `excluded`
        rows. Exactly over every row, or, when the collection has a usable search index,
        through it (_ranked_through_index); both give the same rows and distances."""
        import numpy as np

        from rekcli.store import vectors as vec

        n = info["committed_rows"]
        index = self._search_index(info)
        _SEARCHED.add(str(self.path))
        if index is not None:
            matrix = vectors.matrix(n, populate=False)
            return matrix, self._ranked_through_index(index, vectors, matrix, n, query, eps,
                                                      limit, first_chunk, excluded)
        matrix, d2 = self._distances(vectors, n, query, eps)
        if len(excluded):
            d2[np.asarray(excluded, dtype=np.int64)] = np.inf
        return matrix, vec.ranked_rows(d2, limit, first_chunk,
                                       ceiling=vec.match_ceiling(vectors.fmt))

    def _ranked_through_index(self, index, vectors, matrix, n, query, eps, limit,
                              first_chunk, excluded):
        """The rows of _ranked_rows, found through the search index, band by band.

        faiss returns the K rows nearest by code distance, in that order; the rows added
        since the build (the tail) are measured exactly up front. The returned rows are
        measured exactly a growing prefix at a time: every row not yet measured has a code
        distance of at least the next one's (or, past the K rows, the K-th one's), so its
        true distance is at least that minus the index's margin, and the measured rows
        below that bound are complete and can be yielded. A caller that reads past the K
        rows gets a search with a K four times larger; past EXACT_SCAN_SHARE of the rows,
        an exact scan."""
        import numpy as np

        from rekcli.store import search_index
        from rekcli.store import vectors as vec

        covered = index.covered_rows
        ceiling = float(np.nextafter(np.float32(vec.match_ceiling(vectors.fmt)), np.float32(0)))
        limit = min(float(limit), ceiling)
        excluded = np.asarray(excluded, dtype=np.int64)
        tail_rows = np.arange(covered, n, dtype=np.int64)
        tail_d2 = self._scan(vectors, matrix, covered, n, query, eps)
        done_below = -math.inf
        margin = search_index.margin(index)
        # The first search of a process reads its rows with pread; later ones (a server, a
        # batch) go through the mapping, whose pages then stay mapped.
        cold, index.searched = not index.searched, True

        at_bound = np.empty(0, dtype=np.int64)  # rows yielded at exactly done_below

        def band(rows, d2, upper):
            """The rows with done_below <= d2 <= upper not yielded yet, ascending, in chunks
            that grow 8x from first_chunk (callers look up each chunk's faces and usually
            stop early). A row at exactly the last bound may not have been measured then."""
            nonlocal at_bound
            keep = (d2 > done_below) | ((d2 == done_below) & ~np.isin(rows, at_bound))
            keep &= d2 <= upper
            if excluded.size:
                keep &= ~np.isin(rows, excluded)
            rows, d2 = rows[keep], d2[keep]
            order = np.lexsort((rows, d2))
            rows, d2 = rows[order], d2[order]
            if upper > done_below:  # the next band starts at upper
                at_bound = rows[d2 == upper]
            elif upper == done_below:
                at_bound = np.concatenate([at_bound, rows[d2 == upper]])
            start, size = 0, max(1, first_chunk)
            while start < rows.size:
                yield rows[start:start + size], d2[start:start + size]
                start, size = start + size, size * 8

        k = search_index.first_k(covered)
        while k <= covered * search_index.EXACT_SCAN_SHARE:
            try:
                rows, keys, floor = index.nearest_rows(query, k)
            except (RuntimeError, ValueError, IndexError) as exc:  # faiss refused it
                self._index_damaged(exc)
                break
            measured_rows, measured_d2 = [tail_rows], [tail_d2]
            start, step = 0, search_index.FIRST_MEASURED_ROWS
            while True:
                end = min(rows.size, start + step)
                measured_rows.append(rows[start:end])
                measured_d2.append(self._rows_distances(vectors, matrix, rows[start:end],
                                                        query, eps, read=cold))
                next_key = float(keys[end]) if end < rows.size else math.inf
                upper = min(limit, min(next_key, floor) - margin)
                yield from band(np.concatenate(measured_rows), np.concatenate(measured_d2),
                                upper)
                if upper >= limit:
                    return
                done_below = max(done_below, upper)
                if end == rows.size:
                    break
                start, step = end, step * 4
            k *= 4
        # Past a fair share of the rows: every covered row, exactly.
        d2 = self._scan(vectors, matrix, 0, covered, query, eps)
        yield from band(np.concatenate([np.arange(covered, dtype=np.int64), tail_rows]),
                        np.concatenate([d2, tail_d2]), limit)

    def _index_eligible(self, info: dict) -> bool:
        threshold = (search_index.resident_min_faces() if str(self.path) in _SEARCHED
                     else search_index.min_faces())
        return (info["face_count"] >= threshold
                and info["vector_format"] == constants.VECTOR_FORMAT
                and search_index.available())

    def _search_index(self, info: dict):
        """The usable search index, or None (exact search). Starts a background build
        when the collection is past the threshold and its index is missing, obsolete,
        damaged or stale."""
        if not self._index_eligible(info):
            return None
        try:
            index = search_index.open_index(self.path)
        except search_index.IndexUnavailable:
            return None
        except (search_index.IndexDamaged, OSError, ValueError) as exc:
            self._index_damaged(exc)
            return None
        state = "NONE" if index is None else search_index.usable_state(index, info)
        if state != "CURRENT":
            self._start_index_build()
        return index if state in ("CURRENT", "STALE") else None

    def _index_damaged(self, exc: Exception) -> None:
        """A damaged index is a cache miss: say so on stderr, answer exactly, rebuild."""
        search_index.forget(self.path)
        self.store.ctx.notify(f"rekcli: warning: the search index of the collection "
                              f"{self.collection_id} is damaged ({exc}); searching exactly "
                              "and rebuilding it")
        self._start_index_build()

    def _start_index_build(self) -> None:
        """Start `rekcli search-index --rebuild` for this collection in its own session
        (unless builds are off, one is running, or this process started one recently)."""
        import subprocess
        import sys
        import time

        if not search_index.background_builds():
            return
        key = str(self.path)
        if time.monotonic() - _BUILDS_STARTED.get(key, -math.inf) < 60:
            return
        if search_index.BuildLock(self.path).held_elsewhere():
            return
        _BUILDS_STARTED[key] = time.monotonic()
        env = dict(os.environ, REKCLI_DATA_DIR=str(self.store.region_dir.parent))
        subprocess.Popen(
            [sys.executable, "-m", "rekcli", "search-index", "--collection-id",
             self.collection_id, "--region", self.store.ctx.region, "--rebuild"],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True)

    def nearest_faces(self, descriptor, k: int, max_distance: float = math.inf,
                      exclude_face_ids: Iterable[str] = ()) -> list[tuple[StoredFace, float]]:
        """The k faces nearest to `descriptor` with Euclidean distance <= max_distance,
        best first (ties by FaceId), as (face, distance). Exact: one matrix-vector product
        over the memory-mapped vectors, argpartition, then the few candidates are
        re-measured in float64 (and their rows' checksums verified)."""
        from rekcli.store import vectors as vec

        if k <= 0:
            return []
        query = vec.as_descriptors(descriptor)
        eps = vec.epsilon_for(query)
        exclude_face_ids = list(exclude_face_ids)
        found, exact = self._reading(
            lambda tx, vectors: self._nearest_faces_in(tx, vectors, query, eps, k, max_distance,
                                                       exclude_face_ids))
        ranked = sorted(zip(exact.tolist(), [face.face_id for face in found], found))
        return [(face, distance) for distance, _, face in ranked
                if distance <= max_distance][:k]

    def _nearest_faces_in(self, tx, vectors, query, eps, k, max_distance, exclude_face_ids):
        import numpy as np

        from rekcli.store import vectors as vec

        info = tx.info()
        if info["committed_rows"] == 0:
            return [], np.empty(0)
        excluded = [face.row for face in tx.get_faces(exclude_face_ids).values()]
        limit = max_distance * max_distance + eps if math.isfinite(max_distance) else math.inf
        matrix, ranked = self._ranked_rows(info, vectors, query, eps, limit, k + 16, excluded)
        found: list[StoredFace] = []
        cutoff = math.inf
        for rows, values in ranked:
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
            return [], np.empty(0)
        found_rows = [face.row for face in found]
        vectors.verify(matrix, found_rows)
        return found, vec.exact_distances(matrix, found_rows, query)

    def nearest_users(self, descriptor, k: int, max_distance: float = math.inf,
                      exclude_user_ids: Iterable[str] = ()) -> list[tuple[str, str, float]]:
        """The k users nearest to `descriptor`, best first (ties by UserId), as
        (user_id, user_status, distance).

        A user's distance is the smallest distance between any of its faces and the query
        (single linkage). `descriptor` may also be several descriptors (m, 128) - a user's
        faces - and then the smallest over every (query, face) pair counts. Users without
        faces have no vector and never match.
        """
        from rekcli.store import vectors as vec

        if k <= 0:
            return []
        query = vec.as_descriptors(descriptor)
        eps = vec.epsilon_for(query)
        exclude = set(exclude_user_ids)
        users, exact = self._reading(
            lambda tx, vectors: self._nearest_users_in(tx, vectors, query, eps, k,
                                                       max_distance, exclude))
        best: dict[str, float] = {}
        for user, distance in zip(users, exact.tolist()):
            if distance < best.get(user, math.inf):
                best[user] = distance
        ranked = sorted((distance, user) for user, distance in best.items()
                        if distance <= max_distance)[:k]
        # A user that owns a face is ACTIVE (UserRecord.status).
        return [(user, "ACTIVE", distance) for distance, user in ranked]

    def _nearest_users_in(self, tx, vectors, query, eps, k, max_distance, exclude):
        import numpy as np

        from rekcli.store import vectors as vec

        nothing = ([], np.empty(0))
        info = tx.info()
        n = info["committed_rows"]
        associated = tx.associated_face_count()
        if n == 0 or associated == 0:
            return nothing
        limit = max_distance * max_distance + eps if math.isfinite(max_distance) else math.inf
        limit = min(limit, float(np.nextafter(np.float32(vec.match_ceiling(vectors.fmt)),
                                              np.float32(0))))
        if associated <= _USER_SCAN_LIMIT:
            pairs = [(row, user) for row, user in tx.associated_rows() if user not in exclude]
            rows = np.array([row for row, _ in pairs], dtype=np.int64)
            users = [user for _, user in pairs]
            if self._index_eligible(info):
                # A large collection: measure only the users' faces, exactly.
                matrix = vectors.matrix(n, populate=False)
                d2_users = self._rows_distances(vectors, matrix, rows, query, eps)
            else:
                matrix, d2 = self._distances(vectors, n, query, eps)
                d2_users = d2[rows]
            keep = np.flatnonzero(d2_users <= limit) if rows.size else rows
            rows = rows[keep]
            users = [users[i] for i in keep.tolist()]
        else:
            rows_found: list[int] = []
            users = []
            first_seen: dict[str, float] = {}
            cutoff = math.inf
            matrix, ranked = self._ranked_rows(info, vectors, query, eps, limit, 8 * k + 64)
            for chunk_rows, values in ranked:
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
            return nothing
        vectors.verify(matrix, rows)
        return users, vec.exact_distances(matrix, rows, query)

    @staticmethod
    def _rows_distances(vectors: VectorFile, matrix, rows, query, eps: float,
                        read: bool = False):
        """Squared distances of some rows of `matrix` to `query` (damage raises); with
        `read`, the rows are read with pread rather than through the mapping."""
        import numpy as np

        from rekcli.store import vectors as vec

        if rows.size == 0:
            return np.empty(0, dtype=np.float32)

        def check(d2):
            vec.check_distances(d2, eps, vectors.fmt,
                                lambda found: vectors.verify(matrix, rows[found], live=False))

        block = vectors.gather(rows) if read else matrix[rows]
        return vec.approx_squared_distances(block, query, check=check)

    # -- checks ----------------------------------------------------------------------------

    def verify(self) -> dict:
        """Check the whole collection (`rekcli check-store`, tests): the database's
        integrity, the vector file, every row's checksum, that deleted rows hold no
        descriptor, and that counts agree.

        Returns counts; `problems` lists every inconsistency found (empty when healthy).
        """
        import numpy as np

        from rekcli.store import vectors as vec

        problems = []
        with self.read() as tx:
            integrity = [row[0] for row in tx.conn.execute("PRAGMA integrity_check")]
            if integrity != ["ok"]:
                problems.append(f"{self.path / META_DB}: " + "; ".join(integrity[:5]))
            info = tx.info()
            committed = info["committed_rows"]
            vectors = self.vector_file(info)
            try:
                size = vectors.size_bytes()
                matrix = vectors.matrix(committed)
            except StoreDamaged as exc:
                problems.append(str(exc))
                return {"problems": problems, "vector_file": str(vectors.path)}
            pending = {row for (row,) in tx.conn.execute("SELECT row FROM pending_tombstones")}
            face_rows = {row for (row,) in tx.conn.execute("SELECT row FROM faces")}
            face_rows_count = len(face_rows)
            users = tx.conn.execute("SELECT COUNT(*) FROM users").fetchone()[0]
            per_user = dict(tx.conn.execute(
                "SELECT u.user_id, u.face_count - (SELECT COUNT(*) FROM faces f "
                "WHERE f.user_id = u.user_id) FROM users u"))
            orphans = tx.conn.execute(
                "SELECT COUNT(*) FROM faces WHERE user_id IS NOT NULL AND user_id NOT IN "
                "(SELECT user_id FROM users)").fetchone()[0]
            tombstone = vec.tombstone_row(vectors.fmt)
            damaged, tombstones, undeleted = [], set(), []
            for start in range(0, committed, 65536):
                block = np.asarray(matrix[start:start + 65536])
                damaged.extend((start + vec.bad_rows(block, vectors.fmt)).tolist())
                wiped = np.flatnonzero((block == tombstone).all(axis=1)) + start
                tombstones.update(wiped.tolist())
                if vectors.fmt == constants.VECTOR_FORMAT_LEGACY:
                    marked = np.flatnonzero(np.isposinf(block[:, constants.NORM_COLUMN]))
                    tombstones.update((marked + start).tolist())
        if damaged:
            problems.append(str(vectors.damaged_rows(damaged)))
        live_vectors = set(range(committed)) - tombstones - pending
        if face_rows != live_vectors:
            problems.append(f"{len(face_rows ^ live_vectors)} rows differ between faces and "
                            "live vectors")
        if vectors.fmt == constants.VECTOR_FORMAT:
            undeleted = sorted(set(range(committed)) - face_rows - pending - tombstones)
            if undeleted:
                problems.append(f"{len(undeleted)} rows of deleted faces still hold data")
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
        index_state = search_index.verify(self.path, info, matrix, face_rows, problems,
                                          pending)
        return {"problems": problems, "search_index": index_state, "face_count": info["face_count"],
                "user_count": info["user_count"], "faces": face_rows_count,
                "live_vectors": len(live_vectors), "committed_rows": committed,
                "file_rows": size // constants.ROW_BYTES, "vector_file": str(vectors.path),
                "vector_format": vectors.fmt}


class CollectionTransaction:
    """What may be read or changed inside one transaction of a collection.

    Obtained from `Collection.read()` (read-only) or `Collection.write()`.
    """

    def __init__(self, collection: Collection, conn: sqlite3.Connection, writable: bool):
        self.collection = collection
        self.conn = conn
        self.writable = writable
        self._deleted_rows: list[int] = []
        self._obsolete_vectors: Path | None = None

    def _require_writable(self) -> None:
        if not self.writable:
            raise RuntimeError("this transaction is read-only")

    # -- bookkeeping ------------------------------------------------------------------------

    def info(self) -> dict:
        row = self.conn.execute(
            "SELECT committed_rows, face_count, user_count, created_at, face_model_version, "
            "row_floats, generation, vector_format, vector_generation FROM info "
            "WHERE id = 1").fetchone()
        return {"committed_rows": row[0], "face_count": row[1], "user_count": row[2],
                "created_at": row[3], "face_model_version": row[4], "row_floats": row[5],
                "generation": row[6], "vector_format": row[7], "vector_generation": row[8]}

    @property
    def vectors(self) -> VectorFile:
        return self.collection.vector_file(self.info())

    def _changed(self) -> None:
        """Record that faces or users changed in this transaction (see info's generation)."""
        self.conn.execute("UPDATE info SET generation = generation + 1 WHERE id = 1")

    def recover(self) -> None:
        """Undo what an interrupted writer may have left, then compact or upgrade the
        vector file if due; runs first in every write."""
        info = self.info()
        if info["row_floats"] != constants.ROW_FLOATS:
            raise StoreFailure("vectors.f32 has an unknown row layout")
        vectors = self.collection.vector_file(info)
        vectors.check(info["committed_rows"])
        if vectors.size_bytes() > info["committed_rows"] * constants.ROW_BYTES:
            vectors.truncate(info["committed_rows"])
        pending = [row for (row,) in self.conn.execute("SELECT row FROM pending_tombstones")]
        if pending:
            vectors.tombstone(pending)
            search_index.wipe_rows(self.collection.path, pending, info["vector_generation"])
            self.conn.execute("DELETE FROM pending_tombstones")
        self._remove_other_vector_files(vectors.path.name)
        search_index.remove_if_obsolete(self.collection.path, info["vector_generation"])
        if compaction_due(info):
            try:
                self.compact()
            except (OSError, sqlite3.Error) as exc:
                if not is_disk_full(exc):
                    raise
                # No room for the copy: the write goes ahead without it (a later one will
                # compact), so a full disk never blocks deletes, which free space.
        horizon = self.collection.store.clock() - constants.REQUEST_TOKEN_TTL_SECONDS
        self.conn.execute("DELETE FROM request_tokens WHERE created_at < ?", (horizon,))

    def _remove_other_vector_files(self, current: str) -> None:
        """Remove vector files left by a compaction that died (its new file before the
        commit, or the old one after it)."""
        removed = False
        for name in os.listdir(self.collection.path):
            if name != current and is_vector_file_name(name):
                os.unlink(self.collection.path / name)
                removed = True
        if removed:
            fsync_path(self.collection.path)

    def compact(self) -> None:
        """Copy the live rows, verified, into the next generation's file (in the current
        format), renumber the faces, switch the generation. The old file is removed after
        the commit (`after_commit`), or by the next writer if this process dies first."""
        import numpy as np

        info = self.info()
        old = self.collection.vector_file(info)
        live = np.array([row for (row,) in self.conn.execute(
            "SELECT row FROM faces ORDER BY row")], dtype=np.int64)
        generation = info["vector_generation"] + 1
        new = VectorFile(self.collection.path / vector_file_name(generation),
                         self.collection.collection_id, constants.VECTOR_FORMAT)
        self.conn.execute("SAVEPOINT compacting")
        try:
            new.create()
            fault_point("compact-created")
            self._copy_live_rows(old, new, live, info["committed_rows"])
            fsync_path(self.collection.path)
            fault_point("compact-copied")
            if (live != np.arange(live.size)).any():
                self._renumber_faces()
            self.conn.execute(
                "UPDATE info SET committed_rows = ?, vector_format = ?, vector_generation = ? "
                "WHERE id = 1", (int(live.size), constants.VECTOR_FORMAT, generation))
            fault_point("compact-renumbered")
        except BaseException:
            # Undo it all, so the caller may go on without compacting (disk full).
            self.conn.execute("ROLLBACK TO compacting")
            self.conn.execute("RELEASE compacting")
            try:
                os.unlink(new.path)  # no half copy left behind (else the next writer's)
            except OSError:
                pass
            raise
        self.conn.execute("RELEASE compacting")
        old.forget_mapping()
        self._obsolete_vectors = old.path

    def _renumber_faces(self) -> None:
        """Give the faces rows 0..n-1 in their current order (the compacted file's order).

        The table is rebuilt rather than updated: changing the rowid of most rows in place
        costs a b-tree delete and insert each (measured 2.5x slower at 100,000 faces). Its
        schema and indexes are read from the database, so later migrations carry over.
        """
        conn = self.conn
        table_sql = conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'faces'").fetchone()[0]
        index_sqls = [sql for (sql,) in conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'faces' "
            "AND sql IS NOT NULL")]
        others = ", ".join(name for _, name, *_ in conn.execute("PRAGMA table_info(faces)")
                           if name != "row")
        # "CREATE TABLE faces (...)", or with the name quoted once a rebuild renamed it.
        head = re.match(r'CREATE TABLE\s+("faces"|faces)\s*\(', table_sql)
        if head is None:
            raise StoreFailure("unexpected schema of the faces table")
        conn.execute("CREATE TABLE faces_compacting (" + table_sql[head.end():])
        conn.execute(f"INSERT INTO faces_compacting (row, {others}) SELECT "
                     f"ROW_NUMBER() OVER (ORDER BY row) - 1, {others} FROM faces ORDER BY row")
        conn.execute("DROP TABLE faces")
        conn.execute("ALTER TABLE faces_compacting RENAME TO faces")
        for sql in index_sqls:
            conn.execute(sql)

    @staticmethod
    def _copy_live_rows(old: VectorFile, new: VectorFile, live, committed: int) -> None:
        import numpy as np

        from rekcli.store import vectors as vec

        source = old.matrix(committed)
        for start in range(0, live.size, _COMPACT_CHUNK):
            rows = live[start:start + _COMPACT_CHUNK]
            block = np.array(source[rows])
            bad = vec.bad_rows(block, old.fmt, live=True)
            if bad.size:
                raise old.damaged_rows(rows[bad])  # never copy damage under a new checksum
            if old.fmt != constants.VECTOR_FORMAT:
                block = vec.upgraded(block)
            new.append(start, block)
            fault_point("compact-copying")

    def after_commit(self) -> None:
        """After a committed write: remove the vector file a compaction replaced, wipe the
        rows of faces the transaction deleted, and compact if that made it due.

        Best effort: the deletion is already durable, search skips rows without a face, and
        the next writer finishes the job from pending_tombstones if this fails.
        """
        self._remove_obsolete_vectors()
        rows, self._deleted_rows = self._deleted_rows, []
        if not rows:
            return
        try:
            fault_point("delete-committed")
            self.vectors.tombstone(rows)
            search_index.wipe_rows(self.collection.path, rows,
                                   self.info()["vector_generation"])
            with transaction(self.conn):
                self.conn.execute(
                    "DELETE FROM pending_tombstones WHERE row IN "
                    "(SELECT value FROM json_each(?))", (json.dumps(rows),))
                if compaction_due(self.info()):
                    self.recover()
            self._remove_obsolete_vectors()
        except (OSError, sqlite3.Error, StoreFailure):
            # The delete is committed: a failed wipe is redone, and damage that stopped
            # the compaction is reported, by the next write.
            pass

    def _remove_obsolete_vectors(self) -> None:
        path, self._obsolete_vectors = self._obsolete_vectors, None
        if path is None:
            return
        fault_point("compact-committed")
        try:
            # The rows were renumbered: the search index no longer fits them.
            search_index.remove(self.collection.path)
            os.unlink(path)
            fsync_path(path.parent)
        except OSError:
            pass  # the next writer removes it

    # -- faces -----------------------------------------------------------------------------

    def append_faces(self, entries, rows, return_faces: bool = True) -> list[StoredFace]:
        """entries: (face_id, image_id, external_image_id, NewFace); rows: augmented vectors."""
        self._require_writable()
        info = self.info()
        if info["face_count"] + len(entries) > constants.MAX_FACES_PER_COLLECTION:
            raise CollectionFull(self.collection.collection_id,
                                 constants.MAX_FACES_PER_COLLECTION)
        start = info["committed_rows"]
        version = self.collection.face_model_version
        try:
            vectors = self.vectors
            if vectors.fmt != constants.VECTOR_FORMAT:  # upgrade put off by a full disk
                from rekcli.store.vectors import legacy_rows

                rows = legacy_rows(rows)
            # Vectors first, fsynced, past the committed count: invisible until COMMIT.
            vectors.append(start, rows)
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
                self.vectors.truncate(start)
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

        vectors = self.vectors
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
