"""Image intake for every image-taking operation: the `Image` member to upright pixels.

Rekognition's rules (reference §1.2): exactly one of Bytes or S3Object; JPEG or PNG only;
at most 5 MB of raw bytes (15 MB from S3); at least 80 pixels on each side. Engine errors
(which know no AWS names) become the AWS exceptions here.

S3 objects are read from S3 (s3.py) or, when `$REKCLI_S3_ROOT` is set, are files under
`$REKCLI_S3_ROOT/<Bucket>/<Name>`, opened so that nothing can lead
outside the (real path of the) root: each component of bucket and key is opened relative to
its parent's descriptor with O_NOFOLLOW, so a symlink anywhere (a bucket, a folder, the file)
is refused rather than followed, and a folder swapped for a symlink between two checks cannot
redirect the read, because there is no second lookup: the size and type checks are made on
the opened descriptor (fstat) and the bytes read from it. `..` is refused; empty and `.`
components are skipped, as the file system would. Every failure is InvalidS3ObjectException.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from rekcli.bounded_read import read_at_most
from rekcli.service.context import ServiceContext
from rekcli.service.errors import (IMAGE_TOO_LARGE_MESSAGE, INVALID_IMAGE_FORMAT_MESSAGE,
                                   INVALID_PARAMETERS_MESSAGE, S3_OBJECT_MESSAGE,
                                   ImageTooLargeException, InvalidImageFormatException,
                                   InvalidParameterException, InvalidS3ObjectException)

MAX_BYTES = 5 * 1024 * 1024
MAX_S3_BYTES = 15 * 1024 * 1024
MIN_SIDE = 80


@dataclass
class LoadedImage:
    data: bytes        # the raw file, as given
    pixels: object     # rekcli.engine.DecodedImage

    @property
    def width(self) -> int:
        return self.pixels.width

    @property
    def height(self) -> int:
        return self.pixels.height


def image_bytes(ctx: ServiceContext, image: dict) -> bytes:
    """The raw bytes of an `Image` member: its Bytes, or its S3Object read from S3 or from the
    local bucket root."""
    has_bytes, has_s3 = image.get("Bytes") is not None, image.get("S3Object") is not None
    if has_bytes == has_s3:
        raise InvalidParameterException(INVALID_PARAMETERS_MESSAGE)
    if has_bytes:
        data = bytes(image["Bytes"])
        if len(data) > MAX_BYTES:
            raise ImageTooLargeException(IMAGE_TOO_LARGE_MESSAGE)
        return data
    s3_object = image["S3Object"]
    fetched = ctx.fetched_s3_objects.get((s3_object.get("Bucket"), s3_object.get("Name")))
    if fetched is not None and not s3_object.get("Version"):
        return fetched
    if ctx.s3_root is None:  # a real S3 (or S3-compatible) store: service/s3.py
        from rekcli.service import s3

        return s3.read_object(s3_object, ctx.region, ctx.aws_profile)
    return _read_s3_object(ctx, s3_object)


def _read_s3_object(ctx: ServiceContext, s3_object: dict) -> bytes:
    components = s3_object_components(s3_object)
    try:  # the root's own symlinks are the user's choice: resolved once, here
        fd = _open_beneath(os.path.realpath(ctx.s3_root), components)
    except (OSError, ValueError):  # ENOENT, ELOOP (a symlink), ENOTDIR, EACCES, a NUL, ...
        raise InvalidS3ObjectException(S3_OBJECT_MESSAGE) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):  # a folder, a FIFO, a device
            raise InvalidS3ObjectException(S3_OBJECT_MESSAGE)
        if info.st_size > MAX_S3_BYTES:
            raise ImageTooLargeException(IMAGE_TOO_LARGE_MESSAGE)
        data = read_at_most(lambda size: os.read(fd, size), MAX_S3_BYTES + 1)  # it may grow
    except OSError:
        raise InvalidS3ObjectException(S3_OBJECT_MESSAGE) from None
    finally:
        os.close(fd)
    if len(data) > MAX_S3_BYTES:
        raise ImageTooLargeException(IMAGE_TOO_LARGE_MESSAGE)
    return data


_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: opening a FIFO put there as an "object" must not wait for a writer; O_NOCTTY:
# a terminal device must not become our controlling terminal.
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOCTTY


def _open_beneath(root: str, components: list[str]) -> int:
    """A descriptor for root/components[0]/.../components[-1], no symlink followed on the way.

    Each step opens one name relative to the descriptor of the folder before it, so the path
    is looked up exactly once and nothing swapped in afterwards changes what is read."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for name in components[:-1]:
            child = os.open(name, _DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = child
        return os.open(components[-1], _FILE_FLAGS, dir_fd=fd)
    finally:
        os.close(fd)


def checked_local_s3_object_path(s3_root: Path, s3_object: dict) -> Path:
    """The file of an S3 object in the local bucket root, for a reader that needs a path
    (OpenCV's video reader): a regular file reached with no symlink on the way, checked as
    _read_s3_object checks it. A swap after this check is not caught; the reader opens the
    path again."""
    components = s3_object_components(s3_object)
    root = os.path.realpath(s3_root)
    try:
        fd = _open_beneath(root, components)
    except (OSError, ValueError):
        raise InvalidS3ObjectException(S3_OBJECT_MESSAGE) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise InvalidS3ObjectException(S3_OBJECT_MESSAGE)
    finally:
        os.close(fd)
    return Path(root, *components)


def local_s3_object_path(s3_root: Path, s3_object: dict) -> Path:
    """The file standing for an S3 object in the local bucket root, for telling versions of
    it apart (batch resume) only: reads go through _open_beneath, which follows no link."""
    return Path(s3_root, *s3_object_components(s3_object))


def s3_object_components(s3_object: dict) -> list[str]:
    """[bucket, folder, ..., file] for an S3 object in the local bucket root; refuses names
    that cannot be a file inside the bucket folder."""
    bucket, name = s3_object.get("Bucket", ""), s3_object.get("Name", "")
    if s3_object.get("Version") is not None:
        raise InvalidS3ObjectException("Unable to get object metadata from S3: object versions "
                                       "are not supported by the local bucket root.")
    if not bucket or bucket in (".", "..") or "/" in bucket or not name or "\0" in bucket + name:
        raise InvalidS3ObjectException(S3_OBJECT_MESSAGE)  # (no file name holds a NUL)
    key_parts = [part for part in name.split("/") if part not in ("", ".")]
    if not key_parts or ".." in key_parts:
        raise InvalidS3ObjectException(S3_OBJECT_MESSAGE)
    return [bucket, *key_parts]


def load_image(ctx: ServiceContext, image: dict) -> LoadedImage:
    """Read, check and decode an `Image` member; every failure is the AWS exception."""
    from rekcli import engine

    data = image_bytes(ctx, image)
    try:
        pixels = engine.decode_image(data)
    except engine.ImageTooManyPixels:
        raise ImageTooLargeException(IMAGE_TOO_LARGE_MESSAGE) from None
    except engine.ImageError:
        raise InvalidImageFormatException(INVALID_IMAGE_FORMAT_MESSAGE) from None
    # The stored size, not the decoded one: a very large image is decoded at reduced scale.
    if min(engine.image_dimensions(data)) < MIN_SIDE:
        raise InvalidParameterException(INVALID_PARAMETERS_MESSAGE)
    return LoadedImage(data, pixels)
