"""Where batch resume journals live, and how a delete removes the ones about its collection.

A journal (rekcli/batch/journal.py) keeps results of an interrupted batch job: FaceIds,
ExternalImageIds, similarities, i.e. who matched whom. That must not outlive the faces it is
about, so its first line names the collections the job touches, as opaque references (a
hash of region and CollectionId, so the journal does not even keep the names), and
DeleteCollection and DeleteFaces remove every journal that references their collection. A
resumed job then simply computes those items again, as a fresh run would.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from rekcli.store.files import open_private

JOURNALS_DIR = "batch-journals"   # under the data dir
JOURNAL_SUFFIX = ".jsonl"
_HEADER_LIMIT = 1 << 20           # a header longer than this is not one rekcli wrote


def journals_dir(data_dir: Path) -> Path:
    return Path(data_dir) / JOURNALS_DIR


def collection_ref(region: str, collection_id: str) -> str:
    """The opaque name a journal's header gives a collection."""
    return hashlib.sha256(f"{region}\0{collection_id}".encode("utf-8")).hexdigest()[:32]


def header_line(collection_refs) -> str:
    return json.dumps({"Collections": sorted(set(collection_refs))}) + "\n"


def read_header(fd: int) -> list[str] | None:
    """The collection references of a journal open at `fd` (read from its start), or None
    when its first line is not a header."""
    with os.fdopen(os.dup(fd), "rb") as file:
        file.seek(0)
        first = file.readline(_HEADER_LIMIT)
    try:
        header = json.loads(first)
        return [str(ref) for ref in header["Collections"]]
    except (ValueError, KeyError, TypeError):
        return None


def drop_journals_of(data_dir: Path, region: str, collection_id: str) -> None:
    """Remove every journal that references this collection (its faces were deleted, or all
    of it). Best effort per file: a journal that cannot be read is left to its own job."""
    wanted = collection_ref(region, collection_id)
    try:
        entries = list(os.scandir(journals_dir(data_dir)))
    except OSError:
        return  # no journals at all
    for entry in entries:
        if not entry.name.endswith(JOURNAL_SUFFIX):
            continue
        try:
            fd = open_private(Path(entry.path), os.O_RDONLY)
        except OSError:
            continue  # gone meanwhile, or a planted symlink, which a job refuses anyway
        try:
            refs = read_header(fd)
        finally:
            os.close(fd)
        if refs is not None and wanted in refs:
            try:
                os.unlink(entry.path)
            except FileNotFoundError:
                pass
