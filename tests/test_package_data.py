"""A non-editable install carries the files rekcli reads at run time besides its modules: the
completions' shell code (rekcli/cli/completions/), declared as package data in pyproject.toml."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_a_build_carries_the_completions_shell_code(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(REPO / "rekcli", source / "rekcli",
                    ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.c"))
    # build_py is what a wheel's pure-Python part is built by, with pyproject.toml's package
    # data (the venv has no `wheel` package, and a test must not fetch one).
    installed = tmp_path / "installed"
    built = subprocess.run([sys.executable, "setup.py", "-q", "build_py", "-d", str(installed)],
                           cwd=source, capture_output=True, text=True)
    assert built.returncode == 0, built.stdout + built.stderr
    for shell in ("bash", "zsh", "fish"):
        assert (installed / "rekcli" / "cli" / "completions" / f"rekcli.{shell}").is_file()
    # The installed copy, not this checkout, prints the scripts as the checked-in ones.
    env = dict(os.environ, PYTHONPATH=str(installed))
    for shell, checked_in in (("bash", "rekcli.bash"), ("zsh", "_rekcli"), ("fish", "rekcli.fish")):
        printed = subprocess.run(
            [sys.executable, "-c", "import sys, rekcli.cli.completion as c; "
             "assert c.__file__.startswith(sys.argv[1]), c.__file__; "
             "sys.stdout.write(c.SCRIPTS[sys.argv[2]]())", str(installed), shell],
            cwd=tmp_path, env=env, capture_output=True, text=True)
        assert printed.returncode == 0, printed.stderr
        assert printed.stdout == (REPO / "completions" / checked_in).read_text(encoding="utf-8")
