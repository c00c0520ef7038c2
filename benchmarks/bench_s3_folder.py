"""index-folder over an S3 prefix against the same photos in a local folder (issue 20).

The S3 API is moto's standalone server on a free local port (the test extra), reached by
real botocore over HTTP, as MinIO on the same machine would be. Both runs index the same
images (the decodable JPEG/PNG photos of ../shared/faces, cycled to --images distinct keys,
uploaded once; the local folder links them) into fresh collections with the same workers,
and print images/s; the ratio is the target (>= 0.9).
Run: .venv/bin/python benchmarks/bench_s3_folder.py [--images 200] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FACES = Path(os.environ.get("REKCLI_TEST_FACES", REPO.parent / "shared" / "faces"))
REKCLI = [sys.executable, "-m", "rekcli"]
MOTO_SERVER = Path(sys.executable).with_name("moto_server")


def photos() -> list[Path]:
    found = []
    for folder in ("people", "groups", "detection", "noface"):
        found += [p for p in sorted((FACES / folder).rglob("*"))
                  if p.suffix.lower() in (".jpg", ".jpeg", ".png")]
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_moto() -> tuple[subprocess.Popen, str]:
    port = free_port()
    server = subprocess.Popen([str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}"


def index(env: dict, collection: str, images: str, workers: int) -> tuple[int, float]:
    subprocess.run(REKCLI + ["create-collection", "--collection-id", collection], env=env,
                   check=True, stdout=subprocess.DEVNULL)
    started = time.perf_counter()
    result = subprocess.run(REKCLI + ["index-folder", "--collection-id", collection, "--images",
                                      images, "--recursive", "--workers", str(workers),
                                      "--no-progress"],
                            env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    lines = result.stdout.splitlines()
    errors = [line for line in lines if '"Error"' in line]
    if errors:
        raise SystemExit(f"{len(errors)} images failed, e.g. {errors[0]}")
    return len(lines), seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--images", type=int, default=200)
    options = parser.parse_args()
    server, url = start_moto()
    try:
        with tempfile.TemporaryDirectory() as temp:
            env = dict(os.environ, REKCLI_DATA_DIR=str(Path(temp) / "data"),
                       AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
                       AWS_DEFAULT_REGION="us-east-1", AWS_ENDPOINT_URL_S3=url,
                       AWS_EC2_METADATA_DISABLED="true")
            env.pop("REKCLI_S3_ROOT", None)
            import boto3

            client = boto3.client("s3", endpoint_url=url, region_name="us-east-1",
                                  aws_access_key_id="bench", aws_secret_access_key="bench")
            client.create_bucket(Bucket="bench")
            local = Path(temp) / "local"
            sources = photos()
            for number in range(options.images):  # cycling through the photos, distinct keys
                photo = sources[number % len(sources)]
                key = f"{number // len(sources)}/{photo.relative_to(FACES).as_posix()}"
                client.put_object(Bucket="bench", Key=key, Body=photo.read_bytes())
                (local / key).parent.mkdir(parents=True, exist_ok=True)
                (local / key).symlink_to(photo)  # linked, never copied
            local_count, local_seconds = index(env, "local", str(local), options.workers)
            s3_count, s3_seconds = index(env, "s3", "s3://bench/", options.workers)
            for name, count, seconds in (("local-folder", local_count, local_seconds),
                                         ("s3-prefix", s3_count, s3_seconds)):
                print(json.dumps({"scenario": name, "images": count,
                                  "seconds": round(seconds, 2),
                                  "images_per_s": round(count / seconds, 2)}), flush=True)
            print(json.dumps({"scenario": "ratio", "s3_vs_local": round(
                (s3_count / s3_seconds) / (local_count / local_seconds), 3),
                "target": 0.9}), flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
