"""Automatic pagination of list operations as the aws CLI does it (reference §5).

A fake ListFaces service with 5 faces and pages of 2 stands in for the store, so the CLI's
paging logic is tested on its own.
"""

from __future__ import annotations

import base64
import json

import pytest

from cli_helpers import run_cli
from rekcli.cli import operation

FACES = [f"f{i:02d}" for i in range(5)]


@pytest.fixture
def fake_list_faces(monkeypatch):
    calls = []

    def call_service(operation_name, request, settings):
        assert operation_name == "ListFaces"
        calls.append(dict(request))
        start = int(request.get("NextToken") or 0)
        size = request.get("MaxResults") or 2
        page = {"Faces": [{"FaceId": f} for f in FACES[start:start + size]],
                "FaceModelVersion": "1.0"}
        if start + size < len(FACES):
            page["NextToken"] = str(start + size)
        return page

    monkeypatch.setattr(operation, "call_service", call_service)
    return calls


def face_ids(output: str) -> list[str]:
    return [face["FaceId"] for face in json.loads(output)["Faces"]]


def test_all_pages_are_merged(capsys, fake_list_faces):
    code, out, _ = run_cli(capsys, "list-faces", "--collection-id", "c")
    assert code == 0
    assert face_ids(out) == FACES
    assert list(json.loads(out)) == ["Faces", "FaceModelVersion"]
    assert len(fake_list_faces) == 3


def test_page_size_changes_calls_not_output(capsys, fake_list_faces):
    code, out, _ = run_cli(capsys, "list-faces", "--collection-id", "c", "--page-size", "1")
    assert face_ids(out) == FACES
    assert len(fake_list_faces) == 5


def test_max_items_truncates_and_adds_a_token_last(capsys, fake_list_faces):
    code, out, _ = run_cli(capsys, "list-faces", "--collection-id", "c", "--max-items", "3")
    document = json.loads(out)
    assert face_ids(out) == FACES[:3]
    assert list(document)[-1] == "NextToken"
    token = json.loads(base64.b64decode(document["NextToken"]))
    assert token == {"NextToken": "2", "boto_truncate_amount": 1}


def test_starting_token_resumes_where_max_items_stopped(capsys, fake_list_faces):
    _, out, _ = run_cli(capsys, "list-faces", "--collection-id", "c", "--max-items", "3")
    token = json.loads(out)["NextToken"]
    _, out, _ = run_cli(capsys, "list-faces", "--collection-id", "c", "--starting-token", token)
    assert face_ids(out) == FACES[3:]
    assert "NextToken" not in json.loads(out)


def test_token_at_a_page_boundary_is_the_service_token(capsys, fake_list_faces):
    _, out, _ = run_cli(capsys, "list-faces", "--collection-id", "c", "--max-items", "2")
    token = json.loads(base64.b64decode(json.loads(out)["NextToken"]))
    assert token == {"NextToken": "2"}


def test_text_output_is_per_page_with_a_final_nexttoken_line(capsys, fake_list_faces):
    _, out, _ = run_cli(capsys, "list-faces", "--collection-id", "c", "--max-items", "3",
                        "--output", "text")
    lines = out.splitlines()
    assert lines[0] == "1.0"
    assert lines.count("FACES\tf00") == 1
    assert lines[-1].startswith("NEXTTOKEN\t")
    assert lines.count("1.0") == 1  # non-aggregate keys only with the first page


def test_text_query_runs_per_page(capsys, fake_list_faces):
    _, out, _ = run_cli(capsys, "list-faces", "--collection-id", "c", "--query", "Faces[0].FaceId",
                        "--output", "text")
    assert out.splitlines() == ["f00", "f02", "f04"]


def test_json_query_runs_on_the_merged_result(capsys, fake_list_faces):
    _, out, _ = run_cli(capsys, "list-faces", "--collection-id", "c", "--query", "Faces[].FaceId")
    assert json.loads(out) == FACES


def test_no_paginate_makes_one_call_with_the_raw_token(capsys, fake_list_faces):
    _, out, _ = run_cli(capsys, "list-faces", "--collection-id", "c", "--no-paginate")
    assert face_ids(out) == FACES[:2]
    assert json.loads(out)["NextToken"] == "2"
    assert len(fake_list_faces) == 1


def test_raw_max_results_switches_paging_off(capsys, fake_list_faces):
    _, out, _ = run_cli(capsys, "list-faces", "--collection-id", "c", "--max-results", "3")
    assert face_ids(out) == FACES[:3]
    assert len(fake_list_faces) == 1


def test_no_paginate_with_paging_options_is_refused(capsys, fake_list_faces):
    code, _, err = run_cli(capsys, "list-faces", "--collection-id", "c", "--no-paginate",
                           "--max-items", "1")
    assert code == 252
    assert "Cannot specify --no-paginate along with pagination arguments: --max-items" in err


def test_non_positive_max_items_warns(capsys, fake_list_faces):
    code, _, err = run_cli(capsys, "list-faces", "--collection-id", "c", "--max-items", "0")
    assert code == 0
    assert "warning: Non-positive values for --max-items may result in undefined behavior." in err


def test_bad_page_size_is_a_usage_error(capsys, fake_list_faces):
    code, _, err = run_cli(capsys, "list-faces", "--collection-id", "c", "--page-size", "x")
    assert code == 252
    assert "argument --page-size: invalid int value: 'x'" in err


def test_yaml_stream_prints_raw_pages_with_their_service_tokens(capsys, fake_list_faces):
    _, out, _ = run_cli(capsys, "list-faces", "--collection-id", "c", "--output", "yaml-stream")
    pages = out.split("\n- ")
    assert len(pages) == 3
    assert out.count("FaceModelVersion: '1.0'") == 3
    assert "NextToken: '2'" in out and "NextToken: '4'" in out


def test_a_token_nested_past_the_stack_is_a_raw_token_not_a_traceback():
    from rekcli.cli.paginate import decode_cli_token

    deep = base64.b64encode(b"[" * 100_000).decode()
    assert decode_cli_token(deep) == (deep, 0)


@pytest.mark.parametrize("amount", ["abc", -1, [1], True])
def test_a_token_with_a_bad_truncate_amount_is_refused_as_aws_does(capsys, fake_list_faces,
                                                                   amount):
    token = base64.b64encode(json.dumps({"NextToken": "x", "boto_truncate_amount": amount})
                             .encode()).decode()
    code, _, err = run_cli(capsys, "list-faces", "--collection-id", "c", "--starting-token",
                           token)
    assert code == 255 and "Bad starting token: " in err
