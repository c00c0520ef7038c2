"""What can go wrong in the store, in the store's own words (no AWS names here).

Each error carries the facts (collection id, file, limit) as attributes; `str()` says what
happened to the local files. The service maps these to Rekognition's error codes and AWS's
wording in one place (rekcli/service/store_errors.py), as it does the engine's errors.
"""

from __future__ import annotations

from pathlib import Path

DISK_FULL_MESSAGE = (
    "Not enough free disk space to store the request; nothing was written. "
    "Free some space and try again."
)


class StoreError(Exception):
    """Anything the store refuses or fails to do."""


class CollectionNotFound(StoreError):
    """No collection has this id (never created, deleted, or deleted while being opened)."""

    def __init__(self, collection_id: str):
        super().__init__(f"no collection {collection_id!r}")
        self.collection_id = collection_id


class CollectionExists(StoreError):
    """CreateCollection with an id already taken."""

    def __init__(self, collection_id: str):
        super().__init__(f"the collection {collection_id!r} already exists")
        self.collection_id = collection_id


class QuotaExceeded(StoreError):
    """A fixed limit of the store (reference §1.11) would be passed."""


class TooManyTags(QuotaExceeded):
    def __init__(self, limit: int):
        super().__init__(f"more than {limit} tags on one collection")
        self.limit = limit


class CollectionFull(QuotaExceeded):
    def __init__(self, collection_id: str, limit: int):
        super().__init__(f"the collection {collection_id!r} would hold more than {limit} faces")
        self.collection_id = collection_id
        self.limit = limit


class StoreBusy(StoreError):
    """Another writer held the collection (or the database) past the timeout: retryable."""


class StoreFailure(StoreError):
    """The store could not do its work: damage, a full disk, an I/O error, a newer format.
    Nothing of the request was kept. `str()` is the whole explanation for the user."""


class DiskFull(StoreFailure):
    def __init__(self):
        super().__init__(DISK_FULL_MESSAGE)


class NewerFormat(StoreFailure):
    """A collection written by a newer rekcli (a schema this one does not know)."""

    def __init__(self, collection_id: str, version: int):
        super().__init__(f"The collection id: {collection_id} was written by a newer rekcli "
                         f"(schema {version}); upgrade rekcli to use it.")
        self.collection_id = collection_id
        self.version = version


class StoreDamaged(StoreFailure):
    """A store file is missing, empty, truncated or not what it should be."""

    def __init__(self, path: Path, problem: str):
        self.path = Path(path)
        self.problem = problem
        super().__init__(
            f"The store file {path} is damaged ({problem}). Nothing was changed. Restore the "
            f"file from a backup, or delete the collection and index its faces again.")
