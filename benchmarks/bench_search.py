"""Search benchmark: synthetic collections of 100,000 and 1,000,000 faces.

Prints one JSON line per measurement:
- build: time to bulk-load the collection (Collection.bulk_add_faces);
- size: bytes on disk per face (vectors.f32 + meta.sqlite);
- warm search: per-query latency of Collection.nearest_faces in a process that already has
  the collection open (median and p95 over the queries), for a thresholded search
  (FaceMatchThreshold 80, MaxFaces 10) and an unthresholded top-100;
- cold search_faces: wall time of a fresh `python -c` process answering
  rekcli.service.faces_admin.search_faces (import, open, map, search, build the response),
  with the page cache warm (one unmeasured run first).

Timings are printed, never asserted. Usage:
    python benchmarks/bench_search.py [--sizes 100000,1000000] [--queries 50] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from rekcli.service.context import ServiceContext  # noqa: E402
from rekcli.service.faces_admin import distance_limit  # noqa: E402
from rekcli.store import NewFace, Store  # noqa: E402

BOX = {"Width": 0.2, "Height": 0.3, "Left": 0.4, "Top": 0.1}


def emit(**fields) -> None:
    print(json.dumps(fields), flush=True)


def synthetic_descriptors(rng, n: int) -> np.ndarray:
    """Unit-ish random vectors, scaled like dlib descriptors (norm about 1)."""
    x = rng.standard_normal((n, 128), dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def build(ctx: ServiceContext, collection_id: str, n: int, rng) -> tuple[float, np.ndarray]:
    with Store(ctx) as store:
        store.create_collection(collection_id)
        collection = store.open_collection(collection_id)
        start = time.perf_counter()
        sample = None
        batch = 100_000
        for offset in range(0, n, batch):
            vectors = synthetic_descriptors(rng, min(batch, n - offset))
            if sample is None:
                sample = vectors[:200].copy()
            records = [(f"img-{offset + i}", None, NewFace(BOX, 99.9, vectors[i]))
                       for i in range(vectors.shape[0])]
            collection.bulk_add_faces(records, batch_size=batch)
        elapsed = time.perf_counter() - start
    return elapsed, sample


def disk_bytes(ctx: ServiceContext, collection_id: str) -> int:
    with Store(ctx) as store:
        path = store.open_collection(collection_id).path
    return sum(p.stat().st_size for p in path.iterdir() if p.is_file())


def warm_search(ctx, collection_id, sample, rng, queries: int, k: int, threshold) -> dict:
    limit = distance_limit(threshold) if threshold is not None else float("inf")
    times = []
    with Store(ctx) as store:
        collection = store.open_collection(collection_id)
        collection.nearest_faces(sample[0], k, limit)  # map the file once
        for i in range(queries):
            # A perturbed copy of a stored face (it has a match) - like a real probe.
            probe = sample[i % len(sample)] + rng.standard_normal(128, dtype=np.float32) * 0.01
            start = time.perf_counter()
            result = collection.nearest_faces(probe, k, limit)
            times.append(time.perf_counter() - start)
            assert result, "the perturbed face should match itself"
    times.sort()
    return {"median_ms": round(statistics.median(times) * 1e3, 3),
            "p95_ms": round(times[int(0.95 * (len(times) - 1))] * 1e3, 3)}


COLD_SCRIPT = """
import sys
from rekcli.service.context import ServiceContext
from rekcli.service.faces_admin import search_faces
r = search_faces(ServiceContext(), {"CollectionId": sys.argv[1], "FaceId": sys.argv[2]})
assert r["SearchedFaceId"] == sys.argv[2]
"""


def cold_search(ctx: ServiceContext, collection_id: str, runs: int = 5, cli: bool = False) -> dict:
    """Wall time of a fresh process answering SearchFaces: the service function alone, or
    (cli=True) the whole `rekcli search-faces` command, argv to printed JSON."""
    with Store(ctx) as store:
        collection = store.open_collection(collection_id)
        with collection.read() as tx:
            face_id = tx.list_faces(None, 1)[0].face_id
    if cli:
        argv = [sys.executable, "-m", "rekcli", "search-faces", "--collection-id", collection_id,
                "--face-id", face_id, "--output", "off"]
    else:
        argv = [sys.executable, "-c", COLD_SCRIPT, collection_id, face_id]
    env = dict(os.environ, PYTHONPATH=str(REPO), REKCLI_DATA_DIR=str(ctx.data_dir))
    subprocess.run(argv, check=True, env=env)  # warm the page cache
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, check=True, env=env)
        times.append(time.perf_counter() - start)
    return {"median_s": round(statistics.median(times), 3), "max_s": round(max(times), 3)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--keep", help="build in this directory and keep it")
    args = parser.parse_args()
    rng = np.random.default_rng(42)
    with tempfile.TemporaryDirectory(prefix="rekcli-bench-") as tmp:
        data_dir = Path(args.keep or tmp)
        ctx = ServiceContext(data_dir=data_dir)
        for n in [int(s) for s in args.sizes.split(",")]:
            collection_id = f"bench-{n}"
            build_s, sample = build(ctx, collection_id, n, rng)
            emit(faces=n, metric="build", seconds=round(build_s, 2),
                 faces_per_s=round(n / build_s))
            size = disk_bytes(ctx, collection_id)
            emit(faces=n, metric="disk", bytes_per_face=round(size / n, 1),
                 total_mb=round(size / 2**20, 1))
            for k, threshold in ((10, 80.0), (100, None)):
                stats = warm_search(ctx, collection_id, sample, rng, args.queries, k, threshold)
                emit(faces=n, metric="warm_search", k=k, threshold=threshold,
                     queries=args.queries, **stats)
            emit(faces=n, metric="cold_search_faces_process", **cold_search(ctx, collection_id))
            emit(faces=n, metric="cold_rekcli_search_faces_command",
                 **cold_search(ctx, collection_id, cli=True))


if __name__ == "__main__":
    main()
