"""Errors that name the problem instead of speaking Python (issue 18 item 12).

A 5,000-digit integer, documents nested 10^5 deep (JSON, YAML, --query, a batch line), a
batch file with invalid UTF-8 and a 1 MB CollectionId each get a message that names the cause,
quotes at most a short prefix of the value, and exits with the right code.
"""

from __future__ import annotations

import pytest

from cli_helpers import run_subprocess

DEEP = 100_000
PYTHON_WORDS = ("maximum recursion depth", "set_int_max_str_digits", "codec can't decode",
                "Traceback")


def _stderr(done) -> str:
    text = done.stderr.decode("utf-8", "replace")
    for words in PYTHON_WORDS:
        assert words not in text
    return text


def test_five_thousand_digit_integer_option_is_out_of_range(tmp_path):
    path = tmp_path / "n.txt"
    path.write_text("9" * 5000)
    done = run_subprocess("list-collections", "--max-results", f"file://{path}")
    stderr = _stderr(done)
    assert done.returncode == 255
    assert "an integer of 5000 characters is out of range" in stderr
    assert len(stderr) < 500


@pytest.mark.parametrize("option,document", [
    ("--cli-input-json", '{"MaxResults": %s}' % ("9" * 5000)),
    ("--cli-input-yaml", "MaxResults: %s\n" % ("9" * 5000)),
])
def test_five_thousand_digit_integer_in_a_document_is_out_of_range(tmp_path, option, document):
    path = tmp_path / "input"
    path.write_text(document)
    done = run_subprocess("list-collections", option, f"file://{path}")
    assert done.returncode == 252
    assert "a number has more than 4300 digits and is out of range" in _stderr(done)


@pytest.mark.parametrize("option,document", [
    ("--cli-input-json", "[" * DEEP + "]" * DEEP),
    ("--cli-input-yaml", "a: " + "[" * DEEP + "]" * DEEP),
])
def test_deeply_nested_input_document_is_a_parse_error(tmp_path, option, document):
    path = tmp_path / "input"
    path.write_text(document)
    done = run_subprocess("list-collections", option, f"file://{path}")
    assert done.returncode == 252
    assert "received: nested more than 64 levels deep" in _stderr(done)


def test_deeply_nested_structure_option_is_a_parse_error(tmp_path):
    path = tmp_path / "image.json"
    path.write_text('{"S3Object": ' + "[" * DEEP + "]" * DEEP + "}")
    done = run_subprocess("detect-faces", "--image", f"file://{path}")
    stderr = _stderr(done)
    assert done.returncode == 252
    assert "Error parsing parameter '--image': Invalid JSON: nested more than 64" in stderr
    assert len(stderr) < 1000  # the JSON received is quoted by a short prefix


def test_deeply_nested_query_is_a_parse_error():
    depth = 50_000  # one argument may hold at most 128 KiB
    done = run_subprocess("list-collections", "--query", "(" * depth + "a" + ")" * depth)
    stderr = _stderr(done)
    assert done.returncode == 252
    assert "Bad value for --query" in stderr and "nested too deeply" in stderr
    assert len(stderr) < 500


def test_deeply_nested_batch_line_names_the_line(tmp_path):
    path = tmp_path / "requests.jsonl"
    path.write_text('{"CollectionId": "a"}\n' + "[" * DEEP + "]" * DEEP + "\n")
    done = run_subprocess("batch", "describe-collection", "--input-file", str(path))
    assert done.returncode == 252
    assert f"Error parsing line 2 of {path}: nested more than 64 levels deep" in _stderr(done)


def test_batch_file_with_invalid_utf8_names_the_line(tmp_path):
    path = tmp_path / "requests.jsonl"
    path.write_bytes(b'{"CollectionId": "a"}\n{"CollectionId": "caf\xe9"}\n')
    done = run_subprocess("batch", "describe-collection", "--input-file", str(path))
    assert done.returncode == 252
    assert (f"Error parsing line 2 of {path}: not UTF-8 text (byte 0xe9 at column 22)"
            in _stderr(done))


def test_one_megabyte_collection_id_is_quoted_by_a_short_prefix(tmp_path):
    path = tmp_path / "id.txt"
    path.write_text("a" * 1_000_000)
    done = run_subprocess("describe-collection", "--collection-id", f"file://{path}")
    stderr = _stderr(done)
    assert done.returncode == 254
    assert "InvalidParameterException" in stderr
    assert "'" + "a" * 64 + "...(1000000 characters)' at 'collectionId'" in stderr
    assert len(stderr) < 500


def test_short_values_are_still_quoted_whole():
    from rekcli.service.validation import shown_value

    assert shown_value("x" * 100) == "x" * 100
    assert shown_value("x" * 101) == "x" * 64 + "...(101 characters)"


def test_a_long_value_of_the_wrong_type_is_quoted_by_a_short_prefix(tmp_path):
    path = tmp_path / "input.json"
    path.write_text('{"CollectionId": ["%s"]}' % ("b" * 1_000_000))
    done = run_subprocess("describe-collection", "--cli-input-json", f"file://{path}")
    stderr = _stderr(done)
    assert done.returncode == 252
    assert "Invalid type for parameter CollectionId, value: ['bbbb" in stderr
    assert len(stderr) < 500


def test_a_long_shorthand_value_is_shown_around_the_error_only(tmp_path):
    from rekcli.cli.shorthand import ShorthandParseError, parse_shorthand

    with pytest.raises(ShorthandParseError) as raised:
        parse_shorthand("Bucket=" + "b" * 1_000_000 + ",Name=[x")
    message = str(raised.value)
    assert len(message) < 400
    shown, caret = message.split("\n")[1:3]
    assert shown.startswith(" ...bbb") and shown.endswith(",Name=[x")
    assert caret.index("^") == len(shown) - 1  # the caret still points at the end of input


def test_a_long_bad_query_is_quoted_by_a_short_prefix():
    done = run_subprocess("list-collections", "--query", "a" * 5000 + " ]")
    stderr = _stderr(done)
    assert done.returncode == 252
    assert 'Parse error at column 5001, token "]"' in stderr
    assert len(stderr) < 500


@pytest.mark.parametrize("document,reason", [
    ("CollectionId: 2020-13-45\n", "a value cannot be read (month must be in 1..12)"),
    ("CollectionId: &a [*a]\n", "nested more than 64 levels deep"),  # a list holding itself
])
def test_yaml_values_that_cannot_be_built_are_parse_errors(tmp_path, document, reason):
    path = tmp_path / "input.yaml"
    path.write_text(document)
    done = run_subprocess("describe-collection", "--cli-input-yaml", f"file://{path}")
    assert done.returncode == 252
    assert f"Invalid YAML received: {reason}." in _stderr(done)


@pytest.mark.parametrize("args, stdin", [
    (["describe-collection", "--cli-input-json", "5"], None),
    (["describe-collection", "--cli-input-yaml", "true"], None),
    (["batch", "describe-collection"], b"null\n"),
])
def test_a_document_that_is_a_bare_value_is_a_parse_error_not_a_python_one(args, stdin):
    result = run_subprocess(*args, input=stdin)
    assert result.returncode == 252, result.stderr
    assert b"object is not iterable" not in result.stderr


def test_a_list_of_images_on_stdin_is_bounded():
    result = run_subprocess("index-folder", "--collection-id", "k", "--images", "-",
                            input=b"x" * (33 * 1024 * 1024))
    assert result.returncode == 252 and b"longer than" in result.stderr
