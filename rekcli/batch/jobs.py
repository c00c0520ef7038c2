"""Folder jobs: which image files a job covers and what each one is called in a collection."""

from __future__ import annotations

import glob
import hashlib
import os
import re
from collections import Counter
from pathlib import Path
from typing import Iterator, NamedTuple

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}
S3_SCHEME = "s3://"
_NOT_ALLOWED = re.compile(r"[^a-zA-Z0-9_.\-:]")
MAX_EXTERNAL_IMAGE_ID = 255


class Found(NamedTuple):
    """One item of a folder job: an image file, or a path that could not be read."""

    path: Path
    name: str          # relative to the source it came from (for ExternalImageId)
    problem: str = ""  # why it cannot be read; empty for an image


class S3Location(str):
    """An image in S3, `s3://bucket/key`, with the ETag its listing gave (what tells one
    version of the object from another, for resume)."""

    def __new__(cls, bucket: str, key: str, etag: str = "", size: int = 0):
        location = super().__new__(cls, f"{S3_SCHEME}{bucket}/{key}")
        location.bucket, location.key, location.etag, location.size = bucket, key, etag, size
        return location

    @classmethod
    def parse(cls, text: str) -> tuple[str, str]:
        """(bucket, key or prefix) of `s3://bucket/rest`."""
        bucket, _, rest = text[len(S3_SCHEME):].partition("/")
        return bucket, rest


class Listed(str):
    """A path read from a list (`--images -`): taken as written, never as a glob pattern
    and without `~` expansion, as `find` printed it."""


def read_path_list(data: bytes) -> list[Listed]:
    """The paths of a list: one per line (a trailing CR dropped), or separated by NUL bytes
    when there are any (`find -print0`, for names with newlines); blank entries skipped.
    Bytes are kept as the system gives them, so a name that is not UTF-8 still opens."""
    if b"\0" in data:
        entries = data.split(b"\0")
    else:
        entries = [line.removesuffix(b"\r") for line in data.split(b"\n")]
    return [Listed(os.fsdecode(entry)) for entry in entries if entry.strip()]


def find_images(sources: list[str], recursive: bool, list_s3=None) -> list[Found]:
    """Every image of the sources, and every named path that cannot be read, sorted by path.

    A source `s3://bucket/prefix/` is a folder in S3: its objects are listed with
    `list_s3(bucket, prefix, recursive)` (service.s3.list_objects with the caller's
    credentials) and named by their key under the prefix, as a folder's files are named.

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
        if source.startswith(S3_SCHEME) and not isinstance(source, Listed):
            for item in _s3_images(source, recursive, list_s3):
                found.setdefault((S3_SCHEME, str(item.path)), item)
            continue
        listed = isinstance(source, Listed)
        path = Path(source) if listed else Path(source).expanduser()
        try:
            if path.is_dir():
                for file in _files_of(path, recursive, trouble):
                    if _is_image(file, trouble):
                        add(file, file.relative_to(path).as_posix())
            elif path.is_file():
                add(path, _name_as_listed(source) if listed else path.name)
            elif glob.has_magic(source) and not listed:
                root = _glob_root(os.path.expanduser(source))
                for match in glob.glob(os.path.expanduser(source), recursive=True):
                    if _is_image(Path(match), trouble):
                        add(Path(match), os.path.relpath(match, root).replace(os.sep, "/"))
            elif os.path.lexists(path):
                add(path, path.name, "Not a file or a folder")
            else:
                add(path, path.name, "No such file or folder")
        except OSError as error:  # e.g. a name longer than the system allows
            trouble(path, error)
    return sorted(found.values(), key=lambda item: str(item.path))


def _s3_images(source: str, recursive: bool, list_s3) -> Iterator[Found]:
    """The images under an S3 prefix (a listing that fails is one problem line)."""
    bucket, prefix = S3Location.parse(source)
    if prefix and not prefix.endswith("/"):
        prefix += "/"  # a prefix names a folder, as a local path does
    if not bucket or list_s3 is None:
        yield Found(source, source, "Not an S3 location (s3://bucket/prefix/)")
        return
    from rekcli.service.errors import ServiceError

    try:
        for key, etag, size in list_s3(bucket, prefix, recursive):
            if os.path.splitext(key)[1].lower() in IMAGE_SUFFIXES:
                yield Found(S3Location(bucket, key, etag, size), key[len(prefix):])
    except ServiceError as error:  # no such bucket, access denied, ...: one error line
        yield Found(source, source, error.message)


def _name_as_listed(path: str) -> str:
    """A listed file is named by its path as written, under the current folder, so that
    `cd photos && find . -name '*.jpg' | ... --images -` names each photo as `--images photos
    --recursive` does; a path from elsewhere (absolute, or above) by its file name."""
    normal = os.path.normpath(path)
    if os.path.isabs(normal) or normal.split(os.sep)[0] == os.pardir:
        return os.path.basename(normal)
    return normal.replace(os.sep, "/")


def _glob_root(pattern: str) -> str:
    """The folder a glob pattern searches from: its leading components without wildcards
    ('g/**/*.jpg' and 'g/20*/*.jpg' -> 'g', '*.jpg' -> '.'). Matches are named relative to
    it, as a folder's files are relative to the folder, so `--images 'g/**/*.jpg'` and
    `--images g --recursive` give each photo the same name."""
    fixed = []
    for part in pattern.split(os.sep):
        if glob.has_magic(part):
            break
        fixed.append(part)
    root = os.sep.join(fixed)
    if pattern.startswith(os.sep) and not root:
        return os.sep
    return root or "."


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
        digest = hashlib.sha256(os.fsencode(relative_name)).hexdigest()[:16]
        name = name[:MAX_EXTERNAL_IMAGE_ID - 17] + "-" + digest
    return name


def external_image_ids(found: list[Found], indexed_under=None) -> list[str]:
    """The ExternalImageId of each item of a folder job: unique within the job.

    Each is `external_image_id` of the item's name (its path relative to the folder named,
    the fixed folder of the glob, or its own folder for a file named alone). Only the items
    whose names meet there are named anew, so every name that was unique keeps its spelling:
    - the one the collection already holds under that name keeps it (`indexed_under(name,
      paths)` answers its index, or None), else the one whose file name is already exactly
      that (`caf_.jpg` against `café.jpg`);
    - the others are named by their path relative to the folder common to them (`a/x.jpg`
      and `b/x.jpg` from `--images a b` become `a:x.jpg` and `b:x.jpg`, as
      `--images . --recursive` names them), and if that still meets another name (the
      sanitising made them alike: `café.jpg`, `cafë.jpg`), by that name with a short hash of
      the exact path added before the extension: `caf_-a4baa578.jpg`.
    """
    names = [external_image_id(item.name) for item in found]
    groups: dict[str, list[int]] = {}
    for index, name in enumerate(names):
        groups.setdefault(name, []).append(index)
    taken = set(groups)
    for name, members in groups.items():
        if len(members) < 2:
            continue
        keeper = _keeper(name, [found[i] for i in members], indexed_under)
        longer = _relative_to_common_root([found[i] for i in members])
        candidates = [external_image_id(relative) for relative in longer]
        alike = Counter(candidates)
        for position, index in enumerate(members):
            if position == keeper:
                continue
            candidate = candidates[position]
            if candidate in taken or alike[candidate] > 1:
                candidate = _with_digest(candidate, longer[position])
            while candidate in taken:  # only if a digest met another name: make it longer
                candidate = _with_digest(candidate, candidate)
            names[index] = candidate
            taken.add(candidate)
    return names


def _keeper(name: str, items: list[Found], indexed_under) -> int | None:
    if indexed_under is not None:
        owner = indexed_under(name, [item.path for item in items])
        if owner is not None:
            return owner
    exact = [position for position, item in enumerate(items)
             if item.name.replace(os.sep, "/").replace("/", ":") == name]
    return exact[0] if len(exact) == 1 else None  # two exact names: folders tell them apart


def _relative_to_common_root(items: list[Found]) -> list[str]:
    """Each item's path relative to the folder common to the items' roots (the folder each
    one's name is relative to): its name, preceded by the folders that tell them apart."""
    absolute = [os.path.abspath(item.path) for item in items]
    roots = [_root_of(path, item.name) for path, item in zip(absolute, items)]
    common = os.path.commonpath(roots)
    return [os.path.relpath(path, common).replace(os.sep, "/") for path in absolute]


def _root_of(path: str, name: str) -> str:
    for _ in name.replace(os.sep, "/").split("/"):
        path = os.path.dirname(path)
    return path


def _with_digest(name: str, exact: str) -> str:
    """`name` with 8 hex digits of a hash of `exact` before its extension, within 255."""
    digest = hashlib.sha256(os.fsencode(exact)).hexdigest()[:8]
    stem, extension = os.path.splitext(name)
    stem = stem[:MAX_EXTERNAL_IMAGE_ID - len(extension) - len(digest) - 1]
    return f"{stem}-{digest}{extension}"
