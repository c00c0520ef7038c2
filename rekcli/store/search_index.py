"""The search index of a large collection: IVF-flat over the collection's own vector rows.

Exact search reads every row (about 35 ms per million faces per query on two cores, memory
bound), so past SEARCH_INDEX_MIN_FACES a collection gets an index beside its vector file:

    search-index.ivf   header (format, the vector generation and row count it covers, the
                       store generation it was built from, section offsets, a CRC-32 of
                       the header, centroids and list offsets), then
                       centroids   nlist x 128 float32 (k-means, Euclidean)
                       offsets     nlist + 1 int64: list l is slots offsets[l]:offsets[l+1]
                       row ids     int32 per slot: the vector-file row copied there
                       slot of row int32 per covered row (-1: not in the index)
                       rows        a copy of the rows, grouped by list (the on-disk row
                                   layout, checksums included), so each list is one
                                   contiguous matrix scanned by one matrix-vector product

A query ranks the centroids by distance, scans the nearest lists completely, and scans the rows added since the
build exactly (the "tail"). Distances come from the copied float32 rows, i.e. they ARE the
exact search's distances; the collection re-measures its answers on the vector file itself.
What the index can cost is recall: a match sitting in a list that was not probed.
SEARCH_INDEX_PROBE_FRACTION was chosen by measurement (benchmarks/bench_search.py).

It is a derived cache, never the truth. A missing, stale (another vector generation: a
compaction renumbered the rows), half-written or damaged index means an exact search (and,
when damaged, a warning and a rebuild). Written to a private temp file, fsynced, and renamed
into place, so a kill -9 mid-build leaves the old index or none. Deleted faces: their slots
are overwritten (tombstone rows) in the same step that wipes their vector-file rows, and a
build that raced with deletes wipes their slots, under the collection's write lock, before
its rename; an index whose slots cannot be found is removed instead.

numpy is imported inside functions, like vectors.py.
"""

from __future__ import annotations

import fcntl
import math
import mmap
import os
import struct
import zlib
from pathlib import Path

from rekcli.store.constants import (
    DESCRIPTOR_SIZE,
    NORM_COLUMN,
    ROW_BYTES,
    ROW_FLOATS,
    TOMBSTONE_NORM,
    VECTOR_FORMAT,
)
from rekcli.store.files import open_private
from rekcli.store.vectors import fault_point, tombstone_row

INDEX_FILE = "search-index.ivf"
BUILD_LOCK_FILE = "search-index.lock"
TEMP_PREFIX = "search-index.tmp-"

MAGIC = b"REKIVF\x00\x01"
INDEX_VERSION = 1
# magic, version, nlist, covered rows, slots, vector generation, store generation,
# offsets of: centroids, list offsets, row ids, slot of row, rows; file size; CRC-32.
_HEADER = struct.Struct("<8sIIQQQQQQQQQQI")
_HEADER_BYTES = 4096
_ALIGN = 4096

# Collections with fewer faces are searched exactly: below ~2M faces exact search costs
# under ~70 ms a query and needs no build (measured, bench_search.py). Tests lower it.
MIN_FACES_ENV = "REKCLI_SEARCH_INDEX_MIN_FACES"
SEARCH_INDEX_MIN_FACES = 2_000_000
# "background" (default): the first search that finds a collection past the threshold
# without a current index starts a builder process and answers exactly meanwhile;
# "off": only `rekcli search-index --rebuild` builds.
BUILD_ENV = "REKCLI_SEARCH_INDEX_BUILD"
# Share of the lists each query scans (at least SEARCH_INDEX_MIN_PROBES lists);
# $REKCLI_SEARCH_INDEX_PROBE_FRACTION overrides it.
PROBE_ENV = "REKCLI_SEARCH_INDEX_PROBE_FRACTION"
SEARCH_INDEX_PROBE_FRACTION = 0.2
SEARCH_INDEX_MIN_PROBES = 16
# The index is rebuilt once rows added since the build pass this share of the rows it
# covers (the tail is scanned exactly, so it only costs time).
SEARCH_INDEX_STALE_FRACTION = 0.10
# Lists per sqrt(rows).
LISTS_PER_SQRT_ROWS = 4
# k-means: training sample per list, iterations.
_SAMPLE_PER_LIST = 32
_KMEANS_ITERATIONS = 8
# Rows handled per step of the assignment and the copy (bounded memory at any size).
_CHUNK_ROWS = 65536


class IndexDamaged(Exception):
    """The index file is not a valid index (half written, truncated, corrupted)."""


def min_faces() -> int:
    value = os.environ.get(MIN_FACES_ENV, "").strip()
    return int(value) if value.isdigit() else SEARCH_INDEX_MIN_FACES


def background_builds() -> bool:
    return os.environ.get(BUILD_ENV, "background").strip().lower() != "off"


def list_count(rows: int) -> int:
    """4 sqrt(N) lists: at an equal share of rows scanned, finer lists find more of the
    matches (measured at 1e5: 0.95 against 0.89 of them scanning ~15% of the rows)."""
    return max(1, min(rows // 8, int(round(LISTS_PER_SQRT_ROWS * math.sqrt(rows)))))


def probe_fraction() -> float:
    """The share of lists a query scans: $REKCLI_SEARCH_INDEX_PROBE_FRACTION (0 < f <= 1,
    more recall for more time), else SEARCH_INDEX_PROBE_FRACTION."""
    try:
        value = float(os.environ.get(PROBE_ENV, ""))
    except ValueError:
        return SEARCH_INDEX_PROBE_FRACTION
    return value if 0 < value <= 1 else SEARCH_INDEX_PROBE_FRACTION


def probe_count(nlist: int) -> int:
    return min(nlist, max(SEARCH_INDEX_MIN_PROBES, int(math.ceil(nlist * probe_fraction()))))


def _aligned(offset: int) -> int:
    return (offset + _ALIGN - 1) // _ALIGN * _ALIGN


# -- the file -----------------------------------------------------------------------------


class SearchIndex:
    """An open index file: memory-mapped, nothing parsed but the header (and a CRC-32 of
    the header, centroids and list offsets, ~2 MB at 1e7 faces)."""

    def __init__(self, path: Path):
        import numpy as np

        self.path = Path(path)
        fd = open_private(self.path, os.O_RDONLY)
        try:
            st = os.fstat(fd)
            self.identity = (st.st_dev, st.st_ino)
            if st.st_size < _HEADER_BYTES:
                raise IndexDamaged(f"{self.path}: truncated ({st.st_size} bytes)")
            self._map = mmap.mmap(fd, st.st_size, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ)
        finally:
            os.close(fd)
        fields = _HEADER.unpack_from(self._map, 0)
        (magic, version, self.nlist, self.covered_rows, self.slots, self.vector_generation,
         self.generation, centroids_at, offsets_at, ids_at, slot_of_row_at, rows_at, size,
         crc) = fields
        if magic != MAGIC or version != INDEX_VERSION:
            raise IndexDamaged(f"{self.path}: not a search index of this format")
        if size != st.st_size or rows_at + self.slots * ROW_BYTES > size:
            raise IndexDamaged(f"{self.path}: {st.st_size} bytes, its header says {size}")
        buffer = memoryview(self._map)
        if _checksum(buffer, centroids_at, self.nlist) != crc:
            raise IndexDamaged(f"{self.path}: the header or the list offsets do not match "
                               "their checksum")
        self.centroids = np.frombuffer(self._map, "<f4", self.nlist * DESCRIPTOR_SIZE,
                                       centroids_at).reshape(self.nlist, DESCRIPTOR_SIZE)
        self.offsets = np.frombuffer(self._map, "<i8", self.nlist + 1, offsets_at)
        self.row_ids = np.frombuffer(self._map, "<i4", self.slots, ids_at)
        self.slot_of_row = np.frombuffer(self._map, "<i4", self.covered_rows, slot_of_row_at)
        self.rows = np.frombuffer(self._map, "<f4", self.slots * ROW_FLOATS,
                                  rows_at).reshape(self.slots, ROW_FLOATS)
        self._rows_at = rows_at
        if (self.offsets[0] != 0 or self.offsets[-1] != self.slots
                or (np.diff(self.offsets) < 0).any()):
            raise IndexDamaged(f"{self.path}: its list offsets are inconsistent")

    def candidates(self, queries, eps: float):
        """(vector-file rows, float32 squared distances to the nearest query) of every slot
        in the lists nearest to `queries`. Wiped slots come out at TOMBSTONE_NORM or more.
        IndexDamaged if a copied row turns out damaged."""
        import numpy as np

        from rekcli.store import vectors as vec

        q = vec.as_descriptors(queries)
        lists = self.nearest_lists(q)
        ranges = _merged_ranges(self.offsets[lists], self.offsets[lists + 1])
        lengths = np.array([end - start for start, end in ranges], dtype=np.int64)
        total = int(lengths.sum())
        # One product per run of adjacent lists, straight into one array ([-2q, 1, 0..]
        # against the rows, as vectors.approx_squared_distances does).
        weights = np.zeros((ROW_FLOATS, q.shape[0]), dtype=np.float32)
        weights[:DESCRIPTOR_SIZE] = -2.0 * q.T
        weights[NORM_COLUMN] = 1.0
        qq = np.einsum("ij,ij->i", q, q).astype(np.float32)
        d2 = np.empty(total, dtype=np.float32)
        at = 0
        for (start, end), length in zip(ranges, lengths.tolist()):
            part = self.rows[start:end] @ weights
            part += qq
            np.min(part, axis=1, out=d2[at:at + length])
            at += length
        # Slot of each position: the runs' slot ranges laid end to end.
        first = np.array([start for start, _ in ranges], dtype=np.int64)
        slots = np.arange(total, dtype=np.int64)
        if len(ranges):
            slots += np.repeat(first - (np.cumsum(lengths) - lengths), lengths)
        vec.check_distances(d2, eps, VECTOR_FORMAT, lambda found: self._verify(slots[found]))
        np.maximum(d2, 0.0, out=d2)
        rows = self.row_ids[slots].astype(np.int64)
        if rows.size and (int(rows.max()) >= self.covered_rows or int(rows.min()) < 0):
            raise IndexDamaged(f"{self.path}: a slot names a row past the rows it covers")
        return rows, d2

    def nearest_lists(self, queries):
        """The lists each query probes (their union): the nearest centroids."""
        import numpy as np

        q = np.asarray(queries, dtype=np.float32).reshape(-1, DESCRIPTOR_SIZE)
        probes = probe_count(self.nlist)
        if probes >= self.nlist:
            return np.arange(self.nlist)
        return np.unique(assign(q, self.centroids, nearest=probes).ravel())

    def _verify(self, slots) -> None:
        from rekcli.store import vectors as vec

        bad = vec.bad_rows(self.rows[slots], VECTOR_FORMAT)
        if bad.size:
            raise IndexDamaged(f"{self.path}: {bad.size} copied row(s) do not match their "
                               "checksums")

    def close(self) -> None:
        for name in ("centroids", "offsets", "row_ids", "slot_of_row", "rows"):
            self.__dict__.pop(name, None)
        try:
            self._map.close()
        except (BufferError, ValueError):
            pass  # a caller still holds a view; the mapping goes with the last one


def _checksum(buffer, centroids_at: int, nlist: int) -> int:
    """CRC-32 of the header (without its CRC field), the centroids and the list offsets."""
    crc = zlib.crc32(buffer[:_HEADER.size - 4])
    end = centroids_at + nlist * DESCRIPTOR_SIZE * 4
    crc = zlib.crc32(buffer[centroids_at:end], crc)
    offsets_at = _aligned(end)
    return zlib.crc32(buffer[offsets_at:offsets_at + (nlist + 1) * 8], crc)


def _merged_ranges(starts, ends) -> list[tuple[int, int]]:
    """Slot ranges of the chosen lists, adjacent ones merged (fewer, longer scans)."""
    ranges: list[list[int]] = []
    for start, end in sorted(zip(starts.tolist(), ends.tolist())):
        if start == end:
            continue
        if ranges and ranges[-1][1] == start:
            ranges[-1][1] = end
        else:
            ranges.append([start, end])
    return [(start, end) for start, end in ranges]


# -- resident when warm: one open index per file per process --------------------------------

_OPEN: dict[str, SearchIndex] = {}


def open_index(directory: Path) -> SearchIndex | None:
    """The collection's index, or None when there is none. Kept open between calls in
    this process (servers, batch workers) while the file is the same one (same inode: a
    rebuild renames a new file into place). IndexDamaged when it is not a valid index."""
    path = Path(directory) / INDEX_FILE
    try:
        st = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        forget(directory)
        return None
    key = str(path)
    current = _OPEN.get(key)
    if current is not None and current.identity == (st.st_dev, st.st_ino):
        return current
    forget(directory)
    index = SearchIndex(path)
    _OPEN[key] = index
    return index


def forget(directory: Path) -> None:
    index = _OPEN.pop(str(Path(directory) / INDEX_FILE), None)
    if index is not None:
        index.close()


def remove(directory: Path) -> bool:
    """Delete the index file (a damaged or obsolete one). True if there was one."""
    forget(directory)
    try:
        os.unlink(Path(directory) / INDEX_FILE)
    except FileNotFoundError:
        return False
    _fsync_dir(directory)
    return True


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# -- deletes ------------------------------------------------------------------------------


def wipe_rows(directory: Path, rows, vector_generation: int) -> None:
    """Overwrite the slots of deleted rows with tombstones (callers hold the collection's
    write lock and wipe the vector file's rows in the same step). An index of another
    vector generation, or one whose slots cannot be read, is removed instead: a deleted
    face's vector must not stay anywhere."""
    path = Path(directory) / INDEX_FILE
    if not rows or not path.exists():
        return
    try:
        index = SearchIndex(path)
    except (IndexDamaged, OSError, ValueError, struct.error):
        remove(directory)
        return
    try:
        if index.vector_generation != vector_generation:
            remove(directory)
            return
        slots = sorted({int(index.slot_of_row[row]) for row in rows
                        if 0 <= row < index.covered_rows and index.slot_of_row[row] >= 0})
        if any(slot >= index.slots for slot in slots):
            remove(directory)
            return
        _write_tombstones(path, index._rows_at, slots)
    finally:
        index.close()


def remove_if_obsolete(directory: Path, vector_generation: int) -> None:
    """Remove an index built over another generation of the vector file (a compaction
    renumbered the rows since), or one whose header is unreadable. One small read."""
    path = Path(directory) / INDEX_FILE
    try:
        fd = open_private(path, os.O_RDONLY)
    except FileNotFoundError:
        return
    except OSError:
        remove(directory)
        return
    try:
        head = os.pread(fd, _HEADER.size, 0)
    finally:
        os.close(fd)
    fields = _HEADER.unpack(head) if len(head) == _HEADER.size else None
    if fields is None or fields[0] != MAGIC or fields[5] != vector_generation:
        remove(directory)


def _write_tombstones(path: Path, rows_at: int, slots) -> None:
    if not slots:
        return
    wiped = tombstone_row(VECTOR_FORMAT).tobytes()
    fd = open_private(path, os.O_RDWR)
    try:
        for slot in slots:
            os.pwrite(fd, wiped, rows_at + slot * ROW_BYTES)
        os.fdatasync(fd)
    finally:
        os.close(fd)


# -- building -----------------------------------------------------------------------------


class BuildLock:
    """flock on search-index.lock: one builder per collection at a time (non-blocking)."""

    def __init__(self, directory: Path):
        self.path = Path(directory) / BUILD_LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> bool:
        fd = open_private(self.path, os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def held_elsewhere(self) -> bool:
        if not self.path.exists():
            return False
        if self.acquire():
            self.release()
            return False
        return True

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)


def remove_temp_files(directory: Path) -> None:
    """Leftovers of builders that died (callers hold the build lock)."""
    for name in os.listdir(directory):
        if name.startswith(TEMP_PREFIX):
            try:
                os.unlink(Path(directory) / name)
            except FileNotFoundError:
                pass


def live_rows_of(matrix, skip=()) -> "np.ndarray":  # noqa: F821
    """Rows of `matrix` that are not tombstones (and not in `skip`)."""
    import numpy as np

    live = []
    for start in range(0, matrix.shape[0], _CHUNK_ROWS):
        norms = matrix[start:start + _CHUNK_ROWS, NORM_COLUMN]
        live.append(np.flatnonzero(norms != TOMBSTONE_NORM) + start)
    rows = np.concatenate(live) if live else np.empty(0, dtype=np.int64)
    if len(skip):
        rows = rows[~np.isin(rows, np.asarray(list(skip), dtype=np.int64))]
    return rows.astype(np.int64)


def train_centroids(matrix, live, nlist: int, seed: int = 0) -> "np.ndarray":  # noqa: F821
    """k-means (Euclidean, like the search) on a sample of the live rows."""
    import numpy as np

    rng = np.random.default_rng(seed)
    size = min(live.size, _SAMPLE_PER_LIST * nlist)
    sample = np.sort(rng.choice(live, size=size, replace=False))
    x = np.asarray(matrix[sample, :DESCRIPTOR_SIZE], dtype=np.float32)
    centroids = x[rng.choice(size, size=nlist, replace=False)].copy()
    for _ in range(_KMEANS_ITERATIONS):
        assigned = assign(x, centroids)
        counts = np.bincount(assigned, minlength=nlist)
        order = np.argsort(assigned, kind="stable")
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        sums = np.zeros((nlist, DESCRIPTOR_SIZE), dtype=np.float64)
        filled = counts > 0
        # Sum each list's rows in one pass over the rows sorted by list.
        sums[filled] = np.add.reduceat(x[order].astype(np.float64), starts[filled], axis=0)
        empty = np.flatnonzero(counts == 0)
        sums[empty] = x[rng.choice(size, size=empty.size, replace=False)]
        counts[empty] = 1
        centroids = (sums / counts[:, None]).astype(np.float32)
    return centroids


def assign(rows, centroids, nearest: int = 1) -> "np.ndarray":  # noqa: F821
    """The nearest centroid of each row (Euclidean), in bounded blocks; with `nearest` > 1
    the indices of that many nearest centroids, in no particular order."""
    import numpy as np

    half_norms = 0.5 * np.einsum("ij,ij->i", centroids, centroids)
    out = np.empty((rows.shape[0], nearest), dtype=np.int64)
    block = max(256, (1 << 24) // max(1, centroids.shape[0]))
    for start in range(0, rows.shape[0], block):
        # argmax of x.c - |c|^2/2 is the argmin of |x - c|^2.
        scores = np.asarray(rows[start:start + block], dtype=np.float32) @ centroids.T
        scores -= half_norms
        if nearest == 1:
            out[start:start + block, 0] = np.argmax(scores, axis=1)
        else:
            out[start:start + block] = np.argpartition(-scores, nearest - 1,
                                                       axis=1)[:, :nearest]
    return out[:, 0] if nearest == 1 else out


def layout(matrix, live, centroids):
    """(list offsets, row ids by slot): every live row assigned to its nearest centroid,
    grouped by list, in row order within a list."""
    import numpy as np

    lists = np.empty(live.size, dtype=np.int64)
    for start in range(0, live.size, _CHUNK_ROWS):
        rows = live[start:start + _CHUNK_ROWS]
        lists[start:start + _CHUNK_ROWS] = assign(matrix[rows, :DESCRIPTOR_SIZE], centroids)
    order = np.argsort(lists, kind="stable")
    counts = np.bincount(lists, minlength=centroids.shape[0])
    offsets = np.zeros(centroids.shape[0] + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return offsets, live[order]


def write_index(path: Path, matrix, centroids, offsets, row_ids, covered_rows: int,
                vector_generation: int, generation: int) -> None:
    """Write a complete index file at `path` (a new private file) and fsync it."""
    import numpy as np

    nlist = centroids.shape[0]
    slots = row_ids.size
    centroids_at = _HEADER_BYTES
    offsets_at = _aligned(centroids_at + nlist * DESCRIPTOR_SIZE * 4)
    ids_at = _aligned(offsets_at + (nlist + 1) * 8)
    slot_of_row_at = _aligned(ids_at + slots * 4)
    rows_at = _aligned(slot_of_row_at + covered_rows * 4)
    size = rows_at + slots * ROW_BYTES
    slot_of_row = np.full(covered_rows, -1, dtype="<i4")
    slot_of_row[row_ids] = np.arange(slots, dtype="<i4")
    fd = open_private(path, os.O_RDWR | os.O_CREAT | os.O_EXCL)
    try:
        os.ftruncate(fd, size)
        _pwrite_all(fd, np.ascontiguousarray(centroids, "<f4"), centroids_at)
        _pwrite_all(fd, np.ascontiguousarray(offsets, "<i8"), offsets_at)
        _pwrite_all(fd, row_ids.astype("<i4"), ids_at)
        _pwrite_all(fd, slot_of_row, slot_of_row_at)
        for start in range(0, slots, _CHUNK_ROWS):
            block = np.ascontiguousarray(matrix[row_ids[start:start + _CHUNK_ROWS]], "<f4")
            _pwrite_all(fd, block, rows_at + start * ROW_BYTES)
            fault_point("index-copying")
        header = bytearray(_HEADER.pack(MAGIC, INDEX_VERSION, nlist, covered_rows, slots,
                                        vector_generation, generation, centroids_at,
                                        offsets_at, ids_at, slot_of_row_at, rows_at, size, 0))
        body = bytearray(_HEADER_BYTES) + bytearray(
            np.ascontiguousarray(centroids, "<f4").tobytes())
        body[:len(header)] = header
        # The CRC covers the header as written (its own field zero) and the two small sections.
        crc = zlib.crc32(bytes(header[:_HEADER.size - 4]))
        crc = zlib.crc32(body[centroids_at:], crc)
        crc = zlib.crc32(np.ascontiguousarray(offsets, "<i8").tobytes(), crc)
        header[_HEADER.size - 4:] = struct.pack("<I", crc)
        os.fsync(fd)  # everything else first: a valid header means a complete file
        _pwrite_all(fd, bytes(header), 0)
        os.fsync(fd)
    finally:
        os.close(fd)


def _pwrite_all(fd: int, data, offset: int) -> None:
    view = memoryview(data).cast("B")
    while view:
        written = os.pwrite(fd, view, offset)
        view = view[written:]
        offset += written


def build(collection) -> dict | None:
    """Build the collection's index from one snapshot and rename it into place. Returns
    what was built ({"Rows", "Lists", "CoveredRows"}), or None when another builder holds
    the build lock or there is nothing to index. Writers are not held up: the build reads
    a snapshot and takes the write lock only to install the file."""
    directory = collection.path
    lock = BuildLock(directory)
    if not lock.acquire():
        return None
    temp = directory / f"{TEMP_PREFIX}{os.getpid()}"
    try:
        remove_temp_files(directory)
        with collection.read() as tx:
            info = tx.info()
            pending = [row for (row,) in tx.conn.execute("SELECT row FROM pending_tombstones")]
        if info["vector_format"] != VECTOR_FORMAT:
            return None  # an old file: the next write upgrades it
        vectors = collection.vector_file(info)
        matrix = vectors.matrix(info["committed_rows"], populate=False)
        live = live_rows_of(matrix, pending)
        if live.size == 0:
            return None
        centroids = train_centroids(matrix, live, list_count(live.size))
        offsets, row_ids = layout(matrix, live, centroids)
        write_index(temp, matrix, centroids, offsets, row_ids, info["committed_rows"],
                    info["vector_generation"], info["generation"])
        fault_point("index-written")
        if not _install(collection, temp, info, matrix, row_ids):
            return None
        return {"Rows": int(live.size), "Lists": int(centroids.shape[0]),
                "CoveredRows": int(info["committed_rows"])}
    finally:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass
        lock.release()


def _install(collection, temp: Path, built_from: dict, matrix, row_ids) -> bool:
    """Rename the new index into place under the collection's write lock, after wiping
    the slots of faces deleted since its snapshot (deletes take the same lock)."""
    import numpy as np

    with collection.write() as tx:
        now = tx.info()  # recover() has wiped every committed delete's vector row by now
        if now["vector_generation"] != built_from["vector_generation"]:
            return False  # compacted meanwhile: the rows were renumbered
        if now["generation"] != built_from["generation"]:
            dead = np.flatnonzero(matrix[row_ids, NORM_COLUMN] == TOMBSTONE_NORM)
            index = SearchIndex(temp)
            try:
                _write_tombstones(temp, index._rows_at, dead.tolist())
            finally:
                index.close()
        fault_point("index-installing")
        os.rename(temp, collection.path / INDEX_FILE)
        _fsync_dir(collection.path)
    forget(collection.path)
    return True


def status(collection) -> dict:
    """What `rekcli search-index` shows about a collection's index."""
    with collection.read() as tx:
        info = tx.info()
    result = {"Faces": info["face_count"], "Threshold": min_faces(),
              "File": str(collection.path / INDEX_FILE)}
    try:
        index = SearchIndex(collection.path / INDEX_FILE)
    except FileNotFoundError:
        return {**result, "State": "NONE"}
    except (IndexDamaged, OSError, ValueError, struct.error) as exc:
        return {**result, "State": "DAMAGED", "Problem": str(exc)}
    try:
        state = usable_state(index, info)
        return {**result, "State": state, "Lists": index.nlist, "Rows": index.slots,
                "CoveredRows": index.covered_rows,
                "TailRows": max(0, info["committed_rows"] - index.covered_rows),
                "ProbedLists": probe_count(index.nlist),
                "Bytes": os.path.getsize(index.path)}
    finally:
        index.close()


def usable_state(index: SearchIndex, info: dict) -> str:
    """CURRENT (used, no rebuild due), STALE (used, tail past the rebuild share: a rebuild
    is due) or OBSOLETE (another vector generation: not used)."""
    if (index.vector_generation != info["vector_generation"]
            or index.covered_rows > info["committed_rows"]):
        return "OBSOLETE"
    tail = info["committed_rows"] - index.covered_rows
    return "STALE" if tail > SEARCH_INDEX_STALE_FRACTION * max(1, index.covered_rows) else "CURRENT"


def verify(directory: Path, info: dict, face_rows: set, problems: list) -> str:
    """`rekcli check-store`: the index's state (NONE, CURRENT, STALE, OBSOLETE, DAMAGED);
    appends to `problems` a damaged index (every copied row's checksum is checked) and
    any slot of a deleted face that still holds a descriptor."""
    import numpy as np

    from rekcli.store import vectors as vec

    path = Path(directory) / INDEX_FILE
    try:
        index = SearchIndex(path)
    except FileNotFoundError:
        return "NONE"
    except (IndexDamaged, OSError, ValueError, struct.error) as exc:
        problems.append(f"{exc} (the search index, derived from the vectors: the next search "
                        "rebuilds it, or run rekcli search-index --rebuild)")
        return "DAMAGED"
    try:
        damaged = []
        for start in range(0, index.slots, _CHUNK_ROWS):
            block = np.asarray(index.rows[start:start + _CHUNK_ROWS])
            damaged.extend((start + vec.bad_rows(block, VECTOR_FORMAT)).tolist())
        if damaged:
            problems.append(f"{path}: {len(damaged)} copied row(s) do not match their "
                            "checksums (the next search rebuilds the index)")
            return "DAMAGED"
        state = usable_state(index, info)
        if state == "OBSOLETE":
            return state
        live = np.zeros(index.covered_rows, dtype=bool)
        live[[row for row in face_rows if row < index.covered_rows]] = True
        slots = index.slot_of_row[~live]
        slots = slots[slots >= 0]
        kept = slots[index.rows[slots, NORM_COLUMN] != TOMBSTONE_NORM]
        if kept.size:
            problems.append(f"{path}: {kept.size} slot(s) of deleted faces still hold "
                            "their descriptors")
        return state
    finally:
        index.close()
