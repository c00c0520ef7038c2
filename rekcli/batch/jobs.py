"""Folder jobs: which image files a job covers and what each one is called in a collection."""

from __future__ import annotations

import glob
import hashlib
import os
import re
from pathlib import Path

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}
_NOT_ALLOWED = re.compile(r"[^a-zA-Z0-9_.\-:]")
MAX_EXTERNAL_IMAGE_ID = 255


def find_images(sources: list[str], recursive: bool) -> list[tuple[Path, str]]:
    """(file, name relative to the source it came from) for every image, sorted, no repeats.

    A source is a file, a folder (its images; with `recursive`, its sub-folders' too) or a
    glob pattern (`'photos/2024-*.jpg'`, `'photos/**/*.png'`).
    """
    found: dict[Path, str] = {}
    for source in sources:
        path = Path(source).expanduser()
        if path.is_dir():
            walker = path.rglob("*") if recursive else path.glob("*")
            for file in walker:
                if _is_image(file):
                    found.setdefault(file, file.relative_to(path).as_posix())
        elif path.is_file():
            found.setdefault(path, path.name)
        else:
            for match in glob.glob(os.path.expanduser(source), recursive=True):
                file = Path(match)
                if _is_image(file):
                    found.setdefault(file, file.name)
    return sorted(found.items(), key=lambda item: str(item[0]))


def _is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES and path.is_file()


def external_image_id(relative_name: str) -> str:
    """A file name made to fit ExternalImageId's pattern `[a-zA-Z0-9_.\\-:]+` (1-255 chars).

    Folder separators become ':' (allowed, and reversible by eye: `2024:beach:anna.jpg`),
    any other character outside the pattern becomes '_'. A name too long keeps its start and
    ends with a short hash of the whole, so two long names never collide.
    """
    name = _NOT_ALLOWED.sub("_", relative_name.replace("/", ":").replace(os.sep, ":")) or "_"
    if len(name) > MAX_EXTERNAL_IMAGE_ID:
        digest = hashlib.sha256(relative_name.encode("utf-8")).hexdigest()[:16]
        name = name[:MAX_EXTERNAL_IMAGE_ID - 17] + "-" + digest
    return name
