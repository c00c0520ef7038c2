"""What can go wrong inside the engine, in the engine's own words (no AWS names here)."""

from __future__ import annotations


class ImageError(Exception):
    """The bytes are not an image the engine will analyse."""


class UnsupportedImageFormat(ImageError):
    """Neither JPEG nor PNG, judged by the magic bytes (WebP, BMP, GIF, text, ...)."""


class CorruptImage(ImageError):
    """A JPEG/PNG signature, but the header is malformed or the pixel data cannot be decoded."""


class ImageTooManyPixels(ImageError):
    """The header claims more pixels than the engine is willing to decode."""


class UnknownDetector(ValueError):
    """REKCLI_DETECTOR names a face detector the engine does not have."""


class UnknownFaceModel(ValueError):
    """REKCLI_FACE_MODEL names a landmark model the engine does not have."""
