"""--output json, the format registry and the structured error document."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rekcli.cli import output
from rekcli.cli.output import (
    FORMATS, render_error_document, render_output, write_error_document, write_output,
    write_page,
)
from rekcli.cli.output.json_format import format_json

# Reference §1.8, in model order.
from output_examples import COMPARE_FACES  # noqa: E402 - the reference §1.8 input


def test_formats_are_the_aws_choices_in_order():
    assert FORMATS == ("json", "text", "table", "yaml", "yaml-stream", "off")
    assert set(output.FORMATTERS) == set(FORMATS)


def test_json_keeps_key_order_and_indents_by_four():
    text = render_output({"Pose": {"Roll": -1.5, "Yaw": 3, "Pitch": 0.5}}, "json",
                         operation_name="DetectFaces")
    assert text == ('{\n    "Pose": {\n        "Roll": -1.5,\n        "Yaw": 3,\n'
                    '        "Pitch": 0.5\n    }\n}\n')


def test_json_worked_example_is_model_order():
    text = format_json(COMPARE_FACES)
    assert text.startswith('{\n    "SourceImageFace": {\n        "BoundingBox": {\n'
                           '            "Width": 0.31,\n')
    assert text.endswith('    ],\n    "SourceImageOrientationCorrection": "ROTATE_0"\n}\n')
    assert '"Confidence": 99.99871063232422' in text
    assert '"Yaw": 3.0' in text  # 3.0 keeps its wire form
    assert json.loads(text) == COMPARE_FACES


def test_json_multiselect_hash_keeps_expression_order():
    assert format_json({"Z": 1, "A": 2}) == '{\n    "Z": 1,\n    "A": 2\n}\n'


def test_json_empty_dict_prints_nothing_at_all():
    assert format_json({}) == ""
    stream = io.StringIO()
    write_output({}, "json", operation_name="DeleteCollection", stream=stream)
    assert stream.getvalue() == ""


@pytest.mark.parametrize("value, expected", [
    ([], "[]\n"),
    ("", '""\n'),
    (0, "0\n"),
    (False, "false\n"),
    (None, "null\n"),
    ("f00", '"f00"\n'),
    (1e-05, "1e-05\n"),
    (99.99871063232422, "99.99871063232422\n"),
])
def test_json_other_falsy_and_scalar_values_print(value, expected):
    assert format_json(value) == expected


def test_json_empty_containers_inline():
    assert format_json({"Faces": [], "Tags": {}}) == '{\n    "Faces": [],\n    "Tags": {}\n}\n'


def test_json_non_ascii_is_written_raw():
    assert format_json({"ExternalImageId": "José_顔"}) == \
        '{\n    "ExternalImageId": "José_顔"\n}\n'


def test_json_bytes_become_base64():
    assert format_json({"Bytes": b"hello"}) == '{\n    "Bytes": "aGVsbG8="\n}\n'


def test_write_output_writes_to_the_stream():
    stream = io.StringIO()
    write_output({"StatusCode": 200}, "json", operation_name="CreateCollection", stream=stream)
    assert stream.getvalue() == '{\n    "StatusCode": 200\n}\n'


@pytest.mark.parametrize("value", [{"a": 1}, [], None, "x", {}])
def test_off_writes_nothing(value):
    stream = io.StringIO()
    write_output(value, "off", operation_name="ListFaces", stream=stream)
    write_page(value, "off", operation_name="ListFaces", stream=stream)
    assert stream.getvalue() == ""


def test_unknown_format_is_rejected():
    with pytest.raises(ValueError, match="Unknown output type: jsn"):
        render_output({}, "jsn", operation_name="X")


def test_write_page_refuses_merged_formats():
    with pytest.raises(ValueError):
        write_page({"a": 1}, "json", operation_name="ListFaces", stream=io.StringIO())


def test_error_document_json_is_message_then_code():
    error = {"Code": "ResourceNotFoundException",
             "Message": "The collection id: missing does not exist"}
    assert render_error_document(error, "json") == (
        '{\n    "Message": "The collection id: missing does not exist",\n'
        '    "Code": "ResourceNotFoundException"\n}\n')
    stream = io.StringIO()
    write_error_document(error, "JSON", stream)
    assert stream.getvalue() == render_error_document(error, "json")


def test_error_document_rejects_non_structured_formats():
    with pytest.raises(ValueError):
        render_error_document({"Code": "X", "Message": "y"}, "enhanced")


def test_json_output_imports_nothing_heavy():
    code = (
        "import io, sys\n"
        "from rekcli.cli.output import write_output\n"
        "write_output({'a': [1, 2]}, 'json', operation_name='X', stream=io.StringIO())\n"
        "write_output({'a': [1, 2]}, 'text', operation_name='X', stream=io.StringIO())\n"
        "write_output({'a': [1, 2]}, 'table', operation_name='X', stream=io.StringIO(),"
        " terminal_width=80)\n"
        "heavy = [m for m in ('yaml', 'rich', 'numpy', 'jmespath', 'cv2', 'dlib')"
        " if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == ""


# Any JSON-like value: the shape --query can hand to the formatters.
json_scalars = (st.none() | st.booleans() | st.integers()
                | st.floats(allow_nan=False) | st.text())
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=30,
)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_json_round_trips_any_value(value):
    text = format_json(value)
    if value == {} and isinstance(value, dict):
        assert text == ""
    else:
        assert text.endswith("\n")
        assert json.loads(text) == value
