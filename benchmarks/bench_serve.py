"""`rekcli serve` figures (issue 11), printed as JSON lines.

  ready            seconds from `rekcli serve --port 0` to its ready line, and the RSS of the
                   server and its workers once ready
  cold-loop        one plain `rekcli compare-faces` process per call (models loaded each time)
  endpoint-loop    one `rekcli --endpoint-url URL compare-faces` process per call, on the same
                   pair every call (the workers remember the faces' boxes of both photos) and
                   on a new target each call (a camera frame: only the source is remembered)
  aws-loop         one `aws rekognition compare-faces --endpoint-url URL` process per call
                   (when the aws CLI of the test extra is installed)
  boto3            compare-faces calls/s from N boto3 clients in threads (default 4 clients,
                   server with 2 workers), same pair and new target each call
All on obama.jpg vs two_people.jpg, as issue 11 states its targets: endpoint-loop <= 0.25
s/call and >= 3.5x faster than cold-loop, ready <= 2 s, boto3 >= 8 compare-faces/s.
Run: .venv/bin/python benchmarks/bench_serve.py [--calls 50] [--clients 4] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FACES = Path(os.environ.get("REKCLI_TEST_FACES", REPO.parent / "shared" / "faces"))
REKCLI = [sys.executable, "-m", "rekcli"]
SOURCE = FACES / "people" / "obama" / "obama.jpg"
TARGET = FACES / "groups" / "two_people.jpg"
AWS = Path(sys.executable).with_name("aws")


def environment(data_dir: str) -> dict:
    env = dict(os.environ)
    env.update(REKCLI_DATA_DIR=data_dir, AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
               AWS_EC2_METADATA_DISABLED="true", AWS_RETRY_MODE="standard",
               AWS_DEFAULT_REGION="us-east-1")
    return env


def rss_mib(pid: int) -> float:
    """Resident memory of `pid` and every process below it."""
    total, pids = 0, [pid]
    while pids:
        current = pids.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        total += int(next(line.split()[1] for line in status.splitlines()
                          if line.startswith("VmRSS:")))
        pids.extend(int(child) for child in children)
    return total / 1024


def start_server(env: dict, workers: int):
    started = time.perf_counter()
    process = subprocess.Popen(REKCLI + ["serve", "--port", "0", "--workers", str(workers)],
                               stdout=subprocess.PIPE, text=True, env=env)
    url = process.stdout.readline().split()[-1]
    return process, url, time.perf_counter() - started


def new_frames(folder: Path, count: int) -> list[Path]:
    """`count` copies of the target that differ in one pixel each, as successive camera
    frames differ: no worker has seen them, so each call scans its target afresh."""
    import cv2

    pixels = cv2.imread(str(TARGET))
    frames = []
    for index in range(count):
        frame = pixels.copy()
        frame[index // frame.shape[1] % frame.shape[0], index % frame.shape[1], 0] ^= 0x80
        path = folder / f"frame-{index}.png"  # lossless, so the changed pixel survives
        cv2.imwrite(str(path), frame)
        frames.append(path)
    return frames


def compare_command(target: Path) -> list[str]:
    return ["compare-faces", "--source-image-bytes", f"fileb://{SOURCE}",
            "--target-image-bytes", f"fileb://{target}"]


def loop(prefix: list[str], suffix: list[str], env: dict, targets: list[Path]) -> float:
    started = time.perf_counter()
    for target in targets:
        subprocess.run(prefix + compare_command(target) + suffix, env=env, check=True,
                       stdout=subprocess.DEVNULL)
    return (time.perf_counter() - started) / len(targets)


def boto3_rate(url: str, clients: int, targets: list[Path]) -> float:
    import boto3
    from botocore.config import Config

    source = SOURCE.read_bytes()
    errors = []

    def run(my_targets: list[bytes]):
        client = boto3.client("rekognition", endpoint_url=url, region_name="us-east-1",
                              aws_access_key_id="bench", aws_secret_access_key="bench",
                              config=Config(retries={"mode": "standard"}))
        try:
            for target in my_targets:
                client.compare_faces(SourceImage={"Bytes": source}, TargetImage={"Bytes": target})
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    shares = [[path.read_bytes() for path in targets[index::clients]] for index in range(clients)]
    threads = [threading.Thread(target=run, args=(share,)) for share in shares]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return len(targets) / (time.perf_counter() - started)


def report(scenario: str, **figures) -> None:
    print(json.dumps({"scenario": scenario, **figures}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir, tempfile.TemporaryDirectory() as frames_dir:
        env = environment(data_dir)
        same_pair = [TARGET] * options.calls
        frames = new_frames(Path(frames_dir), options.calls)
        process, url, ready = start_server(env, options.workers)
        try:
            report("ready", seconds=round(ready, 3), rss_mib=round(rss_mib(process.pid), 1),
                   workers=options.workers)
            cold = loop(REKCLI, [], env, same_pair)
            report("cold-loop", s_per_call=round(cold, 3), calls=options.calls)
            for targets, kind in ((same_pair, "same pair"), (frames, "new target each call")):
                warm = loop(REKCLI + ["--endpoint-url", url], [], env, targets)
                report("endpoint-loop", targets=kind, s_per_call=round(warm, 3),
                       calls=options.calls, times_faster_than_cold=round(cold / warm, 2))
            if AWS.exists():
                aws = loop([str(AWS), "rekognition"], ["--endpoint-url", url], env, same_pair)
                report("aws-loop", targets="same pair", s_per_call=round(aws, 3),
                       calls=options.calls)
            for targets, kind in ((same_pair, "same pair"), (frames, "new target each call")):
                rate = boto3_rate(url, options.clients, targets)
                report("boto3", targets=kind, clients=options.clients, workers=options.workers,
                       compare_faces_per_s=round(rate, 2),
                       rss_mib_after=round(rss_mib(process.pid), 1))
        finally:
            process.terminate()
            process.wait(timeout=60)


if __name__ == "__main__":
    main()
