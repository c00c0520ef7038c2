"""SQLite done one way everywhere: connections, transactions, migrations, error mapping.

- Connections run in autocommit mode (`isolation_level=None`) and every change goes through
  `transaction()`, which issues BEGIN [IMMEDIATE] ... COMMIT itself and rolls back on any
  exception, including a failed COMMIT. No implicit transactions from the sqlite3 module.
- Databases are in WAL mode (set once at creation; it is persistent) with synchronous=FULL,
  so a transaction that returned is on disk, and readers never block the writer.
- Schema changes are named functions, applied in order; each one runs in the same
  transaction as the row recording it in `_migrations` (and PRAGMA user_version), so a crash
  leaves a migration pending, never half applied.
"""

from __future__ import annotations

import errno
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Sequence

from rekcli.service.errors import InternalServerError, ThrottlingException
from rekcli.store.constants import BUSY_TIMEOUT_SECONDS

Migration = Callable[[sqlite3.Connection], None]

DISK_FULL_MESSAGE = (
    "Not enough free disk space to store the request; nothing was written. "
    "Free some space and try again."
)


def connect(path: Path, *, create: bool = False) -> sqlite3.Connection:
    """Open a database. Without `create`, a missing file is an error, never a new empty db."""
    uri = Path(path).absolute().as_uri() + ("?mode=rwc" if create else "?mode=rw")
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_SECONDS,
                           check_same_thread=False)
    try:
        conn.execute("PRAGMA synchronous=FULL")
        if create:
            conn.execute("PRAGMA journal_mode=WAL")
    except BaseException:
        conn.close()
        raise
    return conn


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
        return name == "SQLITE_FULL" or "disk is full" in str(exc)
    return False


@contextmanager
def storage_errors() -> Iterator[None]:
    """Turn OS and SQLite failures into the service errors the CLI reports.

    - disk full (ENOSPC, EDQUOT, SQLITE_FULL) -> InternalServerError (a server-side fault,
      retryable once space is freed; nothing of the request was kept);
    - database busy past the timeout -> ThrottlingException (retryable);
    - any other I/O or database failure -> InternalServerError.
    """
    try:
        yield
    except (OSError, sqlite3.Error) as exc:
        if is_disk_full(exc):
            raise InternalServerError(DISK_FULL_MESSAGE) from exc
        if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
            raise ThrottlingException(
                "The collection is busy with another writer; try again.") from exc
        raise InternalServerError(f"Local storage error: {exc}") from exc
