"""Issue 18 items 2-4 and 11: every batch input gives exactly one output line, identifiable in
every output format; parse errors name the true line; folder jobs print one text line per
image, the image first; tables and errors name the operation."""

from __future__ import annotations

import json

import pytest

from cli_helpers import run_subprocess
from rekcli.cli.batch_commands import _format_item, _Item

USERS = ('{"CollectionId": "c", "UserId": "u1"}\n'
         '\n'
         '{"CollectionId": "c", "UserId": "u2", "ClientRequestToken": "same"}\n'
         '{"CollectionId": "c", "UserId": "u3", "ClientRequestToken": "same"}\n')


@pytest.fixture
def env(tmp_path):
    environment = {"REKCLI_DATA_DIR": str(tmp_path / "data")}
    assert run_subprocess("create-collection", "--collection-id", "c", env=environment).returncode == 0
    return environment


def create_users(tmp_path, env, *options):
    requests = tmp_path / "users.jsonl"
    requests.write_text(USERS)
    return run_subprocess("batch", "create-user", "--input-file", str(requests), "--workers", "1",
                          *options, env=env)


def test_empty_responses_and_errors_each_give_one_json_line_and_errors_name_their_line(tmp_path, env):
    result = create_users(tmp_path, env)
    assert result.returncode == 254
    lines = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert lines[:2] == [{}, {}]  # CreateUser answers nothing: still one line each
    assert lines[2]["Line"] == 4  # the blank line 2 counts
    assert lines[2]["Error"]["Code"] == "IdempotentParameterMismatchException"


def test_text_output_is_one_line_per_request_with_errors_naming_their_line(tmp_path, env):
    result = create_users(tmp_path, env, "--output", "text")
    rows = result.stdout.decode().split("\n")[:-1]
    assert rows[:2] == ["", ""]
    assert rows[2].split("\t")[:3] == ["ERROR", "4", "IdempotentParameterMismatchException"]
    assert len(rows) == 3


def test_yaml_and_table_give_one_document_or_table_per_request(tmp_path, env):
    documents = create_users(tmp_path, env, "--output", "yaml").stdout.decode()
    assert documents.count("---\n") == 3
    assert documents.split("---\n")[1:3] == ["{}\n", "{}\n"]
    assert "Line: 4" in documents
    tables = create_users(tmp_path, env, "--output", "table").stdout.decode()
    assert tables.count("CreateUser") == 3  # titled by the operation, never "Batch"
    assert "Batch" not in tables


def test_parse_errors_count_blank_lines():
    result = run_subprocess("batch", "detect-faces", input=b"\n\n\n{\"Image\":1}}\n")
    assert result.returncode == 252
    assert b"Error parsing line 4 of -" in result.stderr


def test_service_errors_before_the_run_name_the_operation(tmp_path, faces_dir, env):
    result = run_subprocess("search-folder", "--collection-id", "nosuch", "--images",
                            str(faces_dir / "people/obama/obama.jpg"), env=env)
    assert result.returncode == 254
    assert b"when calling the SearchFacesByImage operation" in result.stderr


def item(result, label=None, number=1):
    return _Item(result, label, number, "SearchFacesByImage")


def test_folder_text_lines_start_with_the_image_errors_included():
    found = item({"Response": {"FaceMatches": [{"Similarity": 99.5}]}}, {"Image": "a b.jpg"})
    failed = item({"Error": {"Code": "InternalServerError", "Message": "one\ntwo"}},
                  {"Image": "many/f0012.jpg", "ExternalImageId": "f0012.jpg"})
    assert _format_item(found, found.line(), "text") == "a b.jpg\tFACEMATCHES\t99.5\n"
    assert _format_item(failed, failed.line(), "text") == \
        "many/f0012.jpg\tERROR\tInternalServerError\tone two\n"
    # a query result follows the image; the image is never printed twice
    assert _format_item(found, "x.jpg", "text") == "a b.jpg\tx.jpg\n"
    assert _format_item(found, {"Image": "a b.jpg", "N": 1}, "text") == "a b.jpg\t1\n"
    assert _format_item(found, ["a b.jpg", 99.5], "text") == "a b.jpg\t99.5\n"
    assert _format_item(found, "a b.jpg", "text") == "a b.jpg\n"             # --query Image
    assert _format_item(found, ["a b.jpg", "a b.jpg"], "text") == "a b.jpg\ta b.jpg\n"
    assert _format_item(found, {"Image": "other", "N": 1}, "text") == "a b.jpg\tother\t1\n"


def test_folder_text_output_of_a_failed_image_is_one_line(tmp_path, faces_dir, env):
    folder = tmp_path / "imgs"
    folder.mkdir()
    (folder / "a.jpg").symlink_to(faces_dir / "people/obama/obama.jpg")
    (folder / "b.jpg").symlink_to(faces_dir / "edge/obama_truncated.jpg")
    result = run_subprocess("compare-folder", "--source-image-bytes",
                            f"fileb://{faces_dir / 'people/obama/obama.jpg'}", "--images", str(folder),
                            "--workers", "1", "--output", "text", "--query",
                            "length(Response.FaceMatches)", env=env)
    assert result.returncode == 254
    rows = [row.split("\t") for row in result.stdout.decode().splitlines()]
    assert rows == [[str(folder / "a.jpg"), "1"],
                    [str(folder / "b.jpg"), "ERROR", "InvalidImageFormatException",
                     "Request has invalid image format"]]


def test_a_table_is_printed_for_every_item_even_empty_or_null():
    empty = item({"Response": {}})
    for shown in ({}, None):
        table = _format_item(empty, shown, "table")
        assert "SearchFacesByImage" in table and table.count("\n") == 3
