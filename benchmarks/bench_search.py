"""Search benchmark: synthetic collections of 1e5, 1e6 (and 1e7) faces, exact search against
the search index (store/search_index.py).

Prints one JSON line per measurement:
- load: time to bulk-load the collection (Collection.bulk_add_faces) and bytes per face;
- index_build: `rekcli search-index --rebuild --full` in its own process: wall time, peak
  RSS, the calibrated margin, the file's size;
- warm_search: per-query latency of Collection.nearest_faces (the search step alone) in a
  process that already has the collection open (median and p95), thresholded search
  (FaceMatchThreshold 80, MaxFaces 10), exact and through the index, and the benchmark
  process's peak RSS;
- recall: match recall against exact search at FaceMatchThreshold 80 over new photos of
  stored identities (share of exact matches the index also returns), the share of
  queries whose answer is identical (ids, similarities, order), and for --real, the
  real faces of ../shared/faces (stored among the synthetic ones) searched by themselves;
- add_1000: 1,000 faces added by 1,000 single writes (IndexFaces-like) after the build,
  then warm searches with those rows in the tail; append_1000_to_index: the update
  (`search-index --rebuild`, which appends their codes) and searches after it;
- recall_threshold_50_max_faces_100: a wide search (FaceMatchThreshold 50, MaxFaces 100),
  which needs rows far past the first band;
- cold_search_faces: a whole `rekcli search-faces` process (argv to printed JSON), page
  cache warm (median of 5 after one unmeasured run) and cold (`echo 3 >
  /proc/sys/vm/drop_caches` before each of 3 runs, root only), exact and with the index,
  with the process's peak RSS.

Descriptors: --model dlib (default: benchmarks/face_model.py fitted to the real faces,
--real NPZ from benchmarks/real_descriptors.py; without it the parametric dlib-like
shape) or --model isotropic (the worst case of vector-search.md). Timings are printed,
never asserted. Usage:
    python benchmarks/bench_search.py [--sizes 100000,1000000] [--model dlib]
        [--real /work/bench-data/real.npz] [--queries 100] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

import face_model  # noqa: E402
from rekcli.service.context import ServiceContext  # noqa: E402
from rekcli.service.faces_admin import distance_limit  # noqa: E402
from rekcli.store import NewFace, Store, search_index  # noqa: E402

BOX = {"Width": 0.2, "Height": 0.3, "Left": 0.4, "Top": 0.1}
CHUNK = 100_000
LIMIT = distance_limit(80.0)


def emit(**fields) -> None:
    print(json.dumps(fields), flush=True)


class Exact:
    """Within this block searches are exhaustive (the index threshold out of reach)."""

    def __enter__(self):
        os.environ[search_index.MIN_FACES_ENV] = str(10 ** 12)

    def __exit__(self, *exc):
        os.environ[search_index.MIN_FACES_ENV] = "1"


def load(collection, model, n: int, rng, real) -> tuple[float, np.ndarray]:
    """Bulk-load n faces (identities per chunk, ~5 faces each); the real faces first.
    Returns (seconds, centres of the identities probes are drawn from)."""
    start = time.perf_counter()
    probe_centres = []
    done = 0
    if real is not None:
        collection.bulk_add_faces([("real", None, NewFace(BOX, 99.9, v)) for v in real])
        done = len(real)
    while done < n:
        size = min(CHUNK, n - done)
        vectors, who, centres = face_model.collection(model, rng, size)
        probe_centres.append(centres[who[:4]])
        collection.bulk_add_faces([("img", None, NewFace(BOX, 99.9, v)) for v in vectors],
                                  batch_size=CHUNK)
        done += size
    return time.perf_counter() - start, np.concatenate(probe_centres)


def probes(model, rng, centres, count: int) -> np.ndarray:
    chosen = centres[rng.integers(0, len(centres), count)]
    return model.faces(rng, chosen)


def timed_searches(collection, queries, k=10, limit=LIMIT) -> tuple[dict, list]:
    collection.nearest_faces(queries[0], k, limit)  # open / map once
    times, results = [], []
    for q in queries:
        start = time.perf_counter()
        found = collection.nearest_faces(q, k, limit)
        times.append(time.perf_counter() - start)
        results.append([(face.face_id, round(d, 9)) for face, d in found])
    times.sort()
    return ({"median_ms": round(statistics.median(times) * 1e3, 2),
             "p95_ms": round(times[int(0.95 * (len(times) - 1))] * 1e3, 2)}, results)


def recall(exact: list, indexed: list) -> dict:
    wanted = sum(len(e) for e in exact)
    got = sum(len({f for f, _ in e} & {f for f, _ in i}) for e, i in zip(exact, indexed))
    return {"match_recall": round(got / max(1, wanted), 5), "matches": wanted,
            "identical_answers": f"{sum(e == i for e, i in zip(exact, indexed))}/{len(exact)}"}


# Runs a command and prints its peak RSS (KB): a child forked from this big benchmark
# process would count the benchmark's own pages, from before its exec, as its peak.
_RSS_WRAPPER = ("import resource, subprocess, sys, time; start = time.perf_counter(); "
                "code = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL); "
                "print(time.perf_counter() - start, "
                "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(code)")


def run_measured(argv, env) -> tuple[float, float]:
    """(wall seconds, peak RSS MB) of a child process, measured by a small wrapper."""
    done = subprocess.run([sys.executable, "-c", _RSS_WRAPPER, *argv], env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{argv} failed: {done.returncode} {done.stderr[-2000:]}")
    wall, rss_kb = done.stdout.split()[-2:]
    return float(wall), int(rss_kb) / 1024


def drop_caches() -> bool:
    try:
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return True
    except OSError:
        return False


def cold_search(data_dir: Path, collection_id: str, face_id: str, exact: bool) -> dict:
    argv = [sys.executable, "-m", "rekcli", "search-faces", "--collection-id", collection_id,
            "--face-id", face_id, "--output", "json"]
    env = dict(os.environ, PYTHONPATH=str(REPO), REKCLI_DATA_DIR=str(data_dir))
    env[search_index.BUILD_ENV] = "off"
    if exact:
        env[search_index.MIN_FACES_ENV] = str(10 ** 12)
    matches = len(json.loads(subprocess.run(argv, env=env, capture_output=True,
                                            text=True, check=True).stdout)["FaceMatches"])
    warm = [run_measured(argv, env) for _ in range(5)]
    result = {"matches": matches, "warm_cache_s": round(statistics.median(w for w, _ in warm), 3),
              "rss_mb": round(max(r for _, r in warm))}
    cold = []
    for _ in range(3):
        if not drop_caches():
            break
        cold.append(run_measured(argv, env)[0])
    if cold:
        result["cold_cache_s"] = round(statistics.median(cold), 3)
    return result


def measure(ctx, n: int, args, model, real) -> None:
    rng = np.random.default_rng(42)
    collection_id = f"bench-{args.model}-{n}"
    env = dict(os.environ, PYTHONPATH=str(REPO), REKCLI_DATA_DIR=str(ctx.data_dir))
    saved_centres = Path(ctx.data_dir) / f"{collection_id}-centres.npy"
    with Store(ctx) as store:
        if saved_centres.exists():  # loaded by an earlier --keep run: reuse it
            collection = store.open_collection(collection_id)
            centres = np.load(saved_centres)
            rng = np.random.default_rng(43)
        else:
            store.create_collection(collection_id)
            collection = store.open_collection(collection_id)
            seconds, centres = load(collection, model, n, rng, real)
            size = sum(p.stat().st_size for p in collection.path.iterdir() if p.is_file())
            emit(faces=n, metric="load", seconds=round(seconds, 1),
                 bytes_per_face=round(size / n, 1))
            if args.keep:
                np.save(saved_centres, centres)
        if args.load_only:
            collection.close()
            return

        build_s, build_rss = run_measured(
            [sys.executable, "-m", "rekcli", "search-index", "--collection-id", collection_id,
             "--rebuild", "--full"], env)
        status = search_index.status(collection)
        emit(faces=n, metric="index_build", seconds=round(build_s, 1),
             peak_rss_mb=round(build_rss), margin=status["Margin"],
             index_mb=round(status["Bytes"] / 2**20, 1))

        queries = probes(model, rng, centres, args.queries)
        with Exact():
            exact_times, exact = timed_searches(collection, queries)
        index_times, indexed = timed_searches(collection, queries)
        emit(faces=n, metric="warm_search", exact=exact_times, index=index_times,
             rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
        emit(faces=n, metric="recall", model=args.model, **recall(exact, indexed))
        wide = [q for q in queries[:20]]  # a low threshold and many answers
        with Exact():
            _, exact_wide = timed_searches(collection, wide, k=100, limit=distance_limit(50.0))
        wide_times, index_wide = timed_searches(collection, wide, k=100,
                                                limit=distance_limit(50.0))
        emit(faces=n, metric="recall_threshold_50_max_faces_100", index=wide_times,
             **recall(exact_wide, index_wide))
        if real is not None:
            with Exact():
                _, exact_real = timed_searches(collection, real)
            _, index_real = timed_searches(collection, real)
            emit(faces=n, metric="recall_real_faces", **recall(exact_real, index_real))

        added = model.faces(rng, centres[rng.integers(0, len(centres), 1000)])
        start = time.perf_counter()
        for i, vector in enumerate(added):
            collection.add_faces(f"added-{i}", None, [NewFace(BOX, 99.9, vector)])
        add_s = time.perf_counter() - start
        queries = np.concatenate([added[:args.queries // 2], queries[:args.queries // 2]])
        with Exact():
            _, exact = timed_searches(collection, queries)
        index_times, indexed = timed_searches(collection, queries)
        emit(faces=n, metric="add_1000", seconds=round(add_s, 2), tail_rows=1000,
             index=index_times, **recall(exact, indexed))
        update_s, update_rss = run_measured(
            [sys.executable, "-m", "rekcli", "search-index", "--collection-id", collection_id,
             "--rebuild"], env)
        index_times, indexed = timed_searches(collection, queries)
        emit(faces=n, metric="append_1000_to_index", seconds=round(update_s, 1),
             peak_rss_mb=round(update_rss), index=index_times, **recall(exact, indexed))
        # The cold searches look for three of the added faces: new photos of stored
        # people, like the probes (a stored face near the mean can have thousands of
        # matches), by the CLI's default MaxFaces 4096, i.e. every match.
        with collection.read() as tx:
            face_ids = [face_id for (face_id,) in tx.conn.execute(
                "SELECT face_id FROM faces ORDER BY row DESC LIMIT 3 OFFSET 997")]
        collection.close()
    for face_id in face_ids:
        for exact_search in (True, False):
            emit(faces=n, metric="cold_search_faces", exact=exact_search, face_id=face_id,
                 **cold_search(ctx.data_dir, collection_id, face_id, exact_search))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--model", choices=["dlib", "isotropic"], default="dlib")
    parser.add_argument("--real", help="real descriptors (benchmarks/real_descriptors.py)")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--keep", help="build in this directory and keep it; a collection "
                        "loaded there by an earlier run is reused (its load is not re-timed)")
    parser.add_argument("--load-only", action="store_true",
                        help="load the collections (into --keep) and stop")
    args = parser.parse_args()
    # The index is measured at every size (its default threshold is 2e6 faces).
    os.environ[search_index.MIN_FACES_ENV] = "1"
    os.environ[search_index.BUILD_ENV] = "off"
    real = np.load(args.real)["descriptors"] if args.real else None
    if args.model == "isotropic":
        model = face_model.isotropic()
    else:
        model = face_model.fit(real) if real is not None else face_model.parametric()
    with tempfile.TemporaryDirectory(prefix="rekcli-bench-") as tmp:
        ctx = ServiceContext(data_dir=Path(args.keep or tmp))
        for n in [int(s) for s in args.sizes.split(",")]:
            measure(ctx, n, args, model, real)


if __name__ == "__main__":
    main()
