"""Exit codes and stderr as a script sees them, from real subprocess runs (reference §4)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cli_helpers import run_subprocess

USAGE_TAIL = ("usage: rekcli [options] <command> [parameters]\nTo see help text, you can run:\n\n"
              "  rekcli help\n  rekcli <command> help\n")


def test_version_prints_one_line_and_exits_zero():
    result = run_subprocess("--version")
    assert result.returncode == 0
    assert result.stdout.decode().startswith("rekcli/")
    assert result.stdout.decode().count("\n") == 1


def test_missing_required_option_exits_252_with_usage_after_the_message():
    result = run_subprocess("create-collection")
    assert result.returncode == 252
    assert result.stdout == b""
    assert result.stderr.decode() == (
        "\nrekcli: [ERROR]: An error occurred (ParamValidation): the following arguments are "
        "required: --collection-id\n\n" + USAGE_TAIL + "\n")


def test_unknown_options_print_usage_first():
    result = run_subprocess("describe-collection", "--collection-id", "c", "--bogus", "1")
    assert result.returncode == 252
    assert result.stderr.decode() == "\n" + USAGE_TAIL + "\n\nrekcli: [ERROR]: Unknown options: --bogus, 1\n"


def test_invalid_command_suggests_the_close_one():
    result = run_subprocess("compare-face")
    assert result.returncode == 252
    assert "Found invalid choice 'compare-face'\n\nMaybe you meant:\n\n  * compare-faces" in result.stderr.decode()


def test_no_command_is_a_usage_error():
    result = run_subprocess()
    assert result.returncode == 252
    assert "the following arguments are required: command" in result.stderr.decode()


def test_invalid_output_choice():
    result = run_subprocess("list-collections", "--output", "jsn")
    assert result.returncode == 252
    assert "argument --output: Found invalid choice 'jsn'" in result.stderr.decode()


def test_validation_error_exits_252():
    result = run_subprocess("compare-faces", "--source-image-bytes", "aGk=")
    assert result.returncode == 252
    assert result.stderr.decode() == (
        "\nrekcli: [ERROR]: An error occurred (ParamValidation): Parameter validation failed:\n"
        'Missing required parameter in input: "TargetImage"\n')


def test_service_side_pattern_violation_exits_254():
    result = run_subprocess("describe-collection", "--collection-id", "has/slash")
    assert result.returncode == 254
    assert result.stderr.decode() == (
        "\nrekcli: [ERROR]: An error occurred (InvalidParameterException) when calling the "
        "DescribeCollection operation: 1 validation error detected: Value 'has/slash' at "
        "'collectionId' failed to satisfy constraint: Member must satisfy regular expression "
        "pattern: [a-zA-Z0-9_.\\-]+\n")


@pytest.mark.parametrize("value, bound", [("nan", "greater than or equal to 0"),
                                          ("inf", "less than or equal to 100")])
def test_a_threshold_that_is_not_a_number_in_range_is_refused(value, bound):
    result = run_subprocess("search-faces", "--collection-id", "c", "--face-id",
                            "11111111-1111-1111-1111-111111111111",
                            "--face-match-threshold", value)
    assert result.returncode == 254
    assert (f"Value '{value}' at 'faceMatchThreshold' failed to satisfy constraint: Member "
            f"must have value {bound}") in result.stderr.decode()


@pytest.mark.parametrize("setting", ["cli_timestamp_format = bogus", "output = bogus"])
def test_a_bad_setting_fails_before_the_write_not_after(tmp_path, setting):
    config = tmp_path / "config"
    config.write_text(f"[default]\n{setting}\n")
    env = {"AWS_CONFIG_FILE": str(config)}
    result = run_subprocess("create-collection", "--collection-id", "never", env=env)
    assert result.returncode == 253
    listed = run_subprocess("list-collections")
    assert listed.returncode == 0 and b"never" not in listed.stdout


def test_a_data_directory_that_is_a_file_is_a_configuration_error(tmp_path):
    not_a_folder = tmp_path / "afile"
    not_a_folder.write_text("x")
    result = run_subprocess("list-collections", env={"REKCLI_DATA_DIR": str(not_a_folder)})
    assert result.returncode == 253
    assert f"The data directory {not_a_folder} is not a directory" in result.stderr.decode()


def test_integer_conversion_failure_exits_255():
    result = run_subprocess("list-faces", "--collection-id", "c", "--max-results", "abc")
    assert result.returncode == 255
    assert result.stderr.decode() == "\nrekcli: [ERROR]: invalid literal for int() with base 10: 'abc'\n"


def test_unreadable_fileb_exits_252_naming_the_file():
    result = run_subprocess("detect-faces", "--image-bytes", "fileb:///no/such.jpg")
    assert result.returncode == 252
    assert "Unable to load paramfile fileb:///no/such.jpg" in result.stderr.decode()


def test_query_syntax_error_exits_252():
    result = run_subprocess("list-collections", "--query", "Faces[")
    assert result.returncode == 252
    assert "Bad value for --query Faces[: " in result.stderr.decode()


def test_unreachable_endpoint_url_is_aws_connect_error():
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    result = run_subprocess("list-collections", "--endpoint-url", url)
    assert result.returncode == 255
    assert f'Could not connect to the endpoint URL: "{url}"' in result.stderr.decode()


def test_unknown_profile_exits_255(tmp_path):
    result = run_subprocess("list-collections", "--profile", "nope")
    assert result.returncode == 255
    assert "The config profile (nope) could not be found" in result.stderr.decode()


def test_json_error_format_goes_to_stderr_as_a_document():
    result = run_subprocess("describe-collection", "--collection-id", "bad/id",
                            "--cli-error-format", "json")
    assert result.returncode == 254
    document = json.loads(result.stderr.decode())
    assert document["Code"] == "InvalidParameterException"


def test_legacy_error_format_drops_the_code_prefix():
    result = run_subprocess("create-collection", "--cli-error-format", "legacy")
    assert result.returncode == 252
    assert result.stderr.decode().startswith(
        "\nrekcli: [ERROR]: the following arguments are required: --collection-id\n")


def test_no_traceback_without_debug_but_with_it():
    plain = run_subprocess("detect-faces", "--image-bytes", "not base64!")
    assert plain.returncode == 255 and b"Traceback" not in plain.stderr
    debug = run_subprocess("detect-faces", "--image-bytes", "not base64!", "--debug")
    assert debug.returncode == 255 and b"Traceback" in debug.stderr


def wait_until_reading(pid: int, timeout: float = 60.0) -> None:
    """Wait until process `pid` sits in read(2) on its stdin pipe (syscall 0 on x86-64
    Linux, on a descriptor open on the same pipe as fd 0: not the interpreter reading its
    own modules); elsewhere, or without /proc, one second."""
    proc = Path(f"/proc/{pid}")
    if not (proc / "syscall").exists() or os.uname().machine != "x86_64":
        time.sleep(1.0)
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            fields = (proc / "syscall").read_text().split()
            if fields[0] == "0" and (os.readlink(proc / "fd" / str(int(fields[1], 16)))
                                     == os.readlink(proc / "fd" / "0")):
                return
        except (OSError, IndexError, ValueError):
            pass  # the descriptor closed meanwhile, or a running process ("running")
        time.sleep(0.05)
    raise AssertionError(f"process {pid} never blocked reading its input")


def test_ctrl_c_exits_130_and_writes_a_newline_to_stdout():
    process = subprocess.Popen(
        [sys.executable, "-m", "rekcli", "describe-collection", "--cli-input-json", "file:///dev/stdin"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        # As in a terminal: a shell without job control starts background jobs with SIGINT
        # ignored, which the test runner and so rekcli would inherit (Python then installs
        # no KeyboardInterrupt handler).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    wait_until_reading(process.pid)  # started and blocked on stdin, however loaded the machine
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130
    assert out == b"\n" and err == b""


def test_generate_cli_skeleton_input_needs_no_required_options():
    result = run_subprocess("create-collection", "--generate-cli-skeleton")
    assert result.returncode == 0
    assert result.stdout.decode() == '{\n    "CollectionId": "",\n    "Tags": {\n        "KeyName": ""\n    }\n}\n'


def test_generate_cli_skeleton_output_still_enforces_required_options():
    result = run_subprocess("describe-collection", "--generate-cli-skeleton", "output")
    assert result.returncode == 252


def test_generate_cli_skeleton_output_goes_through_the_formatter():
    result = run_subprocess("create-collection", "--collection-id", "c", "--generate-cli-skeleton",
                            "output", "--output", "text")
    assert result.returncode == 0
    assert result.stdout.decode() == "CollectionArn\tFaceModelVersion\t0\n"


def test_help_exits_zero():
    for args in (["help"], ["--help"], ["compare-faces", "help"], ["compare-faces", "--help"]):
        result = run_subprocess(*args)
        assert result.returncode == 0, args
        assert result.stdout


def test_a_region_that_is_not_a_region_name_is_refused(tmp_path):
    """The region names a folder of the data dir: `..` or a path must never get there."""
    for region in ("..", "/tmp/x", "a/b"):
        result = run_subprocess("create-collection", "--collection-id", "c", "--region", region,
                                env={"REKCLI_DATA_DIR": str(tmp_path / "data")})
        assert result.returncode in (252, 255), region
        assert not (tmp_path / "data").exists() or not any((tmp_path / "data").rglob("catalog.sqlite"))
    result = run_subprocess("list-collections", "--region", "../x")
    assert result.returncode == 255
    assert "Provided region_name '../x' doesn't match a supported format." in result.stderr.decode()


def test_help_for_an_unknown_command_is_a_usage_error():
    result = run_subprocess("help", "compare-face")
    assert result.returncode == 252
    assert "Found invalid choice 'compare-face'" in result.stderr.decode()


def test_help_topic_may_be_a_batch_command():
    result = run_subprocess("help", "index-folder")
    assert result.returncode == 0
    assert b"rekcli index-folder" in result.stdout
