"""Service: CreateCollection, DeleteCollection, DescribeCollection, ListCollections, tagging."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from rekcli.service import collections as svc
from rekcli.service.context import ServiceContext
from rekcli.service.errors import (
    InvalidPaginationTokenException,
    InvalidParameterException,
    ResourceAlreadyExistsException,
    ResourceNotFoundException,
    ServiceQuotaExceededException,
)

REPO = Path(__file__).resolve().parent.parent


class Clock:
    def __init__(self, now=1569444828.2741234):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def ctx(tmp_path):
    return ServiceContext(data_dir=tmp_path / "data", region="us-west-2",
                          account_id="123456789012", clock=Clock())


def create(ctx, collection_id, **extra):
    return svc.create_collection(ctx, {"CollectionId": collection_id, **extra})


def test_create_collection_response(ctx):
    response = create(ctx, "MyCollection")
    assert response == {
        "StatusCode": 200,
        "CollectionArn": "aws:rekognition:us-west-2:123456789012:collection/MyCollection",
        "FaceModelVersion": "1.0",
    }
    assert list(response) == ["StatusCode", "CollectionArn", "FaceModelVersion"]


def test_create_existing_collection(ctx):
    create(ctx, "family")
    with pytest.raises(ResourceAlreadyExistsException) as raised:
        create(ctx, "family")
    assert raised.value.code == "ResourceAlreadyExistsException"
    assert raised.value.message == "The collection id: family already exists."


def test_create_with_tags(ctx):
    create(ctx, "family", Tags={"team": "a", "env": "dev"})
    arn = "arn:aws:rekognition:us-west-2:123456789012:collection/family"
    assert svc.list_tags_for_resource(ctx, {"ResourceArn": arn}) == {
        "Tags": {"env": "dev", "team": "a"}}


def test_create_with_too_many_tags(ctx):
    with pytest.raises(ServiceQuotaExceededException):
        create(ctx, "family", Tags={f"k{i}": "v" for i in range(51)})
    with pytest.raises(ResourceNotFoundException):
        svc.describe_collection(ctx, {"CollectionId": "family"})


def test_describe_collection_response(ctx):
    create(ctx, "family")
    response = svc.describe_collection(ctx, {"CollectionId": "family"})
    assert list(response) == ["FaceCount", "FaceModelVersion", "CollectionARN",
                              "CreationTimestamp", "UserCount"]
    assert response["FaceCount"] == 0
    assert response["UserCount"] == 0
    assert response["FaceModelVersion"] == "1.0"
    assert response["CollectionARN"] == (
        "arn:aws:rekognition:us-west-2:123456789012:collection/family")
    stamp = response["CreationTimestamp"]
    assert stamp == datetime(2019, 9, 25, 20, 53, 48, 274000, tzinfo=timezone.utc)
    assert stamp.tzinfo is not None and stamp.utcoffset().total_seconds() == 0


def test_describe_counts_faces_and_users(ctx):
    import numpy as np

    from rekcli.service import users
    from rekcli.store import NewFace, Store

    create(ctx, "family")
    with Store(ctx) as store:
        vectors = np.eye(128, dtype=np.float32)[:3]
        box = {"Width": 0.1, "Height": 0.1, "Left": 0.1, "Top": 0.1}
        store.open_collection("family").add_faces("img", None,
                                                  [NewFace(box, 99.0, v) for v in vectors])
    users.create_user(ctx, {"CollectionId": "family", "UserId": "u1"})
    users.create_user(ctx, {"CollectionId": "family", "UserId": "u2"})
    response = svc.describe_collection(ctx, {"CollectionId": "family"})
    assert (response["FaceCount"], response["UserCount"]) == (3, 2)


def test_describe_missing_collection(ctx):
    with pytest.raises(ResourceNotFoundException) as raised:
        svc.describe_collection(ctx, {"CollectionId": "nope"})
    assert raised.value.code == "ResourceNotFoundException"
    assert raised.value.message == "The collection id: nope does not exist"


def test_delete_collection(ctx):
    create(ctx, "family")
    assert svc.delete_collection(ctx, {"CollectionId": "family"}) == {"StatusCode": 200}
    with pytest.raises(ResourceNotFoundException):
        svc.describe_collection(ctx, {"CollectionId": "family"})
    with pytest.raises(ResourceNotFoundException) as raised:
        svc.delete_collection(ctx, {"CollectionId": "family"})
    assert raised.value.message == "The collection id: family does not exist"


def test_collections_are_per_region(ctx, tmp_path):
    create(ctx, "family")
    elsewhere = ServiceContext(data_dir=ctx.data_dir, region="eu-west-1")
    assert svc.list_collections(elsewhere, {}) == {"CollectionIds": [], "FaceModelVersions": []}
    with pytest.raises(ResourceNotFoundException):
        svc.describe_collection(elsewhere, {"CollectionId": "family"})


def test_list_collections_empty(ctx):
    assert svc.list_collections(ctx, {}) == {"CollectionIds": [], "FaceModelVersions": []}
    assert not ctx.data_dir.exists()


def test_list_collections_sorted_with_parallel_versions(ctx):
    for name in ["zeta", "Alpha", "beta", "alpha", "0-first"]:
        create(ctx, name)
    response = svc.list_collections(ctx, {})
    assert list(response) == ["CollectionIds", "FaceModelVersions"]
    assert response["CollectionIds"] == ["0-first", "Alpha", "alpha", "beta", "zeta"]
    assert response["FaceModelVersions"] == ["1.0"] * 5


def collect_pages(ctx, page_size):
    ids, versions, pages, token = [], [], 0, None
    while True:
        request = {"MaxResults": page_size}
        if token:
            request["NextToken"] = token
        response = svc.list_collections(ctx, request)
        assert list(response)[0] == "CollectionIds"
        assert list(response)[-1] == "FaceModelVersions"
        ids += response["CollectionIds"]
        versions += response["FaceModelVersions"]
        pages += 1
        token = response.get("NextToken")
        if token is None:
            return ids, versions, pages
        assert len(token) <= 255
        assert list(response) == ["CollectionIds", "NextToken", "FaceModelVersions"]


def test_list_collections_pages(ctx):
    names = [f"c{i:02d}" for i in range(7)]
    for name in reversed(names):
        create(ctx, name)
    assert collect_pages(ctx, 3) == (names, ["1.0"] * 7, 3)
    assert collect_pages(ctx, 7) == (names, ["1.0"] * 7, 1)
    assert collect_pages(ctx, 0) == (names, ["1.0"] * 7, 1)  # 0 means the default page


def test_list_collections_token_survives_deletion_of_last_seen(ctx):
    for name in ["a", "b", "c", "d"]:
        create(ctx, name)
    first = svc.list_collections(ctx, {"MaxResults": 2})
    assert first["CollectionIds"] == ["a", "b"]
    svc.delete_collection(ctx, {"CollectionId": "b"})
    second = svc.list_collections(ctx, {"MaxResults": 2, "NextToken": first["NextToken"]})
    assert second["CollectionIds"] in (["c", "d"], ["d"])
    svc.delete_collection(ctx, {"CollectionId": "a"})  # still fine


def alter(token: str) -> str:
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[3] ^= 1
    return base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()


def test_list_collections_rejects_bad_tokens(ctx):
    for name in ["a", "b", "c"]:
        create(ctx, name)
    token = svc.list_collections(ctx, {"MaxResults": 1})["NextToken"]
    other_region = ServiceContext(data_dir=ctx.data_dir, region="eu-west-1")
    create(other_region, "x")
    for bad in ["garbage", "AAAA", alter(token), token[:-2], token + "A", "é" * 10]:
        with pytest.raises(InvalidPaginationTokenException) as raised:
            svc.list_collections(ctx, {"NextToken": bad})
        assert raised.value.code == "InvalidPaginationTokenException"
    with pytest.raises(InvalidPaginationTokenException):
        svc.list_collections(other_region, {"NextToken": token})
    # An empty token is no token: the first page.
    assert svc.list_collections(ctx, {"NextToken": "", "MaxResults": 1})["CollectionIds"] == ["a"]


def test_list_collections_token_with_no_catalog(tmp_path):
    ctx = ServiceContext(data_dir=tmp_path / "empty")
    with pytest.raises(InvalidPaginationTokenException):
        svc.list_collections(ctx, {"NextToken": "AQAAAAAAAAAB"})


# -- tagging ---------------------------------------------------------------------------------

ARN = "arn:aws:rekognition:us-west-2:123456789012:collection/family"


def test_tag_untag_list(ctx):
    create(ctx, "family")
    assert svc.list_tags_for_resource(ctx, {"ResourceArn": ARN}) == {"Tags": {}}
    assert svc.tag_resource(ctx, {"ResourceArn": ARN, "Tags": {"b": "2", "a": "1"}}) == {}
    assert svc.tag_resource(ctx, {"ResourceArn": ARN, "Tags": {"a": "one", "c": ""}}) == {}
    assert svc.list_tags_for_resource(ctx, {"ResourceArn": ARN}) == {
        "Tags": {"a": "one", "b": "2", "c": ""}}
    assert svc.untag_resource(ctx, {"ResourceArn": ARN, "TagKeys": ["a", "missing"]}) == {}
    assert svc.list_tags_for_resource(ctx, {"ResourceArn": ARN}) == {"Tags": {"b": "2", "c": ""}}


def test_tag_limit_is_50(ctx):
    create(ctx, "family")
    svc.tag_resource(ctx, {"ResourceArn": ARN, "Tags": {f"k{i}": "v" for i in range(50)}})
    with pytest.raises(ServiceQuotaExceededException) as raised:
        svc.tag_resource(ctx, {"ResourceArn": ARN, "Tags": {"one-more": "v"}})
    assert raised.value.code == "ServiceQuotaExceededException"
    assert "50" in raised.value.message
    assert len(svc.list_tags_for_resource(ctx, {"ResourceArn": ARN})["Tags"]) == 50


@pytest.mark.parametrize("arn", [
    "arn:aws:rekognition:us-west-2:123456789012:collection/unknown",
    "arn:aws:rekognition:eu-west-1:123456789012:collection/family",
    "arn:aws:rekognition:us-west-2:999999999999:collection/family",
    "arn:aws:rekognition:us-west-2:123456789012:project/family",
    "arn:aws:s3:us-west-2:123456789012:collection/family",
    "arn:aws:rekognition:us-west-2:123456789012:collection/",
])
def test_tagging_unknown_resources(ctx, arn):
    create(ctx, "family")
    for call, extra in [(svc.tag_resource, {"Tags": {"a": "b"}}),
                        (svc.untag_resource, {"TagKeys": ["a"]}),
                        (svc.list_tags_for_resource, {})]:
        with pytest.raises(ResourceNotFoundException):
            call(ctx, {"ResourceArn": arn, **extra})


@pytest.mark.parametrize("arn", ["not-an-arn-at-all-xyz", "aws:rekognition:us-west-2:1:collection/f"])
def test_tagging_malformed_arn(ctx, arn):
    with pytest.raises(InvalidParameterException):
        svc.list_tags_for_resource(ctx, {"ResourceArn": arn})


def test_tagging_the_create_collection_arn_form_is_refused(ctx):
    create(ctx, "family")
    arn = create(ctx, "other")["CollectionArn"]  # no "arn:" prefix
    with pytest.raises(InvalidParameterException):
        svc.tag_resource(ctx, {"ResourceArn": arn, "Tags": {"a": "b"}})


def test_tags_go_with_the_collection(ctx):
    create(ctx, "family", Tags={"a": "1"})
    svc.delete_collection(ctx, {"CollectionId": "family"})
    create(ctx, "family")
    assert svc.list_tags_for_resource(ctx, {"ResourceArn": ARN}) == {"Tags": {}}


def test_describe_and_list_do_not_import_numpy(ctx):
    create(ctx, "family")
    script = (
        "import sys\n"
        "from rekcli.service.context import ServiceContext\n"
        "from rekcli.service.collections import describe_collection, list_collections\n"
        "ctx = ServiceContext(region='us-west-2')\n"
        "describe_collection(ctx, {'CollectionId': 'family'})\n"
        "assert list_collections(ctx, {})['CollectionIds'] == ['family']\n"
        "heavy = [m for m in ('numpy', 'cv2', 'dlib') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO), REKCLI_DATA_DIR=str(ctx.data_dir))
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True)
    assert proc.returncode == 0, proc.stderr.decode()
