"""What the folder jobs take as input: the reference photo of compare-folder, lists of
paths on stdin, and the commands `rekcli batch` knows (issue 18)."""

from __future__ import annotations

import json

import pytest

from cli_helpers import run_subprocess

pytestmark = pytest.mark.e2e


@pytest.fixture
def env(tmp_path):
    return {"REKCLI_DATA_DIR": str(tmp_path / "rekcli-data")}


@pytest.mark.parametrize("source, code", [
    ("noface/dog.jpg", "InvalidParameterException"),
    ("edge/not_an_image.jpg", "InvalidImageFormatException"),
])
def test_compare_folder_with_an_unusable_source_fails_at_once_naming_it(faces_dir, env, source,
                                                                        code):
    result = run_subprocess("compare-folder", "--source-image-bytes",
                            f"fileb://{faces_dir / source}", "--images",
                            str(faces_dir / "people"), "--recursive", env=env)
    assert result.returncode == 254
    assert result.stdout == b""   # no target was compared: no line per image
    message = result.stderr.decode()
    assert f"({code})" in message
    assert f"Source image fileb://{faces_dir / source}: " in message


def test_compare_folder_with_a_usable_source_still_compares(faces_dir, env):
    result = run_subprocess("compare-folder", "--source-image-bytes",
                            f"fileb://{faces_dir / 'people/obama/obama.jpg'}", "--images",
                            str(faces_dir / "people/obama/obama2.jpg"),
                            "--query", "Response.FaceMatches[0].Similarity", env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) > 80
