"""Image intake for every image-taking operation: the `Image` member to upright pixels.

Rekognition's rules (reference §1.2): exactly one of Bytes or S3Object; JPEG or PNG only;
at most 5 MB of raw bytes (15 MB from S3); at least 80 pixels on each side. S3 objects are
read from S3 (s3.py) or, when `$REKCLI_S3_ROOT` is set, are files under
`$REKCLI_S3_ROOT/<Bucket>/<Name>`, and a key can never reach outside its bucket folder. Engine errors (which know no AWS names) become the AWS exceptions here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

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
    """The raw bytes of an `Image` member, from Bytes or from the local S3 root."""
    has_bytes, has_s3 = image.get("Bytes") is not None, image.get("S3Object") is not None
    if has_bytes == has_s3:
        raise InvalidParameterException(INVALID_PARAMETERS_MESSAGE)
    if has_bytes:
        data = bytes(image["Bytes"])
        if len(data) > MAX_BYTES:
            raise ImageTooLargeException(IMAGE_TOO_LARGE_MESSAGE)
        return data
    if ctx.s3_root is None:  # a real S3 (or S3-compatible) store: service/s3.py
        from rekcli.service import s3

        return s3.read_object(image["S3Object"], ctx.region, ctx.aws_profile)
    return _read_s3_object(ctx, image["S3Object"])


def _read_s3_object(ctx: ServiceContext, s3_object: dict) -> bytes:
    path = s3_object_path(ctx.s3_root, s3_object)
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise InvalidS3ObjectException(S3_OBJECT_MESSAGE)
        if size > MAX_S3_BYTES:
            raise ImageTooLargeException(IMAGE_TOO_LARGE_MESSAGE)
        return path.read_bytes()
    except OSError:
        raise InvalidS3ObjectException(S3_OBJECT_MESSAGE) from None


def s3_object_path(s3_root: Path | None, s3_object: dict) -> Path:
    """The file standing in for an S3 object; refuses anything outside its bucket folder."""
    if s3_root is None:
        raise InvalidS3ObjectException(
            "Unable to get object metadata from S3: no local bucket root is configured "
            "(set REKCLI_S3_ROOT to the folder holding one sub-folder per bucket).")
    bucket, name = s3_object.get("Bucket", ""), s3_object.get("Name", "")
    if s3_object.get("Version") is not None:
        raise InvalidS3ObjectException("Unable to get object metadata from S3: object versions "
                                       "are not supported by the local bucket root.")
    if not bucket or bucket in (".", "..") or "/" in bucket or not name or "\0" in bucket + name:
        raise InvalidS3ObjectException(S3_OBJECT_MESSAGE)  # (no file name holds a NUL)
    bucket_dir = os.path.realpath(os.path.join(s3_root, bucket))
    target = os.path.realpath(os.path.join(bucket_dir, name))
    if os.path.commonpath([bucket_dir, target]) != bucket_dir or target == bucket_dir:
        raise InvalidS3ObjectException(S3_OBJECT_MESSAGE)
    return Path(target)


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
    if pixels.width < MIN_SIDE or pixels.height < MIN_SIDE:
        raise InvalidParameterException(INVALID_PARAMETERS_MESSAGE)
    return LoadedImage(data, pixels)
