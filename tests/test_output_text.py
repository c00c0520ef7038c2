"""--output text: the layout rules of reference §1.3 and the §1.8 worked example."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rekcli.cli.output import (
    next_token_page, render_error_document, render_output, write_output, write_page,
)
from rekcli.cli.output.text_format import format_text

# Reference §1.8, in model order.
from output_examples import COMPARE_FACES  # noqa: E402 - the reference §1.8 input


def test_worked_example_compare_faces():
    assert format_text(COMPARE_FACES) == (
        "ROTATE_0\n"
        "FACEMATCHES\t98.76\n"
        "FACE\t99.9\n"
        "BOUNDINGBOX\t0.33\t0.1\t0.12\t0.25\n"
        "POSE\t0.5\t-1.5\t3.0\n"
        "SOURCEIMAGEFACE\t99.99871063232422\n"
        "BOUNDINGBOX\t0.42\t0.35\t0.2\t0.31\n"
        "UNMATCHEDFACES\t97.5\n"
        "BOUNDINGBOX\t0.25\t0.6\t0.1\t0.2\n"
    )


def test_through_the_registry():
    stream = io.StringIO()
    write_output(COMPARE_FACES, "text", operation_name="CompareFaces", stream=stream)
    assert stream.getvalue() == format_text(COMPARE_FACES)


def test_booleans_print_in_python_spelling():
    assert format_text({"Smile": {"Value": True, "Confidence": 95.5}}) == "SMILE\t95.5\tTrue\n"
    assert format_text({"EyesOpen": {"Value": False, "Confidence": 1}}) == \
        "EYESOPEN\t1\tFalse\n"


def test_scalar_list_under_a_key_is_one_line_per_item():
    assert format_text({"Reasons": ["EXCEEDS_MAX_FACES", "LOW_SHARPNESS"]}) == (
        "REASONS\tEXCEEDS_MAX_FACES\nREASONS\tLOW_SHARPNESS\n")


def test_null_prints_none():
    assert format_text(None) == "None\n"


@pytest.mark.parametrize("value, expected", [
    ("f00", "f00\n"),
    ("", "\n"),
    (0, "0\n"),
    (False, "False\n"),
    (1e-05, "1e-05\n"),
    (3.0, "3.0\n"),
    ({}, ""),
    ([], ""),
    ({"Faces": []}, ""),
    ({"Faces": [], "Tags": {}}, ""),
])
def test_scalars_and_empty_values(value, expected):
    assert format_text(value) == expected


def test_two_face_matches_repeat_the_prefix():
    response = {"FaceMatches": [
        {"Similarity": 99.1, "Face": {"FaceId": "f1", "Confidence": 99.5}},
        {"Similarity": 85.0, "Face": {"FaceId": "f2", "Confidence": 98.0}},
    ]}
    assert format_text(response) == (
        "FACEMATCHES\t99.1\nFACE\t99.5\tf1\nFACEMATCHES\t85.0\nFACE\t98.0\tf2\n")


def test_list_of_dicts_uses_union_of_keys_with_empty_fields():
    response = {"Faces": [{"FaceId": "f1", "ImageId": "i1"},
                          {"FaceId": "f2", "ExternalImageId": "x"}]}
    assert format_text(response) == "FACES\t\tf1\ti1\nFACES\tx\tf2\t\n"


def test_top_level_scalar_list_is_one_tab_joined_line():
    assert format_text(["f1", "f2", None, True]) == "f1\tf2\tNone\tTrue\n"


def test_top_level_list_of_lists_is_one_row_per_inner_list():
    assert format_text([["f1", 99.5], ["f2", 98.0]]) == "f1\t99.5\nf2\t98.0\n"


def test_list_of_lists_prints_scalars_first():
    assert format_text(["a", ["b", "c"], "d"]) == "a\td\nb\tc\n"


def test_list_of_lists_under_a_key():
    assert format_text({"Rows": [["a", "b"], ["c"]]}) == "ROWS\ta\nROWS\tb\nROWS\tc\n"


def test_list_collections_shape():
    response = {"CollectionIds": ["alpha", "beta"], "FaceModelVersions": ["7.0", "7.0"]}
    assert format_text(response) == (
        "COLLECTIONIDS\talpha\nCOLLECTIONIDS\tbeta\n"
        "FACEMODELVERSIONS\t7.0\nFACEMODELVERSIONS\t7.0\n")


def test_top_level_dict_scalars_are_sorted_without_prefix():
    response = {"StatusCode": 200, "CollectionArn": "arn:c", "FaceModelVersion": "7.0"}
    assert format_text(response) == "arn:c\t7.0\t200\n"


def test_multiselect_hash_is_sorted():
    assert format_text({"Z": "z", "A": "a"}) == "a\tz\n"


def test_nested_values_follow_in_sorted_key_order():
    response = {"B": {"x": 1}, "A": [{"y": 2}], "c": 3}
    assert format_text(response) == "3\nA\t2\nB\t1\n"


def test_column_key_holding_a_container_prints_its_repr():
    # aws prints str() of the value when a key is scalar in one element only.
    assert format_text({"L": [{"a": 1}, {"a": [2]}]}) == "L\t1\nL\t[2]\n"


def test_next_token_page_prints_nexttoken_line():
    assert format_text(next_token_page("eyJOZXh0VG9rZW4iOiAiMiJ9")) == \
        "NEXTTOKEN\teyJOZXh0VG9rZW4iOiAiMiJ9\n"


def test_pages_are_written_one_after_another():
    stream = io.StringIO()
    pages = [
        {"Faces": [{"FaceId": "f00"}, {"FaceId": "f01"}], "FaceModelVersion": "7.0"},
        {"Faces": [{"FaceId": "f02"}]},
        next_token_page("tok"),
    ]
    for index, page in enumerate(pages):
        write_page(page, "text", operation_name="ListFaces", stream=stream,
                   is_first_page=index == 0)
    assert stream.getvalue() == (
        "7.0\nFACES\tf00\nFACES\tf01\nFACES\tf02\nNEXTTOKEN\ttok\n")


def test_query_results_per_page():
    # --query 'Faces[].FaceId' gives one tab-joined line per page, and a query
    # that misses the synthetic NextToken page prints None.
    stream = io.StringIO()
    for page in (["f00", "f01"], ["f02"], None):
        write_page(page, "text", operation_name="ListFaces", stream=stream)
    assert stream.getvalue() == "f00\tf01\nf02\nNone\n"


def test_error_document_text():
    error = {"Code": "ResourceNotFoundException", "Message": "The collection id: x"}
    assert render_error_document(error, "text") == \
        "ResourceNotFoundException\tThe collection id: x\n"


def test_render_output_equals_format_text():
    assert render_output({"a": 1}, "text", operation_name="X") == "1\n"


json_scalars = (st.none() | st.booleans() | st.integers() | st.floats() | st.text())
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_text_never_crashes(value):
    text = format_text(value)
    assert isinstance(text, str)
    assert text == "" or text.endswith("\n")
