"""What the help pages and README say about S3Object.Version and binary values in
--cli-input-json/--cli-input-yaml is what rekcli does."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

from tests.cli_helpers import request_for, run_cli

REPO_ROOT = Path(__file__).resolve().parent.parent
PNG = base64.b64decode(  # a 1x1 PNG: bytes to carry, never decoded by these tests
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")


def help_text(capsys, command: str) -> str:
    code, out, _ = run_cli(capsys, command, "help")
    assert code == 0
    return re.sub(r"\s+", " ", out)


def test_s3_object_version_is_documented_as_refused_and_is_refused(capsys, tmp_path,
                                                                  monkeypatch, faces_dir):
    assert ("a request naming a Version fails with InvalidS3ObjectException"
            in help_text(capsys, "detect-faces"))
    assert "accepted and ignored" not in help_text(capsys, "detect-faces")
    bucket = tmp_path / "s3" / "bucket"
    bucket.mkdir(parents=True)
    photo = sorted((faces_dir / "people" / "alex_lacamoire").glob("*.jpg"))[0]
    (bucket / "photo.jpg").symlink_to(photo)
    monkeypatch.setenv("REKCLI_S3_ROOT", str(tmp_path / "s3"))
    code, _, err = run_cli(capsys, "detect-faces", "--image",
                           "S3Object={Bucket=bucket,Name=photo.jpg,Version=v1}")
    assert code == 254
    assert "(InvalidS3ObjectException)" in err and "object versions" in err
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert "a `Version` is then an `InvalidS3ObjectException`" in readme


@pytest.mark.parametrize("option", ["--cli-input-json", "--cli-input-yaml"])
def test_cli_input_reads_fileb_paths_as_documented(capsys, tmp_path, option):
    assert '"fileb://path" to read the file' in help_text(capsys, "detect-faces")
    image = tmp_path / "tiny.png"
    image.write_bytes(PNG)
    document = {"Image": {"Bytes": f"fileb://{image}"}}
    text = json.dumps(document)  # JSON is YAML too
    assert request_for("detect-faces", option, text) == {"Image": {"Bytes": PNG}}
    requests = tmp_path / "request.json"
    requests.write_text(text)
    assert request_for("detect-faces", option, f"file://{requests}") == {"Image": {"Bytes": PNG}}


def test_cli_input_takes_base64_for_blobs_as_documented(capsys):
    text = help_text(capsys, "compare-faces")
    assert "Bytes is base64 text, as with aws" in text
    document = json.dumps({"SourceImage": {"Bytes": base64.b64encode(PNG).decode()},
                           "TargetImage": {"Bytes": "cmF3"}})
    request = request_for("compare-faces", "--cli-input-json", document)
    assert request["SourceImage"]["Bytes"] == PNG
    assert request["TargetImage"]["Bytes"] == b"raw"
    raw = request_for("compare-faces", "--cli-input-json", document,
                      binary_format="raw-in-base64-out")
    assert raw["TargetImage"]["Bytes"] == b"cmF3"


def test_cli_input_fileb_that_cannot_be_read_names_the_option(capsys, tmp_path):
    document = json.dumps({"Image": {"Bytes": f"fileb://{tmp_path}/missing.jpg"}})
    code, _, err = run_cli(capsys, "detect-faces", "--cli-input-json", document)
    assert code == 252
    assert (f"Error parsing parameter '--cli-input-json': Unable to load paramfile "
            f"fileb://{tmp_path}/missing.jpg: [Errno 2] No such file or directory") in err


def test_the_readme_batch_shape_works_in_cli_input_json(capsys):
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert '"fileb://path", which --cli-input-json/--cli-input-yaml read too' in readme
