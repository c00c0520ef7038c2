"""A batch command is one declaration (rekcli/cli/batch_commands.py): adding one is enough for
dispatch, `rekcli help`, its man page and the three shell completions to know it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from cli_helpers import run_cli
from rekcli.cli import completion, help
from rekcli.cli.batch_commands import _IMAGES, BATCH_COMMANDS, BatchCommand

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT / "tools"))
import generate_docs  # noqa: E402


@pytest.fixture
def detect_folder(monkeypatch):
    """A throwaway batch command: DetectFaces over images, --attributes passed through."""
    calls = []

    def run(values, positionals, settings):
        calls.append(command.passed_members(values))
        return 0

    command = BatchCommand("detect-folder", "Detect the faces of every image of folders.",
                           (_IMAGES, "--attributes"), run, operation="DetectFaces",
                           required=("--images",), path_options=("--images",))
    monkeypatch.setitem(BATCH_COMMANDS, command.name, command)
    return calls


def test_a_declared_batch_command_is_dispatched(capsys, detect_folder):
    code, out, err = run_cli(capsys, "detect-folder", "--images", "photos", "--attributes", "ALL")
    assert (code, out, err) == (0, "", "")
    assert detect_folder == [{"Attributes": ["ALL"]}]   # converted by DetectFaces' model
    code, _, err = run_cli(capsys, "detect-folder", "--attributes", "ALL")
    assert code == 252 and "the following arguments are required: --images" in err


def test_a_declared_batch_command_has_help_and_a_man_page(capsys, detect_folder):
    code, out, _ = run_cli(capsys, "help")
    assert code == 0 and "detect-folder" in out
    code, out, _ = run_cli(capsys, "help", "detect-folder")
    assert code == 0 and "Detect the faces of every image of folders." in out
    assert "--attributes" in out and "rekcli-detect-faces(1)" in out
    page = generate_docs.generated_files()["man/rekcli-detect-folder.1"]
    assert "attributes" in page and "images" in page


def test_a_declared_batch_command_is_completed(detect_folder):
    assert "detect-folder" in completion.command_names()
    options = {option.name: option for option in completion.command_options("detect-folder")}
    assert options["--images"].action == "path"
    assert "ALL" in options["--attributes"].values   # its words, from DetectFaces' model
    for script in (completion.bash_script(), completion.zsh_script(), completion.fish_script()):
        assert "detect-folder" in script and "attributes" in script


def test_pass_through_options_are_described_as_on_the_operations_page():
    """The drift issue 16 names: fish described --quality-filter one way for index-faces and
    another for index-folder. A passed-through option now has one description."""
    own = {option.name: option.help for option in completion.command_options("index-faces")}
    for name in ("index-folder", "search-folder", "compare-folder"):
        command = BATCH_COMMANDS[name]
        passed = {option.name: option.help for option in completion.command_options(name)}
        page_of = {option.name: option.help for option in
                   completion.command_options(help.model.kebab(command.operation))}
        for option in command.passed_options():
            assert passed[option] == page_of[option], (name, option)
    assert own["--quality-filter"] == passed["--quality-filter"]
