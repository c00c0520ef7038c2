"""Engine benchmark: prints JSON lines, one per measurement. Timing is never asserted.

    .venv/bin/python benchmarks/bench_engine.py [--faces DIR] [--repeat N]

Every measurement runs in a fresh (cold) Python process, as a CLI invocation would:

- "compare_faces": the compare-faces workload through the public engine API:
  people/obama/obama.jpg (source: largest face, descriptor) against groups/two_people.jpg
  (target: every face with the 5 default landmarks, pose, quality and descriptor). `wall_s`
  is measured by the parent around the whole process (interpreter start included); the
  child reports its own total and its peak RSS (resource.getrusage). Targets: wall <= 1.8 s,
  peak RSS <= 400 MB.
- "compare_faces_stages": the same work split into stages (import, each model load,
  decode, detect, landmarks, pose+quality, descriptors) by calling the pipeline's steps one
  at a time.
- "compare_faces_first_run": like compare_faces with an empty model cache (the HOG detector
  is then rebuilt from dlib's built-in text and cached; see engine/models.py).
- "detect_1080p": detection alone on edge/obama-1080p.jpg, after the model is loaded: the
  first call and the best of --repeat calls. Target <= 200 ms.
- "detect_scans": detection CPU per image over the decodable photos of people/, groups/,
  detection/ and noface/ (one thread, as in batch workers), with rekcli's C scan
  (engine/_fhog.c) and with dlib's own scan, the fallback when it is not built; and the
  faces each finds (the same).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_FACES = Path(os.environ.get("REKCLI_TEST_FACES", REPO.parent / "shared" / "faces"))
SOURCE = "people/obama/obama.jpg"
TARGET = "groups/two_people.jpg"
HD = "edge/obama-1080p.jpg"


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def child_compare_faces(faces: Path) -> dict:
    start = time.perf_counter()
    from rekcli import engine
    from rekcli.engine.similarity import similarity_from_distance

    source_bytes = (faces / SOURCE).read_bytes()
    target_bytes = (faces / TARGET).read_bytes()
    source = engine.analyze_faces(engine.decode_image(source_bytes), max_faces=1)
    target = engine.analyze_faces(engine.decode_image(target_bytes))
    distances = [engine.descriptor_distance(source[0].descriptor, f.descriptor) for f in target]
    similarities = [round(similarity_from_distance(d), 2) for d in distances]
    return {
        "total_s": round(time.perf_counter() - start, 3),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
        "target_faces": len(target),
        "similarities": similarities,
    }


def child_compare_faces_stages(faces: Path) -> dict:
    stages = {}
    start = time.perf_counter()

    def mark(name, since):
        now = time.perf_counter()
        stages[name] = round((now - since) * 1000, 1)
        return now

    t = time.perf_counter()
    import cv2
    import dlib
    import numpy  # noqa: F401

    from rekcli import engine
    from rekcli.engine import analysis, detection, models, quality
    from rekcli.engine.landmarks import rekognition_landmarks, shape_to_array
    from rekcli.engine.pose import estimate_pose

    t = mark("import_ms", t)
    source_bytes = (faces / SOURCE).read_bytes()
    target_bytes = (faces / TARGET).read_bytes()
    source = engine.decode_image(source_bytes)
    target = engine.decode_image(target_bytes)
    t = mark("decode_ms", t)
    models.hog_detector()
    t = mark("load_hog_ms", t)
    source_faces = analysis.largest_faces(detection.detect_faces(source.pixels), 1)
    target_faces = analysis.largest_faces(detection.detect_faces(target.pixels), 100)
    t = mark("detect_ms", t)
    predictor = models.shape_predictor_68()
    t = mark("load_shape68_ms", t)
    box = analysis._dlib_rectangle
    source_shapes = [predictor(source.pixels, box(dlib, d.box)) for d in source_faces]
    target_shapes = [predictor(target.pixels, box(dlib, d.box)) for d in target_faces]
    t = mark("landmarks_ms", t)
    gray = cv2.cvtColor(target.pixels, cv2.COLOR_RGB2GRAY)
    for d, shape in zip(target_faces, target_shapes):
        points = shape_to_array(shape)
        rekognition_landmarks(points, detailed=False)
        estimate_pose(points, target.width, target.height)
        quality.face_quality(gray, d.box)
    t = mark("pose_quality_ms", t)
    models.face_recognition_model()
    t = mark("load_resnet_ms", t)
    analysis._descriptors(source.pixels, source_shapes)
    analysis._descriptors(target.pixels, target_shapes)
    t = mark("descriptors_ms", t)
    stages["total_ms"] = round((time.perf_counter() - start) * 1000, 1)
    stages["peak_rss_mb"] = round(_peak_rss_mb(), 1)
    stages["faces"] = {"source": len(source_faces), "target": len(target_faces)}
    return stages


def child_detect_1080p(faces: Path, repeat: int) -> dict:
    from rekcli import engine
    from rekcli.engine import detection, models

    image = engine.decode_image((faces / HD).read_bytes())
    models.hog_detector()
    t = time.perf_counter()
    found = detection.detect_faces(image.pixels)
    first = time.perf_counter() - t
    times, cpu_times = [], []
    for _ in range(repeat):
        t, cpu = time.perf_counter(), time.process_time()
        detection.detect_faces(image.pixels)
        times.append(time.perf_counter() - t)
        cpu_times.append(time.process_time() - cpu)
    times.sort()
    return {
        "first_ms": round(first * 1000, 1),
        "cpu_ms_per_call": round(min(cpu_times) * 1000, 1),
        "best_ms": round(times[0] * 1000, 1),
        "median_ms": round(times[len(times) // 2] * 1000, 1),
        "faces": len(found),
        "working_scale": detection.working_scale(image.width, image.height),
    }


def child_detect_scans(faces: Path) -> dict:
    from rekcli import engine
    from rekcli.engine import detection, hog_scan

    photos = []
    for folder in ("people", "groups", "detection", "noface"):
        for path in sorted((faces / folder).rglob("*")):
            if path.suffix.lower() in (".jpg", ".jpeg", ".png"):
                photos.append(engine.decode_image(path.read_bytes()).pixels)
    detection.scan_in_parallel(False)
    result = {"photos": len(photos), "compiled_scan_built": hog_scan.available()}
    for name in ("compiled", "dlib"):
        if name == "dlib":
            hog_scan.available = lambda: False
        detection.detect_faces(photos[0])  # load what the first call loads
        cpu = time.process_time()
        found = sum(len(detection.detect_faces(pixels)) for pixels in photos)
        result[f"{name}_cpu_ms_per_image"] = round(
            (time.process_time() - cpu) * 1000 / len(photos), 1)
        result[f"{name}_faces"] = found
    return result


def run_child(name: str, faces: Path, repeat: int, env: dict | None = None) -> dict:
    command = [sys.executable, __file__, "--child", name, "--faces", str(faces)]
    command += ["--repeat", str(repeat)]
    t = time.perf_counter()
    completed = subprocess.run(
        command, capture_output=True, text=True, check=True, cwd=REPO, env=env or os.environ.copy()
    )
    wall = time.perf_counter() - t
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    return {"benchmark": name, "wall_s": round(wall, 3), **result}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=Path, default=DEFAULT_FACES)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--child")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))

    if args.child:
        if args.child == "compare_faces" or args.child == "compare_faces_first_run":
            result = child_compare_faces(args.faces)
        elif args.child == "compare_faces_stages":
            result = child_compare_faces_stages(args.faces)
        elif args.child == "detect_1080p":
            result = child_detect_1080p(args.faces, args.repeat)
        elif args.child == "detect_scans":
            result = child_detect_scans(args.faces)
        else:
            raise SystemExit(f"unknown child {args.child}")
        print(json.dumps(result))
        return

    env = os.environ.copy()
    # Warm the on-disk model cache once so the cold runs measure the usual state.
    run_child("compare_faces", args.faces, args.repeat, env)
    for _ in range(args.repeat):
        print(json.dumps(run_child("compare_faces", args.faces, args.repeat, env)), flush=True)
    print(json.dumps(run_child("compare_faces_stages", args.faces, args.repeat, env)), flush=True)
    with tempfile.TemporaryDirectory() as empty_cache:
        first_env = {**env, "REKCLI_CACHE_DIR": empty_cache}
        result = run_child("compare_faces_first_run", args.faces, args.repeat, first_env)
        print(json.dumps(result), flush=True)
    print(json.dumps(run_child("detect_1080p", args.faces, args.repeat, env)), flush=True)
    print(json.dumps(run_child("detect_scans", args.faces, args.repeat, env)), flush=True)


if __name__ == "__main__":
    main()
