"""Private files: how every file and directory under the data dir is created and opened.

Face descriptors identify people like fingerprints, so the store is kept the way the aws CLI
keeps credentials: directories 0700 and files 0600 whatever the umask (the mode is set
explicitly after creation, because `mkdir`/`open` modes are filtered through the umask), and
nothing is ever opened through a symbolic link (`O_NOFOLLOW`), so a link planted at a
store path cannot redirect a write to another file.

Every module that writes under the data dir creates and opens through these functions.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
# A store deliberately shared with the owner's group (REKCLI_SHARED_STORE=group): the group
# may read and write it, others never.
SHARED_STORE_ENV = "REKCLI_SHARED_STORE"
GROUP_DIR_MODE = 0o770
GROUP_FILE_MODE = 0o660

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
    home = os.path.expanduser("~")
    for directory in reversed(missing):
        if os.path.abspath(directory) == os.path.abspath(home):
            # A service account's HOME that does not exist (/nonexistent) is not ours to make
            # (as root it would be a new folder in /): say so instead.
            raise FileNotFoundError(
                errno.ENOENT, "The home directory does not exist and rekcli does not create "
                "it; set REKCLI_DATA_DIR to a folder (or create the home directory)", str(home))
        try:
            os.mkdir(directory, dir_mode())
        except FileExistsError:
            continue  # another process made it between our check and our mkdir
        os.chmod(directory, dir_mode(), follow_symlinks=False)
    return path


def open_private(path: Path, flags: int) -> int:
    """`os.open` for store files: never through a symlink, created 0600 whatever the umask.

    Returns the file descriptor. A symlink at `path` raises OSError (ELOOP).
    """
    fd = os.open(path, flags | _NO_FOLLOW, file_mode())
    if flags & os.O_CREAT:
        try:
            os.fchmod(fd, file_mode())
        except BaseException:
            os.close(fd)
            raise
    return fd


def create_private_file(path: Path) -> None:
    """Create an empty private file if none exists (used before SQLite opens a database, so
    SQLite's own -wal and -shm files inherit the database's 0600 mode)."""
    os.close(open_private(path, os.O_RDWR | os.O_CREAT))


def group_shared() -> bool:
    """True when the user opted in to a store shared with their group."""
    return os.environ.get(SHARED_STORE_ENV, "").strip().lower() == "group"


def dir_mode() -> int:
    return GROUP_DIR_MODE if group_shared() else PRIVATE_DIR_MODE


def file_mode() -> int:
    return GROUP_FILE_MODE if group_shared() else PRIVATE_FILE_MODE


def _allowed_bits() -> int:
    """Permission bits beyond the owner's that a store entry may carry."""
    return 0o070 if group_shared() else 0


def tighten_tree(root: Path, recursive: bool = True) -> list[Path]:
    """Remove group/other permissions from `root` (and everything under it when
    `recursive`; symlinks are neither followed nor changed). Returns the paths changed:
    empty for a private store."""
    changed = []
    if _tighten(root):
        changed.append(Path(root))
    if recursive:
        for directory, subdirs, files in os.walk(root):
            changed += [Path(directory, name) for name in [*subdirs, *files]
                        if _tighten(os.path.join(directory, name))]
    return changed


def _tighten(path) -> bool:
    extra_bits = 0o077 & ~_allowed_bits()
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return False
    if stat.S_ISLNK(st.st_mode) or not st.st_mode & extra_bits:
        return False
    if st.st_uid != os.geteuid():
        return False  # not ours to change; the trust check reports foreign owners
    os.chmod(path, stat.S_IMODE(st.st_mode) & ~extra_bits, follow_symlinks=False)
    return True


def untrusted_reason(path: Path) -> str | None:
    """Why `path` (a store or cache directory) cannot be trusted, or None.

    Like OpenSSH's StrictModes: an existing directory must belong to the current user and
    be writable by nobody else (by the group too, unless the store is group-shared), or
    another user could swap the files rekcli reads. A missing path is fine (it will be
    created private).
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(st.st_mode):
        try:
            st = os.stat(path)  # a link to the user's own private folder is fine
        except FileNotFoundError:
            return None
    if st.st_uid != os.geteuid():
        return f"it belongs to user id {st.st_uid}, not to you (user id {os.geteuid()})"
    writable = st.st_mode & (0o022 & ~(0o020 if group_shared() else 0))
    if writable:
        who = "others" if writable & 0o002 else "its group"
        return f"it is writable by {who} (mode {stat.S_IMODE(st.st_mode):04o})"
    return None
