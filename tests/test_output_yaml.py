"""--output yaml and yaml-stream: ruamel.yaml safe-dump output reproduced with PyYAML."""

from __future__ import annotations

import io
import json
import math

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.scanner import Scanner

from rekcli.cli.output import render_error_document, render_output, write_output, write_page
from rekcli.cli.output.yaml_format import (
    _Yaml12Resolver, dump_yaml, format_yaml, format_yaml_stream_page,
)

# Reference §1.8, in model order.
from output_examples import COMPARE_FACES  # noqa: E402 - the reference §1.8 input

COMPARE_FACES_YAML = """\
FaceMatches:
- Face:
    BoundingBox:
      Height: 0.33
      Left: 0.1
      Top: 0.12
      Width: 0.25
    Confidence: 99.9
    Pose:
      Pitch: 0.5
      Roll: -1.5
      Yaw: 3.0
  Similarity: 98.76
SourceImageFace:
  BoundingBox:
    Height: 0.42
    Left: 0.35
    Top: 0.2
    Width: 0.31
  Confidence: 99.99871063232422
SourceImageOrientationCorrection: ROTATE_0
UnmatchedFaces:
- BoundingBox:
    Height: 0.25
    Left: 0.6
    Top: 0.1
    Width: 0.2
  Confidence: 97.5
"""


def test_worked_example_sorted_block_style():
    text = format_yaml(COMPARE_FACES)
    assert text.startswith("FaceMatches:\n- Face:\n    BoundingBox:\n      Height: 0.33")
    assert text == COMPARE_FACES_YAML
    assert render_output(COMPARE_FACES, "yaml", operation_name="CompareFaces") == text


def test_worked_example_yaml_stream_is_one_list_item():
    text = format_yaml_stream_page(COMPARE_FACES)
    assert text.startswith("- FaceMatches:\n")
    expected = "".join(("- " if i == 0 else "  ") + line + "\n"
                       for i, line in enumerate(COMPARE_FACES_YAML.splitlines()))
    assert text == expected


@pytest.mark.parametrize("value, expected", [
    ("7.0", "'7.0'"),
    ("123456789012", "'123456789012'"),
    ("2023-11-14T22:13:20.123000+00:00", "'2023-11-14T22:13:20.123000+00:00'"),
    ("2023-11-14T22:13:20+00:00", "'2023-11-14T22:13:20+00:00'"),
    ("2023-11-14", "'2023-11-14'"),
    ("true", "'true'"),
    ("False", "'False'"),
    ("null", "'null'"),
    ("~", "'~'"),
    ("", "''"),
    ("1e5", "'1e5'"),
    ("0x1F", "'0x1F'"),
    ("0o17", "'0o17'"),
    ("1_000", "'1_000'"),
    (".inf", "'.inf'"),
    ("a: b", "'a: b'"),
    ("#tag", "'#tag'"),
    (" lead", "' lead'"),
    ("-", "'-'"),
    # YAML 1.2 (ruamel) has no yes/no/on/off booleans, unlike PyYAML's default.
    ("yes", "yes"),
    ("on", "on"),
    ("OFF", "OFF"),
    ("ROTATE_0", "ROTATE_0"),
    ("f3a8c5b0-1234-4bcd-9ef0-aabbccddeeff", "f3a8c5b0-1234-4bcd-9ef0-aabbccddeeff"),
    ("arn:aws:rekognition:us-east-1:123456789012:collection/c",
     "arn:aws:rekognition:us-east-1:123456789012:collection/c"),
])
def test_strings_that_read_as_other_types_are_single_quoted(value, expected):
    assert format_yaml({"Value": value}) == f"Value: {expected}\n"


@pytest.mark.parametrize("value, expected", [
    (None, "null"),
    (True, "true"),
    (False, "false"),
    (0, "0"),
    (3, "3"),
    (3.0, "3.0"),
    (-1.5, "-1.5"),
    (1e-05, "1e-05"),
    (1e16, "1e+16"),
    (99.99871063232422, "99.99871063232422"),
    (float("inf"), ".inf"),
    (float("-inf"), "-.inf"),
    (float("nan"), ".nan"),
])
def test_nested_scalars(value, expected):
    assert format_yaml({"Value": value}) == f"Value: {expected}\n"


@pytest.mark.parametrize("value, expected", [
    ("foo", '"foo"\n'),
    (5, "5\n"),
    (1.2, "1.2\n"),
    (True, "true\n"),
    (False, "false\n"),
    (None, "null\n"),
    ("", '""\n'),
    (0, "0\n"),
])
def test_top_level_scalars_are_written_as_json(value, expected):
    assert format_yaml(value) == expected


def test_empty_dict_prints_nothing_but_other_empties_print():
    assert format_yaml({}) == ""
    stream = io.StringIO()
    write_output({}, "yaml", operation_name="DeleteCollection", stream=stream)
    assert stream.getvalue() == ""
    assert format_yaml([]) == "[]\n"
    assert format_yaml({"Faces": [], "Tags": {}}) == "Faces: []\nTags: {}\n"


def test_list_under_a_key_starts_at_the_key_column():
    assert format_yaml({"Reasons": ["EXCEEDS_MAX_FACES", "LOW_SHARPNESS"]}) == (
        "Reasons:\n- EXCEEDS_MAX_FACES\n- LOW_SHARPNESS\n")
    assert format_yaml({"A": {"Ids": ["x"]}}) == "A:\n  Ids:\n  - x\n"


def test_top_level_list():
    assert format_yaml(["val1", "val2"]) == "- val1\n- val2\n"
    assert format_yaml([["a", 1], ["b", 2]]) == "- - a\n  - 1\n- - b\n  - 2\n"


def test_keys_are_sorted_even_for_a_multiselect_hash():
    assert format_yaml({"Z": 1, "A": 2}) == "A: 2\nZ: 1\n"


def test_non_ascii_is_written_raw():
    assert format_yaml({"ExternalImageId": "José_顔"}) == "ExternalImageId: José_顔\n"


# Bytes ruamel.yaml 0.19.1 YAML(typ='safe') (the aws CLI v2's writer) gave for these values:
# long strings fold at spaces past column 80, continuation lines indented two more.
RUAMEL_FOLDED = [
    ({"Message": " ".join(["word"] * 60)},
     "Message: word word word word word word word word word word word word word word word\n"
     "  word word word word word word word word word word word word word word word word\n"
     "  word word word word word word word word word word word word word word word word\n"
     "  word word word word word word word word word word word word word\n"),
    ({"Error": {"Code": "InvalidParameterException",
                "Message": "There are no faces in the image. Should be at least 1. " * 2}},
     "Error:\n  Code: InvalidParameterException\n"
     "  Message: 'There are no faces in the image. Should be at least 1. There are no faces\n"
     "    in the image. Should be at least 1. '\n"),
    ({"FaceRecords": [{"Face": {"ExternalImageId": "a" * 79 + " " + "b" * 10}}]},
     "FaceRecords:\n- Face:\n    ExternalImageId: " + "a" * 79 + "\n      bbbbbbbbbb\n"),
    ({"M": "a: b " * 20},
     "M: 'a: b a: b a: b a: b a: b a: b a: b a: b a: b a: b a: b a: b a: b a: b a: b a:\n"
     "  b a: b a: b a: b a: b '\n"),
]


@pytest.mark.parametrize("value,expected", RUAMEL_FOLDED)
def test_long_strings_fold_as_the_aws_cli_writes_them(value, expected):
    assert format_yaml(value) == expected
    assert yaml.safe_load(expected) == value


def test_a_string_without_spaces_is_never_folded():
    assert format_yaml({"Id": "x" * 200}) == "Id: " + "x" * 200 + "\n"


def test_multiline_string_is_quoted():
    assert format_yaml({"a": "line1\nline2"}) == "a: 'line1\n\n  line2'\n"


def test_yaml_stream_pages():
    stream = io.StringIO()
    for page in ({"TableNames": ["MyTable"]}, {"TableNames": ["MyTable2"]}):
        write_page(page, "yaml-stream", operation_name="ListTables", stream=stream)
    assert stream.getvalue() == (
        "- TableNames:\n  - MyTable\n- TableNames:\n  - MyTable2\n")


def test_yaml_stream_shows_raw_next_token_and_never_merges():
    stream = io.StringIO()
    write_page({"Faces": [{"FaceId": "f0"}], "NextToken": "2"}, "yaml-stream",
               operation_name="ListFaces", stream=stream, is_first_page=True)
    write_page({"Faces": [{"FaceId": "f2"}]}, "yaml-stream", operation_name="ListFaces",
               stream=stream, is_first_page=False)
    assert stream.getvalue() == (
        "- Faces:\n  - FaceId: f0\n  NextToken: '2'\n- Faces:\n  - FaceId: f2\n")


@pytest.mark.parametrize("page, expected", [
    (None, "- null\n"),
    ({}, "- {}\n"),
    ([], "- []\n"),
    ("f00", "- f00\n"),
    (5, "- 5\n"),
])
def test_yaml_stream_scalar_and_empty_pages(page, expected):
    assert format_yaml_stream_page(page) == expected
    stream = io.StringIO()
    write_output(page, "yaml-stream", operation_name="ListFaces", stream=stream)
    assert stream.getvalue() == expected


def test_error_document_yaml():
    error = {"Code": "ResourceNotFoundException", "Message": "The collection id: x"}
    assert render_error_document(error, "yaml") == (
        "Code: ResourceNotFoundException\nMessage: 'The collection id: x'\n")


class _Yaml12Loader(Reader, Scanner, Parser, Composer, SafeConstructor, _Yaml12Resolver):
    """Reads YAML back with the same 1.2 rules, to check the quoting decisions."""

    def __init__(self, stream):
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        _Yaml12Resolver.__init__(self)


# Printable text without the line-break characters PyYAML's reader normalises.
yaml_text = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"),
                                  blacklist_characters="\x85\ufeff"), max_size=12)
round_trip_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | yaml_text,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(yaml_text, children, max_size=4),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(round_trip_values)
def test_yaml_reads_back_as_the_same_value(value):
    text = format_yaml(value)
    if isinstance(value, dict) and not value:
        assert text == ""
        return
    if isinstance(value, (dict, list)):
        loaded = yaml.load(text, Loader=_Yaml12Loader)
    else:
        loaded = json.loads(text)  # top-level scalars are written as JSON
    assert loaded == value


any_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(any_values)
def test_yaml_and_yaml_stream_never_crash(value):
    assert isinstance(format_yaml(value), str)
    page = format_yaml_stream_page(value)
    assert page.startswith("-")
    assert page.endswith("\n")


def test_nan_round_trips_as_nan():
    assert math.isnan(yaml.load(dump_yaml({"a": float("nan")}), Loader=_Yaml12Loader)["a"])
