"""Private files: how every file and directory under the data dir is created and opened.

Face descriptors identify people like fingerprints, so the store is kept the way the aws CLI
keeps credentials: directories 0700 and files 0600 whatever the umask (the mode is set
explicitly after creation, because `mkdir`/`open` modes are filtered through the umask), and
nothing is ever opened through a symbolic link (`O_NOFOLLOW`), so a link planted at a
store path cannot redirect a write to another file.

Every module that writes under the data dir creates and opens through these functions.
"""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600

# Opened without following a symlink at the last component; always close-on-exec so batch
# worker processes do not inherit store descriptors.
_NO_FOLLOW = os.O_NOFOLLOW | os.O_CLOEXEC


def make_private_dir(path: Path) -> Path:
    """Create `path` (and missing parents) as 0700 directories; an existing one is kept.

    Parents are created 0700 too: they are new directories nobody else needs (typically
    `~/.local/share`, which the XDG spec also wants 0700).
    """
    path = Path(path)
    missing = []
    probe = path
    while not probe.exists() and not probe.is_symlink():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, PRIVATE_DIR_MODE)
        except FileExistsError:
            continue  # another process made it between our check and our mkdir
        os.chmod(directory, PRIVATE_DIR_MODE, follow_symlinks=False)
    return path


def open_private(path: Path, flags: int) -> int:
    """`os.open` for store files: never through a symlink, created 0600 whatever the umask.

    Returns the file descriptor. A symlink at `path` raises OSError (ELOOP).
    """
    fd = os.open(path, flags | _NO_FOLLOW, PRIVATE_FILE_MODE)
    if flags & os.O_CREAT:
        try:
            os.fchmod(fd, PRIVATE_FILE_MODE)
        except BaseException:
            os.close(fd)
            raise
    return fd


def create_private_file(path: Path) -> None:
    """Create an empty private file if none exists (used before SQLite opens a database, so
    SQLite's own -wal and -shm files inherit the database's 0600 mode)."""
    os.close(open_private(path, os.O_RDWR | os.O_CREAT))
