"""Service: CreateUser, DeleteUser, ListUsers, AssociateFaces, DisassociateFaces, SearchUsers."""

from __future__ import annotations

import numpy as np
import pytest

from rekcli.engine.similarity import similarity_from_distance
from rekcli.service import collections, faces_admin, users
from rekcli.service.context import ServiceContext
from rekcli.service.errors import (
    ConflictException,
    IdempotentParameterMismatchException,
    InvalidPaginationTokenException,
    InvalidParameterException,
    ResourceNotFoundException,
    ServiceQuotaExceededException,
)
from rekcli.store import NewFace, Store

BOX = {"Width": 0.5, "Height": 0.5, "Left": 0.25, "Top": 0.25}
MISSING = "00000000-0000-4000-8000-000000000000"


class Clock:
    def __init__(self):
        self.now = 1_700_000_000.0

    def __call__(self):
        return self.now


@pytest.fixture
def ctx(tmp_path):
    ctx = ServiceContext(data_dir=tmp_path / "data", clock=Clock())
    collections.create_collection(ctx, {"CollectionId": "c"})
    return ctx


def vec(*pairs) -> np.ndarray:
    """A descriptor: 0.5 on axis 0 plus (axis, value) offsets."""
    v = np.zeros(128, dtype=np.float32)
    v[0] = 0.5
    for axis, value in pairs:
        v[axis] += value
    return v


def add(ctx, vectors):
    with Store(ctx) as store:
        stored = store.open_collection("c").add_faces(
            "img", None, [NewFace(dict(BOX), 99.0, v) for v in vectors])
    return [f.face_id for f in stored]


def req(**members):
    return {"CollectionId": "c", **members}


def user_faces(ctx, user_id):
    response = faces_admin.list_faces(ctx, req(UserId=user_id))
    return sorted(f["FaceId"] for f in response["Faces"])


def list_all_users(ctx):
    return users.list_users(ctx, req())["Users"]


# -- CreateUser / DeleteUser -------------------------------------------------------------------


def test_create_user(ctx):
    assert users.create_user(ctx, req(UserId="u1")) == {}
    assert list_all_users(ctx) == [{"UserId": "u1", "UserStatus": "CREATED"}]
    assert collections.describe_collection(ctx, req())["UserCount"] == 1


def test_create_existing_user_conflicts(ctx):
    users.create_user(ctx, req(UserId="u1"))
    with pytest.raises(ConflictException) as raised:
        users.create_user(ctx, req(UserId="u1"))
    assert raised.value.code == "ConflictException"
    assert "u1" in raised.value.message


def test_user_operations_need_the_collection(ctx):
    for call, extra in [(users.create_user, {"UserId": "u"}),
                        (users.delete_user, {"UserId": "u"}),
                        (users.list_users, {}),
                        (users.associate_faces, {"UserId": "u", "FaceIds": [MISSING]}),
                        (users.disassociate_faces, {"UserId": "u", "FaceIds": [MISSING]}),
                        (users.search_users, {"UserId": "u"})]:
        with pytest.raises(ResourceNotFoundException) as raised:
            call(ctx, {"CollectionId": "nope", **extra})
        assert raised.value.message == "The collection id: nope does not exist"


def test_create_user_token_replays_once(ctx):
    request = req(UserId="u1", ClientRequestToken="token-1")
    assert users.create_user(ctx, request) == {}
    assert users.create_user(ctx, dict(request)) == {}  # not a ConflictException
    assert collections.describe_collection(ctx, req())["UserCount"] == 1
    # The same token with other parameters, or for another operation.
    with pytest.raises(IdempotentParameterMismatchException) as raised:
        users.create_user(ctx, req(UserId="u2", ClientRequestToken="token-1"))
    assert raised.value.code == "IdempotentParameterMismatchException"
    assert raised.value.message == (
        "The ClientRequestToken: token-1 you have supplied is already in use.")
    with pytest.raises(IdempotentParameterMismatchException):
        users.delete_user(ctx, req(UserId="u1", ClientRequestToken="token-1"))
    assert [u["UserId"] for u in list_all_users(ctx)] == ["u1"]


def test_tokens_expire_after_a_day(ctx):
    users.create_user(ctx, req(UserId="u1", ClientRequestToken="t"))
    ctx.clock.now += 24 * 3600 + 1
    with pytest.raises(ConflictException):
        users.create_user(ctx, req(UserId="u1", ClientRequestToken="t"))


def test_failed_requests_record_no_token(ctx):
    users.create_user(ctx, req(UserId="u1"))
    with pytest.raises(ConflictException):
        users.create_user(ctx, req(UserId="u1", ClientRequestToken="t"))
    # The token is still free for a request that succeeds.
    assert users.create_user(ctx, req(UserId="u2", ClientRequestToken="t")) == {}


def test_delete_user_keeps_its_faces(ctx):
    ids = add(ctx, [vec(), vec((1, 0.1))])
    users.create_user(ctx, req(UserId="u1"))
    users.associate_faces(ctx, req(UserId="u1", FaceIds=ids))
    assert users.delete_user(ctx, req(UserId="u1")) == {}
    assert list_all_users(ctx) == []
    faces = faces_admin.list_faces(ctx, req())["Faces"]
    assert sorted(f["FaceId"] for f in faces) == sorted(ids)
    assert all("UserId" not in f for f in faces)
    described = collections.describe_collection(ctx, req())
    assert (described["FaceCount"], described["UserCount"]) == (2, 0)
    # Now the faces can be deleted.
    assert faces_admin.delete_faces(ctx, req(FaceIds=ids))["DeletedFaces"] == ids


def test_delete_missing_user(ctx):
    with pytest.raises(ResourceNotFoundException) as raised:
        users.delete_user(ctx, req(UserId="ghost"))
    assert raised.value.message == "The user id: ghost does not exist"


def test_delete_user_token_replays_once(ctx):
    users.create_user(ctx, req(UserId="u1"))
    request = req(UserId="u1", ClientRequestToken="del-1")
    assert users.delete_user(ctx, request) == {}
    assert users.delete_user(ctx, dict(request)) == {}  # already gone, same answer
    with pytest.raises(ResourceNotFoundException):
        users.delete_user(ctx, req(UserId="u1", ClientRequestToken="del-2"))
    with pytest.raises(IdempotentParameterMismatchException):
        users.delete_user(ctx, req(UserId="u9", ClientRequestToken="del-1"))


# -- ListUsers -----------------------------------------------------------------------------------


def test_list_users_order_and_status(ctx):
    ids = add(ctx, [vec()])
    for user_id in ["b", "a", "C"]:
        users.create_user(ctx, req(UserId=user_id))
    users.associate_faces(ctx, req(UserId="b", FaceIds=ids))
    response = users.list_users(ctx, req())
    assert list(response) == ["Users"]
    assert response["Users"] == [{"UserId": "C", "UserStatus": "CREATED"},
                                 {"UserId": "a", "UserStatus": "CREATED"},
                                 {"UserId": "b", "UserStatus": "ACTIVE"}]
    assert all(list(u) == ["UserId", "UserStatus"] for u in response["Users"])


def test_list_users_pages(ctx):
    names = [f"user:{i:03d}" for i in range(7)]
    for name in names:
        users.create_user(ctx, req(UserId=name))
    seen, token = [], None
    while True:
        request = req(MaxResults=3)
        if token:
            request["NextToken"] = token
        response = users.list_users(ctx, request)
        seen += [u["UserId"] for u in response["Users"]]
        token = response.get("NextToken")
        if not token:
            break
        assert list(response) == ["Users", "NextToken"]
    assert seen == names


def test_list_users_default_page_is_500(ctx):
    with Store(ctx) as store:
        with store.open_collection("c").write() as tx:
            for i in range(501):
                tx.create_user(f"u{i:04d}")
    first = users.list_users(ctx, req())
    assert len(first["Users"]) == 500
    rest = users.list_users(ctx, req(NextToken=first["NextToken"]))
    assert [u["UserId"] for u in rest["Users"]] == ["u0500"]
    assert "NextToken" not in rest


def test_list_users_longest_token_fits(ctx):
    long_a, long_b = "a" * 128, "b" * 128
    users.create_user(ctx, req(UserId=long_a))
    users.create_user(ctx, req(UserId=long_b))
    token = users.list_users(ctx, req(MaxResults=1))["NextToken"]
    assert len(token) <= 255
    assert users.list_users(ctx, req(NextToken=token))["Users"][0]["UserId"] == long_b


def test_list_users_rejects_bad_tokens(ctx):
    for i in range(3):
        users.create_user(ctx, req(UserId=f"u{i}"))
    collections.create_collection(ctx, {"CollectionId": "d"})
    users.create_user(ctx, {"CollectionId": "d", "UserId": "x"})
    users.create_user(ctx, {"CollectionId": "d", "UserId": "y"})
    token = users.list_users(ctx, req(MaxResults=1))["NextToken"]
    foreign = users.list_users(ctx, {"CollectionId": "d", "MaxResults": 1})["NextToken"]
    for bad in ["nonsense", token[:-1], token[:10] + ("A" if token[10] != "A" else "B")
                + token[11:], foreign]:
        with pytest.raises(InvalidPaginationTokenException):
            users.list_users(ctx, req(NextToken=bad))


# -- AssociateFaces ------------------------------------------------------------------------------


def test_associate_faces_first_faces_skip_the_threshold(ctx):
    ids = add(ctx, [vec(), vec((1, 1.5))])  # far apart: similarity ~0
    users.create_user(ctx, req(UserId="u1"))
    response = users.associate_faces(ctx, req(UserId="u1", FaceIds=ids))
    assert response == {"AssociatedFaces": [{"FaceId": ids[0]}, {"FaceId": ids[1]}],
                        "UnsuccessfulFaceAssociations": [], "UserStatus": "ACTIVE"}
    assert list(response) == ["AssociatedFaces", "UnsuccessfulFaceAssociations", "UserStatus"]
    assert user_faces(ctx, "u1") == sorted(ids)


def test_associate_faces_outcomes(ctx):
    ids = add(ctx, [vec(), vec((1, 0.3)), vec((2, 0.7)), vec((3, 0.2))])
    users.create_user(ctx, req(UserId="u1"))
    users.create_user(ctx, req(UserId="u2"))
    users.associate_faces(ctx, req(UserId="u1", FaceIds=[ids[0]]))
    users.associate_faces(ctx, req(UserId="u2", FaceIds=[ids[3]]))
    response = users.associate_faces(ctx, req(UserId="u1",
                                              FaceIds=[ids[0], ids[1], ids[2], ids[3], MISSING]))
    assert response["AssociatedFaces"] == [{"FaceId": ids[1]}]  # ids[0]: already u1's, ignored
    low, other, missing = response["UnsuccessfulFaceAssociations"]
    assert low == {"FaceId": ids[2], "Confidence": pytest.approx(similarity_from_distance(0.7),
                                                                 abs=1e-3),
                   "Reasons": ["LOW_MATCH_CONFIDENCE"]}
    assert list(low) == ["FaceId", "Confidence", "Reasons"]
    assert other == {"FaceId": ids[3], "UserId": "u2",
                     "Reasons": ["ASSOCIATED_TO_A_DIFFERENT_USER"]}
    assert list(other) == ["FaceId", "UserId", "Reasons"]
    assert missing == {"FaceId": MISSING, "Reasons": ["FACE_NOT_FOUND"]}
    assert response["UserStatus"] == "ACTIVE"
    assert user_faces(ctx, "u1") == sorted(ids[:2])


def test_associate_threshold_default_is_75_and_uses_the_best_face(ctx):
    # similarity(0.65) = 71.6 < 75 <= similarity(0.6) = 80.05.
    ids = add(ctx, [vec(), vec((1, 1.0)), vec((2, 0.65)), vec((1, 1.0), (2, 0.6))])
    users.create_user(ctx, req(UserId="u1"))
    users.associate_faces(ctx, req(UserId="u1", FaceIds=ids[:2]))
    response = users.associate_faces(ctx, req(UserId="u1", FaceIds=ids[2:]))
    assert response["AssociatedFaces"] == [{"FaceId": ids[3]}]  # 0.6 from ids[1]
    assert [u["FaceId"] for u in response["UnsuccessfulFaceAssociations"]] == [ids[2]]
    lowered = users.associate_faces(ctx, req(UserId="u1", FaceIds=[ids[2]],
                                             UserMatchThreshold=70))
    assert lowered["AssociatedFaces"] == [{"FaceId": ids[2]}]


def test_associate_to_missing_user(ctx):
    ids = add(ctx, [vec()])
    with pytest.raises(ResourceNotFoundException) as raised:
        users.associate_faces(ctx, req(UserId="ghost", FaceIds=ids))
    assert raised.value.message == "The user id: ghost does not exist"


def test_associate_nothing_leaves_user_created(ctx):
    users.create_user(ctx, req(UserId="u1"))
    response = users.associate_faces(ctx, req(UserId="u1", FaceIds=[MISSING]))
    assert response["AssociatedFaces"] == []
    assert response["UserStatus"] == "CREATED"


def test_user_face_limit_is_100(ctx):
    rng = np.random.default_rng(3)
    near = [vec() + rng.standard_normal(128).astype(np.float32) * 0.01 for _ in range(101)]
    ids = add(ctx, near)
    users.create_user(ctx, req(UserId="u1"))
    assert len(users.associate_faces(ctx, req(UserId="u1", FaceIds=ids[:60]))[
        "AssociatedFaces"]) == 60
    with pytest.raises(ServiceQuotaExceededException) as raised:
        users.associate_faces(ctx, req(UserId="u1", FaceIds=ids[60:]))
    assert raised.value.code == "ServiceQuotaExceededException"
    assert len(user_faces(ctx, "u1")) == 60  # nothing of the failed request
    assert len(users.associate_faces(ctx, req(UserId="u1", FaceIds=ids[60:100]))[
        "AssociatedFaces"]) == 40


def test_associate_token_replays_without_re_running(ctx):
    ids = add(ctx, [vec(), vec((1, 0.1))])
    users.create_user(ctx, req(UserId="u1"))
    request = req(UserId="u1", FaceIds=ids, ClientRequestToken="assoc-1")
    first = users.associate_faces(ctx, request)
    users.disassociate_faces(ctx, req(UserId="u1", FaceIds=[ids[1]]))
    assert users.associate_faces(ctx, dict(request)) == first  # the recorded answer...
    assert user_faces(ctx, "u1") == [ids[0]]  # ...and not executed again
    with pytest.raises(IdempotentParameterMismatchException):
        users.associate_faces(ctx, req(UserId="u1", FaceIds=ids[:1],
                                       ClientRequestToken="assoc-1"))
    with pytest.raises(IdempotentParameterMismatchException):
        users.associate_faces(ctx, req(UserId="u1", FaceIds=ids, UserMatchThreshold=50,
                                       ClientRequestToken="assoc-1"))


# -- DisassociateFaces ---------------------------------------------------------------------------


def test_disassociate_faces(ctx):
    ids = add(ctx, [vec(), vec((1, 0.1)), vec((2, 0.1)), vec((3, 0.1))])
    users.create_user(ctx, req(UserId="u1"))
    users.create_user(ctx, req(UserId="u2"))
    users.associate_faces(ctx, req(UserId="u1", FaceIds=ids[:2]))
    users.associate_faces(ctx, req(UserId="u2", FaceIds=[ids[2]]))
    response = users.disassociate_faces(ctx, req(UserId="u1",
                                                 FaceIds=[ids[0], ids[2], ids[3], MISSING]))
    assert response == {
        "DisassociatedFaces": [{"FaceId": ids[0]}],
        "UnsuccessfulFaceDisassociations": [
            {"FaceId": ids[2], "UserId": "u2", "Reasons": ["ASSOCIATED_TO_A_DIFFERENT_USER"]},
            {"FaceId": MISSING, "Reasons": ["FACE_NOT_FOUND"]},
        ],
        "UserStatus": "ACTIVE",
    }
    assert list(response) == ["DisassociatedFaces", "UnsuccessfulFaceDisassociations",
                              "UserStatus"]
    last = users.disassociate_faces(ctx, req(UserId="u1", FaceIds=[ids[1]]))
    assert last["UserStatus"] == "CREATED"
    assert list_all_users(ctx)[0] == {"UserId": "u1", "UserStatus": "CREATED"}


def test_disassociate_from_missing_user(ctx):
    with pytest.raises(ResourceNotFoundException):
        users.disassociate_faces(ctx, req(UserId="ghost", FaceIds=[MISSING]))


def test_disassociate_token(ctx):
    ids = add(ctx, [vec()])
    users.create_user(ctx, req(UserId="u1"))
    users.associate_faces(ctx, req(UserId="u1", FaceIds=ids))
    request = req(UserId="u1", FaceIds=ids, ClientRequestToken="dis-1")
    first = users.disassociate_faces(ctx, request)
    assert first["DisassociatedFaces"] == [{"FaceId": ids[0]}]
    assert users.disassociate_faces(ctx, dict(request)) == first
    with pytest.raises(IdempotentParameterMismatchException):
        users.disassociate_faces(ctx, req(UserId="u2", FaceIds=ids, ClientRequestToken="dis-1"))


# -- SearchUsers ---------------------------------------------------------------------------------


@pytest.fixture
def people(ctx):
    """u1 near the origin, u2 at 0.4 from it, u3 far away, u4 without faces, one loose face."""
    ids = add(ctx, [vec(), vec((1, 0.05)), vec((2, 0.4)), vec((3, 1.5)), vec((4, 0.3))])
    for user_id, faces in [("u1", ids[:2]), ("u2", [ids[2]]), ("u3", [ids[3]]), ("u4", [])]:
        users.create_user(ctx, req(UserId=user_id))
        if faces:
            users.associate_faces(ctx, req(UserId=user_id, FaceIds=faces, UserMatchThreshold=0))
    return ids


def test_search_users_by_face(ctx, people):
    response = users.search_users(ctx, req(FaceId=people[4]))
    assert list(response) == ["UserMatches", "FaceModelVersion", "SearchedFace"]
    assert response["SearchedFace"] == {"FaceId": people[4]}
    assert response["FaceModelVersion"] == "1.0"
    matches = response["UserMatches"]
    assert [m["User"]["UserId"] for m in matches] == ["u1", "u2"]
    assert matches[0] == {"Similarity": pytest.approx(similarity_from_distance(0.3), abs=1e-4),
                          "User": {"UserId": "u1", "UserStatus": "ACTIVE"}}
    assert list(matches[0]) == ["Similarity", "User"]
    assert list(matches[0]["User"]) == ["UserId", "UserStatus"]


def test_search_users_by_face_of_a_user_returns_that_user(ctx, people):
    matches = users.search_users(ctx, req(FaceId=people[0]))["UserMatches"]
    assert matches[0]["User"]["UserId"] == "u1"
    assert matches[0]["Similarity"] == 100.0


def test_search_users_by_user_excludes_itself(ctx, people):
    response = users.search_users(ctx, req(UserId="u1"))
    assert list(response) == ["UserMatches", "FaceModelVersion", "SearchedUser"]
    assert response["SearchedUser"] == {"UserId": "u1"}
    # u2's face is 0.4 from ids[0] (sqrt(0.05^2 + 0.4^2) from ids[1]): the best pair counts.
    assert [m["User"]["UserId"] for m in response["UserMatches"]] == ["u2"]
    assert response["UserMatches"][0]["Similarity"] == pytest.approx(
        similarity_from_distance(0.4), abs=1e-4)


def test_search_users_threshold_and_max_users(ctx, people):
    everyone = users.search_users(ctx, req(FaceId=people[4], UserMatchThreshold=0))
    assert [m["User"]["UserId"] for m in everyone["UserMatches"]] == ["u1", "u2", "u3"]
    top = users.search_users(ctx, req(FaceId=people[4], UserMatchThreshold=0, MaxUsers=1))
    assert [m["User"]["UserId"] for m in top["UserMatches"]] == ["u1"]
    strict = users.search_users(ctx, req(FaceId=people[4], UserMatchThreshold=99))
    assert strict["UserMatches"] == []


def test_search_users_by_user_without_faces(ctx, people):
    response = users.search_users(ctx, req(UserId="u4", UserMatchThreshold=0))
    assert response == {"UserMatches": [], "FaceModelVersion": "1.0",
                        "SearchedUser": {"UserId": "u4"}}


@pytest.mark.parametrize("members", [{}, {"UserId": "u1", "FaceId": MISSING}])
def test_search_users_needs_exactly_one_of_user_and_face(ctx, people, members):
    with pytest.raises(InvalidParameterException) as raised:
        users.search_users(ctx, req(**members))
    assert raised.value.code == "InvalidParameterException"


def test_search_users_unknown_ids(ctx, people):
    with pytest.raises(InvalidParameterException) as raised:
        users.search_users(ctx, req(FaceId=MISSING))
    assert raised.value.message == "faceId was not found in the collection."
    with pytest.raises(ResourceNotFoundException) as raised:
        users.search_users(ctx, req(UserId="ghost"))
    assert raised.value.message == "The user id: ghost does not exist"


def test_match_users_helper_for_search_by_image(ctx, people):
    with Store(ctx) as store:
        matches = users.match_users(store.open_collection("c"), vec((1, 0.02)))
    assert [m["User"]["UserId"] for m in matches] == ["u1", "u2"]
