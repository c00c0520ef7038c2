"""Folder jobs: which image files a job covers and what each one is called in a collection."""

from __future__ import annotations

import glob
import hashlib
import os
import re
from pathlib import Path
from typing import Iterator, NamedTuple

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}
_NOT_ALLOWED = re.compile(r"[^a-zA-Z0-9_.\-:]")
MAX_EXTERNAL_IMAGE_ID = 255


class Found(NamedTuple):
    """One item of a folder job: an image file, or a path that could not be read."""

    path: Path
    name: str          # relative to the source it came from (for ExternalImageId)
    problem: str = ""  # why it cannot be read; empty for an image


def find_images(sources: list[str], recursive: bool) -> list[Found]:
    """Every image of the sources, and every named path that cannot be read, sorted by path.

    A source is a file (always taken), a folder (its .jpg/.jpeg/.png files; with `recursive`,
    its sub-folders' too, symlinked ones included, each real folder once so that a symlink
    loop ends) or a glob pattern (`'photos/2024-*.jpg'`, `'photos/**/*.png'`), which may
    match nothing. A file reached twice (`a/../a/x.jpg`, a folder named twice, a symlinked
    folder) is taken once; two links with their own names are two files. A named file or
    folder that does not exist, a folder that cannot be listed and a path the system refuses
    (too long) become problems: error lines of the job, which goes on with the rest.
    """
    found: dict[tuple[str, str], Found] = {}
    real_folders: dict[Path, str] = {}  # realpath is most of the cost: once per folder

    def add(path: Path, name: str, problem: str = "") -> None:
        folder = real_folders.get(path.parent)
        if folder is None:
            try:
                folder = real_folders[path.parent] = os.path.realpath(path.parent)
            except (OSError, ValueError):
                folder = str(path.parent)
        found.setdefault((folder, path.name), Found(path, name, problem))

    def trouble(path, error: OSError) -> None:
        add(Path(error.filename or path), Path(error.filename or path).name,
            error.strerror or str(error))

    for source in sources:
        path = Path(source).expanduser()
        try:
            if path.is_dir():
                for file in _files_of(path, recursive, trouble):
                    if _is_image(file, trouble):
                        add(file, file.relative_to(path).as_posix())
            elif path.is_file():
                add(path, path.name)
            elif glob.has_magic(source):
                for match in glob.glob(os.path.expanduser(source), recursive=True):
                    if _is_image(Path(match), trouble):
                        add(Path(match), Path(match).name)
            elif os.path.lexists(path):
                add(path, path.name, "Not a file or a folder")
            else:
                add(path, path.name, "No such file or folder")
        except OSError as error:  # e.g. a name longer than the system allows
            trouble(path, error)
    return sorted(found.values(), key=lambda item: str(item.path))


def _files_of(folder: Path, recursive: bool, trouble) -> Iterator[Path]:
    if not recursive:
        try:
            with os.scandir(folder) as entries:
                names = sorted(entry.name for entry in entries)
        except OSError as error:
            trouble(folder, error)
            return
        yield from (folder / name for name in names)
        return
    visited: set[tuple[int, int]] = set()
    for directory, subfolders, files in os.walk(folder, onerror=lambda e: trouble(folder, e),
                                                 followlinks=True):
        try:
            status = os.stat(directory)
        except OSError as error:
            trouble(directory, error)
            subfolders[:] = []
            continue
        if (status.st_dev, status.st_ino) in visited:  # a symlink loop, or a folder seen
            subfolders[:] = []
            continue
        visited.add((status.st_dev, status.st_ino))
        subfolders.sort()  # a folder reachable twice is taken by the same path every run
        yield from (Path(directory) / name for name in sorted(files))


def _is_image(path: Path, trouble) -> bool:
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        return False
    try:
        return path.is_file()
    except OSError as error:  # is_file lets some errors through (ENAMETOOLONG, EACCES)
        trouble(path, error)
        return False


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
