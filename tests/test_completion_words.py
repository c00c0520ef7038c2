"""Which words the completions offer where: `help` takes command names, `rekognition` is
skipped like aws's service word, and every command main dispatches (serve too) is offered."""

from __future__ import annotations

import shutil

import pytest

from rekcli.cli import completion
from rekcli.cli.main import STANDALONE_COMMANDS, all_command_names
from rekcli.service import model
from tests.test_completions import BASH, complete

needs_bash = pytest.mark.skipif(BASH is None, reason="bash is not installed")


def test_completions_enumerate_every_command_main_runs():
    assert sorted(all_command_names()) == completion.command_names()
    assert "serve" in completion.command_names()
    assert completion.first_words()[-2:] == ["help", "rekognition"]


def test_help_takes_a_command_name():
    assert completion.command_arguments("help") == completion.command_names()


def test_standalone_command_options_come_from_its_parser():
    serve = {o.name: o for o in completion.command_options("serve")}
    assert "--port" in serve and "--help" not in serve
    assert serve["--log-requests"].kind == completion.FLAG
    assert serve["--auth-keys"].action == "path"


@needs_bash
def test_bash_completes_command_names_after_help():
    assert complete("rekcli help comp") == ["compare-faces", "compare-folder"]
    assert complete("rekcli help se")[-1] == "serve"
    assert "--debug" not in complete("rekcli help ")
    assert complete("rekcli --output json help index-fo") == ["index-folder"]


@needs_bash
def test_bash_completes_after_the_rekognition_word():
    assert complete("rekcli rek") == ["rekognition"]
    assert complete("rekcli rekognition comp") == ["compare-faces", "compare-folder"]
    assert "rekognition" not in complete("rekcli rekognition ")
    assert complete("rekcli rekognition compare-faces --sim") == ["--similarity-threshold"]
    assert complete("rekcli rekognition help list-co") == ["list-collections"]
    assert sorted(complete("rekcli rekognition index-faces --quality-filter ")) == sorted(
        model.QUALITY_FILTER_VALUES)


@needs_bash
def test_bash_completes_serve_with_its_own_options_only():
    assert "serve" in complete("rekcli ser")
    replies = complete("rekcli serve --")
    assert set(replies) == {o.name for o in completion.command_options("serve")}
    assert len(replies) == len(set(replies))   # --region once, not again as a global
    assert set(STANDALONE_COMMANDS) <= set(complete("rekcli "))


FISH = shutil.which("fish")


@pytest.mark.skipif(FISH is None, reason="fish is not installed")
def test_fish_completes_command_names_after_help_and_the_rekognition_word():
    from tests.test_completions import fish_complete

    assert fish_complete("rekcli help comp") == ["compare-faces", "compare-folder"]
    assert fish_complete("rekcli rekognition comp") == ["compare-faces", "compare-folder"]
    assert "rekognition" in fish_complete("rekcli rek")
    assert "rekognition" not in fish_complete("rekcli rekognition re")
    assert fish_complete("rekcli rekognition compare-faces --simi") == ["--similarity-threshold"]
    serve = fish_complete("rekcli serve --")
    assert "--port" in serve and "--debug" not in serve


ZSH = shutil.which("zsh")
# Stand-ins for zsh's completion builtins: print the candidates that match $PREFIX.
ZSH_HARNESS = r'''
_describe() { local name=${@[-1]}; print -l -- ${(M)${(P)name}:#${PREFIX}*}; }
compadd() { [[ $1 == -a ]] && print -l -- ${(M)${(P)2}:#${PREFIX}*}; }
compset() { return 1; }
_files() { print FILES; }
source "$1" >/dev/null 2>&1
words=(${=2}); [[ $2 == *' ' ]] && words+=('')
CURRENT=${#words}; PREFIX=${words[CURRENT]}
_rekcli | cut -d: -f1
'''


def zsh_complete(line: str) -> list[str]:
    import subprocess

    from tests.test_completions import REPO_ROOT

    result = subprocess.run([ZSH, "-f", "-c", ZSH_HARNESS, "zsh",
                             str(REPO_ROOT / "completions" / "_rekcli"), line],
                            capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stderr) == (0, "")
    return [word for word in result.stdout.splitlines() if word]


@pytest.mark.skipif(ZSH is None, reason="zsh is not installed")
def test_zsh_completes_command_names_after_help_and_the_rekognition_word():
    assert zsh_complete("rekcli help comp") == ["compare-faces", "compare-folder"]
    assert zsh_complete("rekcli rekognition comp") == ["compare-faces", "compare-folder"]
    assert zsh_complete("rekcli rek") == ["rekognition"]
    assert zsh_complete("rekcli rekognition rek") == []
    assert zsh_complete("rekcli rekognition compare-faces --simi") == ["--similarity-threshold"]
    serve = zsh_complete("rekcli serve --")
    assert "--port" in serve and "--debug" not in serve
