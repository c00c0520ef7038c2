"""Collections for real: index photos of each person, search with the others (issue 4)."""

from __future__ import annotations

import json

import pytest

from cli_helpers import run_cli

pytestmark = pytest.mark.e2e

ENROLLED = {  # person -> the photo indexed for them
    "obama": "people/obama/obama.jpg",
    "biden": "people/biden/biden.jpg",
    "alex_lacamoire": "people/alex_lacamoire/img1.jpg",
    "kit_harington": "people/kit_harington/john1.jpeg",
    "rose_leslie": "people/rose_leslie/img1.jpg",
}
PROBES = {  # photo searched with -> the person it shows
    "people/obama/obama2.jpg": "obama",
    "people/obama/obama3.jpg": "obama",
    "people/obama/obama_small.jpg": "obama",
    "people/biden/biden2.jpg": "biden",
    "people/alex_lacamoire/alex-lacamoire.png": "alex_lacamoire",
    "people/kit_harington/john2.jpeg": "kit_harington",
    "people/rose_leslie/img2.jpg": "rose_leslie",
}
STRANGER = "people/lin_manuel_miranda/lin-manuel-miranda.png"


def cli_json(capsys, *args):
    code, out, err = run_cli(capsys, *args)
    assert code == 0, err
    return json.loads(out) if out else {}


@pytest.fixture(scope="module")
def enrolled(tmp_path_factory, faces_dir):
    """One collection with a photo of each person, built once for the module (indexing is
    the slow part); returns (data dir, person -> FaceId)."""
    from rekcli.cli.main import main

    data_dir = tmp_path_factory.mktemp("family-data")
    face_ids = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REKCLI_DATA_DIR", str(data_dir))
        assert main(["create-collection", "--collection-id", "family", "--output", "off"]) == 0
        for person, photo in ENROLLED.items():
            out = _run_quietly(main, ["index-faces", "--collection-id", "family", "--image-bytes",
                                      f"fileb://{faces_dir / photo}", "--external-image-id", person])
            records = json.loads(out)["FaceRecords"]
            assert len(records) == 1, person
            face_ids[person] = records[0]["Face"]["FaceId"]
    return data_dir, face_ids


def _run_quietly(main, args) -> str:
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert main(args) == 0
    return buffer.getvalue()


@pytest.fixture
def family(enrolled, monkeypatch):
    """The enrolled collection's data dir for this test; person -> FaceId. Tests may add
    users or re-index, but must leave the five enrolled faces in place."""
    data_dir, face_ids = enrolled
    monkeypatch.setenv("REKCLI_DATA_DIR", str(data_dir))
    return face_ids


@pytest.mark.parametrize("photo,person", sorted(PROBES.items()))
def test_the_top_match_is_always_the_right_person(capsys, faces_dir, family, photo, person):
    response = cli_json(capsys, "search-faces-by-image", "--collection-id", "family",
                        "--image-bytes", f"fileb://{faces_dir / photo}")
    assert list(response) == ["SearchedFaceBoundingBox", "SearchedFaceConfidence", "FaceMatches",
                              "FaceModelVersion"]
    assert response["FaceMatches"], f"{photo} matched nobody"
    top = response["FaceMatches"][0]
    assert top["Face"]["ExternalImageId"] == person
    assert top["Similarity"] >= 80
    others = [m for m in response["FaceMatches"] if m["Face"]["ExternalImageId"] != person]
    assert not others, f"{photo} also matched {others}"


def test_an_indexed_photo_finds_itself_at_100(capsys, faces_dir, family):
    response = cli_json(capsys, "search-faces-by-image", "--collection-id", "family",
                        "--image-bytes", f"fileb://{faces_dir / ENROLLED['biden']}")
    assert response["FaceMatches"][0]["Similarity"] == 100.0


def test_a_stranger_falls_below_80(capsys, faces_dir, family):
    response = cli_json(capsys, "search-faces-by-image", "--collection-id", "family",
                        "--image-bytes", f"fileb://{faces_dir / STRANGER}", "--face-match-threshold", "0")
    assert response["FaceMatches"]
    assert all(match["Similarity"] < 80 for match in response["FaceMatches"])


def test_search_faces_never_returns_the_searched_face(capsys, family):
    response = cli_json(capsys, "search-faces", "--collection-id", "family", "--face-id",
                        family["obama"], "--face-match-threshold", "0")
    assert response["SearchedFaceId"] == family["obama"]
    assert family["obama"] not in [m["Face"]["FaceId"] for m in response["FaceMatches"]]


def test_index_faces_response_and_max_faces(capsys, faces_dir):
    cli_json(capsys, "create-collection", "--collection-id", "groups")
    response = cli_json(capsys, "index-faces", "--collection-id", "groups", "--image-bytes",
                        f"fileb://{faces_dir / 'groups/obama_and_biden.jpg'}", "--max-faces", "2",
                        "--quality-filter", "NONE")
    assert list(response) == ["FaceRecords", "FaceModelVersion", "UnindexedFaces"]
    assert len(response["FaceRecords"]) == 2
    widths = [r["FaceDetail"]["BoundingBox"]["Width"] for r in response["FaceRecords"]]
    assert widths == sorted(widths, reverse=True)
    record = response["FaceRecords"][0]
    assert list(record["Face"]) == ["FaceId", "BoundingBox", "ImageId", "Confidence",
                                    "IndexFacesModelVersion"]
    assert [u["Reasons"] for u in response["UnindexedFaces"]] == [["EXCEEDS_MAX_FACES"]]
    described = cli_json(capsys, "describe-collection", "--collection-id", "groups")
    assert described["FaceCount"] == 2


def test_same_image_and_external_id_stores_nothing_new(capsys, faces_dir, family):
    again = cli_json(capsys, "index-faces", "--collection-id", "family", "--image-bytes",
                     f"fileb://{faces_dir / ENROLLED['obama']}", "--external-image-id", "obama")
    assert again["FaceRecords"][0]["Face"]["FaceId"] == family["obama"]
    assert cli_json(capsys, "describe-collection", "--collection-id", "family")["FaceCount"] == 5
    image_ids = {f["ImageId"] for f in cli_json(capsys, "list-faces", "--collection-id", "family")["Faces"]}
    assert len(image_ids) == 5


def test_users_search_by_image(capsys, faces_dir, family):
    cli_json(capsys, "create-user", "--collection-id", "family", "--user-id", "barack",
             "--client-request-token", "create-barack-once")
    associated = cli_json(capsys, "associate-faces", "--collection-id", "family", "--user-id", "barack",
                          "--face-ids", family["obama"], "--client-request-token", "associate-barack-once")
    assert associated["AssociatedFaces"] == [{"FaceId": family["obama"]}]
    response = cli_json(capsys, "search-users-by-image", "--collection-id", "family", "--image-bytes",
                        f"fileb://{faces_dir / 'people/obama/obama2.jpg'}")
    assert response["UserMatches"][0]["User"] == {"UserId": "barack", "UserStatus": "ACTIVE"}
    assert response["UserMatches"][0]["Similarity"] >= 80
    group = cli_json(capsys, "search-users-by-image", "--collection-id", "family", "--image-bytes",
                     f"fileb://{faces_dir / 'groups/obama_and_biden.jpg'}")
    assert [u["Reasons"] for u in group["UnsearchedFaces"]] == [["FACE_NOT_LARGEST"]] * 2


def test_search_users_by_image_without_a_face_succeeds_empty(capsys, faces_dir, family):
    response = cli_json(capsys, "search-users-by-image", "--collection-id", "family", "--image-bytes",
                        f"fileb://{faces_dir / 'noface/horses.jpg'}")
    assert response == {"UserMatches": [], "FaceModelVersion": "1.0"}


def test_missing_collection_is_answered_before_any_pixel_work(capsys, faces_dir):
    code, _, err = run_cli(capsys, "index-faces", "--collection-id", "nope", "--image-bytes",
                           f"fileb://{faces_dir / 'edge/obama_truncated.jpg'}")
    assert code == 254
    assert "(ResourceNotFoundException) when calling the IndexFaces operation" in err


def test_a_failed_index_adds_nothing(capsys, faces_dir, family):
    code, _, err = run_cli(capsys, "index-faces", "--collection-id", "family", "--image-bytes",
                           f"fileb://{faces_dir / 'edge/obama_truncated.jpg'}")
    assert code == 254 and "InvalidImageFormatException" in err
    assert cli_json(capsys, "describe-collection", "--collection-id", "family")["FaceCount"] == 5


def test_search_faces_by_image_without_a_face_is_invalid_parameter(capsys, faces_dir, family):
    code, _, err = run_cli(capsys, "search-faces-by-image", "--collection-id", "family",
                           "--image-bytes", f"fileb://{faces_dir / 'noface/dogs.jpg'}")
    assert code == 254
    assert err.endswith("SearchFacesByImage operation: There are no faces in the image. Should be at least 1.\n")


def _skip_reason(faces_dir, photo: str, external_image_id: str, quality_filter: str = "AUTO"):
    from rekcli.service.context import ServiceContext
    from rekcli.service.faces_by_image import reason_to_skip_indexing

    return reason_to_skip_indexing(ServiceContext(), "nightly", (faces_dir / photo).read_bytes(),
                                   external_image_id, quality_filter)


def test_a_photo_without_faces_is_remembered_until_the_analysis_changes(capsys, faces_dir, monkeypatch):
    from rekcli import engine

    cli_json(capsys, "create-collection", "--collection-id", "nightly")
    dog = cli_json(capsys, "index-faces", "--collection-id", "nightly", "--image-bytes",
                   f"fileb://{faces_dir / 'noface/dog.jpg'}", "--external-image-id", "dog")
    assert dog["FaceRecords"] == []
    assert _skip_reason(faces_dir, "noface/dog.jpg", "dog") == "ALREADY_ANALYSED_NO_FACES"
    assert _skip_reason(faces_dir, "noface/dog.jpg", "dog", "NONE") is None  # another filter
    assert _skip_reason(faces_dir, "noface/dog.jpg", "another-name") is None
    monkeypatch.setenv("REKCLI_DETECTOR", "cnn")  # another detector could find a face
    assert _skip_reason(faces_dir, "noface/dog.jpg", "dog") is None
    monkeypatch.delenv("REKCLI_DETECTOR")
    monkeypatch.setattr(engine, "_engine_source_digest", lambda: "edited")  # a new engine
    assert _skip_reason(faces_dir, "noface/dog.jpg", "dog") is None


def test_remembering_a_photo_without_faces_never_fails_the_call(capsys, faces_dir, monkeypatch):
    from rekcli.store.collection import Collection
    from rekcli.store.errors import StoreBusy

    def busy(*args, **kwargs):
        raise StoreBusy("The collection is busy with another writer; try again.")

    cli_json(capsys, "create-collection", "--collection-id", "nightly")
    monkeypatch.setattr(Collection, "remember_image_without_faces", busy)
    dog = cli_json(capsys, "index-faces", "--collection-id", "nightly", "--image-bytes",
                   f"fileb://{faces_dir / 'noface/dog.jpg'}", "--external-image-id", "dog")
    assert dog["FaceRecords"] == []
    assert _skip_reason(faces_dir, "noface/dog.jpg", "dog") is None
