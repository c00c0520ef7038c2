"""The search index of a large collection: product-quantization codes scanned by faiss,
every answer re-measured on the collection's own vector rows.

Exact search reads every row (about 35 ms per million faces per query on two cores, memory
bound: 0.4 s at ten million). Past SEARCH_INDEX_MIN_FACES a collection gets an index beside
its vector file, which keeps 32 bytes per row instead of 528: each 128-float descriptor cut
into 64 pairs of floats, each pair replaced by the nearest of 16 trained centres (4 bits),
in faiss's "fast-scan" layout (32 rows interleaved per block so that one SIMD shuffle looks
up the distance table for many rows at once). Scanning ten million codes costs ~20 ms.

    search-index.pq   header (format, the rows it covers, the vector generation and store
                      generation it was built from, the calibrated margin, section
                      offsets, a CRC-32 of the header and codebook; a wipe counter outside
                      the CRC), then
                      codebook   64 x 16 x 2 float32 (faiss's ProductQuantizer centroids)
                      codes      faiss's packed fast-scan blocks, one code per vector-file
                                 row 0..covered-1 (a row's position is its row number)

A query asks faiss for the K rows whose codes are nearest and re-measures those rows
exactly on the vector file. The code distance of a row differs from its true distance by
a small error (mostly the row's own quantization error); the largest error seen at build
time, on pairs placed at dlib's decision distance (CALIBRATION_DISTANCE), is the index's
`margin`. Every row that faiss did not return has a code distance of at least the K-th
one, so it is (up to that calibrated error) no nearer than `complete_below` = K-th code
distance - margin: everything nearer has been found and measured exactly. Callers consume
answers band by band and ask for a larger K only when they need rows past that bound
(`Collection._ranked_through_index`). What the index can cost is recall, never a wrong
answer: distances, the threshold and MaxFaces are always applied to exact distances.

It is a derived cache, never the truth. A missing, stale (another vector generation: a
compaction renumbered the rows), half-written or damaged index means an exact search (and,
when damaged, a warning and a rebuild). Written to a private temp file, fsynced, and renamed
into place, so a kill -9 mid-build leaves the old index or none. Rows appended since the
build (the tail) are scanned exactly; past UPDATE_TAIL_ROWS a background update appends
their codes (no retraining). Deleted faces: their codes are overwritten with the all-zero
code (not the face's) in the same step that wipes their vector-file rows, the wipe counter
tells resident processes to reload, and a build that raced with deletes wipes their codes
under the collection's write lock before its rename; an index that cannot be wiped is
removed instead.

faiss (extra `search-index`) and numpy are imported inside functions: without faiss every
collection is searched exactly, as before.
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
    TOMBSTONE_NORM,
    VECTOR_FORMAT,
)
from rekcli.store.files import open_private
from rekcli.store.vectors import fault_point

INDEX_FILE = "search-index.pq"
# Indexes of earlier formats (an IVF-flat copy of the rows): removed on sight.
OLD_INDEX_FILES = ("search-index.ivf",)
BUILD_LOCK_FILE = "search-index.lock"
TEMP_PREFIX = "search-index.tmp-"

MAGIC = b"REKPQ\x00\x00\x01"
INDEX_VERSION = 1
# magic, version, subquantizers, bits, (unused), covered rows, rows padded to whole blocks,
# vector generation, store generation, margin, offsets of codebook and codes, codes bytes,
# file size, CRC-32 (of the header before it and the codebook).
_HEADER = struct.Struct("<8sIIIIQQQQdQQQQI")
_VECTOR_GENERATION_FIELD = 7
_HEADER_BYTES = 4096
# A uint64 counting wipes, outside the CRC: resident processes reload when it changes.
_WIPES_AT = _HEADER_BYTES - 8
_ALIGN = 4096

SUBQUANTIZERS = 64  # 2 floats per subquantizer, 32 bytes a row (measured: 32 lost recall)
BITS = 4  # fast-scan's code size

# Collections with fewer faces are searched exactly. A whole CLI process pays ~0.1 s more
# through the index (importing faiss, reading the codes) than an exact search at 1e6
# faces (0.24-0.33 s against 0.17-0.21 s), about the same at 2e6 (bench_search.py).
# Tests lower it.
MIN_FACES_ENV = "REKCLI_SEARCH_INDEX_MIN_FACES"
SEARCH_INDEX_MIN_FACES = 2_000_000
# A process that searches a collection again (rekcli serve, the batch jobs) has paid those
# costs once: it uses the index from an eighth of that (250,000 by default), where one
# query costs ~1.5 ms through it against ~8 ms exactly (3.7 against 25 ms at 1e6).
RESIDENT_SHARE = 8
# "background" (default): the first search that finds a collection past the threshold
# without a current index starts a builder process and answers exactly meanwhile;
# "off": only `rekcli search-index --rebuild` builds.
BUILD_ENV = "REKCLI_SEARCH_INDEX_BUILD"
# Rows added since the build are scanned exactly (~0.7 ms per 20,000); past this many a
# background update appends their codes.
UPDATE_TAIL_ROWS = 20_000
# An update retrains instead of appending once the index covers less than this share of
# the rows (the codebook was trained on a sample of too few of them).
RETRAIN_BELOW_SHARE = 0.5
# The distance at which the margin is calibrated: dlib's decision distance, where
# FaceMatchThreshold 80 (the default) lies. Larger errors at larger distances only matter
# for lower thresholds.
CALIBRATION_DISTANCE = 0.6
# Rows faiss returns to a first query, per million covered rows (at least FIRST_K_MIN). At
# 1e7 dlib-like faces (bench_search.py) the rows within margin of a default search's answers
# were ~10 to ~11,000 (median ~3,000); one scan then settles nearly every default search
# (MaxFaces 10 at FaceMatchThreshold 80). Faiss's cost hardly depends on K (18 ms for
# 4,000, 22 ms for 32,000 at 1e7); re-measuring the rows costs ~0.3 us each.
FIRST_K_PER_MILLION = 1600
FIRST_K_MIN = 1024
# Of those, the nearest this many are re-measured first, then 4x more at a time: most
# searches settle on the first few dozen whatever their MaxFaces (4096 by default).
FIRST_MEASURED_ROWS = 64
# A search that would ask faiss for more than this share of the rows scans them exactly
# instead: re-measuring scattered rows costs ~10x a row of the sequential exact scan.
EXACT_SCAN_SHARE = 1 / 64
# The margin is this quantile of the calibration errors. Calibration pairs (a query at
# CALIBRATION_DISTANCE in a face-difference direction) err more than real neighbours do
# (median 0.038 against 0.025; at 1e7 the largest error of real matches was 0.087 where the
# calibration's largest was 0.146), and each 0.02 of margin doubles or triples the rows to
# re-measure. A match is lost only if its own error exceeds the margin and it sits within
# that excess of the band's edge.
MARGIN_QUANTILE = 0.95
# Overrides the calibrated margin (a squared distance): larger finds more of the matches
# whose code erred most, for more rows re-measured (0.2 misses practically none).
MARGIN_ENV = "REKCLI_SEARCH_INDEX_MARGIN"
# Training sample (rows) and calibration pairs.
_TRAIN_ROWS = 65536
_CALIBRATION_PAIRS = 2048
# Rows handled per step of encoding and checking (bounded memory at any size; a multiple
# of 32, faiss's block).
_CHUNK_ROWS = 65536


class IndexDamaged(Exception):
    """The index file is not a valid index (half written, truncated, corrupted)."""


class IndexUnavailable(Exception):
    """faiss, which reads and builds the index, is not installed."""


_FAISS_READY = False


def faiss_module():
    """faiss, or None when the `search-index` extra is not installed. faiss runs on one
    OpenMP thread: a single query does not use more (measured: 18 ms either way at 1e7),
    and no OpenMP thread pool then exists to spin on a core or to break in a forked child
    (batch workers are forked)."""
    global _FAISS_READY
    try:
        import faiss
    except ImportError:
        return None
    if not _FAISS_READY:
        faiss.omp_set_num_threads(1)
        _FAISS_READY = True
    return faiss


def _require_faiss():
    faiss = faiss_module()
    if faiss is None:
        raise IndexUnavailable("the search index needs faiss: pip install 'rekcli[search-index]'")
    return faiss


def available() -> bool:
    return faiss_module() is not None


def min_faces() -> int:
    value = os.environ.get(MIN_FACES_ENV, "").strip()
    return int(value) if value.isdigit() else SEARCH_INDEX_MIN_FACES


def resident_min_faces() -> int:
    """The threshold for a process that has searched the collection before."""
    return min_faces() // RESIDENT_SHARE


def background_builds() -> bool:
    return os.environ.get(BUILD_ENV, "background").strip().lower() != "off"


def margin(index: "SearchIndex") -> float:
    """$REKCLI_SEARCH_INDEX_MARGIN when set to a number >= 0, else the index's calibrated
    margin."""
    try:
        value = float(os.environ.get(MARGIN_ENV, ""))
    except ValueError:
        return index.margin
    return value if math.isfinite(value) and value >= 0 else index.margin


def first_k(covered_rows: int) -> int:
    """How many rows to ask faiss for first: from measurement, enough for one scan to
    settle a default search. Not scaled by MaxFaces (search-faces asks for 4096 by
    default, and nearly always finds far fewer): a search that needs more rows asks again
    for 4x more."""
    return max(FIRST_K_MIN, covered_rows // 1_000_000 * FIRST_K_PER_MILLION)


def _aligned(offset: int) -> int:
    return (offset + _ALIGN - 1) // _ALIGN * _ALIGN


def _padded(rows: int) -> int:
    return (rows + 31) // 32 * 32


# -- the file -----------------------------------------------------------------------------


class SearchIndex:
    """An open index: the header checked (and a CRC-32 of header and codebook), the codes
    copied into a faiss IndexPQFastScan (one read of 32 bytes a row)."""

    def __init__(self, path: Path):
        import numpy as np

        faiss = _require_faiss()
        self.path = Path(path)
        self.searched = False  # set by the first search through it (Collection)
        # One descriptor for the header and the codes: a rebuild may rename another file
        # into place meanwhile.
        fd = open_private(self.path, os.O_RDONLY)
        try:
            st = os.fstat(fd)
            self.identity = (st.st_dev, st.st_ino)
            if st.st_size < _HEADER_BYTES:
                raise IndexDamaged(f"{self.path}: truncated ({st.st_size} bytes)")
            data = mmap.mmap(fd, st.st_size, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ)
            try:
                self._read_header(data, st.st_size)
                # Read before the codes: a wipe in between makes the next open reload.
                self.wipes = struct.unpack_from("<Q", data, _WIPES_AT)[0]
                codebook = np.frombuffer(data, "<f4", self._codebook_floats,
                                         self._codebook_at)
                self.index = _fastscan_index(faiss, self.subquantizers, codebook)
                del codebook
            finally:
                _close_map(data)
            # The codes are read straight into faiss's own buffer (one copy, no page
            # faults on a mapping): 305 MB at 1e7 faces.
            self.index.codes.resize(self._codes_bytes)
            _read_exactly(fd, self.path, _codes_of(faiss, self.index), self._codes_at)
        finally:
            os.close(fd)
        self.index.ntotal = self.covered_rows
        self.index.ntotal2 = _padded(self.covered_rows)

    def _read_header(self, data, file_size: int) -> None:
        (magic, version, self.subquantizers, bits, _, self.covered_rows, padded,
         self.vector_generation, self.generation, self.margin, self._codebook_at,
         self._codes_at, self._codes_bytes, size, crc) = _HEADER.unpack_from(data, 0)
        if magic != MAGIC or version != INDEX_VERSION:
            raise IndexDamaged(f"{self.path}: not a search index of this format")
        self._codebook_floats = (1 << BITS) * DESCRIPTOR_SIZE  # 16 centres of each slice
        if (bits != BITS or self.subquantizers not in (16, 32, 64, 128)
                or padded != _padded(self.covered_rows)
                or self._codes_bytes != padded * self.subquantizers * BITS // 8
                or size != file_size or self._codes_at + self._codes_bytes != size
                or self._codebook_at + self._codebook_floats * 4 > self._codes_at
                or not math.isfinite(self.margin) or self.margin < 0):
            raise IndexDamaged(f"{self.path}: {file_size} bytes, its header does not fit it")
        if _checksum(data, self._codebook_at, self._codebook_floats) != crc:
            raise IndexDamaged(f"{self.path}: the header or the codebook do not match "
                               "their checksum")

    def nearest_rows(self, queries, k: int):
        """(rows, keys, floor): the k rows nearest to each query by code distance (their
        union), ordered by key = the row's smallest code distance to a query, and floor =
        the smallest k-th code distance over the queries (+inf when k covers every row).
        Every covered row not among them has a code distance of at least floor to each
        query, and a row among them at least its key."""
        import numpy as np

        q = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, DESCRIPTOR_SIZE)
        k = max(1, min(int(k), self.covered_rows))
        distances, found = self.index.search(q, k)
        floor = math.inf if k >= self.covered_rows else float(distances[:, k - 1].min())
        distances, found = distances.ravel(), found.ravel()
        valid = found >= 0
        distances, found = distances[valid], found[valid].astype(np.int64)
        order = np.lexsort((found, distances))
        found, distances = found[order], distances[order]
        # A row found for several queries keeps its first (smallest) key.
        _, first = np.unique(found, return_index=True)
        first.sort()
        return found[first], distances[first].astype(np.float64), floor

    def close(self) -> None:
        self.__dict__.pop("index", None)


def _read_exactly(fd: int, path: Path, into, offset: int) -> None:
    """Fill the numpy array `into` from `fd` at `offset` (IndexDamaged if it ends first)."""
    view = memoryview(into).cast("B")
    while view:
        got = os.preadv(fd, [view[:1 << 30]], offset)
        if got == 0:
            raise IndexDamaged(f"{path}: shorter than its header says")
        view = view[got:]
        offset += got


def _close_map(data) -> None:
    try:
        data.close()
    except BufferError:
        pass  # a view is still alive (an exception on the way): it goes with the view


def _fastscan_index(faiss, subquantizers: int, codebook):
    """An empty IndexPQFastScan with this codebook (trained)."""
    index = faiss.IndexPQFastScan(DESCRIPTOR_SIZE, subquantizers, BITS)
    faiss.copy_array_to_vector(codebook.ravel(), index.pq.centroids)
    index.is_trained = True
    return index


def _checksum(buffer, codebook_at: int, codebook_floats: int) -> int:
    """CRC-32 of the header (without its CRC field) and the codebook."""
    view = memoryview(buffer)
    crc = zlib.crc32(view[:_HEADER.size - 4])
    crc = zlib.crc32(view[codebook_at:codebook_at + codebook_floats * 4], crc)
    view.release()
    return crc


def _wipe_count(path: Path) -> int | None:
    try:
        fd = open_private(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        data = os.pread(fd, 8, _WIPES_AT)
    finally:
        os.close(fd)
    return struct.unpack("<Q", data)[0] if len(data) == 8 else None


# -- resident when warm: one open index per file per process --------------------------------

_OPEN: dict[str, SearchIndex] = {}


def open_index(directory: Path) -> SearchIndex | None:
    """The collection's index, or None when there is none. Kept open between calls in
    this process (servers, batch workers) while the file is the same one (same inode: a
    rebuild renames a new file into place) and no face was wiped from it since.
    IndexDamaged when it is not a valid index, IndexUnavailable without faiss."""
    path = Path(directory) / INDEX_FILE
    try:
        st = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        forget(directory)
        return None
    key = str(path)
    current = _OPEN.get(key)
    if (current is not None and current.identity == (st.st_dev, st.st_ino)
            and current.wipes == _wipe_count(path)):
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
    """Delete the index file (a damaged or obsolete one) and any of an older format.
    True if there was one."""
    forget(directory)
    removed = False
    for name in (INDEX_FILE, *OLD_INDEX_FILES):
        try:
            os.unlink(Path(directory) / name)
            removed = True
        except FileNotFoundError:
            pass
    if removed:
        _fsync_dir(directory)
    return removed


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# -- deletes ------------------------------------------------------------------------------


def wipe_rows(directory: Path, rows, vector_generation: int) -> None:
    """Overwrite the codes of deleted rows with the all-zero code (callers hold the
    collection's write lock and wipe the vector file's rows in the same step). An index of
    another vector generation, an unreadable one, one of an older format, or any index
    when faiss is not installed here, is removed instead: a deleted face's code must not
    stay anywhere."""
    directory = Path(directory)
    if any((directory / name).exists() for name in OLD_INDEX_FILES):
        remove(directory)
    if rows:
        remove_dead_builders_files(directory)
    path = directory / INDEX_FILE
    if not rows or not path.exists():
        return
    faiss = faiss_module()
    try:
        if faiss is None:
            raise IndexUnavailable("faiss is not installed")
        _wipe_in_place(faiss, path, rows, vector_generation)
    except (IndexDamaged, IndexUnavailable, OSError, ValueError, struct.error):
        remove(directory)


def _wipe_in_place(faiss, path: Path, rows, vector_generation: int) -> None:
    import numpy as np

    fd = open_private(path, os.O_RDWR)
    try:
        size = os.fstat(fd).st_size
        if size < _HEADER_BYTES:
            raise IndexDamaged(f"{path}: truncated")
        data = mmap.mmap(fd, size, flags=mmap.MAP_SHARED,
                         prot=mmap.PROT_READ | mmap.PROT_WRITE)
        try:
            header = _HeaderView(path, data, size)
            if header.vector_generation != vector_generation:
                raise IndexDamaged(f"{path}: built over other vector rows")
            covered = [int(row) for row in rows if 0 <= int(row) < header.covered_rows]
            if covered:
                codes = np.frombuffer(data, np.uint8, header.codes_bytes, header.codes_at)
                _wipe_codes(faiss, header.subquantizers, codes, covered)
                del codes
                data.flush()
                wipes = struct.unpack_from("<Q", data, _WIPES_AT)[0]
                struct.pack_into("<Q", data, _WIPES_AT, wipes + 1)
                data.flush()
        finally:
            _close_map(data)
    finally:
        os.close(fd)


class _HeaderView:
    """The fields of a header that wipes and checks need (validated like SearchIndex)."""

    def __init__(self, path: Path, data, file_size: int):
        probe = SearchIndex.__new__(SearchIndex)
        probe.path = path
        probe._read_header(data, file_size)
        self.subquantizers = probe.subquantizers
        self.covered_rows = probe.covered_rows
        self.vector_generation = probe.vector_generation
        self.codes_at = probe._codes_at
        self.codes_bytes = probe._codes_bytes


def _wipe_codes(faiss, subquantizers: int, codes, rows) -> None:
    """Set the packed codes of `rows` to all zeros (a numpy view of the codes, writable)."""
    import numpy as np

    packer = faiss.IndexPQFastScan(DESCRIPTOR_SIZE, subquantizers, BITS).get_CodePacker()
    zero = np.zeros(packer.code_size, dtype=np.uint8)
    blocks = codes.reshape(-1, packer.block_size)
    for row in rows:
        # Its own block and its place in it: faiss's Python pack_1 asserts offset <
        # block_size * nvec (32,768), so a whole-array offset past it raised AssertionError.
        block = int(row) // packer.nvec
        packer.pack_1(zero, int(row) % packer.nvec, blocks[block:block + 1])


def remove_if_obsolete(directory: Path, vector_generation: int) -> None:
    """Remove an index built over another generation of the vector file (a compaction
    renumbered the rows since), one whose header is unreadable, or one of an older
    format. One small read."""
    directory = Path(directory)
    if any((directory / name).exists() for name in OLD_INDEX_FILES):
        remove(directory)
        return
    path = directory / INDEX_FILE
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
    if (fields is None or fields[0] != MAGIC
            or fields[_VECTOR_GENERATION_FIELD] != vector_generation):
        remove(directory)


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


def remove_dead_builders_files(directory: Path) -> None:
    """Remove the temp files of builders killed mid-build (when no builder runs): each is
    a copy of the codes, deleted faces' included, and beside a current index no build
    comes to clear it. A running builder wipes its own file before renaming it."""
    if not any(name.startswith(TEMP_PREFIX) for name in os.listdir(directory)):
        return  # the usual case: no lock file created
    lock = BuildLock(directory)
    if lock.acquire():
        try:
            remove_temp_files(directory)
        finally:
            lock.release()


def remove_temp_files(directory: Path) -> None:
    """Leftovers of builders that died (callers hold the build lock)."""
    for name in os.listdir(directory):
        if name.startswith(TEMP_PREFIX):
            try:
                os.unlink(Path(directory) / name)
            except FileNotFoundError:
                pass


def _dead_rows(block, start: int, pending) -> list[int]:
    """Rows of `block` (vector-file rows from `start`) that hold no face: tombstones and
    deletes whose tombstone is pending."""
    import numpy as np

    dead = (np.flatnonzero(block[:, NORM_COLUMN] == TOMBSTONE_NORM) + start).tolist()
    end = start + block.shape[0]
    return sorted(set(dead) | {row for row in pending if start <= row < end})


def train(faiss, matrix, rows: int, pending, seed: int = 0):
    """A fast-scan index with a codebook trained on a sample of the live rows."""
    import numpy as np

    rng = np.random.default_rng(seed)
    sample = np.unique(rng.integers(0, rows, size=min(rows, 2 * _TRAIN_ROWS)))
    block = np.asarray(matrix[sample])
    keep = (block[:, NORM_COLUMN] != TOMBSTONE_NORM) & ~np.isin(sample, list(pending))
    x = np.ascontiguousarray(block[keep, :DESCRIPTOR_SIZE][:_TRAIN_ROWS], dtype=np.float32)
    index = faiss.IndexPQFastScan(DESCRIPTOR_SIZE, SUBQUANTIZERS, BITS)
    # faiss needs at least as many training rows as centres (16); tiny collections
    # repeat theirs (they only reach here when a test lowers the threshold).
    while 0 < x.shape[0] < 1 << BITS:
        x = np.concatenate([x, x])
    if x.shape[0] == 0:
        return None
    index.train(x)
    return index


def encode_rows(faiss, index, matrix, start: int, end: int, pending) -> None:
    """Append the codes of rows start..end (dead rows get the all-zero code)."""
    import numpy as np

    for first in range(start, end, _CHUNK_ROWS):
        block = np.asarray(matrix[first:min(end, first + _CHUNK_ROWS)])
        index.add(np.ascontiguousarray(block[:, :DESCRIPTOR_SIZE], dtype=np.float32))
        dead = _dead_rows(block, first, pending)
        if dead:
            _wipe_codes(faiss, index.M, _codes_of(faiss, index), dead)
        fault_point("index-encoding")


def _codes_of(faiss, index):
    """A writable numpy view of a fast-scan index's packed codes."""
    return faiss.rev_swig_ptr(index.codes.get(), index.codes.size())


def calibrate(faiss, index, matrix, rows: int, pending, first: int = 0,
              seed: int = 1) -> float:
    """The margin: the MARGIN_QUANTILE quantile of the amounts by which a code distance
    exceeded the true distance, over pairs of a stored row (of rows first..rows) and a
    query placed CALIBRATION_DISTANCE from it, in the direction between two other stored
    faces (so shaped like faces differ)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    span = rows - first
    picked = first + np.unique(rng.integers(0, span, size=min(span, 3 * _CALIBRATION_PAIRS)))
    block = np.asarray(matrix[picked])
    keep = (block[:, NORM_COLUMN] != TOMBSTONE_NORM) & ~np.isin(picked, list(pending))
    faces = block[keep, :DESCRIPTOR_SIZE].astype(np.float64)
    count = min(_CALIBRATION_PAIRS, faces.shape[0])
    if count < 2:
        return 0.0
    x = faces[:count]
    a, b = rng.integers(0, faces.shape[0], size=(2, count))
    direction = faces[a] - faces[b]
    lengths = np.linalg.norm(direction, axis=1, keepdims=True)
    direction = np.where(lengths > 1e-6, direction / np.maximum(lengths, 1e-12),
                         rng.standard_normal(direction.shape) / math.sqrt(DESCRIPTOR_SIZE))
    queries = (x + CALIBRATION_DISTANCE * direction).astype(np.float32)
    x32 = x.astype(np.float32)
    probe = _fastscan_index(faiss, index.M, faiss.vector_to_array(index.pq.centroids))
    probe.add(x32)
    distances, found = probe.search(queries, count)
    own = found == np.arange(count)[:, None]
    code_d2 = distances[own]
    true_d2 = ((queries.astype(np.float64) - x32) ** 2).sum(axis=1)[own.any(axis=1)]
    return float(max(0.0, np.quantile(code_d2 - true_d2, MARGIN_QUANTILE)))


def write_index(path: Path, faiss, index, covered_rows: int, vector_generation: int,
                generation: int, margin: float) -> None:
    """Write a complete index file at `path` (a new private file) and fsync it."""
    import numpy as np

    codebook = np.ascontiguousarray(faiss.vector_to_array(index.pq.centroids), "<f4")
    codes = _codes_of(faiss, index)
    codes_bytes = _padded(covered_rows) * index.M * BITS // 8
    if codes.size < codes_bytes:
        raise IndexDamaged(f"{path}: faiss holds {codes.size} code bytes, {codes_bytes} "
                           "expected")
    codebook_at = _HEADER_BYTES
    codes_at = _aligned(codebook_at + codebook.nbytes)
    size = codes_at + codes_bytes
    fd = open_private(path, os.O_RDWR | os.O_CREAT | os.O_EXCL)
    try:
        os.ftruncate(fd, size)
        _pwrite_all(fd, codebook, codebook_at)
        for first in range(0, codes_bytes, 1 << 26):
            _pwrite_all(fd, codes[first:min(codes_bytes, first + (1 << 26))], codes_at + first)
        header = bytearray(_HEADER.pack(MAGIC, INDEX_VERSION, index.M, BITS, 0, covered_rows,
                                        _padded(covered_rows), vector_generation, generation,
                                        margin, codebook_at, codes_at, codes_bytes, size, 0))
        crc = zlib.crc32(bytes(header[:_HEADER.size - 4]))
        crc = zlib.crc32(codebook.tobytes(), crc)
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


def build(collection, full: bool = False) -> dict | None:
    """Build or update the collection's index from one snapshot and rename it into place.
    An index that is current for the same vector rows is extended with the rows added
    since (no retraining) unless `full`. Returns what was built ({"Rows", "CoveredRows",
    "Margin", "Kind": "FULL"|"APPEND"}), or None when another builder holds the build lock
    or there is nothing to index. Writers are not held up: the build reads a snapshot and
    takes the write lock only to install the file. IndexUnavailable without faiss."""
    faiss = _require_faiss()
    directory = collection.path
    lock = BuildLock(directory)
    if not lock.acquire():
        return None
    temp = directory / f"{TEMP_PREFIX}{os.getpid()}"
    try:
        remove_temp_files(directory)
        with collection.read() as tx:
            info = tx.info()
            pending = {row for (row,) in tx.conn.execute("SELECT row FROM pending_tombstones")}
        rows = info["committed_rows"]
        if info["vector_format"] != VECTOR_FORMAT or rows == 0:
            return None  # an old file (the next write upgrades it), or nothing to index
        matrix = collection.vector_file(info).matrix(rows, populate=False)
        index, start, margin = (None, 0, 0.0) if full else _extendable(faiss, directory, info)
        if index is None:
            index = train(faiss, matrix, rows, pending)
            if index is None:
                return None
        else:
            # Deletes committed but not wiped yet: the file extended still holds their
            # codes, and the write that installs this one wipes only the file it replaces.
            _wipe_codes(faiss, index.M, _codes_of(faiss, index),
                        sorted(row for row in pending if row < start))
        encode_rows(faiss, index, matrix, start, rows, pending)
        if start == 0:
            margin = calibrate(faiss, index, matrix, rows, pending)
        else:
            # The appended faces were not seen by the codebook's training: if they are
            # encoded worse (people unlike the earlier ones), the margin grows to cover them.
            margin = max(margin, calibrate(faiss, index, matrix, rows, pending, first=start))
        write_index(temp, faiss, index, rows, info["vector_generation"], info["generation"],
                    margin)
        fault_point("index-written")
        if not _install(faiss, collection, temp, info, matrix):
            return None
        return {"Rows": rows - start, "CoveredRows": rows, "Margin": round(margin, 6),
                "Kind": "FULL" if start == 0 else "APPEND"}
    finally:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass
        lock.release()


def _extendable(faiss, directory: Path, info: dict):
    """(faiss index, rows it covers, margin) of a current index that may be extended with
    the rows added since, or (None, 0, 0.0)."""
    try:
        current = SearchIndex(Path(directory) / INDEX_FILE)
    except (FileNotFoundError, IndexDamaged, OSError, ValueError, struct.error):
        return None, 0, 0.0
    if (current.vector_generation != info["vector_generation"]
            or current.covered_rows > info["committed_rows"]
            or current.covered_rows < RETRAIN_BELOW_SHARE * info["committed_rows"]
            or current.subquantizers != SUBQUANTIZERS):
        return None, 0, 0.0
    return current.index, current.covered_rows, current.margin


def _install(faiss, collection, temp: Path, built_from: dict, matrix) -> bool:
    """Rename the new index into place under the collection's write lock, after wiping
    the codes of faces deleted since its snapshot (deletes take the same lock)."""
    import numpy as np

    covered = built_from["committed_rows"]
    with collection.write() as tx:
        now = tx.info()  # recover() has wiped every committed delete's vector row by now
        if now["vector_generation"] != built_from["vector_generation"]:
            return False  # compacted meanwhile: the rows were renumbered
        if now["generation"] != built_from["generation"]:
            dead = []
            for first in range(0, covered, _CHUNK_ROWS):
                norms = np.asarray(matrix[first:min(covered, first + _CHUNK_ROWS), NORM_COLUMN])
                dead.extend((np.flatnonzero(norms == TOMBSTONE_NORM) + first).tolist())
            _wipe_in_place(faiss, temp, dead, built_from["vector_generation"])
        fault_point("index-installing")
        for name in OLD_INDEX_FILES:
            try:
                os.unlink(collection.path / name)
            except FileNotFoundError:
                pass
        os.rename(temp, collection.path / INDEX_FILE)
        _fsync_dir(collection.path)
    forget(collection.path)
    return True


# -- inspecting ---------------------------------------------------------------------------


def status(collection) -> dict:
    """What `rekcli search-index` shows about a collection's index."""
    with collection.read() as tx:
        info = tx.info()
    result = {"Faces": info["face_count"], "Threshold": min_faces(),
              "File": str(collection.path / INDEX_FILE)}
    if not available():
        return {**result, "State": "UNAVAILABLE",
                "Problem": "faiss is not installed: pip install 'rekcli[search-index]'"}
    try:
        index = SearchIndex(collection.path / INDEX_FILE)
    except FileNotFoundError:
        return {**result, "State": "NONE"}
    except (IndexDamaged, OSError, ValueError, struct.error) as exc:
        return {**result, "State": "DAMAGED", "Problem": str(exc)}
    try:
        return {**result, "State": usable_state(index, info), "CoveredRows": index.covered_rows,
                "TailRows": max(0, info["committed_rows"] - index.covered_rows),
                "Margin": round(index.margin, 6), "BytesPerRow": index.subquantizers // 2,
                "Bytes": os.path.getsize(index.path)}
    finally:
        index.close()


def usable_state(index: SearchIndex, info: dict) -> str:
    """CURRENT (used, no update due), STALE (used, tail past UPDATE_TAIL_ROWS: an update
    is due) or OBSOLETE (another vector generation: not used)."""
    if (index.vector_generation != info["vector_generation"]
            or index.covered_rows > info["committed_rows"]):
        return "OBSOLETE"
    tail = info["committed_rows"] - index.covered_rows
    return "STALE" if tail > UPDATE_TAIL_ROWS else "CURRENT"


def verify(directory: Path, info: dict, matrix, face_rows: set, problems: list,
           pending=()) -> str:
    """`rekcli check-store`: the index's state (NONE, CURRENT, STALE, OBSOLETE, DAMAGED,
    UNAVAILABLE); appends to `problems` a damaged index: every covered row's code is
    re-encoded from the vector file and compared (a deleted face's must be all zeros).
    `pending`: rows of deletes committed but not wiped yet (the next write wipes them):
    their codes may still be the faces' and are not compared."""
    path = Path(directory) / INDEX_FILE
    if not path.exists():
        return "NONE"
    faiss = faiss_module()
    if faiss is None:
        return "UNAVAILABLE"
    try:
        index = SearchIndex(path)
    except (IndexDamaged, OSError, ValueError, struct.error) as exc:
        problems.append(f"{exc} (the search index, derived from the vectors: the next search "
                        "rebuilds it, or run rekcli search-index --rebuild)")
        return "DAMAGED"
    try:
        state = usable_state(index, info)
        if state == "OBSOLETE":
            return state
        wrong = _codes_differing(faiss, index, matrix, face_rows, pending)
        if wrong:
            problems.append(f"{path}: {wrong} block(s) of 32 codes do not match the "
                            "vectors (or hold a deleted face's code); removed, the next "
                            "search rebuilds it")
            forget(directory)
            remove(directory)
            return "DAMAGED"
        return state
    finally:
        index.close()


def _codes_differing(faiss, index: SearchIndex, matrix, face_rows: set, pending=()) -> int:
    """How many covered rows' codes differ from their re-encoding (a dead row's from the
    all-zero code), block by block; `pending` rows count as wiped."""
    import numpy as np

    stored = _codes_of(faiss, index.index)  # the open index's own copy, not the file
    _wipe_codes(faiss, index.subquantizers, stored,
                [row for row in pending if row < index.covered_rows])
    block_bytes = 32 * index.subquantizers * BITS // 8
    differing = 0
    for first in range(0, index.covered_rows, _CHUNK_ROWS):
        end = min(index.covered_rows, first + _CHUNK_ROWS)
        block = np.asarray(matrix[first:end])
        fresh = _fastscan_index(faiss, index.subquantizers,
                                faiss.vector_to_array(index.index.pq.centroids))
        fresh.add(np.ascontiguousarray(block[:, :DESCRIPTOR_SIZE], dtype=np.float32))
        dead = [row - first for row in range(first, end) if row not in face_rows]
        codes = _codes_of(faiss, fresh)
        if dead:
            _wipe_codes(faiss, index.subquantizers, codes, dead)
        mine = stored[first // 32 * block_bytes:first // 32 * block_bytes + codes.size]
        differing += int((mine.reshape(-1, block_bytes) != codes.reshape(-1, block_bytes))
                         .any(axis=1).sum())
    return differing
