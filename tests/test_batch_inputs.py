"""What the folder jobs take as input: the reference photo of compare-folder, lists of
paths on stdin, and the commands `rekcli batch` knows (issue 18)."""

from __future__ import annotations

import json
import os

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


def test_batch_names_an_unknown_command(capsys):
    from cli_helpers import run_cli

    code, out, err = run_cli(capsys, "batch", "detect-face", "--input-file", "-")
    assert code == 252 and out == ""
    assert "argument operation: Found invalid choice 'detect-face'" in err
    assert "* detect-faces" in err   # the near miss
    assert "Valid choices are: associate-faces, " in err


def test_a_path_list_is_lines_or_nul_separated_and_kept_as_bytes():
    from rekcli.batch.jobs import read_path_list

    assert read_path_list(b"a.jpg\r\n\nsub/b c.jpg\n") == ["a.jpg", "sub/b c.jpg"]
    assert read_path_list(b"new\nline.jpg\0x.jpg\0") == ["new\nline.jpg", "x.jpg"]
    assert [os.fsencode(p) for p in read_path_list(b"caf\xe9.jpg\n")] == [b"caf\xe9.jpg"]


def test_listed_paths_are_taken_as_written_never_as_patterns(tmp_path, monkeypatch):
    from rekcli.batch.jobs import find_images, read_path_list

    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.jpg").write_bytes(b"")
    (tmp_path / "b.jpg").write_bytes(b"")
    found = find_images(read_path_list(b"*.jpg\n~/a.jpg\nb.jpg\n"), recursive=False)
    assert [(str(item.path), bool(item.problem)) for item in found] == [
        ("*.jpg", True), ("b.jpg", False), ("~/a.jpg", True)]
    assert [item.path.name for item in find_images(["*.jpg"], recursive=False)] == [
        "a.jpg", "b.jpg"]   # the same word as an argument is a pattern


def test_images_from_stdin_and_hide_skipped(tmp_path, faces_dir, env):
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("obama.jpg", "obama2.jpg"):
        (folder / name).symlink_to(faces_dir / "people/obama" / name)
    os.symlink(faces_dir / "people/biden/biden.jpg", os.fsencode(folder) + b"/caf\xe9.jpg")
    listing = b"".join(os.fsencode(path) + b"\n" for path in sorted(folder.iterdir()))
    assert run_subprocess("create-collection", "--collection-id", "c", env=env).returncode == 0
    first = run_subprocess("index-folder", "--collection-id", "c", "--images", "-",
                           "--query", "ExternalImageId", "--output", "text",
                           input=listing, env=env)
    assert first.returncode == 0, first.stderr
    # text lines start with the image, then the query's fields
    assert [line.split(b"\t")[-1] for line in first.stdout.splitlines()] == \
        [b"caf_.jpg", b"obama.jpg", b"obama2.jpg"]
    (folder / "biden2.jpg").symlink_to(faces_dir / "people/biden/biden2.jpg")
    listing += os.fsencode(folder / "biden2.jpg") + b"\n"
    again = run_subprocess("index-folder", "--collection-id", "c", "--images", "-",
                           "--hide-skipped", "--query", "[ExternalImageId, keys(@)[-1]]",
                           input=listing, env=env)
    assert again.returncode == 0, again.stderr
    assert [json.loads(line) for line in again.stdout.splitlines()] == [["biden2.jpg", "Response"]]


def test_a_listed_file_is_named_by_its_path_as_written(tmp_path, monkeypatch):
    from rekcli.batch.jobs import external_image_ids, find_images, read_path_list

    for name in ("g/2023/only.jpg", "g/top.jpg"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    monkeypatch.chdir(tmp_path / "g")
    listed = find_images(read_path_list(b"./2023/only.jpg\ntop.jpg\n"), recursive=False)
    assert external_image_ids(listed) == external_image_ids(find_images(["."], recursive=True))
    assert external_image_ids(listed) == ["2023:only.jpg", "top.jpg"]
    elsewhere = find_images(read_path_list(os.fsencode(tmp_path / "g/2023/only.jpg") +
                                           b"\n../g/top.jpg\n"), recursive=False)
    assert external_image_ids(elsewhere) == ["top.jpg", "only.jpg"]
