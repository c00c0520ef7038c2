"""Shared by the start-up benchmark and its import test: run rekcli, see what it imported."""

from __future__ import annotations

import os
import subprocess
import sys
import time

HEAVY_MODULES = ("numpy", "cv2", "dlib")

LIGHT_COMMANDS = {
    "--version": ["--version"],
    "--help": ["--help"],
    "--generate-cli-skeleton": ["index-faces", "--generate-cli-skeleton"],
    "list-collections": ["list-collections"],
    "describe-collection": ["describe-collection", "--collection-id", "bench"],
}


def run_with_importtime(args: list[str], env: dict) -> tuple[float, list[str], int]:
    """(wall seconds, top-level modules imported, exit code) of one cold `python -m rekcli`."""
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "rekcli", *args],
                            capture_output=True, env=env)
    elapsed = time.perf_counter() - started
    modules = []
    for line in result.stderr.decode(errors="replace").splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            if name and name != "imported package":
                modules.append(name)
    return elapsed, modules, result.returncode


def wall_time(args: list[str], env: dict) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "rekcli", *args], capture_output=True, env=env)
    return time.perf_counter() - started


def prepare_data_dir(data_dir: str) -> dict:
    env = dict(os.environ, REKCLI_DATA_DIR=data_dir)
    subprocess.run([sys.executable, "-m", "rekcli", "create-collection", "--collection-id", "bench"],
                   capture_output=True, env=env)
    return env
