"""Tag keys and values are held to AWS's patterns and lengths: letters, separators (\\p{Z}),
numbers and _.:/=+-@; no control characters; keys 1-128 not starting with aws:, values 0-256.
Violations answer as the service does for map and list members."""

from __future__ import annotations

import json
import unicodedata

import pytest

from rekcli.service import validation
from tests.cli_helpers import run_cli

KEY_PATTERN = r"^(?!aws:)[\p{L}\p{Z}\p{N}_.:/=+\-@]*$"
VALUE_PATTERN = r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$"
PREFIX = ("\nrekcli: [ERROR]: An error occurred (InvalidParameterException) when calling the CreateCollection "
          "operation: 1 validation error detected: ")


def create(capsys, tags: dict, collection_id: str = "c"):
    request = json.dumps({"CollectionId": collection_id, "Tags": tags})
    return run_cli(capsys, "create-collection", "--cli-input-json", request)


def collection_arn(capsys, collection_id: str) -> str:
    code, out, _ = run_cli(capsys, "describe-collection", "--collection-id", collection_id)
    return json.loads(out)["CollectionARN"]


@pytest.mark.parametrize("character", ["\t", "\n", "\r", "\x00", "\x1b", "\x1f", "\x7f",
                                       "\x85", "\u200b"])
def test_control_and_format_characters_are_refused_in_keys_and_values(capsys, character):
    code, _, err = create(capsys, {f"a{character}b": "v"})
    assert code == 254
    assert err == (PREFIX + f"Value '{{a{character}b=v}}' at 'tags' failed to satisfy constraint: "
                   f"Map keys must satisfy constraint: [Member must satisfy regular expression "
                   f"pattern: {KEY_PATTERN}]\n")
    code, _, err = create(capsys, {"k": f"x{character}"})
    assert code == 254
    assert err == (PREFIX + f"Value '{{k=x{character}}}' at 'tags' failed to satisfy constraint: "
                   f"Map value must satisfy constraint: [Member must satisfy regular expression "
                   f"pattern: {VALUE_PATTERN}]\n")


def test_letters_numbers_separators_and_the_punctuation_are_accepted(capsys):
    tags = {"Ünïcode Ключ 名前 ٣": "a b\u00a0c\u3000d", "_.:/=+-@": "", "x\u2028y": "①"}
    code, out, err = create(capsys, tags)
    assert (code, err) == (0, "")
    arn = collection_arn(capsys, "c")
    code, out, _ = run_cli(capsys, "list-tags-for-resource", "--resource-arn", arn)
    assert json.loads(out)["Tags"] == tags


def test_aws_prefix_and_lengths(capsys):
    code, _, err = create(capsys, {"aws:owner": "me"})
    assert code == 254 and "Map keys must satisfy constraint: [Member must satisfy regular" in err
    assert create(capsys, {"awsx:owner": "me"}, "c1")[0] == 0
    code, _, err = create(capsys, {"": "v"})   # minimums are checked before sending, as aws does
    assert (code, err) == (252, "\nrekcli: [ERROR]: An error occurred (ParamValidation): "
                           "Parameter validation failed:\nInvalid length for parameter Tags "
                           "(key: ), value: 0, valid min length: 1\n")
    code, _, err = create(capsys, {"k" * 129: "v"})
    assert "[Member must have length less than or equal to 128]" in err
    code, _, err = create(capsys, {"k": "v" * 257})
    assert "Map value must satisfy constraint: [Member must have length less than or equal " \
           "to 256]" in err
    assert create(capsys, {"k" * 128: "v" * 256}, "c2")[0] == 0


def test_both_constraints_broken_are_both_named(capsys):
    code, _, err = create(capsys, {"k": "\x01" * 257})
    assert ("Map value must satisfy constraint: [Member must have length less than or equal to "
            "256, Member must satisfy regular expression pattern: " + VALUE_PATTERN + "]") in err


def test_untag_keys_are_checked_as_list_members(capsys):
    run_cli(capsys, "create-collection", "--collection-id", "c")
    arn = collection_arn(capsys, "c")
    code, _, err = run_cli(capsys, "untag-resource", "--resource-arn", arn,
                           "--tag-keys", "ok", "aws:x")
    assert code == 254
    assert ("Value '[ok, aws:x]' at 'tagKeys' failed to satisfy constraint: Member must satisfy "
            "constraint: [Member must satisfy regular expression pattern: " + KEY_PATTERN + "]"
            ) in err


def test_separator_class_is_exactly_unicode_z():
    compiled = validation._compiled(VALUE_PATTERN)
    for code_point in range(0, 0x3100):
        character = chr(code_point)
        category = unicodedata.category(character)
        expected = category[0] in "LZN" or character in "_.:/=+-@"
        assert bool(compiled.fullmatch(character)) == expected, (hex(code_point), category)
