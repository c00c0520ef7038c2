"""The README's promises hold: its first screen has the two commands .ci/run relies on, and
its walk through every command runs for real, top to bottom."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text()


def code_block_after(heading: str) -> str:
    section = README.split(heading, 1)[1]
    return re.search(r"```bash\n(.*?)```", section, re.S).group(1)


def test_first_screen_has_the_two_commands():
    first_screen = "\n".join(README.splitlines()[:30])
    assert "rekcli compare-faces --source-image-bytes fileb://" in first_screen
    assert "pip install -q -e '.[test]' && .venv/bin/python -m pytest" in first_screen


def test_ci_runs_the_readme_test_command():
    test_command = re.search(r"\*\*Install and run the tests:\*\*\n\n```bash\n(.*?)\n```", README, re.S).group(1)
    assert test_command in (REPO_ROOT / ".ci" / "run").read_text()


@pytest.mark.e2e
def test_every_command_example_runs(faces_dir, tmp_path):
    script = code_block_after("## Every command, with an example")
    script = script.replace("F=../shared/faces", f"F={faces_dir}")
    env = dict(os.environ, REKCLI_DATA_DIR=str(tmp_path / "data"),
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True,
                            env=env, timeout=600)
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    assert b"[ERROR]" not in result.stderr
