"""The per-collection write lock: fcntl.flock on a lock file inside the collection directory.

flock is released by the kernel when the holder dies (kill -9 included), so a crashed writer
never leaves a collection locked.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from rekcli.store.constants import WRITE_LOCK_TIMEOUT_SECONDS
from rekcli.store.errors import StoreBusy
from rekcli.store.files import open_private


class WriteLock:
    """Exclusive lock on `path` (which must exist; a lock file is never created here)."""

    def __init__(self, path: Path, timeout: float = WRITE_LOCK_TIMEOUT_SECONDS):
        self.path = Path(path)
        self.timeout = timeout
        self._fd: int | None = None

    def acquire(self, blocking: bool = True) -> bool:
        fd = open_private(self.path, os.O_RDWR)  # never through a planted symlink
        deadline = time.monotonic() + self.timeout
        delay = 0.001
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if not blocking:
                        os.close(fd)
                        return False
                    if time.monotonic() >= deadline:
                        raise StoreBusy(
                            "Timed out waiting for another writer of this collection; "
                            "try again.") from None
                    time.sleep(delay)
                    delay = min(delay * 2, 0.05)
        except BaseException:
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
            raise
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)

    def __enter__(self) -> "WriteLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
