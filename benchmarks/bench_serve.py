"""`rekcli serve` figures (issue 11), printed as JSON lines.

  ready            seconds from `rekcli serve --port 0` to its ready line, and the RSS of the
                   server and its workers once ready
  cold-loop        one plain `rekcli compare-faces` process per call (models loaded each time)
  endpoint-loop    one `rekcli --endpoint-url URL compare-faces` process per call
  aws-loop         one `aws rekognition compare-faces --endpoint-url URL` process per call
                   (when the aws CLI of the test extra is installed)
  boto3            compare-faces calls/s from N boto3 clients in threads (default 4 clients,
                   server with 2 workers)
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


def loop(command: list[str], env: dict, calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    return (time.perf_counter() - started) / calls


def boto3_rate(url: str, clients: int, calls_each: int) -> float:
    import boto3
    from botocore.config import Config

    source, target = SOURCE.read_bytes(), TARGET.read_bytes()
    errors = []

    def run():
        client = boto3.client("rekognition", endpoint_url=url, region_name="us-east-1",
                              aws_access_key_id="bench", aws_secret_access_key="bench",
                              config=Config(retries={"mode": "standard"}))
        try:
            for _ in range(calls_each):
                client.compare_faces(SourceImage={"Bytes": source}, TargetImage={"Bytes": target})
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return clients * calls_each / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    options = parser.parse_args()
    pair = ["compare-faces", "--source-image-bytes", f"fileb://{SOURCE}",
            "--target-image-bytes", f"fileb://{TARGET}"]
    with tempfile.TemporaryDirectory() as data_dir:
        env = environment(data_dir)
        process, url, ready = start_server(env, options.workers)
        try:
            print(json.dumps({"scenario": "ready", "seconds": round(ready, 3),
                              "rss_mib": round(rss_mib(process.pid), 1),
                              "workers": options.workers}), flush=True)
            cold = loop(REKCLI + pair, env, options.calls)
            print(json.dumps({"scenario": "cold-loop", "s_per_call": round(cold, 3),
                              "calls": options.calls}), flush=True)
            warm = loop(REKCLI + ["--endpoint-url", url] + pair, env, options.calls)
            print(json.dumps({"scenario": "endpoint-loop", "s_per_call": round(warm, 3),
                              "calls": options.calls,
                              "times_faster_than_cold": round(cold / warm, 2)}), flush=True)
            if AWS.exists():
                aws = loop([str(AWS), "rekognition", *pair, "--endpoint-url", url], env,
                           options.calls)
                print(json.dumps({"scenario": "aws-loop", "s_per_call": round(aws, 3),
                                  "calls": options.calls}), flush=True)
            rate = boto3_rate(url, options.clients, options.calls)
            print(json.dumps({"scenario": "boto3", "clients": options.clients,
                              "workers": options.workers,
                              "compare_faces_per_s": round(rate, 2),
                              "rss_mib_after": round(rss_mib(process.pid), 1)}), flush=True)
        finally:
            process.terminate()
            process.wait(timeout=60)


if __name__ == "__main__":
    main()
