"""ExternalImageIds of index-folder, and how file names are printed (issue 18 items 5, 6)."""

from __future__ import annotations

import json
import os

import pytest

from cli_helpers import run_subprocess
from rekcli.batch.jobs import external_image_ids, find_images


def touch(root, *names):
    for name in names:
        path = os.path.join(os.fsencode(root), os.fsencode(name))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        open(path, "wb").close()


def named(sources, recursive=False, indexed_under=None):
    found = find_images([str(source) for source in sources], recursive)
    return dict(zip((os.path.basename(os.path.dirname(item.path)) + "/" + item.path.name
                     for item in found), external_image_ids(found, indexed_under)))


def test_a_glob_and_a_recursive_folder_name_the_same_photos_alike(tmp_path, monkeypatch):
    touch(tmp_path, "g/2023/me.jpg", "g/2024/me.jpg", "g/top.jpg")
    monkeypatch.chdir(tmp_path)
    expected = {"2023/me.jpg": "2023:me.jpg", "2024/me.jpg": "2024:me.jpg", "g/top.jpg": "top.jpg"}
    assert named(["g"], recursive=True) == expected
    assert named(["g/**/*.jpg"]) == expected
    assert named([tmp_path / "g/**/*.jpg"]) == expected
    assert named(["g/*/*.jpg"]) == {k: v for k, v in expected.items() if k != "g/top.jpg"}


def test_names_that_were_unique_keep_their_spelling(tmp_path, monkeypatch):
    touch(tmp_path, "a/x.jpg", "a/café.jpg", "b/y.jpg")
    monkeypatch.chdir(tmp_path)
    assert named(["a", "b"]) == {"a/x.jpg": "x.jpg", "a/café.jpg": "caf_.jpg", "b/y.jpg": "y.jpg"}
    assert named(["a/*.jpg", "b/y.jpg"]) == named(["a", "b"])


def test_the_same_name_in_two_folders_takes_the_folder_that_tells_them_apart(tmp_path,
                                                                             monkeypatch):
    touch(tmp_path, "a/x.jpg", "b/x.jpg", "b/z.jpg")
    monkeypatch.chdir(tmp_path)
    expected = {"a/x.jpg": "a:x.jpg", "b/x.jpg": "b:x.jpg", "b/z.jpg": "z.jpg"}
    assert named(["a", "b"]) == expected
    assert named(["a/x.jpg", str(tmp_path / "b")]) == expected
    assert named(["*/x.jpg"]) == {"a/x.jpg": "a:x.jpg", "b/x.jpg": "b:x.jpg"}


def test_names_the_sanitising_made_alike_get_a_hash_of_the_exact_name(tmp_path):
    touch(tmp_path, "café.jpg", "cafë.jpg", b"caf\xe9.jpg")
    names = list(named([tmp_path]).values())
    assert len(set(names)) == 3
    assert all(name.startswith("caf_-") and name.endswith(".jpg") and len(name) == 17
               for name in names)
    assert list(named([tmp_path]).values()) == names   # the same on every run
    touch(tmp_path, "caf_.jpg")   # a file already named so keeps the name
    assert named([tmp_path])[f"{tmp_path.name}/caf_.jpg"] == "caf_.jpg"


def test_the_file_the_collection_holds_under_a_name_keeps_it(tmp_path):
    touch(tmp_path, "café.jpg", "cafë.jpg")
    asked = []

    def indexed_under(name, paths):
        asked.append(name)
        return [path.name for path in paths].index("cafë.jpg")

    names = named([tmp_path], indexed_under=indexed_under)
    assert asked == ["caf_.jpg"]
    assert names[f"{tmp_path.name}/cafë.jpg"] == "caf_.jpg"
    assert names[f"{tmp_path.name}/café.jpg"].startswith("caf_-")


def test_long_names_stay_unique_and_within_the_limit(tmp_path):
    long = "x" * 200
    touch(tmp_path, f"a/{long}é.jpg", f"a/{long}ë.jpg")
    names = list(named([tmp_path / "a"]).values())
    assert len(set(names)) == 2 and all(len(name) <= 255 for name in names)


# ---- for real -------------------------------------------------------------------------------


@pytest.fixture
def env(tmp_path):
    return {"REKCLI_DATA_DIR": str(tmp_path / "rekcli-data")}


def index(env, *args):
    result = run_subprocess("index-folder", "--collection-id", "c", *args, "--workers", "1",
                            "--query", "[ExternalImageId, keys(@)[-1]]", env=env)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.mark.e2e
def test_a_rerun_named_another_way_indexes_nothing_again(tmp_path, faces_dir, env, monkeypatch):
    for year, photo in (("2023", "obama.jpg"), ("2024", "obama2.jpg")):
        (tmp_path / "g" / year).mkdir(parents=True)
        (tmp_path / "g" / year / "me.jpg").symlink_to(faces_dir / "people/obama" / photo)
    monkeypatch.chdir(tmp_path)
    assert run_subprocess("create-collection", "--collection-id", "c", env=env).returncode == 0
    assert index(env, "--images", "g/**/*.jpg") == [["2023:me.jpg", "Response"],
                                                    ["2024:me.jpg", "Response"]]
    assert index(env, "--images", "g", "--recursive") == [["2023:me.jpg", "Skipped"],
                                                          ["2024:me.jpg", "Skipped"]]


@pytest.mark.e2e
def test_a_photo_indexed_before_a_namesake_came_keeps_its_name(tmp_path, faces_dir, env):
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "cafë.jpg").symlink_to(faces_dir / "people/obama/obama.jpg")
    assert run_subprocess("create-collection", "--collection-id", "c", env=env).returncode == 0
    assert index(env, "--images", str(folder)) == [["caf_.jpg", "Response"]]
    (folder / "café.jpg").symlink_to(faces_dir / "people/biden/biden.jpg")
    second = index(env, "--images", str(folder))
    assert second[1] == ["caf_.jpg", "Skipped"]    # cafë.jpg, sorted after café.jpg
    assert second[0][0].startswith("caf_-") and second[0][1] == "Response"


@pytest.fixture
def odd_name(tmp_path, faces_dir):
    """A folder holding one photo whose file name is not UTF-8: caf<0xe9>.jpg."""
    folder = tmp_path / "odd"
    folder.mkdir()
    os.symlink(faces_dir / "people/obama/obama.jpg", os.fsencode(folder) + b"/caf\xe9.jpg")
    return os.fsencode(folder) + b"/caf\xe9.jpg"


@pytest.mark.e2e
@pytest.mark.parametrize("output", ["text", "table"])
def test_text_and_table_output_print_a_name_that_is_not_utf8_as_its_bytes(odd_name, env, output):
    """A `while read` loop on the text output gets a path it can open."""
    result = run_subprocess("compare-folder", "--source-image-bytes", b"fileb://" + odd_name,
                            "--images", os.path.dirname(odd_name), "--output", output,
                            "--query", "[Image, Response.FaceMatches[0].Similarity]", env=env)
    assert result.returncode == 0, result.stderr
    if output == "text":
        name, similarity = result.stdout.rstrip(b"\n").split(b"\t")
        assert name == odd_name and os.path.exists(name) and float(similarity) > 99
    else:
        assert odd_name in result.stdout


@pytest.mark.e2e
@pytest.mark.parametrize("output", ["json", "yaml"])
def test_json_and_yaml_escape_a_name_that_is_not_utf8_losslessly(odd_name, env, output):
    import yaml

    result = run_subprocess("compare-folder", "--source-image-bytes", b"fileb://" + odd_name,
                            "--images", os.path.dirname(odd_name), "--output", output,
                            "--query", "Image", env=env)
    assert result.returncode == 0, result.stderr
    text = result.stdout.decode("utf-8")   # valid UTF-8 whatever the file names
    assert "caf\\udce9.jpg" in text.lower()
    name = json.loads(text) if output == "json" else yaml.safe_load(text)
    assert os.fsencode(name) == odd_name
