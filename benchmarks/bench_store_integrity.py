"""Integrity benchmark: what checksums cost a search, and what compaction costs a delete.

Prints one JSON line per measurement:
- search: warm Collection.nearest_faces latency at --search-size faces (default 1,000,000)
  with the integrity checks search does (a min/max over the distances, the CRC of the rows
  it answers with) and with those checks switched off, interleaved query by query so both
  see the same machine load; `overhead_pct` is the difference of the medians;
- full_crc: what verifying every row's CRC on every search would add (why search does not);
- compaction: at --compact-size faces, for several fractions of deleted rows, the time of
  one compaction and its cost per deleted face, next to the cost of one DeleteFaces write;
- choice: the compaction threshold in constants.py and the measurement behind it.

Timings are printed, never asserted. Usage:
    python benchmarks/bench_store_integrity.py [--search-size N] [--compact-size N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_search import build  # noqa: E402

from rekcli.service.context import ServiceContext  # noqa: E402
from rekcli.store import Store, constants  # noqa: E402
from rekcli.store import vectors as vec  # noqa: E402


def emit(**fields) -> None:
    print(json.dumps(fields), flush=True)


class ChecksOff:
    """Search without its integrity checks (the baseline)."""

    def __enter__(self):
        self.saved = vec.check_distances, vec.VectorFile.verify
        vec.check_distances = lambda *a, **k: None
        vec.VectorFile.verify = lambda *a, **k: None

    def __exit__(self, *exc):
        vec.check_distances, vec.VectorFile.verify = self.saved


def search_overhead(ctx, collection_id, sample, queries: int) -> None:
    rng = np.random.default_rng(7)
    with Store(ctx) as store:
        collection = store.open_collection(collection_id)
        collection.nearest_faces(sample[0], 10, 0.6)  # map the file once
        checked, unchecked = [], []
        for i in range(queries):
            probe = sample[i % len(sample)] + rng.standard_normal(128, dtype=np.float32) * 0.01
            for times, off in ((checked, False), (unchecked, True)) if i % 2 else \
                    ((unchecked, True), (checked, False)):
                if off:
                    with ChecksOff():
                        start = time.perf_counter()
                        collection.nearest_faces(probe, 10, 0.6)
                        times.append(time.perf_counter() - start)
                else:
                    start = time.perf_counter()
                    collection.nearest_faces(probe, 10, 0.6)
                    times.append(time.perf_counter() - start)
        with_checks, without = statistics.median(checked), statistics.median(unchecked)
        emit(metric="search", faces=collection.counts()[0], queries=queries,
             with_checks_ms=round(with_checks * 1e3, 2), without_ms=round(without * 1e3, 2),
             overhead_pct=round(100 * (with_checks - without) / without, 2))
        vectors = collection.vectors
        matrix = vectors.matrix(collection.counts()[0])
        start = time.perf_counter()
        vec.bad_rows(matrix, vectors.fmt)
        full = time.perf_counter() - start
        emit(metric="full_crc", faces=matrix.shape[0], seconds=round(full, 3),
             would_add_pct=round(100 * full / without))
        collection.close()


def compaction_costs(ctx, n: int) -> None:
    rng = np.random.default_rng(11)
    for fraction in (0.05, 0.1, 0.25, 0.5):
        collection_id = f"compact-{n}-{int(fraction * 100)}"
        build(ctx, collection_id, n, rng)
        with Store(ctx) as store:
            collection = store.open_collection(collection_id)
            with collection.read() as tx:
                face_ids = [f.face_id for f in tx.list_faces(None, n)]
            doomed = face_ids[: int(n * fraction)]
            saved = constants.COMPACT_MIN_DELETED
            constants.COMPACT_MIN_DELETED = 10 ** 12  # delete first, compact separately
            try:
                start = time.perf_counter()
                for face_id in doomed[:200]:
                    with collection.write() as tx:
                        tx.delete_faces([face_id])
                one_delete = (time.perf_counter() - start) / 200
                with collection.write() as tx:
                    tx.delete_faces(doomed[200:])
            finally:
                constants.COMPACT_MIN_DELETED = saved
            start = time.perf_counter()
            with collection.write() as tx:
                tx.compact()
            seconds = time.perf_counter() - start
            emit(metric="compaction", faces=n, deleted=len(doomed),
                 deleted_fraction=fraction, seconds=round(seconds, 3),
                 ms_per_deleted_face=round(1e3 * seconds / len(doomed), 4),
                 one_delete_faces_ms=round(one_delete * 1e3, 3))
            collection.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--search-size", type=int, default=1_000_000)
    parser.add_argument("--compact-size", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rekcli-bench-") as tmp:
        ctx = ServiceContext(data_dir=Path(tmp))
        if args.search_size:
            _, sample = build(ctx, "search", args.search_size, np.random.default_rng(42))
            search_overhead(ctx, "search", sample, args.queries)
        if args.compact_size:
            compaction_costs(ctx, args.compact_size)
    emit(metric="choice", compact_min_deleted=constants.COMPACT_MIN_DELETED,
         compact_deleted_fraction=constants.COMPACT_DELETED_FRACTION,
         why="compaction costs ~ one copy of the live rows; at a quarter of the rows deleted "
             "its cost per deleted face is a small fraction of the DeleteFaces write that "
             "deleted it, while dead rows cost every search at most a third more")


if __name__ == "__main__":
    main()
