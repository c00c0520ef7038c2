"""Service: ListFaces, DeleteFaces, SearchFaces."""

from __future__ import annotations

import base64

import numpy as np
import pytest

from rekcli.engine.similarity import similarity_from_distance
from rekcli.service import collections, faces_admin, users
from rekcli.service.context import ServiceContext
from rekcli.service.errors import (
    InvalidPaginationTokenException,
    InvalidParameterException,
    ResourceNotFoundException,
)
from rekcli.store import NewFace, Store

BOX = {"Width": 0.5, "Height": 0.25, "Left": 0.125, "Top": 0.0625}
MISSING = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def ctx(tmp_path):
    ctx = ServiceContext(data_dir=tmp_path / "data")
    collections.create_collection(ctx, {"CollectionId": "c"})
    return ctx


def at_distance(distance: float, axis: int = 1) -> np.ndarray:
    """A descriptor at exactly `distance` from BASE (moved along one axis)."""
    v = np.zeros(128, dtype=np.float32)
    v[0] = 0.5
    v[axis] += distance
    return v


BASE = at_distance(0.0)


def add(ctx, vectors, image_id="img", external_image_id=None, collection_id="c"):
    with Store(ctx) as store:
        collection = store.open_collection(collection_id)
        faces = [NewFace(dict(BOX), 99.25, v) for v in vectors]
        return [f.face_id for f in collection.add_faces(image_id, external_image_id, faces)]


def random_vectors(n, seed=0):
    return np.random.default_rng(seed).standard_normal((n, 128)).astype(np.float32)


# -- ListFaces -----------------------------------------------------------------------------


def test_list_faces_response(ctx):
    ids = add(ctx, random_vectors(3), image_id="img-1", external_image_id="photo.jpg")
    response = faces_admin.list_faces(ctx, {"CollectionId": "c"})
    assert list(response) == ["Faces", "FaceModelVersion"]
    assert response["FaceModelVersion"] == "1.0"
    assert [f["FaceId"] for f in response["Faces"]] == sorted(ids)
    face = response["Faces"][0]
    assert face == {"FaceId": face["FaceId"], "BoundingBox": BOX, "ImageId": "img-1",
                    "ExternalImageId": "photo.jpg", "Confidence": 99.25,
                    "IndexFacesModelVersion": "1.0"}
    assert list(face) == ["FaceId", "BoundingBox", "ImageId", "ExternalImageId", "Confidence",
                          "IndexFacesModelVersion"]


def test_list_faces_shows_user_and_omits_absent_external_id(ctx):
    [face_id] = add(ctx, random_vectors(1))
    users.create_user(ctx, {"CollectionId": "c", "UserId": "u1"})
    users.associate_faces(ctx, {"CollectionId": "c", "UserId": "u1", "FaceIds": [face_id]})
    [face] = faces_admin.list_faces(ctx, {"CollectionId": "c"})["Faces"]
    assert list(face) == ["FaceId", "BoundingBox", "ImageId", "Confidence",
                          "IndexFacesModelVersion", "UserId"]
    assert face["UserId"] == "u1"


def test_list_faces_empty_and_missing_collection(ctx):
    assert faces_admin.list_faces(ctx, {"CollectionId": "c"}) == {
        "Faces": [], "FaceModelVersion": "1.0"}
    with pytest.raises(ResourceNotFoundException) as raised:
        faces_admin.list_faces(ctx, {"CollectionId": "nope"})
    assert raised.value.message == "The collection id: nope does not exist"


def test_list_faces_filters(ctx):
    ids = add(ctx, random_vectors(6))
    users.create_user(ctx, {"CollectionId": "c", "UserId": "u1"})
    users.associate_faces(ctx, {"CollectionId": "c", "UserId": "u1", "FaceIds": ids[:2],
                                "UserMatchThreshold": 0})

    def listed(**filters):
        response = faces_admin.list_faces(ctx, {"CollectionId": "c", **filters})
        return [f["FaceId"] for f in response["Faces"]]

    assert listed(UserId="u1") == sorted(ids[:2])
    assert listed(UserId="nobody") == []
    assert listed(FaceIds=[ids[4], MISSING, ids[3], ids[4]]) == sorted([ids[3], ids[4]])
    assert listed(FaceIds=[ids[0], ids[4]], UserId="u1") == [ids[0]]


def test_list_faces_pages(ctx):
    ids = sorted(add(ctx, random_vectors(7)))
    seen, token, pages = [], None, 0
    while True:
        request = {"CollectionId": "c", "MaxResults": 3}
        if token:
            request["NextToken"] = token
        response = faces_admin.list_faces(ctx, request)
        pages += 1
        seen += [f["FaceId"] for f in response["Faces"]]
        token = response.get("NextToken")
        if token is None:
            assert list(response) == ["Faces", "FaceModelVersion"]
            break
        assert list(response) == ["Faces", "NextToken", "FaceModelVersion"]
        assert len(token) <= 255
    assert seen == ids and pages == 3
    # Exactly one full page: no NextToken.
    assert "NextToken" not in faces_admin.list_faces(ctx, {"CollectionId": "c", "MaxResults": 7})
    # MaxResults 0 means the default page size (1000).
    assert len(faces_admin.list_faces(ctx, {"CollectionId": "c", "MaxResults": 0})["Faces"]) == 7


def test_list_faces_paging_with_a_filter(ctx):
    ids = add(ctx, random_vectors(5))
    users.create_user(ctx, {"CollectionId": "c", "UserId": "u1"})
    users.associate_faces(ctx, {"CollectionId": "c", "UserId": "u1", "FaceIds": ids[:4],
                                "UserMatchThreshold": 0})
    first = faces_admin.list_faces(ctx, {"CollectionId": "c", "UserId": "u1", "MaxResults": 3})
    rest = faces_admin.list_faces(ctx, {"CollectionId": "c", "UserId": "u1", "MaxResults": 3,
                                        "NextToken": first["NextToken"]})
    assert [f["FaceId"] for f in first["Faces"] + rest["Faces"]] == sorted(ids[:4])
    assert "NextToken" not in rest


def test_list_faces_rejects_forged_and_foreign_tokens(ctx):
    add(ctx, random_vectors(3))
    collections.create_collection(ctx, {"CollectionId": "other"})
    add(ctx, random_vectors(3), collection_id="other")
    token = faces_admin.list_faces(ctx, {"CollectionId": "c", "MaxResults": 1})["NextToken"]
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[5] ^= 0x20
    forged = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    users_token_payload = "AWZha2U"  # looks like a token, signed by nobody
    for bad in [forged, "x", users_token_payload, token[1:]]:
        with pytest.raises(InvalidPaginationTokenException):
            faces_admin.list_faces(ctx, {"CollectionId": "c", "NextToken": bad})
    # A token of collection "c" is foreign to "other", and to a re-created "c".
    with pytest.raises(InvalidPaginationTokenException):
        faces_admin.list_faces(ctx, {"CollectionId": "other", "NextToken": token})
    collections.delete_collection(ctx, {"CollectionId": "c"})
    collections.create_collection(ctx, {"CollectionId": "c"})
    with pytest.raises(InvalidPaginationTokenException) as raised:
        faces_admin.list_faces(ctx, {"CollectionId": "c", "NextToken": token})
    assert raised.value.code == "InvalidPaginationTokenException"


def test_list_users_token_is_not_a_list_faces_token(ctx):
    for i in range(3):
        users.create_user(ctx, {"CollectionId": "c", "UserId": f"u{i}"})
    token = users.list_users(ctx, {"CollectionId": "c", "MaxResults": 1})["NextToken"]
    with pytest.raises(InvalidPaginationTokenException):
        faces_admin.list_faces(ctx, {"CollectionId": "c", "NextToken": token})


# -- DeleteFaces ----------------------------------------------------------------------------


def test_delete_faces(ctx):
    ids = add(ctx, random_vectors(3))
    response = faces_admin.delete_faces(ctx, {"CollectionId": "c",
                                              "FaceIds": [ids[1], MISSING, ids[1]]})
    assert response == {
        "DeletedFaces": [ids[1]],
        "UnsuccessfulFaceDeletions": [{"FaceId": MISSING, "Reasons": ["FACE_NOT_FOUND"]}],
    }
    assert list(response) == ["DeletedFaces", "UnsuccessfulFaceDeletions"]
    left = faces_admin.list_faces(ctx, {"CollectionId": "c"})["Faces"]
    assert sorted(f["FaceId"] for f in left) == sorted([ids[0], ids[2]])
    assert collections.describe_collection(ctx, {"CollectionId": "c"})["FaceCount"] == 2
    # Deleting again: not found.
    again = faces_admin.delete_faces(ctx, {"CollectionId": "c", "FaceIds": [ids[1]]})
    assert again == {"DeletedFaces": [],
                     "UnsuccessfulFaceDeletions": [{"FaceId": ids[1],
                                                    "Reasons": ["FACE_NOT_FOUND"]}]}


def test_delete_faces_of_a_user_is_refused(ctx):
    ids = add(ctx, random_vectors(2))
    users.create_user(ctx, {"CollectionId": "c", "UserId": "u1"})
    users.associate_faces(ctx, {"CollectionId": "c", "UserId": "u1", "FaceIds": [ids[0]]})
    response = faces_admin.delete_faces(ctx, {"CollectionId": "c", "FaceIds": ids})
    assert response == {
        "DeletedFaces": [ids[1]],
        "UnsuccessfulFaceDeletions": [{"FaceId": ids[0], "UserId": "u1",
                                       "Reasons": ["ASSOCIATED_TO_AN_EXISTING_USER"]}],
    }
    assert list(response["UnsuccessfulFaceDeletions"][0]) == ["FaceId", "UserId", "Reasons"]


def test_delete_faces_missing_collection(ctx):
    with pytest.raises(ResourceNotFoundException):
        faces_admin.delete_faces(ctx, {"CollectionId": "nope", "FaceIds": [MISSING]})


def test_deleted_faces_are_never_found_again(ctx):
    ids = add(ctx, [BASE, at_distance(0.1), at_distance(0.2, axis=2)])
    faces_admin.delete_faces(ctx, {"CollectionId": "c", "FaceIds": [ids[1]]})
    response = faces_admin.search_faces(ctx, {"CollectionId": "c", "FaceId": ids[0]})
    assert [m["Face"]["FaceId"] for m in response["FaceMatches"]] == [ids[2]]


# -- SearchFaces ----------------------------------------------------------------------------


def test_search_faces_response(ctx):
    ids = add(ctx, [BASE, at_distance(0.3), at_distance(0.55, axis=2), at_distance(0.65, axis=3),
                    at_distance(0.3, axis=4)])
    response = faces_admin.search_faces(ctx, {"CollectionId": "c", "FaceId": ids[0]})
    assert list(response) == ["SearchedFaceId", "FaceMatches", "FaceModelVersion"]
    assert response["SearchedFaceId"] == ids[0]
    assert response["FaceModelVersion"] == "1.0"
    matches = response["FaceMatches"]
    # The searched face itself is never returned; 0.65 is below the default threshold 80.
    assert [m["Face"]["FaceId"] for m in matches] == sorted([ids[1], ids[4]]) + [ids[2]]
    for match in matches:
        assert list(match) == ["Similarity", "Face"]
        assert list(match["Face"]) == ["FaceId", "BoundingBox", "ImageId", "Confidence",
                                       "IndexFacesModelVersion"]
    assert matches[0]["Similarity"] == pytest.approx(similarity_from_distance(0.3), abs=1e-4)
    assert matches[2]["Similarity"] == pytest.approx(similarity_from_distance(0.55), abs=1e-4)
    similarities = [m["Similarity"] for m in matches]
    assert similarities == sorted(similarities, reverse=True)


def test_search_faces_threshold_and_max_faces(ctx):
    distances = [0.1, 0.3, 0.5, 0.7, 0.9]
    ids = add(ctx, [BASE] + [at_distance(d, axis=i + 1) for i, d in enumerate(distances)])

    def found(**extra):
        response = faces_admin.search_faces(ctx, {"CollectionId": "c", "FaceId": ids[0], **extra})
        return [m["Face"]["FaceId"] for m in response["FaceMatches"]]

    assert found() == ids[1:4]  # similarity(0.5) = 91.1 >= 80 > similarity(0.7)
    assert found(FaceMatchThreshold=0) == ids[1:]
    assert found(FaceMatchThreshold=0, MaxFaces=2) == ids[1:3]
    assert found(FaceMatchThreshold=similarity_from_distance(0.3) - 1e-6) == ids[1:3]
    assert found(FaceMatchThreshold=100) == []
    assert found(MaxFaces=1) == [ids[1]]


def test_search_faces_threshold_is_inclusive(ctx):
    ids = add(ctx, [BASE, at_distance(0.5)])
    exact = faces_admin.search_faces(ctx, {"CollectionId": "c", "FaceId": ids[0],
                                           "FaceMatchThreshold": 0})["FaceMatches"][0]
    again = faces_admin.search_faces(ctx, {"CollectionId": "c", "FaceId": ids[0],
                                           "FaceMatchThreshold": exact["Similarity"]})
    assert len(again["FaceMatches"]) == 1


def test_search_faces_finds_duplicates_at_100(ctx):
    ids = add(ctx, [BASE, BASE])
    response = faces_admin.search_faces(ctx, {"CollectionId": "c", "FaceId": ids[0],
                                              "FaceMatchThreshold": 100})
    assert [(m["Face"]["FaceId"], m["Similarity"]) for m in response["FaceMatches"]] == [
        (ids[1], 100.0)]


def test_search_faces_unknown_face(ctx):
    add(ctx, random_vectors(2))
    with pytest.raises(InvalidParameterException) as raised:
        faces_admin.search_faces(ctx, {"CollectionId": "c", "FaceId": MISSING})
    assert raised.value.code == "InvalidParameterException"
    assert raised.value.message == "faceId was not found in the collection."


def test_search_faces_missing_collection(ctx):
    with pytest.raises(ResourceNotFoundException):
        faces_admin.search_faces(ctx, {"CollectionId": "nope", "FaceId": MISSING})


def test_match_faces_helper_for_search_by_image(ctx):
    ids = add(ctx, [BASE, at_distance(0.3)])
    with Store(ctx) as store:
        matches = faces_admin.match_faces(store.open_collection("c"), at_distance(0.1))
    assert [m["Face"]["FaceId"] for m in matches] == ids
