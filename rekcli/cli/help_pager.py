"""Printing a help page: plain text when stdout is not a terminal; on a terminal, styled with
rich (imported only then) and paged through $MANPAGER or $PAGER, as man does.
"""

from __future__ import annotations

import os
import sys

from rekcli.cli.help_document import Page
from rekcli.cli.help_render import layout, render_text


STYLES = {"heading": "bold", "term": "bold", "label": "bold", "code": "cyan", "": ""}


def print_page(page: Page) -> None:
    """Print a page: plain text when piped, styled and paged like man on a terminal."""
    from rekcli.cli import terminal

    if terminal.current().stdout_is_tty:
        _print_rich(page)
    else:
        sys.stdout.write(render_text(page))
        sys.stdout.flush()


def _print_rich(page: Page) -> None:
    import io

    from rich.console import Console
    from rich.text import Text

    # Called when cli/terminal.py says stdout is a terminal: rich need not ask again, only
    # read its colours (TERM, NO_COLOR) and width.
    screen = Console(force_terminal=True)
    width = max(40, min(screen.width, 100))
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, color_system=screen.color_system,
                      width=width, no_color=screen.no_color, highlight=False)
    for runs in layout(page, width):
        console.print(Text.assemble(*[(text, STYLES[style]) for text, style in runs]),
                      soft_wrap=True)
    _page_text(buffer.getvalue())


def _page_text(text: str) -> None:
    """Through $MANPAGER or $PAGER (default less), as man does; empty means no pager."""
    pager = os.environ.get("MANPAGER", os.environ.get("PAGER", "less"))
    if pager:
        import subprocess

        env = dict(os.environ)
        env.setdefault("LESS", "FRX")   # R: keep the styles; F: no paging for a short page
        try:
            process = subprocess.Popen(pager, shell=True, stdin=subprocess.PIPE, env=env)
        except OSError:
            process = None
        if process is not None:
            try:
                process.communicate(text.encode("utf-8"))
            except BrokenPipeError:   # the reader quit early: that is fine
                return
            if process.returncode != 127:   # 127: the shell could not find the pager
                return
    sys.stdout.write(text)
    sys.stdout.flush()
