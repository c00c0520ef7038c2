"""The licence-clean mode (REKCLI_FACE_MODEL=clean): 5-point landmarks, its own calibration,
and a 68-point model file that no process opens.

Whether a file is opened is asked of the kernel (inotify on the model file), not of Python:
dlib reads its models with C++ streams, which Python's audit hooks never see. The watch counts
every process's opens of this checkout's model file, so these tests assume no other test
runs alongside them (the suite runs serially).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import itertools
import json
import os
import select
import struct
import subprocess
import sys

import pytest

from cli_helpers import run_cli
from rekcli.engine import UnknownFaceModel, analyze_faces, decode_image, descriptor_distance
from rekcli.engine import models
from rekcli.engine.similarity import distance_from_similarity, similarity_from_distance
from test_engine_photos import GROUP_IDENTITIES, UNNAMED

CLEAN = {"REKCLI_FACE_MODEL": "clean"}
FIVE_POINT_TYPES = {"eyeLeft", "eyeRight", "nose", "leftEyeLeft", "leftEyeRight",
                    "rightEyeLeft", "rightEyeRight", "leftPupil", "rightPupil"}


# -- the setting ------------------------------------------------------------------------------


def test_the_setting_is_read_at_every_call(monkeypatch):
    assert models.face_model() == "default"
    monkeypatch.setenv("REKCLI_FACE_MODEL", " Clean ")
    assert models.face_model() == "clean"
    monkeypatch.setenv("REKCLI_FACE_MODEL", "ibug")
    with pytest.raises(UnknownFaceModel, match="default, clean"):
        models.face_model()


def test_each_mode_scores_its_own_decision_distance_just_above_80():
    assert 80 < similarity_from_distance(0.60, "default") < 80.1
    assert 80 < similarity_from_distance(0.56, "clean") < 80.1
    for mode in ("default", "clean"):
        assert similarity_from_distance(0.0, mode) == 100.0
        for threshold in (50.0, 80.0, 99.0):
            cut = distance_from_similarity(threshold, mode)
            assert similarity_from_distance(cut, mode) == pytest.approx(threshold)


def test_the_calibration_follows_the_current_mode(monkeypatch):
    monkeypatch.setenv("REKCLI_FACE_MODEL", "clean")
    assert similarity_from_distance(0.58) == similarity_from_distance(0.58, "clean") < 80


# -- the 68-point file is never opened --------------------------------------------------------

_IN_OPEN = 0x20


class _OpenWatch:
    """Counts the opens of one file by any process (Linux inotify, through libc)."""

    def __init__(self, path):
        self.libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0:
            pytest.skip(f"inotify unavailable: errno {ctypes.get_errno()}")
        if self.libc.inotify_add_watch(self.fd, os.fsencode(path), _IN_OPEN) < 0:
            os.close(self.fd)
            pytest.skip(f"cannot watch {path}: errno {ctypes.get_errno()}")

    def opens(self) -> int:
        count = 0
        while select.select([self.fd], [], [], 0)[0]:
            data = os.read(self.fd, 65536)
            position = 0
            while position < len(data):
                _wd, mask, _cookie, length = struct.unpack_from("iIII", data, position)
                count += bool(mask & _IN_OPEN)
                position += 16 + length
        return count

    def close(self):
        os.close(self.fd)


# One process running the engine operations as a user would: detect-faces with every
# attribute, compare-faces, and a collection indexed and searched.
_SCRIPT = """
import sys
from rekcli.cli.main import main
photo, group = sys.argv[1], sys.argv[2]
for args in (["detect-faces", "--image-bytes", "fileb://" + photo, "--attributes", "ALL"],
             ["compare-faces", "--source-image-bytes", "fileb://" + photo,
              "--target-image-bytes", "fileb://" + group]):
    code = main(args)
    if code:
        sys.exit(code)
"""


def _run_engine_operations(faces_dir, tmp_path, env):
    full_env = dict(os.environ, REKCLI_DATA_DIR=str(tmp_path / "data"), **env)
    return subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(faces_dir / "people/obama/obama.jpg"),
         str(faces_dir / "groups/two_people.jpg")],
        capture_output=True, env=full_env, timeout=300)


@pytest.mark.e2e
def test_the_68_point_model_file_is_never_opened_in_clean_mode(faces_dir, tmp_path):
    watch = _OpenWatch(models.model_path("shape_predictor_68_face_landmarks.dat"))
    try:
        watch.opens()  # nothing before us counts
        clean = _run_engine_operations(faces_dir, tmp_path, CLEAN)
        assert clean.returncode == 0, clean.stderr.decode()
        assert watch.opens() == 0
        # The same watch sees the default mode open it: the check can fail.
        default = _run_engine_operations(faces_dir, tmp_path, {})
        assert default.returncode == 0, default.stderr.decode()
        assert watch.opens() >= 1
    finally:
        watch.close()


# -- what the 5 points give -------------------------------------------------------------------


@pytest.fixture(scope="module")
def clean_analysis(faces_dir):
    """{relative path: (DecodedImage, faces from the image's left)} in the clean mode."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REKCLI_FACE_MODEL", "clean")
        paths = sorted((faces_dir / "people").glob("*/*")) + sorted((faces_dir / "groups").iterdir())
        result = {}
        for path in paths:
            image = decode_image(path.read_bytes())
            faces = sorted(analyze_faces(image, detailed=True), key=lambda face: face.box[0])
            result[path.relative_to(faces_dir).as_posix()] = (image, faces)
        return result


@pytest.mark.e2e
def test_clean_faces_have_the_5_point_landmarks_a_pose_and_no_guessed_attributes(clean_analysis):
    for name, (_, faces) in clean_analysis.items():
        for face in faces:
            assert set(face.landmarks) == FIVE_POINT_TYPES, name
            (lx, ly), (rx, ry) = face.landmarks["eyeLeft"], face.landmarks["eyeRight"]
            assert lx < rx, name
            assert face.landmarks["nose"][1] > max(ly, ry), name  # below the eyes
            assert face.pose is not None, name
            assert face.attributes == {}, name
            assert face.descriptor.shape == (128,)


@pytest.mark.e2e
def test_every_portrait_passes_the_auto_and_medium_quality_filters_in_clean_mode(clean_analysis):
    from rekcli.service.quality import quality_filter_reasons

    for name, (image, found) in clean_analysis.items():
        if name.startswith("people/"):
            (face,) = found
            for level in ("AUTO", "MEDIUM"):
                assert quality_filter_reasons(face, level, image.width, image.height) == [], name


@pytest.mark.e2e
def test_clean_same_person_scores_80_or_more_and_different_people_less(clean_analysis,
                                                                       monkeypatch):
    """The figures of benchmarks/bench_clean_mode.py: no false match, no missed match."""
    monkeypatch.setenv("REKCLI_FACE_MODEL", "clean")
    faces = []
    for name, (_, found) in clean_analysis.items():
        if name.startswith("people/"):
            faces.append((name.split("/")[1], name, found[0].descriptor))
        elif name in GROUP_IDENTITIES:
            assert len(found) == len(GROUP_IDENTITIES[name]), name
            faces.extend((who, name, face.descriptor)
                         for who, face in zip(GROUP_IDENTITIES[name], found))
        else:
            assert name == UNNAMED
            faces.extend((None, f"{name}#{i}", face.descriptor) for i, face in enumerate(found))
    same, different = [], []
    for (who_a, label_a, a), (who_b, label_b, b) in itertools.combinations(faces, 2):
        if who_a is None and who_b is None:
            continue
        similarity = similarity_from_distance(descriptor_distance(a, b))
        (same if who_a == who_b else different).append((similarity, label_a, label_b))
    assert len(same) >= 25 and len(different) >= 500
    assert [pair for pair in same if pair[0] < 80] == []
    assert [pair for pair in different if pair[0] >= 80] == []


@pytest.mark.e2e
def test_clean_detect_faces_reports_what_5_points_measure(capsys, faces_dir, monkeypatch):
    monkeypatch.setenv("REKCLI_FACE_MODEL", "clean")
    code, out, err = run_cli(capsys, "detect-faces", "--image-bytes",
                             f"fileb://{faces_dir / 'people/obama/obama.jpg'}",
                             "--attributes", "ALL")
    assert code == 0, err
    (detail,) = json.loads(out)["FaceDetails"]
    assert [mark["Type"] for mark in detail["Landmarks"]] == [
        "eyeLeft", "eyeRight", "nose", "leftEyeLeft", "leftEyeRight", "rightEyeLeft",
        "rightEyeRight", "leftPupil", "rightPupil"]
    assert set(detail["Pose"]) == {"Roll", "Yaw", "Pitch"}
    assert not {"Smile", "EyesOpen", "MouthOpen"} & set(detail)


@pytest.mark.e2e
def test_clean_compare_faces_matches_obama_and_not_biden(capsys, faces_dir, monkeypatch):
    monkeypatch.setenv("REKCLI_FACE_MODEL", "clean")
    code, out, err = run_cli(capsys, "compare-faces", "--source-image-bytes",
                             f"fileb://{faces_dir / 'people/obama/obama2.jpg'}",
                             "--target-image-bytes",
                             f"fileb://{faces_dir / 'groups/two_people.jpg'}")
    assert code == 0, err
    response = json.loads(out)
    (match,) = response["FaceMatches"]
    (unmatched,) = response["UnmatchedFaces"]
    assert match["Similarity"] >= 80
    # obama stands on the left of two_people.jpg, biden on the right
    assert match["Face"]["BoundingBox"]["Left"] < unmatched["BoundingBox"]["Left"]
    assert [mark["Type"] for mark in match["Face"]["Landmarks"]] == ["eyeLeft", "eyeRight", "nose"]


# -- collections remember their mode ----------------------------------------------------------


def _fileb(faces_dir, relative):
    return f"fileb://{faces_dir / relative}"


@pytest.fixture
def clean_collection(capsys, faces_dir, monkeypatch):
    """A collection made in the clean mode holding obama.jpg and biden.jpg; the clean mode
    stays set."""
    monkeypatch.setenv("REKCLI_FACE_MODEL", "clean")
    code, out, err = run_cli(capsys, "create-collection", "--collection-id", "clean")
    assert code == 0, err
    assert json.loads(out)["FaceModelVersion"] == "1.0-clean"
    for person in ("obama", "biden"):
        code, out, err = run_cli(capsys, "index-faces", "--collection-id", "clean",
                                 "--image-bytes", _fileb(faces_dir, f"people/{person}/{person}.jpg"),
                                 "--external-image-id", person)
        assert code == 0, err
        response = json.loads(out)
        assert response["FaceModelVersion"] == "1.0-clean"
        assert len(response["FaceRecords"]) == 1
    return "clean"


@pytest.mark.e2e
def test_a_clean_collection_finds_the_same_person_and_no_one_else(capsys, faces_dir,
                                                                  clean_collection):
    code, out, err = run_cli(capsys, "search-faces-by-image", "--collection-id", clean_collection,
                             "--image-bytes", _fileb(faces_dir, "people/obama/obama2.jpg"))
    assert code == 0, err
    response = json.loads(out)
    assert [m["Face"]["ExternalImageId"] for m in response["FaceMatches"]] == ["obama"]
    assert response["FaceModelVersion"] == "1.0-clean"
    code, out, err = run_cli(capsys, "search-faces-by-image", "--collection-id", clean_collection,
                             "--image-bytes", _fileb(faces_dir, "people/kit_harington/john1.jpeg"))
    assert code == 0, err
    assert json.loads(out)["FaceMatches"] == []


@pytest.mark.e2e
def test_a_clean_collection_refuses_the_default_mode(capsys, faces_dir, clean_collection,
                                                     monkeypatch):
    monkeypatch.delenv("REKCLI_FACE_MODEL")
    code, out, _ = run_cli(capsys, "list-faces", "--collection-id", clean_collection)
    assert code == 0 and len(json.loads(out)["Faces"]) == 2  # reading is fine
    face_id = json.loads(out)["Faces"][0]["FaceId"]
    code, out, _ = run_cli(capsys, "list-collections")
    assert json.loads(out)["FaceModelVersions"] == ["1.0-clean"]
    refused = [
        ("index-faces", "--collection-id", clean_collection,
         "--image-bytes", _fileb(faces_dir, "people/obama/obama2.jpg")),
        ("search-faces-by-image", "--collection-id", clean_collection,
         "--image-bytes", _fileb(faces_dir, "people/obama/obama2.jpg")),
        ("search-users-by-image", "--collection-id", clean_collection,
         "--image-bytes", _fileb(faces_dir, "people/obama/obama2.jpg")),
        ("search-faces", "--collection-id", clean_collection, "--face-id", face_id),
        ("search-users", "--collection-id", clean_collection, "--face-id", face_id),
        ("associate-faces", "--collection-id", clean_collection, "--user-id", "u",
         "--face-ids", face_id),
        # refused before the video is even looked for
        ("start-face-search", "--collection-id", clean_collection,
         "--video", "S3Object={Bucket=clips,Name=door.mp4}"),
    ]
    code, _, err = run_cli(capsys, "create-user", "--collection-id", clean_collection,
                           "--user-id", "u")
    assert code == 0, err
    for args in refused:
        code, out, err = run_cli(capsys, *args)
        assert code == 254, (args, err)
        assert out == ""
        assert "InvalidParameterException" in err
        assert "FaceModelVersion 1.0-clean" in err and "FaceModelVersion 1.0," in err
        assert "REKCLI_FACE_MODEL=clean" in err
    code, out, _ = run_cli(capsys, "list-faces", "--collection-id", clean_collection)
    assert len(json.loads(out)["Faces"]) == 2  # nothing was added


@pytest.mark.e2e
def test_a_default_collection_refuses_the_clean_mode(capsys, faces_dir, monkeypatch):
    code, out, err = run_cli(capsys, "create-collection", "--collection-id", "old")
    assert code == 0 and json.loads(out)["FaceModelVersion"] == "1.0", err
    code, _, err = run_cli(capsys, "index-faces", "--collection-id", "old",
                           "--image-bytes", _fileb(faces_dir, "people/obama/obama.jpg"))
    assert code == 0, err
    monkeypatch.setenv("REKCLI_FACE_MODEL", "clean")
    code, out, err = run_cli(capsys, "search-faces-by-image", "--collection-id", "old",
                             "--image-bytes", _fileb(faces_dir, "people/obama/obama2.jpg"))
    assert code == 254 and out == ""
    assert "InvalidParameterException" in err and "REKCLI_FACE_MODEL unset" in err
    monkeypatch.delenv("REKCLI_FACE_MODEL")  # back in its own mode, it works as before
    code, out, err = run_cli(capsys, "search-faces-by-image", "--collection-id", "old",
                             "--image-bytes", _fileb(faces_dir, "people/obama/obama2.jpg"))
    assert code == 0 and len(json.loads(out)["FaceMatches"]) == 1, err


def test_an_unknown_face_model_is_a_configuration_error(capsys, faces_dir, monkeypatch):
    monkeypatch.setenv("REKCLI_FACE_MODEL", "ibug")
    code, out, err = run_cli(capsys, "detect-faces", "--image-bytes",
                             _fileb(faces_dir, "people/obama/obama.jpg"))
    assert code == 253 and out == ""
    assert "REKCLI_FACE_MODEL='ibug' is not a face model; choose one of: default, clean" in err


# -- the setting reaches every process --------------------------------------------------------


@pytest.mark.e2e
def test_serve_workers_run_the_clean_mode(faces_dir, tmp_path, monkeypatch):
    import base64

    from test_serve import Server

    monkeypatch.setenv("REKCLI_FACE_MODEL", "clean")  # the server's environment
    watch = _OpenWatch(models.model_path("shape_predictor_68_face_landmarks.dat"))
    server = Server(tmp_path / "served", "--workers", "1")
    try:
        image = {"Bytes": base64.b64encode(
            (faces_dir / "people/obama/obama.jpg").read_bytes()).decode()}
        status, body = server.raw(json.dumps({"Image": image, "Attributes": ["ALL"]}).encode(),
                                  "RekognitionService.DetectFaces")
        assert status.status == 200, body
        (detail,) = body["FaceDetails"]
        assert {mark["Type"] for mark in detail["Landmarks"]} == FIVE_POINT_TYPES
        status, body = server.raw(b'{"CollectionId": "served"}',
                                  "RekognitionService.CreateCollection")
        assert status.status == 200 and body["FaceModelVersion"] == "1.0-clean", body
        status, body = server.raw(json.dumps({"CollectionId": "served", "Image": image}).encode(),
                                  "RekognitionService.IndexFaces")
        assert status.status == 200 and len(body["FaceRecords"]) == 1, body
    finally:
        assert server.stop() == 0
    assert watch.opens() == 0
    watch.close()


def test_serve_refuses_an_unknown_face_model(tmp_path):
    env = dict(os.environ, REKCLI_FACE_MODEL="ibug", REKCLI_DATA_DIR=str(tmp_path / "data"))
    result = subprocess.run([sys.executable, "-m", "rekcli", "serve", "--port", "0"],
                            capture_output=True, env=env, timeout=60)
    assert result.returncode == 253
    assert b"REKCLI_FACE_MODEL='ibug' is not a face model" in result.stderr


@pytest.mark.e2e
def test_batch_workers_run_the_clean_mode(faces_dir, tmp_path):
    from cli_helpers import run_subprocess

    env = {"REKCLI_FACE_MODEL": "clean", "REKCLI_DATA_DIR": str(tmp_path / "data")}
    folder = tmp_path / "photos"
    folder.mkdir()
    for person in ("obama", "biden"):
        (folder / f"{person}.jpg").symlink_to(faces_dir / f"people/{person}/{person}.jpg")
    watch = _OpenWatch(models.model_path("shape_predictor_68_face_landmarks.dat"))
    try:
        assert run_subprocess("create-collection", "--collection-id", "c", env=env).returncode == 0
        indexed = run_subprocess("index-folder", "--collection-id", "c", "--images", str(folder),
                                 "--workers", "2", env=env)
        assert indexed.returncode == 0, indexed.stderr
        for line in indexed.stdout.decode().splitlines():
            assert json.loads(line)["Response"]["FaceModelVersion"] == "1.0-clean"
        requests = "".join(
            json.dumps({"Image": {"Bytes": f"fileb://{faces_dir / name}"}}) + "\n"
            for name in ("groups/obama_and_biden.jpg", "people/biden/biden.jpg"))
        detected = run_subprocess("batch", "detect-faces", "--workers", "2",
                                  "--query", "FaceDetails[].length(Landmarks)",
                                  input=requests.encode(), env=env)
        assert detected.returncode == 0, detected.stderr
        # eyeLeft, eyeRight and nose: the DEFAULT landmarks 5 points measure
        assert [json.loads(line) for line in detected.stdout.decode().splitlines()] == [
            [3, 3, 3], [3]]
        assert watch.opens() == 0
    finally:
        watch.close()
