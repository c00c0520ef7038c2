"""Shared fixtures: where the real photos are, and an isolated data directory per test."""

from __future__ import annotations

import os
import tempfile
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
def isolated_environment(tmp_path, monkeypatch):
    """Every test gets its own data dir and no AWS settings leaking in from the machine."""
    monkeypatch.setenv("REKCLI_DATA_DIR", str(tmp_path / "rekcli-data"))
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_DEFAULT_OUTPUT", "AWS_PROFILE",
                 "AWS_CONFIG_FILE", "AWS_PAGER", "AWS_CLI_ERROR_FORMAT", "REKCLI_S3_ROOT",
                 "REKCLI_DETECTOR", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                 "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3",
                 "AWS_ENDPOINT_URL_REKOGNITION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    # An S3Object read without REKCLI_S3_ROOT goes to S3: never with the machine's own
    # credentials, never to the EC2 metadata address.
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    yield
