"""The resume journal: results of finished items, so a re-run continues where it stopped.

A journal is one JSON-lines file per job, named by a hash of everything that defines the job
(command, arguments, input). Its first line names the collections the job touches (opaque
references, see rekcli/store/journals.py: a delete in one of them removes the journal).
Each finished item is appended and flushed to disk before it is printed, with the facts its
answer depended on (see batch_commands: the identity of the files it read and the state of
the collections it used); a re-run of the same job replays a result only while those still
hold, so an index-faces batch killed by SIGKILL or a reboot never indexes an image twice, and
no replayed line answers what a fresh run would not. The journal is removed when the job
completes. A job never re-run leaves its journal behind: when a new journal starts, those
untouched for ABANDONED_AFTER_DAYS are removed.

Journals are private like the rest of the data dir (0600 in a 0700 folder, never opened
through a symlink: a link planted at a journal's name is refused). A write that fails (a
full disk) does not stop the job: the journal stops recording, `failure` says why, and the
items it could not record are simply computed again by a resumed run.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

from rekcli.service.errors import InternalServerError
from rekcli.store.files import make_private_dir, open_private
from rekcli.store.journals import JOURNAL_SUFFIX, header_line, read_header

ABANDONED_AFTER_DAYS = 30


def job_key(*parts: object) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(json.dumps(part, sort_keys=True, default=str).encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()[:32]


def file_identity(path) -> list:
    """What tells a file's bytes apart cheaply, without reading them: device, inode, size,
    and the modification and change times in ns. ctime cannot be set by a user, so a file
    replaced or rewritten keeping its mtime (cp -p, rsync -t) still differs. (A stat costs
    ~2 us; hashing a 214 KB photo ~0.7 ms warm, far more for 5 MB photos on a cold disk.)"""
    status = os.stat(path)
    return [status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns]


class JournalRefused(InternalServerError):
    """Something other than a journal rekcli wrote sits at the journal's path."""

    def __init__(self, path: Path, problem: str):
        super().__init__(f"The batch journal {path} {problem}; nothing was read from or written "
                         f"to it. Remove it and run the job again.")


class Journal:
    def __init__(self, directory: Path, key: str, collections=()):
        """collections: references (store.journals.collection_ref) of every collection the
        job touches, written in the journal's header."""
        self.path = Path(directory) / f"{key}{JOURNAL_SUFFIX}"
        self.collections = list(collections)
        self.facts: dict[int, object] = {}  # index -> facts recorded with the result
        self.failure: OSError | None = None   # why recording stopped, if it did
        self._fd: int | None = None
        self._good_bytes: int | None = None    # where a torn tail starts, if there is one

    def load(self) -> dict[int, dict]:
        """Results recorded by an earlier, interrupted run of the same job."""
        try:
            fd = open_private(self.path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO must not block
        except FileNotFoundError:
            return {}
        except OSError as error:
            raise JournalRefused(self.path, _refusal(self.path, error)) from None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise JournalRefused(self.path, "is not a regular file")
            with os.fdopen(os.dup(fd), "rb") as file:
                return self._entries(file)
        finally:
            os.close(fd)

    def _entries(self, file) -> dict[int, dict]:
        done: dict[int, dict] = {}
        header = file.readline()
        try:
            json.loads(header)["Collections"]
        except (ValueError, KeyError, TypeError):
            return {}  # not a journal of this release: nothing is replayed from it
        good = file.tell()
        for line in file:
            try:
                entry = json.loads(line)
                index = int(entry["Index"])
                done[index] = entry["Result"]
                self.facts[index] = entry.get("Facts")
            except (ValueError, KeyError, TypeError):
                self._good_bytes = good  # a torn last line from a crash: what precedes stands
                break
            good = file.tell()
        return done

    def record(self, index: int, result: dict, facts=None) -> bool:
        """Append one finished item; False when it could not be (see `failure`)."""
        if self.failure is not None:
            return False
        entry = {"Index": index, "Result": result}
        if facts is not None:
            entry["Facts"] = facts
        try:
            if self._fd is None:
                self._open()
            _write_all(self._fd, (json.dumps(entry) + "\n").encode("utf-8"))
            os.fsync(self._fd)
        except OSError as error:
            self.failure = error
            self.close()
            return False
        return True

    def _open(self) -> None:
        make_private_dir(self.path.parent)
        if not os.path.lexists(self.path):
            _remove_abandoned(self.path.parent)
        try:
            fd = open_private(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND)
        except OSError as error:
            if os.path.islink(self.path):
                raise JournalRefused(self.path, _refusal(self.path, error)) from None
            raise
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise JournalRefused(self.path, "is not a regular file")
            if self._good_bytes is not None:  # appended after a torn line, it would be lost
                os.ftruncate(fd, self._good_bytes)
                self._good_bytes = None
            if os.fstat(fd).st_size == 0 or read_header(fd) is None:
                os.ftruncate(fd, 0)
                _write_all(fd, header_line(self.collections).encode("utf-8"))
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def finish(self) -> None:
        """The job completed: its journal is no longer needed."""
        self.close()
        try:
            if not os.path.islink(self.path):
                self.path.unlink()
        except FileNotFoundError:
            pass

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _write_all(fd: int, data: bytes) -> None:
    while data:
        written = os.write(fd, data)
        data = data[written:]


def _refusal(path: Path, error: OSError) -> str:
    if os.path.islink(path):
        return "is a symbolic link, which rekcli never follows in its data directory"
    return f"cannot be opened ({error.strerror or error})"


def _remove_abandoned(directory: Path) -> None:
    """Journals of interrupted jobs nobody re-ran, untouched for ABANDONED_AFTER_DAYS."""
    import time

    too_old = time.time() - ABANDONED_AFTER_DAYS * 86400
    for journal in directory.glob(f"*{JOURNAL_SUFFIX}"):
        try:
            if journal.lstat().st_mtime < too_old:
                journal.unlink()
        except OSError:
            pass  # another run removed it, or it cannot be: it costs only disk
