"""SQLite done one way everywhere: connections, transactions, migrations, error mapping.

- Connections run in autocommit mode (`isolation_level=None`) and every change goes through
  `transaction()`, which issues BEGIN [IMMEDIATE] ... COMMIT itself and rolls back on any
  exception, including a failed COMMIT. No implicit transactions from the sqlite3 module.
- Databases are in WAL mode (set once at creation; it is persistent) with synchronous=FULL,
  so a transaction that returned is on disk, and readers never block the writer;
  secure_delete is on, so deleted rows are zeroed, not left in free pages.
- A database file is created 0600 before SQLite opens it (SQLite gives -wal and -shm the
  database's mode). Opening an existing one never creates it: a missing, empty, truncated or
  unreadable file raises `StoreDamaged` naming the file.
- On a full disk SQLite cannot size a new -shm file; reads then fall back to a connection in
  exclusive locking mode, which keeps the WAL index in memory and needs no new file.
- Schema changes are named functions, applied in order; each one runs in the same
  transaction as the row recording it in `_migrations` (and PRAGMA user_version), so a crash
  leaves a migration pending, never half applied.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import stat
import struct
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Sequence

from rekcli.store.constants import BUSY_TIMEOUT_SECONDS
from rekcli.store.errors import (  # noqa: F401 - DISK_FULL_MESSAGE: where callers looked
    DISK_FULL_MESSAGE,
    DiskFull,
    StoreBusy,
    StoreDamaged,
    StoreFailure,
)
from rekcli.store.files import create_private_file

Migration = Callable[[sqlite3.Connection], None]


_SQLITE_HEADER = b"SQLite format 3\x00"
_HEADER_SIZE = 100


def connect(path: Path, *, create: bool = False,
            allow_no_schema: bool = False) -> sqlite3.Connection:
    """Open a database. Without `create`, a missing or damaged file raises StoreDamaged, and
    so does one without tables unless `allow_no_schema` (a creator may not be done yet)."""
    path = Path(path)
    if create:
        create_private_file(path)
    else:
        check_database_file(path)
    try:
        return _configured(path, create, False, need_schema=not (create or allow_no_schema))
    except sqlite3.Error as exc:
        if create or not _needs_shm_space(exc):
            raise _damage_or(exc, path) from exc
    # Disk full: no room for the -shm file. Exclusive locking mode needs none; it only
    # serves this process (other processes wait), which is fine while nothing can be written.
    try:
        return _configured(path, create, True, need_schema=not (create or allow_no_schema))
    except sqlite3.Error as exc:
        raise _damage_or(exc, path) from exc


def _configured(path: Path, create: bool, exclusive: bool,
                need_schema: bool) -> sqlite3.Connection:
    uri = path.absolute().as_uri() + ("?mode=rwc" if create else "?mode=rw")
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_SECONDS,
                           check_same_thread=False)
    try:
        if exclusive:
            conn.execute("PRAGMA locking_mode=EXCLUSIVE")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA secure_delete=ON")
        if create:
            conn.execute("PRAGMA journal_mode=WAL")
        # The first read opens the WAL index (-shm) and reads the header: a full disk or a
        # file that is not a database shows here, not in the middle of a caller's work.
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        if need_schema and schema_version(conn) == 0:
            raise StoreDamaged(path, "it holds no tables")
    except BaseException:
        conn.close()
        raise
    return conn


def check_database_file(path: Path) -> None:
    """Raise StoreDamaged unless `path` is a regular file that looks like a whole database."""
    try:
        st = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        raise StoreDamaged(path, "the file is missing") from None
    except NotADirectoryError:
        raise StoreDamaged(path, "its folder is not a folder") from None
    if not stat.S_ISREG(st.st_mode):
        raise StoreDamaged(path, "it is not a regular file")
    if st.st_size == 0:
        raise StoreDamaged(path, "the file is empty")
    with open(path, "rb") as f:  # read only: nothing is created or followed here
        header = f.read(_HEADER_SIZE)
    if len(header) < _HEADER_SIZE or not header.startswith(_SQLITE_HEADER):
        raise StoreDamaged(path, "it is not an SQLite database")
    page_size = struct.unpack(">H", header[16:18])[0] or 65536
    page_size = 65536 if page_size == 1 else page_size
    pages = struct.unpack(">I", header[28:32])[0]
    change_counter, valid_for = header[24:28], header[92:96]
    # The header's page count is trustworthy when written by a version that maintains it,
    # and while no WAL exists: a checkpoint in progress writes page 1 (with the new count)
    # before the pages that extend the file.
    if (change_counter == valid_for and pages and st.st_size < pages * page_size
            and not _has_content(Path(f"{path}-wal"))):
        raise StoreDamaged(path, f"the file is truncated: {st.st_size} bytes of "
                                 f"{pages * page_size}")


def _has_content(path: Path) -> bool:
    try:
        return os.stat(path).st_size > 0
    except FileNotFoundError:
        return False


def _needs_shm_space(exc: sqlite3.Error) -> bool:
    name = getattr(exc, "sqlite_errorname", "") or ""
    return name.startswith("SQLITE_IOERR_SHM") or is_disk_full(exc)


def is_damage(exc: BaseException) -> bool:
    name = getattr(exc, "sqlite_errorname", "") or ""
    return name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB"))


def _damage_or(exc: sqlite3.Error, path: Path) -> BaseException:
    if isinstance(exc, StoreDamaged):
        return exc
    if is_damage(exc):
        return StoreDamaged(path, str(exc))
    return exc


@contextmanager
def transaction(conn: sqlite3.Connection, *, write: bool = True) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE (write) or BEGIN (read snapshot) ... COMMIT; ROLLBACK on any error."""
    conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
    try:
        yield conn
    except BaseException:
        _rollback(conn)
        raise
    try:
        conn.execute("COMMIT")
    except BaseException:
        _rollback(conn)
        raise


def _rollback(conn: sqlite3.Connection) -> None:
    try:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
    except sqlite3.Error:
        pass


def schema_version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def applied_migrations(conn: sqlite3.Connection) -> list[str]:
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type='table' AND name='_migrations'").fetchone()
    if not exists:
        return []
    return [row[0] for row in conn.execute("SELECT name FROM _migrations ORDER BY rowid")]


def apply_migrations(conn: sqlite3.Connection, migrations: Sequence[Migration],
                     clock: Callable[[], float] = time.time) -> list[str]:
    """Apply the pending migrations, each atomically with its record. Returns their names.

    The fast path (nothing to do) is one PRAGMA read.
    """
    if schema_version(conn) == len(migrations):
        return []
    applied_now = []
    for position, migration in enumerate(migrations, start=1):
        name = migration.__name__
        with transaction(conn):
            conn.execute("CREATE TABLE IF NOT EXISTS _migrations ("
                         "name TEXT PRIMARY KEY, applied_at REAL NOT NULL)")
            if conn.execute("SELECT 1 FROM _migrations WHERE name = ?", (name,)).fetchone():
                continue
            migration(conn)
            conn.execute("INSERT INTO _migrations (name, applied_at) VALUES (?, ?)",
                         (name, clock()))
            conn.execute(f"PRAGMA user_version = {int(position)}")
            applied_now.append(name)
    return applied_now


def is_disk_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT)
    if isinstance(exc, sqlite3.Error):
        name = getattr(exc, "sqlite_errorname", "") or ""
        # SQLite reports a -shm file it cannot grow as an I/O error; the cause is space.
        return name in ("SQLITE_FULL", "SQLITE_IOERR_SHMSIZE") or "disk is full" in str(exc)
    return False


@contextmanager
def storage_errors(database: Path | None = None) -> Iterator[None]:
    """Turn OS and SQLite failures into the store's errors (store/errors.py).

    - disk full (ENOSPC, EDQUOT, SQLITE_FULL) -> DiskFull (retryable once space is freed;
      nothing of the request was kept);
    - database busy past the timeout -> StoreBusy (retryable);
    - a corrupt `database` -> StoreDamaged naming it;
    - any other I/O or database failure -> StoreFailure.
    """
    try:
        yield
    except (OSError, sqlite3.Error) as exc:
        if database is not None and is_damage(exc):
            raise StoreDamaged(database, str(exc)) from exc
        if is_disk_full(exc):
            raise DiskFull() from exc
        if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
            raise StoreBusy("The collection is busy with another writer; try again.") from exc
        raise StoreFailure(f"Local storage error: {exc}") from exc
