"""Descriptors on disk (vector files) and exact nearest-neighbour search over them.

A vector file is a bare, append-only float32 matrix of ROW_FLOATS columns (layout and formats
in constants.py), no header, so search memory-maps it as one contiguous matrix. Only the
first `committed_rows` rows (a number kept in the collection's SQLite database, with the
file's generation and format) belong to committed requests; a writer appends and fsyncs rows
past that point *before* the SQLite transaction that extends it commits, and anything beyond
it is debris of an interrupted write, ignored by readers and truncated by the next writer.

Generation 0 is `vectors.f32`; compaction writes generation g+1 as `vectors-<g+1>.f32`
(names are never reused, so a reader that opens the name its snapshot gives has the right
file, and one that finds it gone was overtaken by a compaction and takes a new snapshot).

Integrity (format 1): each row carries the CRC-32 of its bytes. Checking every CRC on every
search would cost about twelve times the search itself (measured at 1e6 faces,
bench_store_integrity.py), so search checks every row's distance for NaN, infinities and
impossible values (a min and a max over the distances, +0.24% measured), and the CRC of any
row found suspicious and of every row it answers with; loading descriptors by FaceId,
compaction and `check-store` verify the CRC of every row they read. A damaged row is
reported (StoreDamaged naming the collection, the file and the rows), never skipped.

numpy is imported inside functions: collection listing and describing never pay for it.
"""

from __future__ import annotations

import errno
import math
import mmap
import os
import signal
import stat
import zlib
from pathlib import Path
from typing import Iterator, Sequence

from rekcli.store.constants import (
    CHECKSUM_HIGH_COLUMN,
    CHECKSUM_LOW_COLUMN,
    CHECKSUMMED_BYTES,
    DESCRIPTOR_SIZE,
    NORM_COLUMN,
    ROW_BYTES,
    ROW_FLOATS,
    TOMBSTONE_NORM,
    VECTOR_FORMAT,
    VECTOR_FORMAT_LEGACY,
)
from rekcli.store.files import open_private
from rekcli.store.sqlite import StoreDamaged

# Slack added to float32 squared distances before comparing them with a cut-off, so that
# float32 rounding (about 1e-5 relative over 132 terms) can never hide a true neighbour;
# the survivors are then re-measured exactly in float64.
APPROX_EPSILON = 1e-4


# Tests kill the process at named points of a write (kill -9 at exactly that instant).
KILL_AT_ENV = "REKCLI_TEST_KILL_AT"


def fault_point(name: str) -> None:
    if os.environ.get(KILL_AT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def file_name(generation: int) -> str:
    return "vectors.f32" if generation == 0 else f"vectors-{int(generation)}.f32"


def is_vector_file_name(name: str) -> bool:
    if name == "vectors.f32":
        return True
    stem = name[len("vectors-"):-len(".f32")]
    return name.startswith("vectors-") and name.endswith(".f32") and stem.isdigit()


class VectorsMissing(StoreDamaged):
    """The vector file is not there: damage, unless a compaction replaced it since the
    reader's snapshot (readers then take a new snapshot and try again)."""


def _write_at(fd: int, data: memoryview, offset: int) -> None:
    """Write all of `data` at `offset` (os.pwrite may write less than asked)."""
    while data:
        written = os.pwrite(fd, data, offset)
        data = data[written:]
        offset += written


class VectorFile:
    """One vector file of a collection (one generation, in one format)."""

    def __init__(self, path: Path, collection_id: str | None = None,
                 fmt: int = VECTOR_FORMAT):
        self.path = Path(path)
        self.collection_id = collection_id  # named in damage reports
        self.fmt = fmt
        self._mapped = None  # (rows, numpy view) of the current mapping

    def damaged(self, problem: str, kind=StoreDamaged) -> StoreDamaged:
        if self.collection_id is not None:
            problem = f"vectors of the collection {self.collection_id}: {problem}"
        return kind(self.path, problem)

    def damaged_rows(self, rows) -> StoreDamaged:
        rows = sorted(int(r) for r in rows)
        shown = ", ".join(str(r) for r in rows[:5]) + (", ..." if len(rows) > 5 else "")
        what = ("do not match their checksums" if self.fmt == VECTOR_FORMAT
                else "are not valid descriptors")
        return self.damaged(f"{len(rows)} row(s) ({shown}) {what}")

    def verify(self, matrix, rows, live: bool = True) -> None:
        """Raise StoreDamaged unless `rows` of `matrix` (this file's) are intact."""
        import numpy as np

        rows = np.asarray(rows, dtype=np.int64)
        if rows.size == 0:
            return
        bad = bad_rows(np.asarray(matrix[rows]), self.fmt, live=live)
        if bad.size:
            raise self.damaged_rows(rows[bad])

    def create(self) -> None:
        """Create the file empty (an interrupted compaction's leftover is replaced)."""
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        os.close(open_private(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL))

    def _open(self, flags: int) -> int:
        """Open the file (never through a symlink), or raise StoreDamaged saying what is
        wrong with it. A missing collection folder stays FileNotFoundError: the collection
        was deleted meanwhile, which is not damage."""
        try:
            return open_private(self.path, flags)
        except FileNotFoundError:
            if not self.path.parent.is_dir():
                raise
            raise self.damaged("the file is missing", VectorsMissing) from None
        except IsADirectoryError:
            raise self.damaged("it is a directory, not a file") from None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise self.damaged("it is a symbolic link, not a file") from None
            raise

    def _check_holds(self, fd: int, rows: int) -> None:
        """StoreDamaged unless the open file is a regular file with at least `rows` rows."""
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise self.damaged("it is a directory, not a file")
        if not stat.S_ISREG(st.st_mode):
            raise self.damaged("it is not a regular file")
        needed = rows * ROW_BYTES
        if st.st_size < needed:
            whole = "" if st.st_size % ROW_BYTES == 0 else ", not a whole number of rows"
            raise self.damaged(f"the file is truncated: {st.st_size} bytes{whole}; its {rows} "
                               f"committed rows need {needed}")

    def check(self, rows: int) -> None:
        """StoreDamaged unless the file is there, regular, and holds `rows` committed rows."""
        fd = self._open(os.O_RDONLY)
        try:
            self._check_holds(fd, rows)
        finally:
            os.close(fd)

    # -- writing (callers hold the collection's write lock) ----------------------------

    def _open_for_write(self) -> int:
        return self._open(os.O_RDWR)

    def size_bytes(self) -> int:
        fd = self._open(os.O_RDONLY)
        try:
            self._check_holds(fd, 0)
            return os.fstat(fd).st_size
        finally:
            os.close(fd)

    def truncate(self, rows: int) -> None:
        fd = self._open_for_write()
        try:
            os.ftruncate(fd, rows * ROW_BYTES)
            os.fsync(fd)
        finally:
            os.close(fd)

    def append(self, start_row: int, rows) -> None:
        """Write `rows` (float32, shape (m, ROW_FLOATS)) at row `start_row`, then fsync."""
        import numpy as np

        data = np.ascontiguousarray(rows, dtype="<f4")
        assert data.ndim == 2 and data.shape[1] == ROW_FLOATS
        fd = self._open_for_write()
        try:
            _write_at(fd, memoryview(data).cast("B"), start_row * ROW_BYTES)
            os.fdatasync(fd)
        finally:
            os.close(fd)

    def tombstone(self, rows: Sequence[int]) -> None:
        """Overwrite `rows` with the tombstone row (zeros, a norm that never matches, its
        checksum), so no byte of a deleted descriptor stays in the file. Then fsync."""
        if not rows:
            return
        wiped = tombstone_row(self.fmt).tobytes()
        fd = self._open_for_write()
        try:
            for row in sorted(set(int(r) for r in rows)):
                _write_at(fd, memoryview(wiped), row * ROW_BYTES)
            os.fdatasync(fd)
        finally:
            os.close(fd)

    # -- reading ------------------------------------------------------------------------

    def matrix(self, rows: int, populate: bool = True):
        """The first `rows` rows as a read-only (rows, ROW_FLOATS) float32 array.

        Memory-mapped (MAP_POPULATE pre-faults the pages in one go when the file is in the
        page cache; `populate=False` for readers that touch only some rows, like a search
        through the search index); nothing is parsed. The mapping is reused while `rows`
        is unchanged.
        """
        import numpy as np

        if self._mapped is not None and self._mapped[0] == (rows, populate):
            return self._mapped[1]
        if rows == 0:
            view = np.empty((0, ROW_FLOATS), dtype="<f4")
        else:
            length = rows * ROW_BYTES
            fd = self._open(os.O_RDONLY)
            try:
                self._check_holds(fd, rows)
                flags = mmap.MAP_SHARED | (getattr(mmap, "MAP_POPULATE", 0) if populate else 0)
                mapping = mmap.mmap(fd, length, flags=flags, prot=mmap.PROT_READ)
            finally:
                os.close(fd)
            view = np.frombuffer(mapping, dtype="<f4").reshape(rows, ROW_FLOATS)
        self._mapped = ((rows, populate), view)
        return view

    def read_rows(self, rows: Sequence[int]):
        """Copies of a few rows of live faces, (m, ROW_FLOATS) float32, read with pread (no
        mapping). A wiped row among them is damage, or a delete that committed after the
        caller's snapshot: StoreDamaged either way (Collection._reading reads again)."""
        import numpy as np

        out = np.empty((len(rows), ROW_FLOATS), dtype="<f4")
        if not len(rows):
            return out
        fd = self._open(os.O_RDONLY)
        try:
            self._check_holds(fd, max(int(row) for row in rows) + 1)
            for i, row in enumerate(rows):
                data = os.pread(fd, ROW_BYTES, int(row) * ROW_BYTES)
                if len(data) != ROW_BYTES:
                    raise self.damaged(f"row {row} could not be read whole")
                out[i] = np.frombuffer(data, dtype="<f4")
        finally:
            os.close(fd)
        bad = bad_rows(out, self.fmt, live=True)
        if bad.size:
            raise self.damaged_rows(np.asarray(rows)[bad])
        return out

    def gather(self, rows) -> "np.ndarray":  # noqa: F821
        """Raw copies of some rows, (m, ROW_FLOATS) float32, read with one pread each and
        no checks (callers check the distances). For a process that has not mapped the
        file yet: a page fault on a fresh mapping of a large file costs 8-18 us a row
        (and maps 64 KB around it), a pread ~5 us."""
        import numpy as np

        out = np.empty((len(rows), ROW_FLOATS), dtype="<f4")
        if not len(rows):
            return out
        fd = self._open(os.O_RDONLY)
        try:
            self._check_holds(fd, int(max(rows)) + 1)
            for i, row in enumerate(np.asarray(rows, dtype=np.int64).tolist()):
                if os.preadv(fd, [out[i]], row * ROW_BYTES) != ROW_BYTES:
                    raise self.damaged(f"row {row} could not be read whole")
        finally:
            os.close(fd)
        return out

    def forget_mapping(self) -> None:
        self._mapped = None


def tombstone_row(fmt: int = VECTOR_FORMAT) -> "np.ndarray":  # noqa: F821
    """The on-disk row of a deleted face: zeros, a norm that never matches, its checksum."""
    import numpy as np

    row = np.zeros((1, ROW_FLOATS), dtype="<f4")
    if fmt == VECTOR_FORMAT_LEGACY:
        row[0, NORM_COLUMN] = np.inf
        return row[0]
    row[0, NORM_COLUMN] = TOMBSTONE_NORM
    return seal(row)[0]


# -- checksums ------------------------------------------------------------------------------


def row_checksums(rows) -> "np.ndarray":  # noqa: F821
    """CRC-32 of bytes [0:CHECKSUMMED_BYTES] of each row of a C-contiguous float32 array."""
    import numpy as np

    raw = np.ascontiguousarray(rows, dtype="<f4").view(np.uint8)
    return np.fromiter((zlib.crc32(raw[i, :CHECKSUMMED_BYTES]) for i in range(raw.shape[0])),
                       dtype=np.uint32, count=raw.shape[0])


def seal(rows) -> "np.ndarray":  # noqa: F821
    """Write each row's checksum into its checksum columns (in place); returns `rows`."""
    rows[:, NORM_COLUMN + 1] = 0.0
    crc = row_checksums(rows)
    rows[:, CHECKSUM_HIGH_COLUMN] = crc >> 16
    rows[:, CHECKSUM_LOW_COLUMN] = crc & 0xFFFF
    return rows


def stored_checksums(rows) -> "np.ndarray":  # noqa: F821
    """The checksums rows carry, as int64; -1 where the columns hold no valid checksum."""
    import numpy as np

    high = rows[:, CHECKSUM_HIGH_COLUMN].astype(np.float64)
    low = rows[:, CHECKSUM_LOW_COLUMN].astype(np.float64)
    with np.errstate(invalid="ignore"):
        valid = ((high >= 0) & (high < 65536) & (np.floor(high) == high)
                 & (low >= 0) & (low < 65536) & (np.floor(low) == low))
    out = np.full(rows.shape[0], -1, dtype=np.int64)
    out[valid] = high[valid].astype(np.int64) * 65536 + low[valid].astype(np.int64)
    return out


def bad_rows(rows, fmt: int, live: bool = False) -> "np.ndarray":  # noqa: F821
    """Indices of `rows` (an (m, ROW_FLOATS) array) that are not intact rows of format
    `fmt`; with `live`, tombstones count as bad too (a live face must have a vector)."""
    import numpy as np

    rows = np.asarray(rows, dtype="<f4")
    if fmt == VECTOR_FORMAT:
        ok = stored_checksums(rows) == row_checksums(rows).astype(np.int64)
        if live:
            ok &= rows[:, NORM_COLUMN] != TOMBSTONE_NORM
        return np.flatnonzero(~ok)
    # Legacy rows carry no checksum: a live row must be finite with a consistent norm.
    norm = rows[:, NORM_COLUMN]
    tomb = np.isposinf(norm)
    x = rows[:, :DESCRIPTOR_SIZE].astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        recomputed = np.einsum("ij,ij->i", x, x)
        ok = (np.isfinite(x).all(axis=1) & (rows[:, NORM_COLUMN + 1:] == 0).all(axis=1)
              & (np.abs(recomputed - norm) <= 1e-6 * (1.0 + recomputed)))
    if not live:
        ok |= tomb
    return np.flatnonzero(~ok)


def legacy_rows(rows) -> "np.ndarray":  # noqa: F821
    """Current-format live rows as a format-0 file holds them (no checksum)."""
    import numpy as np

    rows = np.array(rows, dtype="<f4")
    rows[:, NORM_COLUMN + 1:] = 0.0
    return rows


def upgraded(rows) -> "np.ndarray":  # noqa: F821
    """Legacy live rows in the current format (same descriptor and norm, sealed)."""
    import numpy as np

    return seal(np.array(rows, dtype="<f4"))


# -- search kernels -------------------------------------------------------------------------


def as_descriptors(descriptors) -> "np.ndarray":  # noqa: F821
    """Validate and stack descriptors into a float32 (m, 128) array."""
    import numpy as np

    array = np.asarray(descriptors, dtype=np.float32)
    if array.ndim == 1:
        array = array.reshape(1, -1)
    if array.ndim != 2 or array.shape[1] != DESCRIPTOR_SIZE:
        raise ValueError(f"descriptors must have {DESCRIPTOR_SIZE} values, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError("descriptors must be finite")
    return array


def augmented_rows(descriptors) -> "np.ndarray":  # noqa: F821
    """On-disk rows for descriptors: the 128 values, |x|^2, zero padding."""
    import numpy as np

    x = as_descriptors(descriptors)
    rows = np.zeros((x.shape[0], ROW_FLOATS), dtype="<f4")
    rows[:, :DESCRIPTOR_SIZE] = x
    rows[:, NORM_COLUMN] = np.einsum("ij,ij->i", x.astype(np.float64), x.astype(np.float64))
    if not (rows[:, NORM_COLUMN] < TOMBSTONE_NORM / 4).all():
        raise ValueError("descriptors must have a norm below 512")
    return seal(rows)


def match_ceiling(fmt: int) -> float:
    """Squared distances at or past this are tombstones (or impossible): never a match."""
    import numpy as np

    return TOMBSTONE_NORM / 2 if fmt == VECTOR_FORMAT else float(np.finfo(np.float32).max)


def check_distances(d2, eps: float, fmt: int, verify) -> None:
    """Raise (through `verify(rows)`) if a distance shows a damaged row: NaN or an infinity
    (a NaN/inf descriptor), below zero or past every tombstone. One min and one max over
    the distances; the rows found suspicious are then checked exactly."""
    import numpy as np

    if d2.size == 0:
        return
    high = 4 * TOMBSTONE_NORM if fmt == VECTOR_FORMAT else math.inf
    low = float(np.min(d2))
    top = float(np.max(d2))
    if low >= -eps and top <= high:  # False for NaN
        return
    with np.errstate(invalid="ignore"):
        suspects = np.flatnonzero(~((d2 >= -eps) & (d2 <= high)))
    verify(suspects)


def approx_squared_distances(matrix, queries, check=None) -> "np.ndarray":  # noqa: F821
    """float32 squared distance from every row to the nearest of `queries` (m, 128).

    One matrix-vector product per query ([-2q, 1, 0...] against the augmented rows);
    several queries (a user's faces) are processed in blocks with a running minimum.
    Tombstoned rows come out at TOMBSTONE_NORM or more (+inf in the legacy format).
    `check(d2)`, if given, sees the distances before negatives (rounding) are clipped to 0.
    """
    import numpy as np

    q = as_descriptors(queries)
    weights = np.zeros((q.shape[0], ROW_FLOATS), dtype=np.float32)
    weights[:, :DESCRIPTOR_SIZE] = -2.0 * q
    weights[:, NORM_COLUMN] = 1.0
    qq = np.einsum("ij,ij->i", q, q).astype(np.float32)
    n = matrix.shape[0]
    if q.shape[0] == 1:
        d2 = matrix @ weights[0]
        d2 += qq[0]
    else:
        d2 = np.empty(n, dtype=np.float32)
        block = 65536
        for start in range(0, n, block):
            part = matrix[start:start + block] @ weights.T
            part += qq
            np.min(part, axis=1, out=d2[start:start + block])
    if check is not None:
        check(d2)
    np.maximum(d2, 0.0, out=d2)
    return d2


def epsilon_for(queries) -> float:
    import numpy as np

    q = as_descriptors(queries)
    return APPROX_EPSILON * (1.0 + float(np.max(np.einsum("ij,ij->i", q, q))))


def exact_distances(matrix, rows, queries) -> "np.ndarray":  # noqa: F821
    """float64 Euclidean distance from `rows` of `matrix` to the nearest of `queries`."""
    import numpy as np

    q = as_descriptors(queries).astype(np.float64)
    rows = np.asarray(rows, dtype=np.int64)
    if rows.size == 0:
        return np.empty(0, dtype=np.float64)
    x = np.asarray(matrix[rows, :DESCRIPTOR_SIZE], dtype=np.float64)
    best = None
    for query in q:
        d = np.sqrt(np.sum((x - query) ** 2, axis=1))
        best = d if best is None else np.minimum(best, d)
    return best


def ranked_rows(d2, limit: float, first_chunk: int, ceiling: float | None = None,
                ids=None) -> Iterator[tuple["np.ndarray", "np.ndarray"]]:  # noqa: F821
    """Rows with d2 <= limit in ascending (d2, row) order, yielded in growing chunks.

    d2[i] is the distance of row i, or of row ids[i] when `ids` is given (a search
    through the index scores only some rows). Each chunk costs one argpartition over the
    candidates; callers usually stop after the first. Values within a chunk never fall
    below those of the chunk before.
    """
    import numpy as np

    # Tombstones (at `ceiling` or past it; +inf in the legacy format) never qualify.
    limit = min(float(limit), float(np.finfo(np.float32).max))
    if ceiling is not None:
        limit = min(limit, float(np.nextafter(np.float32(ceiling), np.float32(0))))
    candidates = np.flatnonzero(d2 <= limit)
    values = d2[candidates]
    if ids is not None:
        candidates = np.asarray(ids, dtype=np.int64)[candidates]
    total = candidates.size
    if total == 0:
        return
    size = max(1, int(first_chunk))
    if total <= max(4 * size, 4096):
        order = np.lexsort((candidates, values))
        yield candidates[order], values[order]
        return
    taken = np.zeros(total, dtype=bool)
    while True:
        if size >= total:
            rest = np.flatnonzero(~taken)
            order = rest[np.lexsort((candidates[rest], values[rest]))]
            yield candidates[order], values[order]
            return
        part = np.argpartition(values, size - 1)[:size]
        part = part[~taken[part]]
        order = part[np.lexsort((candidates[part], values[part]))]
        taken[order] = True
        yield candidates[order], values[order]
        size *= 8
