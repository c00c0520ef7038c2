"""The formatters own paged output: text and yaml-stream walk a PagedResponse themselves
(as the aws CLI's TextFormatter walks botocore's paginator); the others print the merged
result. One list of output formats and one of error formats serve every reader."""

from __future__ import annotations

import io

from rekcli.cli import output
from rekcli.cli.paginate import PagedResponse, decode_cli_token

PAGINATOR = {"result_keys": ["Faces"], "non_aggregate_keys": ["FaceModelVersion"]}
FACES = [f"f{i:02d}" for i in range(5)]


class FakeListFaces:
    """Pages of 2 faces; remembers what the stream held when each page was asked for."""

    def __init__(self, stream):
        self.stream = stream
        self.seen_before_call = []

    def __call__(self, request):
        self.seen_before_call.append(self.stream.getvalue())
        start = int(request.get("NextToken") or 0)
        page = {"Faces": [{"FaceId": f} for f in FACES[start:start + 2]],
                "FaceModelVersion": "1.0"}
        if start + 2 < len(FACES):
            page["NextToken"] = str(start + 2)
        return page


def paged(stream, **paging):
    call = FakeListFaces(stream)
    return call, PagedResponse(call, {"CollectionId": "c"}, PAGINATOR, **paging)


def test_text_prints_each_page_before_the_next_is_fetched():
    stream = io.StringIO()
    call, response = paged(stream)
    output.write_paged(response, "text", operation_name="ListFaces", stream=stream)
    assert stream.getvalue() == ("1.0\nFACES\tf00\nFACES\tf01\n"
                                 "FACES\tf02\nFACES\tf03\nFACES\tf04\n")
    assert call.seen_before_call == ["", "1.0\nFACES\tf00\nFACES\tf01\n",
                                     "1.0\nFACES\tf00\nFACES\tf01\nFACES\tf02\nFACES\tf03\n"]


def test_text_ends_a_truncated_output_with_its_token_through_the_query():
    stream = io.StringIO()
    _, response = paged(stream, max_items=3)
    output.write_paged(response, "text", operation_name="ListFaces", stream=stream,
                       shown=lambda page: page.get("NextToken"))
    lines = stream.getvalue().splitlines()
    # The query sees each page on its own: the pages hold no NextToken, the synthetic
    # last page {"NextToken": {"NextToken": token}} holds the CLI token.
    assert lines[:2] == ["None", "None"]
    assert decode_cli_token(lines[2]) == ("2", 1)
    assert len(lines) == 3


def test_yaml_stream_prints_each_page_with_the_service_token():
    stream = io.StringIO()
    call, response = paged(stream)
    output.write_paged(response, "yaml-stream", operation_name="ListFaces", stream=stream)
    text = stream.getvalue()
    assert text.count("- FaceModelVersion: '1.0'") == 3
    assert "NextToken: '2'" in text and "NextToken: '4'" in text
    assert call.seen_before_call[1].endswith("NextToken: '2'\n")


def test_json_prints_the_merged_result_once():
    stream = io.StringIO()
    call, response = paged(stream)
    output.write_paged(response, "json", operation_name="ListFaces", stream=stream)
    assert call.seen_before_call == ["", "", ""]
    assert stream.getvalue().count('"FaceModelVersion"') == 1
    assert stream.getvalue().count('"FaceId"') == 5


def test_off_still_fetches_every_page_and_prints_nothing():
    stream = io.StringIO()
    call, response = paged(stream)
    output.write_paged(response, "off", operation_name="ListFaces", stream=stream)
    assert len(call.seen_before_call) == 3 and stream.getvalue() == ""


def test_one_list_of_output_formats():
    from rekcli.cli import completion, settings

    assert settings.OUTPUT_FORMATS is output.FORMATS
    assert settings.GLOBAL_OPTIONS["--output"][2] is output.FORMATS
    assert settings.GLOBAL_HELP["--output"] == (
        "Output format: json, text, table, yaml, yaml-stream or off.")
    assert output.FORMATS == ("json", "text", "table", "yaml", "yaml-stream", "off")
    spec = next(s for s in completion_specs() if s.name == "--output")
    assert completion._value_action(spec, None) == ("words", output.FORMATS)


def test_one_list_of_error_formats():
    from rekcli.cli import completion, errors, settings

    assert output.ERROR_FORMATS == ("enhanced", "legacy", "json", "yaml", "text", "table")
    assert errors.ERROR_DOCUMENT_FORMATS is output.ERROR_DOCUMENT_FORMATS
    assert settings.GLOBAL_HELP["--cli-error-format"] == (
        "How errors are printed: enhanced, legacy, json, yaml, text or table.")
    spec = next(s for s in completion_specs() if s.name == "--cli-error-format")
    assert completion._value_action(spec, None) == ("words", output.ERROR_FORMATS)


def completion_specs():
    from rekcli.cli.argv import global_option_specs

    specs = global_option_specs()
    return specs.values() if isinstance(specs, dict) else specs
