"""argv -> request dict: the aws CLI v2 input grammar (reference §3)."""

from __future__ import annotations

import base64
import json

import pytest

from cli_helpers import request_for
from rekcli.cli.errors import GeneralError, ParamValidationError, UnknownOptionsError, UsageError

UUID_A = "11111111-1111-4111-8111-111111111111"
UUID_B = "22222222-2222-4222-8222-222222222222"


def test_scalar_options_are_converted_by_model_type():
    request = request_for("search-faces", "--collection-id", "c", "--face-id", UUID_A,
                          "--max-faces", "3", "--face-match-threshold", "90")
    assert request == {"CollectionId": "c", "FaceId": UUID_A, "MaxFaces": 3,
                       "FaceMatchThreshold": 90.0}


def test_list_option_takes_space_separated_values():
    request = request_for("delete-faces", "--collection-id", "c", "--face-ids", UUID_A, UUID_B)
    assert request["FaceIds"] == [UUID_A, UUID_B]


def test_list_option_accepts_a_json_list():
    request = request_for("delete-faces", "--collection-id", "c", "--face-ids", json.dumps([UUID_A]))
    assert request["FaceIds"] == [UUID_A]


def test_global_options_may_follow_the_command_options():
    request = request_for("describe-collection", "--collection-id", "c", "--output", "text")
    assert request == {"CollectionId": "c"}


def test_unambiguous_prefix_is_accepted():
    assert request_for("describe-collection", "--coll", "c") == {"CollectionId": "c"}


def test_ambiguous_prefix_is_a_usage_error():
    with pytest.raises(UsageError, match="ambiguous option: --ima could match --image, --image-bytes"):
        request_for("detect-faces", "--ima", "x")


def test_last_repeated_option_wins():
    assert request_for("describe-collection", "--collection-id", "a", "--collection-id", "b") == {
        "CollectionId": "b"}


def test_equals_form_allows_values_starting_with_a_dash():
    request = request_for("index-faces", "--collection-id", "c", "--image-bytes", "aGVsbG8=",
                          "--external-image-id=-odd")
    assert request["ExternalImageId"] == "-odd"


def test_value_starting_with_a_dash_needs_equals():
    with pytest.raises(UsageError, match="argument --external-image-id: expected one argument"):
        request_for("index-faces", "--collection-id", "c", "--external-image-id", "-odd")


def test_unknown_options_are_listed_in_order():
    with pytest.raises(UnknownOptionsError, match="Unknown options: --bogus, 1"):
        request_for("describe-collection", "--collection-id", "c", "--bogus", "1")


def test_structure_shorthand_is_coerced_by_the_model():
    request = request_for("detect-faces", "--image", "S3Object={Bucket=my-bucket,Name=photos/a.jpg}")
    assert request["Image"] == {"S3Object": {"Bucket": "my-bucket", "Name": "photos/a.jpg"}}


def test_structure_json():
    request = request_for("detect-faces", "--image", '{"S3Object": {"Bucket": "bkt", "Name": "k"}}')
    assert request["Image"] == {"S3Object": {"Bucket": "bkt", "Name": "k"}}


def test_invalid_json_names_the_option():
    with pytest.raises(ParamValidationError, match="Error parsing parameter '--image': Invalid JSON"):
        request_for("detect-faces", "--image", '{"S3Object": ')


def test_map_shorthand_for_tags():
    request = request_for("create-collection", "--collection-id", "c", "--tags", "team=faces,env=prod")
    assert request["Tags"] == {"team": "faces", "env": "prod"}


def test_image_bytes_helper_reads_fileb(tmp_path):
    photo = tmp_path / "p.jpg"
    photo.write_bytes(b"\xff\xd8\xff raw")
    request = request_for("detect-faces", "--image-bytes", f"fileb://{photo}")
    assert request["Image"] == {"Bytes": b"\xff\xd8\xff raw"}


def test_image_bytes_text_is_base64_decoded_by_default():
    request = request_for("detect-faces", "--image-bytes", base64.b64encode(b"hello").decode())
    assert request["Image"]["Bytes"] == b"hello"


def test_raw_in_base64_out_sends_text_as_utf8():
    request = request_for("detect-faces", "--image-bytes", "hello", binary_format="raw-in-base64-out")
    assert request["Image"]["Bytes"] == b"hello"


def test_base64_may_be_wrapped_over_lines_as_the_base64_tool_writes_it():
    """aws decodes without validation: characters outside the alphabet are skipped."""
    import base64

    data = bytes(range(256)) * 4
    wrapped = base64.encodebytes(data).decode()  # 76-character lines
    assert "\n" in wrapped
    assert request_for("detect-faces", "--image-bytes", wrapped)["Image"]["Bytes"] == data
    assert request_for("detect-faces", "--image-bytes", "aGVs bG8=")["Image"]["Bytes"] == b"hello"


def test_invalid_base64_is_a_general_error():
    with pytest.raises(GeneralError, match='Invalid base64: "not base64!"'):
        request_for("detect-faces", "--image-bytes", "not base64!")


def test_blob_helper_merges_into_the_structure(tmp_path):
    request = request_for("compare-faces", "--source-image", "S3Object={Bucket=bkt,Name=a.jpg}",
                          "--target-image-bytes", "aGk=")
    assert request["SourceImage"] == {"S3Object": {"Bucket": "bkt", "Name": "a.jpg"}}
    assert request["TargetImage"] == {"Bytes": b"hi"}


def test_missing_image_is_a_botocore_validation_error():
    with pytest.raises(ParamValidationError) as raised:
        request_for("compare-faces", "--source-image-bytes", "aGk=")
    assert raised.value.message == ('Parameter validation failed:\n'
                                    'Missing required parameter in input: "TargetImage"')


def test_file_url_loads_text(tmp_path):
    spec = tmp_path / "image.json"
    spec.write_text('{"S3Object": {"Bucket": "bkt", "Name": "n"}}')
    assert request_for("detect-faces", "--image", f"file://{spec}")["Image"]["S3Object"]["Name"] == "n"


def test_missing_param_file_message():
    with pytest.raises(ParamValidationError) as raised:
        request_for("detect-faces", "--image", "file:///no/such/file.json")
    assert raised.value.message == (
        "Error parsing parameter '--image': Unable to load paramfile file:///no/such/file.json: "
        "[Errno 2] No such file or directory: '/no/such/file.json'")


def test_integer_option_with_bad_value_is_a_general_error():
    with pytest.raises(GeneralError, match="invalid literal for int\\(\\) with base 10: 'abc'"):
        request_for("search-faces", "--collection-id", "c", "--face-id", UUID_A, "--max-faces", "abc")


def test_float_option_with_bad_value_is_a_usage_error():
    with pytest.raises(UsageError, match="argument --similarity-threshold: invalid float value: 'abc'"):
        request_for("compare-faces", "--similarity-threshold", "abc")


def test_botocore_minimums_are_checked_client_side():
    with pytest.raises(ParamValidationError) as raised:
        request_for("index-faces", "--collection-id", "", "--image-bytes", "aGk=", "--max-faces", "0")
    assert raised.value.message == (
        "Parameter validation failed:\n"
        "Invalid length for parameter CollectionId, value: 0, valid min length: 1\n"
        "Invalid value for parameter MaxFaces, value: 0, valid min value: 1")


def test_maximums_and_patterns_are_left_to_the_service():
    request = request_for("describe-collection", "--collection-id", "has/slash")
    assert request == {"CollectionId": "has/slash"}


def test_cli_input_json_merges_shallowly_under_the_command_line():
    request = request_for("create-collection", "--cli-input-json",
                          '{"CollectionId": "file", "Tags": {"a": "1", "b": "2"}}', "--tags", "c=3")
    assert request == {"CollectionId": "file", "Tags": {"c": "3"}}


def test_cli_input_yaml(tmp_path):
    spec = tmp_path / "in.yaml"
    spec.write_text("CollectionId: from-yaml\n")
    assert request_for("describe-collection", "--cli-input-yaml", f"file://{spec}") == {
        "CollectionId": "from-yaml"}


def test_cli_input_json_values_are_validated_for_type():
    with pytest.raises(ParamValidationError, match="Invalid type for parameter MaxFaces, value: abc"):
        request_for("index-faces", "--cli-input-json",
                    '{"CollectionId": "c", "Image": {"Bytes": "aGk="}, "MaxFaces": "abc"}')


def test_cli_input_json_blob_text_is_base64():
    request = request_for("detect-faces", "--cli-input-json", '{"Image": {"Bytes": "aGk="}}')
    assert request["Image"]["Bytes"] == b"hi"


def test_both_cli_inputs_are_refused():
    with pytest.raises(ParamValidationError, match="Only one --cli-input- parameter may be specified."):
        request_for("describe-collection", "--cli-input-json", "{}", "--cli-input-yaml", "{}")


def test_invalid_cli_input_json_names_it_without_dashes():
    with pytest.raises(ParamValidationError, match="Error parsing parameter 'cli-input-json': Invalid JSON received."):
        request_for("describe-collection", "--cli-input-json", "{nope")


def test_cli_input_json_must_be_an_object():
    with pytest.raises(ParamValidationError, match="Invalid type: expecting map, received <class 'list'>"):
        request_for("describe-collection", "--cli-input-json", "[]")


def test_unknown_member_in_structure():
    with pytest.raises(ParamValidationError, match='Unknown parameter in Image: "Foo", must be one of: Bytes, S3Object'):
        request_for("detect-faces", "--image", '{"Foo": 1}')


def test_idempotency_token_is_filled_in():
    request = request_for("create-user", "--collection-id", "c", "--user-id", "u")
    assert len(request["ClientRequestToken"]) == 36


def test_given_idempotency_token_is_kept():
    request = request_for("create-user", "--collection-id", "c", "--user-id", "u",
                          "--client-request-token", "tok-1")
    assert request["ClientRequestToken"] == "tok-1"


def test_attributes_list():
    request = request_for("detect-faces", "--image-bytes", "aGk=", "--attributes", "ALL")
    assert request["Attributes"] == ["ALL"]


def test_null_members_are_type_errors_as_in_botocore():
    with pytest.raises(ParamValidationError) as raised:
        request_for("compare-faces", "--source-image-bytes", "aGk=", "--target-image-bytes", "aGk=",
                    "--cli-input-json", '{"SimilarityThreshold": null}')
    assert raised.value.message == (
        "Parameter validation failed:\nInvalid type for parameter SimilarityThreshold, value: None, "
        "type: <class 'NoneType'>, valid types: <class 'float'>, <class 'decimal.Decimal'>, <class 'int'>")
