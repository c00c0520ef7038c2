"""`rekcli rekognition <command>` works as `rekcli <command>` (aws-shaped wrappers), and
commands main runs are all named in the invalid-choice list."""

from __future__ import annotations

from tests.cli_helpers import run_cli


def test_rekognition_word_before_a_command_is_the_command(capsys):
    direct = run_cli(capsys, "list-collections")
    aliased = run_cli(capsys, "rekognition", "list-collections")
    assert aliased == direct
    assert direct[0] == 0


def test_rekognition_word_after_global_options(capsys):
    code, out, _ = run_cli(capsys, "--output", "text", "rekognition", "--region", "eu-west-1",
                           "create-collection", "--collection-id", "c1")
    assert code == 0
    assert "eu-west-1" in out
    code, out, _ = run_cli(capsys, "--region", "eu-west-1", "list-collections",
                           "--output", "text")
    assert out.startswith("COLLECTIONIDS\tc1\n")


def test_rekognition_help_pages(capsys):
    assert run_cli(capsys, "rekognition", "help") == run_cli(capsys, "help")
    assert run_cli(capsys, "rekognition", "help", "compare-faces") == run_cli(
        capsys, "help", "compare-faces")
    assert run_cli(capsys, "rekognition", "compare-faces", "help") == run_cli(
        capsys, "compare-faces", "help")
    assert run_cli(capsys, "help", "rekognition") == run_cli(capsys, "help")


def test_rekognition_alone_asks_for_a_command(capsys):
    code, out, err = run_cli(capsys, "rekognition")
    assert code == 252
    assert "required: command" in err


def test_invalid_command_lists_serve(capsys):
    code, _, err = run_cli(capsys, "serv")
    assert code == 252
    assert "Found invalid choice 'serv'" in err
    assert "* serve" in err


def test_help_serve_prints_its_options(capsys):
    code, out, _ = run_cli(capsys, "help", "serve")
    assert code == 0 and "--port" in out
    assert run_cli(capsys, "rekognition", "help", "serve") == (code, out, "")
