"""rekcli/service/requests.py: the request checks the CLI and the batch workers share, with
errors of their own that each caller reports its way (issue 16: batch imports no cli)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from cli_helpers import run_cli
from rekcli.batch.worker import Task, execute
from rekcli.service import requests


def test_validation_problems_are_request_errors_with_the_aws_code():
    with pytest.raises(requests.RequestError) as caught:
        requests.build_request_from_input("DetectFaces", {"Imagee": {}}, "base64")
    assert caught.value.code == "ParamValidation"
    assert caught.value.message.startswith("Parameter validation failed:\n")
    assert 'Missing required parameter in input: "Image"' in caught.value.message
    with pytest.raises(requests.BlobDecodeError) as caught:
        requests.build_request_from_input("DetectFaces", {"Image": {"Bytes": "not base64!"}},
                                          "base64")
    assert caught.value.code == "" and caught.value.message == 'Invalid base64: "not base64!"'


def test_a_worker_reports_them_as_the_cli_would(tmp_path, capsys):
    bad = Task("DetectFaces", {"Image": {}, "Attributes": "ALL"}, "us-east-1", str(tmp_path))
    error = execute(bad)["Error"]
    assert error["Code"] == "ParamValidation"
    code, _, err = run_cli(capsys, "detect-faces", "--cli-input-json",
                           '{"Image": {}, "Attributes": "ALL"}')
    assert code == 252 and error["Message"] in err
    undecodable = Task("DetectFaces", {"Image": {"Bytes": "not base64!"}}, "us-east-1",
                       str(tmp_path))
    assert execute(undecodable)["Error"] == {"Code": "ClientError",
                                             "Message": 'Invalid base64: "not base64!"'}


def test_a_batch_worker_loads_no_cli_module():
    code = ("import sys; from rekcli.batch.worker import Task, execute; "
            "execute(Task('DetectFaces', {}, 'us-east-1', sys.argv[1])); "
            "print(sorted(m for m in sys.modules if m.startswith('rekcli.cli')))")
    result = subprocess.run([sys.executable, "-c", code, "/nonexistent-rekcli-dir"],
                            capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
