"""Reading at most so many bytes. Every input rekcli reads is bounded (DESIGN.md): a limit
plus one byte tells the caller an input is too long without reading the rest, which from a
device or a pipe may never end."""

from __future__ import annotations

from typing import Callable

PIECE = 1 << 20


def read_at_most(read: Callable[[int], bytes], limit: int) -> bytes:
    """At most `limit` bytes from `read(n)` (a binary file's read, or os.read on a
    descriptor), looping over short reads as pipes give them, a MiB at a time."""
    pieces, wanted = [], limit
    while wanted > 0:
        piece = read(min(wanted, PIECE))
        if not piece:
            break
        pieces.append(piece)
        wanted -= len(piece)
    return b"".join(pieces)
