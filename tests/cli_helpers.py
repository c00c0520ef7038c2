"""Helpers for CLI tests: argv -> request dict without a service, and in-process runs."""

from __future__ import annotations

import os
import subprocess
import sys

from rekcli.cli.argv import command_option_specs, parse_tokens, reject_leftovers
from rekcli.cli.main import main
from rekcli.cli.request import build_request
from rekcli.service.model import COMMANDS


def request_for(command: str, *args: str, binary_format: str = "base64") -> dict:
    """The request `rekcli <command> <args>` would send, like awscli's assert_params_for_cmd."""
    operation = COMMANDS[command]
    specs = command_option_specs(operation)
    parsed = parse_tokens(list(args), specs)
    reject_leftovers(parsed)
    return build_request(operation, specs, parsed.values, binary_format)


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    """Run rekcli in this process; returns (exit code, stdout, stderr)."""
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_subprocess(*args: str, env: dict | None = None, input: bytes | None = None):
    """Run `python -m rekcli` for real: exit codes and stderr exactly as a script sees them."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "rekcli", *args], capture_output=True,
                          env=full_env, input=input, timeout=120)


def import_test_extra(module: str):
    """`module`, which the test extra installs: a test without it skips on a developer's
    machine, and fails on CI (where $CI is set), since CI installs every extra."""
    import importlib

    import pytest

    try:
        return importlib.import_module(module)
    except ImportError:
        message = f"{module} (test extra) is not installed: pip install -e '.[test]'"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message, allow_module_level=True)
