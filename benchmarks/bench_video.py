"""Stored-video benchmark: prints JSON lines, one per measurement. Timing is never asserted.

    .venv/bin/python benchmarks/bench_video.py [--seconds 10] [--sample-ms 500] [--faces DIR]

Builds a 1920x1080, 30 fps mp4v clip from the shared photos (half obama.jpg, half
obama_and_biden.jpg, letterboxed), then runs the frame work of a job in this process, with
the models already loaded, exactly as the job worker does (service/video_analysis.py):

Frames are decoded ahead by a background thread, as in the worker (--no-prefetch: not).

- "decode": sampling alone (every frame grabbed, one every --sample-ms converted to RGB).
- "detection": a start-face-detection job's work (DEFAULT attributes).
- "search": a start-face-search job's work against a collection holding obama.jpg.

Each line gives frames analysed per wall second, video seconds per wall second (the target:
>= 2 at the default 500 ms sampling on two cores), and the same from this process's CPU
time (user+sys of all its threads), which a loaded machine disturbs less than wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DEFAULT_FACES = Path(os.environ.get("REKCLI_TEST_FACES", REPO.parent / "shared" / "faces"))


def make_clip(path: Path, segments, fps: int, size) -> None:
    import cv2
    import numpy as np

    width, height = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    for photo, seconds in segments:
        frame = np.zeros((height, width, 3), np.uint8)
        image = cv2.imread(str(photo))
        scale = min(width / image.shape[1], height / image.shape[0]) * 0.8
        image = cv2.resize(image, (int(image.shape[1] * scale), int(image.shape[0] * scale)))
        top, left = (height - image.shape[0]) // 2, (width - image.shape[1]) // 2
        frame[top:top + image.shape[0], left:left + image.shape[1]] = image
        for _ in range(int(seconds * fps)):
            writer.write(frame)
    writer.release()


def measure(name: str, work, video_seconds: float) -> dict:
    cpu0, wall0 = time.process_time(), time.perf_counter()
    frames = work()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return {"measurement": name, "frames_analysed": frames, "video_s": video_seconds,
            "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
            "frames_per_wall_s": round(frames / wall, 2),
            "video_s_per_wall_s": round(video_seconds / wall, 2),
            "video_s_per_cpu_s": round(video_seconds / cpu, 2),
            "load_average_1min": round(os.getloadavg()[0], 2), "cores": os.cpu_count()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--sample-ms", type=int, default=None)
    parser.add_argument("--faces", type=Path, default=DEFAULT_FACES)
    parser.add_argument("--no-prefetch", action="store_true",
                        help="decode in the analysing thread (to measure what prefetch saves)")
    args = parser.parse_args()
    if args.sample_ms:
        os.environ["REKCLI_VIDEO_SAMPLE_MS"] = str(args.sample_ms)

    from rekcli import engine
    from rekcli.engine.video import prefetched, sample_frames
    from rekcli.service import invoke
    from rekcli.service.context import ServiceContext
    from rekcli.service.video_analysis import (detect_in_frames, sample_interval_ms,
                                               search_in_frames)

    interval = sample_interval_ms()
    ahead = (lambda frames: frames) if args.no_prefetch else prefetched
    with tempfile.TemporaryDirectory(prefix="rekcli-bench-video-") as tmp:
        clip = Path(tmp) / "clip-1080p30.mp4"
        half = args.seconds / 2
        make_clip(clip, [(args.faces / "people/obama/obama.jpg", half),
                         (args.faces / "groups/obama_and_biden.jpg", half)], 30, (1920, 1080))
        ctx = ServiceContext(data_dir=Path(tmp) / "data", notify=lambda m: None)
        invoke("CreateCollection", {"CollectionId": "bench"}, ctx)
        invoke("IndexFaces", {"CollectionId": "bench", "Image": {
            "Bytes": (args.faces / "people/obama/obama.jpg").read_bytes()}}, ctx)
        # Models load once per worker process: load them before timing.
        first = next(iter(sample_frames(clip, interval)))[1]
        engine.analyze_faces(first)

        def decode():
            return sum(1 for _ in sample_frames(clip, interval))

        def detection():
            faces = detect_in_frames(ahead(sample_frames(clip, interval)), "DEFAULT")
            return len({f["Timestamp"] for f in faces})

        def search():
            persons = search_in_frames(ctx, ahead(sample_frames(clip, interval)), "bench", 80.0)
            return len({p["Timestamp"] for p in persons})

        for name, work in (("decode", decode), ("detection", detection), ("search", search)):
            line = measure(name, work, args.seconds)
            line.update(sample_ms=interval, prefetch=not args.no_prefetch)
            print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
