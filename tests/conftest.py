"""Shared fixtures: where the real photos are, and an isolated data directory per test."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent

# The engine caches its deserialised HOG detector; keep the test run's copy out of ~/.cache.
os.environ.setdefault("REKCLI_CACHE_DIR", tempfile.mkdtemp(prefix="rekcli-test-cache-"))


def _faces_dir() -> Path:
    explicit = os.environ.get("REKCLI_TEST_FACES")
    if explicit:
        return Path(explicit)
    return REPO_ROOT.parent / "shared" / "faces"


FACES_DIR = _faces_dir()


@pytest.fixture(scope="session")
def faces_dir() -> Path:
    """The shared test photos (`../shared/faces` or `$REKCLI_TEST_FACES`).

    A checkout without them skips the end-to-end tests; CI (where $CI is set) fails instead,
    so a missing folder can never pass as a green run."""
    if not (FACES_DIR / "people").is_dir():
        message = f"test photos not found at {FACES_DIR} (set REKCLI_TEST_FACES)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return FACES_DIR


@pytest.fixture(autouse=True)
def fresh_terminal():
    """Each test finds the terminal anew (cli/terminal.py keeps it for a run)."""
    from rekcli.cli import terminal

    terminal.use(None)
    yield
    terminal.use(None)


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path, monkeypatch):
    """Every test gets its own data dir and no AWS settings leaking in from the machine."""
    monkeypatch.setenv("REKCLI_DATA_DIR", str(tmp_path / "rekcli-data"))
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_DEFAULT_OUTPUT", "AWS_PROFILE",
                 "AWS_CONFIG_FILE", "AWS_PAGER", "AWS_CLI_ERROR_FORMAT", "REKCLI_S3_ROOT",
                 "REKCLI_DETECTOR", "REKCLI_FACE_MODEL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                 "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3",
                 "AWS_ENDPOINT_URL_REKOGNITION", "DASK_SCHEDULER_ADDRESS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    # An S3Object read without REKCLI_S3_ROOT goes to S3: never with the machine's own
    # credentials, never to the EC2 metadata address.
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    yield


MOTO_SERVER = Path(sys.executable).with_name("moto_server")


@pytest.fixture(scope="session")
def s3_api_url():
    """moto's standalone S3 server (the test extra) on a free local port: real HTTP, reached
    by real botocore, as AWS or MinIO would be. Absent, the S3 tests skip on a developer's
    machine and fail on CI."""
    if not MOTO_SERVER.exists():
        if os.environ.get("CI"):
            pytest.fail(f"moto's server (test extra) is not installed at {MOTO_SERVER}")
        pytest.skip("moto's server (test extra) is not installed")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)
