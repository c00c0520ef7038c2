"""recognize-celebrities and get-celebrity-info over the user's own gallery, and the gallery
commands (add-celebrity, list-celebrities, delete-celebrity): real engine, real photos, real
files. rekcli knows no celebrities: with an empty gallery every face is unrecognized.
"""

from __future__ import annotations

import json
import os
import shutil
import stat

import pytest

from cli_helpers import import_test_extra, run_cli

pytestmark = pytest.mark.e2e

CELEBRITY_MEMBERS = ["Urls", "Name", "Id", "Face", "MatchConfidence", "KnownGender"]
COMPARED_FACE_MEMBERS = ["BoundingBox", "Confidence", "Landmarks", "Pose", "Quality", "Smile"]


def add(capsys, faces_dir, name, *photos_and_options):
    args = []
    for item in photos_and_options:
        args.append(str(faces_dir / item) if item.startswith("people/") else item)
    code, out, err = run_cli(capsys, "add-celebrity", "--name", name, "--images", *args)
    assert code == 0, err
    return json.loads(out)


def recognize(capsys, photo, *extra):
    return run_cli(capsys, "recognize-celebrities", "--image-bytes", f"fileb://{photo}", *extra)


def gallery_dir() -> str:
    return os.path.join(os.environ["REKCLI_DATA_DIR"], "us-east-1", "celebrities")


@pytest.fixture
def obama_and_biden(capsys, faces_dir):
    """A gallery of two: obama (two photos, with a URL and a known gender) and biden."""
    obama = add(capsys, faces_dir, "Barack Obama", "people/obama/obama.jpg",
                "people/obama/obama2.jpg", "--urls", "https://en.wikipedia.org/wiki/Barack_Obama",
                "--known-gender", "Male")
    biden = add(capsys, faces_dir, "Joe Biden", "people/biden/biden.jpg")
    return obama, biden


def test_an_empty_gallery_recognizes_nobody_and_writes_nothing(capsys, faces_dir):
    code, out, err = recognize(capsys, faces_dir / "groups/two_people.jpg")
    assert code == 0, err
    response = json.loads(out)
    assert list(response) == ["CelebrityFaces", "UnrecognizedFaces"]
    assert response["CelebrityFaces"] == []
    assert len(response["UnrecognizedFaces"]) == 2
    for face in response["UnrecognizedFaces"]:
        assert list(face) == COMPARED_FACE_MEMBERS
    assert not os.path.exists(gallery_dir())  # a read creates no store
    code, out, _ = run_cli(capsys, "list-celebrities")
    assert (code, json.loads(out)) == (0, {"Celebrities": []})


def test_add_celebrity_prints_the_new_person_with_an_aws_like_id(obama_and_biden):
    obama, biden = obama_and_biden
    assert list(obama) == ["Id", "Name", "Urls", "KnownGender", "FaceCount"]
    assert obama["Name"] == "Barack Obama" and obama["FaceCount"] == 2
    assert obama["Urls"] == ["https://en.wikipedia.org/wiki/Barack_Obama"]
    assert obama["KnownGender"] == {"Type": "Male"}
    assert "KnownGender" not in biden and biden["Urls"] == [] and biden["FaceCount"] == 1
    for person in (obama, biden):
        assert len(person["Id"]) == 8 and person["Id"].isalnum() and person["Id"].isascii()
    assert obama["Id"] != biden["Id"]


def test_gallery_members_are_recognized_in_a_group_photo_and_strangers_are_not(
        capsys, faces_dir, obama_and_biden):
    obama, biden = obama_and_biden
    code, out, err = recognize(capsys, faces_dir / "groups/obama_and_biden.jpg")
    assert code == 0, err
    response = json.loads(out)
    by_id = {c["Id"]: c for c in response["CelebrityFaces"]}
    assert set(by_id) == {obama["Id"], biden["Id"]}
    assert by_id[obama["Id"]]["Name"] == "Barack Obama"
    assert by_id[biden["Id"]]["Name"] == "Joe Biden"
    celebrity = by_id[obama["Id"]]
    assert list(celebrity) == CELEBRITY_MEMBERS
    assert celebrity["Urls"] == obama["Urls"] and celebrity["KnownGender"] == {"Type": "Male"}
    assert list(by_id[biden["Id"]]) == [m for m in CELEBRITY_MEMBERS if m != "KnownGender"]
    for found in by_id.values():
        assert 80 <= found["MatchConfidence"] <= 100
        assert list(found["Face"]) == COMPARED_FACE_MEMBERS
    # The third person of the photo is nobody the gallery knows.
    assert len(response["UnrecognizedFaces"]) == 1

    code, out, _ = recognize(capsys, faces_dir / "groups/two_people.jpg")  # the two of them
    response = json.loads(out)
    assert sorted(c["Name"] for c in response["CelebrityFaces"]) == ["Barack Obama", "Joe Biden"]
    assert response["UnrecognizedFaces"] == []


def test_strangers_only_are_all_unrecognized(capsys, faces_dir, obama_and_biden):
    code, out, _ = recognize(capsys, faces_dir / "groups/kit_with_rose.jpg")
    response = json.loads(out)
    assert code == 0 and response["CelebrityFaces"] == []
    assert len(response["UnrecognizedFaces"]) >= 2


def test_get_celebrity_info_for_a_known_and_an_unknown_id(capsys, obama_and_biden):
    obama, biden = obama_and_biden
    code, out, err = run_cli(capsys, "get-celebrity-info", "--id", obama["Id"])
    assert code == 0, err
    assert json.loads(out) == {"Urls": ["https://en.wikipedia.org/wiki/Barack_Obama"],
                               "Name": "Barack Obama", "KnownGender": {"Type": "Male"}}
    code, out, _ = run_cli(capsys, "get-celebrity-info", "--id", biden["Id"])
    assert json.loads(out) == {"Urls": [], "Name": "Joe Biden"}
    code, out, err = run_cli(capsys, "get-celebrity-info", "--id", "1SK7cR8M")
    assert (code, out) == (254, "")
    assert ("An error occurred (ResourceNotFoundException) when calling the GetCelebrityInfo "
            "operation: The celebrity id: 1SK7cR8M does not exist") in err


def test_get_celebrity_info_without_a_gallery_and_with_a_malformed_id(capsys):
    code, _, err = run_cli(capsys, "get-celebrity-info", "--id", "abc")
    assert code == 254 and "ResourceNotFoundException" in err
    code, _, err = run_cli(capsys, "get-celebrity-info", "--id", "not-an-id")
    assert code == 254 and "InvalidParameterException" in err
    code, _, err = run_cli(capsys, "get-celebrity-info")
    assert code == 252 and "--id" in err


def test_list_celebrities_sorted_by_name_with_face_counts(capsys, obama_and_biden):
    obama, biden = obama_and_biden
    code, out, _ = run_cli(capsys, "list-celebrities", "--query", "Celebrities[].[Name, FaceCount]",
                           "--output", "text")
    assert (code, out) == (0, "Barack Obama\t2\nJoe Biden\t1\n")


def test_delete_celebrity_removes_the_person_and_their_descriptors(capsys, faces_dir,
                                                                   obama_and_biden):
    from rekcli.service.context import ServiceContext
    from rekcli.store.gallery import Gallery

    obama, biden = obama_and_biden
    with Gallery(ServiceContext()) as gallery:
        collection = gallery._collection(create=False)
        with collection.read() as tx:
            rows = [r[0] for r in tx.conn.execute(
                "SELECT face_id FROM faces WHERE external_image_id = ?", (obama["Id"],))]
        descriptors = collection.descriptors(rows)
        vector_file = collection.vectors.path
    assert len(descriptors) == 2
    code, out, err = run_cli(capsys, "delete-celebrity", "--id", obama["Id"])
    assert code == 0, err
    assert json.loads(out) == {"Id": obama["Id"], "DeletedFaceCount": 2}
    # Nothing of the deleted descriptors is left in the vector file.
    data = vector_file.read_bytes()
    for descriptor in descriptors.values():
        assert descriptor.astype("float32").tobytes()[:64] not in data
    code, out, _ = recognize(capsys, faces_dir / "groups/two_people.jpg")
    response = json.loads(out)
    assert [c["Id"] for c in response["CelebrityFaces"]] == [biden["Id"]]
    assert len(response["UnrecognizedFaces"]) == 1
    code, _, err = run_cli(capsys, "get-celebrity-info", "--id", obama["Id"])
    assert code == 254 and "ResourceNotFoundException" in err
    code, _, err = run_cli(capsys, "delete-celebrity", "--id", obama["Id"])
    assert code == 254 and "does not exist" in err
    code, out, _ = run_cli(capsys, "list-celebrities", "--query", "Celebrities[].Id")
    assert json.loads(out) == [biden["Id"]]


def test_the_gallery_files_are_private(obama_and_biden):
    for root, folders, files in os.walk(gallery_dir()):
        for name in folders:
            assert stat.S_IMODE(os.stat(os.path.join(root, name)).st_mode) == 0o700
        for name in files:
            assert stat.S_IMODE(os.stat(os.path.join(root, name)).st_mode) == 0o600, name


def test_text_and_table_outputs(capsys, faces_dir, obama_and_biden):
    obama, _ = obama_and_biden
    code, out, _ = recognize(capsys, faces_dir / "groups/two_people.jpg", "--output", "text")
    assert code == 0
    lines = out.splitlines()
    celebrities = [line.split("\t") for line in lines if line.startswith("CELEBRITYFACES\t")]
    assert lines[0].startswith("CELEBRITYFACES\t")
    assert [obama["Id"], "Barack Obama"] in [[fields[1], fields[-1]] for fields in celebrities]
    assert "URLS\thttps://en.wikipedia.org/wiki/Barack_Obama" in lines
    assert "KNOWNGENDER\tMale" in lines
    assert len(celebrities) == 2
    code, out, _ = recognize(capsys, faces_dir / "groups/two_people.jpg", "--output", "table")
    assert code == 0
    assert "RecognizeCelebrities" in out and "Barack Obama" in out and "Joe Biden" in out
    code, out, _ = run_cli(capsys, "get-celebrity-info", "--id", obama["Id"], "--output", "text")
    assert out.splitlines() == ["Barack Obama", "KNOWNGENDER\tMale",
                                "URLS\thttps://en.wikipedia.org/wiki/Barack_Obama"]


def test_add_celebrity_refuses_bad_input_and_stores_nothing(capsys, faces_dir, tmp_path):
    obama = str(faces_dir / "people/obama/obama.jpg")
    dog = str(faces_dir / "noface/dog.jpg")
    code, _, err = run_cli(capsys, "add-celebrity", "--images", obama)
    assert code == 252 and "--name" in err
    code, _, err = run_cli(capsys, "add-celebrity", "--name", "X")
    assert code == 252 and "--images" in err
    code, _, err = run_cli(capsys, "add-celebrity", "--name", "X", "--images", obama,
                           "--known-gender", "Robot")
    assert code == 252 and "invalid choice" in err
    code, _, err = run_cli(capsys, "add-celebrity", "--name", "X", "--images",
                           str(tmp_path / "missing.jpg"))
    assert code == 252 and "missing.jpg" in err
    # A photo without a face fails the whole request: the good photo is not stored either.
    code, _, err = run_cli(capsys, "add-celebrity", "--name", "X", "--images", obama, dog)
    assert code == 254 and "There are no faces in the image" in err
    code, _, err = run_cli(capsys, "add-celebrity", "--name", "   ", "--images", obama)
    assert code == 254 and "InvalidParameterException" in err
    not_an_image = tmp_path / "x.jpg"
    not_an_image.write_bytes(b"not an image")
    code, _, err = run_cli(capsys, "add-celebrity", "--name", "X", "--images", str(not_an_image))
    assert code == 254 and "InvalidImageFormatException" in err
    code, out, _ = run_cli(capsys, "list-celebrities")
    assert json.loads(out) == {"Celebrities": []}


def test_recognize_celebrities_bad_input(capsys, faces_dir, tmp_path):
    code, _, err = run_cli(capsys, "recognize-celebrities")
    assert code == 252 and 'Missing required parameter in input: "Image"' in err
    not_an_image = tmp_path / "x.jpg"
    not_an_image.write_bytes(b"not an image")
    code, _, err = recognize(capsys, not_an_image)
    assert code == 254 and "InvalidImageFormatException" in err
    code, out, _ = recognize(capsys, faces_dir / "noface/dog.jpg")
    assert (code, json.loads(out)) == (0, {"CelebrityFaces": [], "UnrecognizedFaces": []})


def test_help_says_the_gallery_is_the_users_own(capsys):
    for command in ("add-celebrity", "list-celebrities", "delete-celebrity"):
        code, out, _ = run_cli(capsys, "help", command)
        assert code == 0 and "rekcli knows no celebrities" in out
    code, out, _ = run_cli(capsys, "recognize-celebrities", "help")
    assert code == 0 and "knows no celebrities" in out


def test_boto3_recognizes_and_looks_up_through_rekcli_serve(capsys, faces_dir, obama_and_biden):
    """The same gallery through `rekcli serve`: boto3 parses both operations' answers
    against AWS's own model, and the unknown Id is its modelled exception."""
    import_test_extra("boto3")
    from pathlib import Path

    from test_serve import Server

    obama, biden = obama_and_biden
    server = Server(Path(os.environ["REKCLI_DATA_DIR"]), "--workers", "1")
    try:
        client = server.client()
        photo = (faces_dir / "groups/obama_and_biden.jpg").read_bytes()
        response = client.recognize_celebrities(Image={"Bytes": photo})
        names = sorted((c["Name"], c["Id"]) for c in response["CelebrityFaces"])
        assert names == sorted([("Barack Obama", obama["Id"]), ("Joe Biden", biden["Id"])])
        assert len(response["UnrecognizedFaces"]) == 1
        info = client.get_celebrity_info(Id=obama["Id"])
        assert (info["Name"], info["Urls"], info["KnownGender"]) == (
            "Barack Obama", obama["Urls"], {"Type": "Male"})
        with pytest.raises(client.exceptions.ResourceNotFoundException):
            client.get_celebrity_info(Id="1SK7cR8M")
    finally:
        assert server.stop() == 0


def test_only_the_64_largest_faces_are_answered(capsys, faces_dir, tmp_path):
    """AWS's limit: a mosaic of 72 faces (detect-faces finds all 72) answers 64."""
    import cv2
    import numpy as np

    face = cv2.resize(cv2.imread(str(faces_dir / "people/obama/obama_small.jpg")), (160, 120))
    mosaic = tmp_path / "mosaic.jpg"
    cv2.imwrite(str(mosaic), np.tile(face, (9, 8, 1)))
    code, out, _ = run_cli(capsys, "detect-faces", "--image-bytes", f"fileb://{mosaic}",
                           "--query", "length(FaceDetails)")
    assert (code, out) == (0, "72\n")
    code, out, err = recognize(capsys, mosaic)
    assert code == 0, err
    response = json.loads(out)
    assert len(response["CelebrityFaces"]) + len(response["UnrecognizedFaces"]) == 64


def test_gallery_commands_complete_their_options_and_values():
    from rekcli.cli import completion

    add_options = {o.name: o for o in completion.command_options("add-celebrity")}
    assert {"--name", "--images", "--urls", "--known-gender"} <= set(add_options)
    assert list(add_options["--known-gender"].values) == ["Male", "Female", "Nonbinary",
                                                          "Unlisted"]
    assert "--id" in {o.name for o in completion.command_options("delete-celebrity")}


def test_gallery_commands_use_this_machines_store_even_with_an_endpoint(capsys, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    code, out, err = run_cli(capsys, "list-celebrities")
    assert (code, json.loads(out)) == (0, {"Celebrities": []})
    assert "the celebrity gallery is kept here" in err and "http://127.0.0.1:9" in err


@pytest.mark.parametrize("args", [["list-celebrities"], ["get-celebrity-info", "--id", "abc"],
                                  ["delete-celebrity", "--id", "abc"]])
def test_gallery_reads_import_nothing_heavy(args, obama_and_biden):
    """Looking the gallery up is metadata work: no numpy, cv2 or dlib (DESIGN.md)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from startup import HEAVY_MODULES, run_with_importtime

    _, modules, code = run_with_importtime(args, dict(os.environ))
    assert code in (0, 254)
    assert not {m.split(".")[0] for m in modules} & set(HEAVY_MODULES)


def test_two_processes_adding_to_a_new_gallery_at_once_both_land(faces_dir):
    """The first writers race to create the gallery's store and people.sqlite: both join."""
    import subprocess
    import sys

    commands = [[sys.executable, "-m", "rekcli", "add-celebrity", "--name", name, "--images",
                 str(faces_dir / photo), "--query", "Id", "--output", "text"]
                for name, photo in (("Joe Biden", "people/biden/biden.jpg"),
                                    ("Rose Leslie", "people/rose_leslie/img1.jpg"))]
    running = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for c in commands]
    results = [(p.wait(timeout=300), p.stdout.read(), p.stderr.read()) for p in running]
    for process in running:
        process.stdout.close()
        process.stderr.close()
    assert [code for code, _, _ in results] == [0, 0], results
    ids = sorted(out.strip() for _, out, _ in results)
    listed = subprocess.run([sys.executable, "-m", "rekcli", "list-celebrities", "--query",
                             "Celebrities[].Id"], capture_output=True, text=True)
    assert sorted(json.loads(listed.stdout)) == ids


def test_add_celebrity_with_an_id_adds_photos_to_that_person(capsys, faces_dir, obama_and_biden):
    _, biden = obama_and_biden
    code, out, err = run_cli(capsys, "add-celebrity", "--id", biden["Id"], "--images",
                             str(faces_dir / "people/biden/biden2.jpg"))
    assert code == 0, err
    assert json.loads(out) == {"Id": biden["Id"], "Name": "Joe Biden", "Urls": [],
                               "FaceCount": 2}
    code, _, err = run_cli(capsys, "add-celebrity", "--id", "1SK7cR8M", "--images",
                           str(faces_dir / "people/biden/biden2.jpg"))
    assert code == 254 and "The celebrity id: 1SK7cR8M does not exist" in err
    code, _, err = run_cli(capsys, "add-celebrity", "--id", biden["Id"], "--name", "Joe",
                           "--images", str(faces_dir / "people/biden/biden2.jpg"))
    assert code == 254 and "not both" in err
    code, out, _ = run_cli(capsys, "list-celebrities", "--query", "Celebrities[].FaceCount")
    assert json.loads(out) == [2, 2]


def test_the_gallery_refuses_the_other_face_model(capsys, faces_dir, monkeypatch):
    """Descriptors of the licence-clean mode and the default one must never be compared: a
    gallery made in one mode refuses to add or recognize in the other, as a collection does;
    reading and deleting work in either."""
    monkeypatch.setenv("REKCLI_FACE_MODEL", "clean")
    obama = add(capsys, faces_dir, "Barack Obama", "people/obama/obama.jpg")
    monkeypatch.delenv("REKCLI_FACE_MODEL")
    refused = [
        ("recognize-celebrities", "--image-bytes",
         f"fileb://{faces_dir / 'people/obama/obama2.jpg'}"),
        ("add-celebrity", "--id", obama["Id"], "--images",
         str(faces_dir / "people/obama/obama2.jpg")),
        ("add-celebrity", "--name", "Joe Biden", "--images",
         str(faces_dir / "people/biden/biden.jpg")),
    ]
    for args in refused:
        code, out, err = run_cli(capsys, *args)
        assert (code, out) == (254, ""), (args, err)
        assert "InvalidParameterException" in err and "FaceModelVersion 1.0-clean" in err
        assert "REKCLI_FACE_MODEL=clean" in err
    code, out, err = run_cli(capsys, "list-celebrities", "--query", "Celebrities[].FaceCount")
    assert (code, json.loads(out)) == (0, [1]), err  # nothing was added
    code, _, err = run_cli(capsys, "get-celebrity-info", "--id", obama["Id"])
    assert code == 0, err
    monkeypatch.setenv("REKCLI_FACE_MODEL", "clean")  # in its own mode it works as before
    code, out, err = recognize(capsys, faces_dir / "people/obama/obama2.jpg")
    assert code == 0, err
    assert [c["Id"] for c in json.loads(out)["CelebrityFaces"]] == [obama["Id"]]
    # Deleting every celebrity leaves the gallery in its mode; the error names the way out
    # that works: its folder, gone, lets the other mode start a gallery of its own.
    code, _, err = run_cli(capsys, "delete-celebrity", "--id", obama["Id"])
    assert code == 0, err
    monkeypatch.delenv("REKCLI_FACE_MODEL")
    code, _, err = run_cli(capsys, *refused[2])
    assert code == 254 and f"delete the folder {gallery_dir()}" in err
    shutil.rmtree(gallery_dir())
    add(capsys, faces_dir, "Joe Biden", "people/biden/biden.jpg")


def test_a_damaged_gallery_is_a_service_error_not_exit_255(capsys):
    """The gallery's store errors leave as the service's AWS errors (exit 254), as every
    collection's do."""
    os.makedirs(gallery_dir(), mode=0o700)
    with open(os.path.join(gallery_dir(), "people.sqlite"), "wb") as damaged:
        damaged.write(b"not a database at all, not even close")
    for args in (("list-celebrities",), ("get-celebrity-info", "--id", "1SK7cR8M"),
                 ("delete-celebrity", "--id", "1SK7cR8M")):
        code, out, err = run_cli(capsys, *args)
        assert (code, out) == (254, ""), (args, err)
        assert "An error occurred (InternalServerError)" in err and "is damaged" in err
        # a remedy the user can take: there is no collection of theirs to delete
        assert f"delete the folder {gallery_dir()} and add the celebrities again" in err
        assert "delete the collection" not in err
