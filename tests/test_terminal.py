"""Terminal behaviour, decided by one object found once per run (cli/terminal.py): colour,
pager, progress bar and table width follow it, testable without a pseudo-terminal."""

from __future__ import annotations

import io
import sys

import pytest

from rekcli.cli import terminal
from rekcli.cli.display import OutputWriter
from rekcli.cli.output.table_format import determine_terminal_width
from rekcli.cli.progress import ProgressReporter
from rekcli.cli.settings import GlobalOptions, Settings


@pytest.mark.parametrize("stdout_is_tty", [True, False])
def test_colour_and_pager_follow_stdout(stdout_is_tty):
    terminal.use(terminal.Terminal(stdout_is_tty=stdout_is_tty))
    assert Settings(GlobalOptions()).use_color is stdout_is_tty
    writer = OutputWriter("less")
    assert (writer.stream is not sys.stdout) is stdout_is_tty  # buffered for the pager
    assert Settings(GlobalOptions(color="on")).use_color is True


@pytest.mark.parametrize("stderr_is_tty, mode", [(True, "bar"), (False, "plain")])
def test_the_progress_bar_shows_only_on_a_terminal(stderr_is_tty, mode):
    terminal.use(terminal.Terminal(stderr_is_tty=stderr_is_tty))
    assert ProgressReporter(10, enabled=True)._mode == mode
    assert ProgressReporter(10, enabled=False)._mode == "off"


def test_tables_are_laid_out_for_the_terminal_width():
    terminal.use(terminal.Terminal(stdout_is_tty=True, width=132))
    assert determine_terminal_width() == 132


def test_main_finds_the_terminal_of_each_invocation(monkeypatch, capsys):
    from rekcli.cli.main import main

    terminal.use(terminal.Terminal(stdout_is_tty=True, stderr_is_tty=True, width=200))
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    main(["--version"])
    assert terminal.current() == terminal.Terminal(stdout_is_tty=False, stderr_is_tty=False,
                                                   width=80)
