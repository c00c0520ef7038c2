"""Descriptors on disk (`vectors.f32`) and exact nearest-neighbour search over them.

The file is a bare, append-only float32 matrix of ROW_FLOATS columns (layout in
constants.py), no header, so search memory-maps it as one contiguous matrix. Only the
first `committed_rows` rows (a number kept in the collection's SQLite database) belong to
committed requests; a writer appends and fsyncs rows past that point *before* the SQLite
transaction that extends it commits, and anything beyond it is debris of an interrupted
write, ignored by readers and truncated by the next writer.

numpy is imported inside functions: collection listing and describing never pay for it.
"""

from __future__ import annotations

import errno
import mmap
import os
import stat
from pathlib import Path
from typing import Iterator, Sequence

from rekcli.store.constants import DESCRIPTOR_SIZE, NORM_COLUMN, ROW_BYTES, ROW_FLOATS
from rekcli.store.files import open_private
from rekcli.store.sqlite import StoreDamaged

# Slack added to float32 squared distances before comparing them with a cut-off, so that
# float32 rounding (about 1e-5 relative over 132 terms) can never hide a true neighbour;
# the survivors are then re-measured exactly in float64.
APPROX_EPSILON = 1e-4


def _write_at(fd: int, data: memoryview, offset: int) -> None:
    """Write all of `data` at `offset` (os.pwrite may write less than asked)."""
    while data:
        written = os.pwrite(fd, data, offset)
        data = data[written:]
        offset += written


class VectorFile:
    """`vectors.f32` of one collection."""

    def __init__(self, path: Path, collection_id: str | None = None):
        self.path = Path(path)
        self.collection_id = collection_id  # named in damage reports
        self._mapped = None  # (rows, numpy view) of the current mapping

    def damaged(self, problem: str) -> StoreDamaged:
        if self.collection_id is not None:
            problem = f"vectors of the collection {self.collection_id}: {problem}"
        return StoreDamaged(self.path, problem)

    def _open(self, flags: int) -> int:
        """Open the file (never through a symlink), or raise StoreDamaged saying what is
        wrong with it. A missing collection folder stays FileNotFoundError: the collection
        was deleted meanwhile, which is not damage."""
        try:
            return open_private(self.path, flags)
        except FileNotFoundError:
            if not self.path.parent.is_dir():
                raise
            raise self.damaged("the file is missing") from None
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
            raise self.damaged(
                f"the file is truncated: {st.st_size} bytes{whole}; its {rows} "
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
        """Wipe `rows`: the descriptor and padding become zeros and the norm column +inf, so
        they never match again and no byte of the deleted descriptor stays in the file.
        Then fsync."""
        if not rows:
            return
        wiped = tombstone_row().tobytes()
        fd = self._open_for_write()
        try:
            for row in sorted(set(int(r) for r in rows)):
                _write_at(fd, memoryview(wiped), row * ROW_BYTES)
            os.fdatasync(fd)
        finally:
            os.close(fd)

    # -- reading ------------------------------------------------------------------------

    def matrix(self, rows: int):
        """The first `rows` rows as a read-only (rows, ROW_FLOATS) float32 array.

        Memory-mapped (MAP_POPULATE pre-faults the pages in one go when the file is in the
        page cache); nothing is parsed. The mapping is reused while `rows` is unchanged.
        """
        import numpy as np

        if self._mapped is not None and self._mapped[0] == rows:
            return self._mapped[1]
        if rows == 0:
            view = np.empty((0, ROW_FLOATS), dtype="<f4")
        else:
            length = rows * ROW_BYTES
            fd = self._open(os.O_RDONLY)
            try:
                self._check_holds(fd, rows)
                flags = mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0)
                mapping = mmap.mmap(fd, length, flags=flags, prot=mmap.PROT_READ)
            finally:
                os.close(fd)
            view = np.frombuffer(mapping, dtype="<f4").reshape(rows, ROW_FLOATS)
        self._mapped = (rows, view)
        return view

    def read_rows(self, rows: Sequence[int]):
        """Copies of a few rows, (m, ROW_FLOATS) float32, read with pread (no mapping)."""
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
        return out

    def forget_mapping(self) -> None:
        self._mapped = None


def tombstone_row() -> "np.ndarray":  # noqa: F821
    """The on-disk row of a deleted face: all zeros but the +inf norm."""
    import numpy as np

    row = np.zeros(ROW_FLOATS, dtype="<f4")
    row[NORM_COLUMN] = np.inf
    return row


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
    return rows


def approx_squared_distances(matrix, queries) -> "np.ndarray":  # noqa: F821
    """float32 squared distance from every row to the nearest of `queries` (m, 128).

    One matrix-vector product per query ([-2q, 1, 0...] against the augmented rows);
    several queries (a user's faces) are processed in blocks with a running minimum.
    Tombstoned rows come out +inf.
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


def ranked_rows(d2, limit: float, first_chunk: int) -> Iterator[tuple["np.ndarray", "np.ndarray"]]:  # noqa: F821
    """Rows with d2 <= limit in ascending (d2, row) order, yielded in growing chunks.

    Each chunk costs one argpartition over the candidates; callers usually stop after the
    first. Values within a chunk never fall below those of the chunk before.
    """
    import numpy as np

    limit = min(float(limit), float(np.finfo(np.float32).max))  # +inf rows never qualify
    candidates = np.flatnonzero(d2 <= limit)
    values = d2[candidates]
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
