"""Where batch resume journals live, and how a delete removes the ones about its collection.

A journal (rekcli/batch/journal.py) keeps results of an interrupted batch job: FaceIds,
ExternalImageIds, similarities, i.e. who matched whom. That must not outlive the faces it is
about, so its first line names the collections the job touches, as opaque references (a
hash of region and CollectionId, so the journal does not even keep the names).
DeleteCollection removes every journal that references its collection; DeleteFaces removes,
from each of them, the results that name a deleted face. A resumed job then simply computes
those items again, as a fresh run would.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
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


def drop_journals_of(data_dir: Path, region: str, collection_id: str,
                     face_ids: list[str] | None = None) -> None:
    """Make the journals that reference this collection forget it: with `face_ids` (some of
    its faces were deleted), each such journal loses the results that name one of those
    faces, and keeps the rest, so a resumed job computes only those again (dropping the
    whole journal would make a resumed `batch index-faces` index every finished image a
    second time); without (the collection was deleted), the journals are removed.
    Best effort per file: a journal that cannot be read is left to its own job."""
    wanted = collection_ref(region, collection_id)
    try:
        entries = list(os.scandir(journals_dir(data_dir)))
    except OSError:
        return  # no journals at all
    for entry in entries:
        if not entry.name.endswith(JOURNAL_SUFFIX):
            continue
        try:
            _forget(Path(entry.path), wanted, face_ids)
        except OSError:
            continue  # gone meanwhile, not a file, unreadable: its own job will say so


def _forget(path: Path, wanted: str, face_ids: list[str] | None) -> None:
    # O_NONBLOCK: a FIFO planted under a journal's name must not block a delete
    fd = open_private(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return
        refs = read_header(fd)
        if refs is None or wanted not in refs:
            return
        if face_ids is None:
            os.unlink(path)
            return
        with os.fdopen(os.dup(fd), "rb") as journal:
            journal.seek(0)
            lines = journal.readlines()
    finally:
        os.close(fd)
    needles = [face_id.encode("ascii", "replace") for face_id in face_ids]
    kept = [line for line in lines[1:] if not any(needle in line for needle in needles)]
    if len(kept) < len(lines) - 1:
        _replace(path, [lines[0], *kept])


def _replace(path: Path, lines: list[bytes]) -> None:
    """Write the journal anew beside it and rename it into place, so that a crash leaves
    either the old journal or the new one, never half of one."""
    temporary = path.with_name(path.name + ".rewrite")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(temporary)
    fd = open_private(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    try:
        os.write(fd, b"".join(lines))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, path)
