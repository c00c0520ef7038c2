"""The resume journal: results of finished items, so a re-run continues where it stopped.

A journal is one JSON-lines file per job, named by a hash of everything that defines the job
(command, arguments, input). Each finished item is appended and flushed to disk before it is
printed; a re-run of the same job replays those results instead of computing them again, so
an index-faces batch killed by SIGKILL or a reboot never indexes an image twice. The journal
is removed when the job completes. A job never re-run leaves its journal behind: when a new
journal starts, those untouched for ABANDONED_AFTER_DAYS are removed.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from rekcli.store.files import make_private_dir


ABANDONED_AFTER_DAYS = 30


def job_key(*parts: object) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(json.dumps(part, sort_keys=True, default=str).encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()[:32]


class Journal:
    def __init__(self, directory: Path, key: str):
        self.path = directory / f"{key}.jsonl"
        self._file = None

    def load(self) -> dict[int, dict]:
        """Results recorded by an earlier, interrupted run of the same job."""
        done: dict[int, dict] = {}
        try:
            with open(self.path, encoding="utf-8") as lines:
                for line in lines:
                    try:
                        entry = json.loads(line)
                        done[int(entry["Index"])] = entry["Result"]
                    except (ValueError, KeyError, TypeError):
                        break  # a torn last line from a crash: everything before it stands
        except FileNotFoundError:
            pass
        return done

    def record(self, index: int, result: dict) -> None:
        if self._file is None:
            make_private_dir(self.path.parent)   # private, and never a missing HOME
            if not self.path.exists():
                _remove_abandoned(self.path.parent)
            self._file = open(self.path, "a", encoding="utf-8")
        self._file.write(json.dumps({"Index": index, "Result": result}) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def finish(self) -> None:
        """The job completed: its journal is no longer needed."""
        self.close()
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def _remove_abandoned(directory: Path) -> None:
    """Journals of interrupted jobs nobody re-ran, untouched for ABANDONED_AFTER_DAYS."""
    import time

    too_old = time.time() - ABANDONED_AFTER_DAYS * 86400
    for journal in directory.glob("*.jsonl"):
        try:
            if journal.stat().st_mtime < too_old:
                journal.unlink()
        except OSError:
            pass  # another run removed it, or it cannot be: it costs only disk
