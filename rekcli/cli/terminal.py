"""What rekcli knows about the terminal, found once per run: whether stdout and stderr are
terminals, and how wide stdout's is. main() detects it when an invocation starts; the code
that colours, pages, draws progress bars or lays out tables asks current(); tests set one
with use() instead of faking file handles or running a pseudo-terminal."""

from __future__ import annotations

import sys
from dataclasses import dataclass

DEFAULT_WIDTH = 80  # what aws lays a table out for when stdout is no terminal


@dataclass(frozen=True)
class Terminal:
    stdout_is_tty: bool = False
    stderr_is_tty: bool = False
    width: int = DEFAULT_WIDTH  # columns of the terminal on stdout

    @classmethod
    def detect(cls) -> "Terminal":
        return cls(_is_tty(sys.stdout), _is_tty(sys.stderr), stdout_columns())


_current: Terminal | None = None


def current() -> Terminal:
    """The terminal of this run (detected now if no invocation detected it yet)."""
    global _current
    if _current is None:
        _current = Terminal.detect()
    return _current


def use(terminal: Terminal | None) -> None:
    """Make `terminal` the current one; None: detect again when next asked."""
    global _current
    _current = terminal


def _is_tty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # replaced or closed
        return False


def stdout_columns(default: int = DEFAULT_WIDTH) -> int:
    """Width of the terminal on stdout via TIOCGWINSZ; `default` if stdout is no TTY.

    Unlike ``shutil.get_terminal_size`` this ignores ``$COLUMNS`` and does not fall back to
    stderr, so a piped table is laid out for 80 columns as in aws.
    """
    try:
        import fcntl
        import struct
        import termios
    except ImportError:  # not POSIX
        return default
    try:
        packed = fcntl.ioctl(sys.stdout, termios.TIOCGWINSZ, b"\0" * 8)
        _rows, cols = struct.unpack("hhhh", packed)[:2]
    except Exception:  # noqa: BLE001 - no fileno, not a TTY, closed stream...
        return default
    return cols or default
