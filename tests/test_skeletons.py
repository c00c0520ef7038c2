"""--generate-cli-skeleton output: the fake response is built as botocore's ArgumentGenerator
(use_member_names) builds it, so it matches `aws rekognition ... --generate-cli-skeleton output`."""

from __future__ import annotations

import json

from tests.cli_helpers import run_cli


def skeleton(capsys, *args):
    code, out, err = run_cli(capsys, *args, "--generate-cli-skeleton", "output")
    assert (code, err) == (0, "")
    return json.loads(out)


def test_scalar_list_items_are_named_after_the_item_shape(capsys):
    assert skeleton(capsys, "list-collections") == {
        "CollectionIds": ["CollectionId"], "NextToken": "NextToken",
        "FaceModelVersions": ["String"]}


def test_enum_list_items_are_named_after_the_enum_shape(capsys):
    response = skeleton(capsys, "delete-faces", "--collection-id", "c", "--face-ids", "f")
    assert response["DeletedFaces"] == ["FaceId"]
    assert response["UnsuccessfulFaceDeletions"] == [
        {"FaceId": "FaceId", "UserId": "UserId", "Reasons": ["UnsuccessfulFaceDeletionReason"]}]


def test_timestamps_are_the_epoch_and_map_values_empty(capsys):
    described = skeleton(capsys, "describe-collection", "--collection-id", "c")
    assert described["CreationTimestamp"] == "1970-01-01T00:00:00"
    assert described["CollectionARN"] == "CollectionARN"
    tags = skeleton(capsys, "list-tags-for-resource", "--resource-arn", "arn")
    assert tags == {"Tags": {"KeyName": ""}}


def test_text_output_of_the_skeleton(capsys):
    code, out, _ = run_cli(capsys, "list-collections", "--generate-cli-skeleton", "output",
                           "--output", "text")
    assert code == 0
    assert out == "NextToken\nCOLLECTIONIDS\tCollectionId\nFACEMODELVERSIONS\tString\n"
