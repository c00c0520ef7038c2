"""Image intake: untrusted bytes -> upright RGB pixels, refusing what we should not decode.

Order of checks, cheapest first, so a hostile file costs nothing:
1. magic bytes: JPEG (the SOI marker FF D8) or PNG (89 50 4E 47 0D 0A 1A 0A); anything else,
   including WebP, BMP, GIF and text, is `UnsupportedImageFormat` (Rekognition takes JPEG and
   PNG only);
2. the header (JPEG SOF segment / PNG IHDR chunk) gives width and height without decoding;
   a malformed or truncated header is `CorruptImage`;
3. width x height above MAX_PIXELS is `ImageTooManyPixels`, before a byte is decompressed;
4. a JPEG must end its entropy-coded data with an EOI marker (trailing bytes after it are
   fine): a file cut short is `CorruptImage` even where the decoder would pad it with grey;
5. OpenCV decodes; failure is `CorruptImage`.

MAX_PIXELS = 2**27 (134 million pixels). Rekognition publishes byte limits (5 MiB inline,
15 MB from S3) but no pixel limit; at the compression of ordinary photos, 15 MB of JPEG holds
about 100-130 megapixels, the largest frames cameras make (100-MP medium format at
11648 x 8736, 108-MP phones at 12000 x 9000). Decoded as RGB such an image is ~400 MB, which
is as much memory as one request should take. A 100-byte PNG claiming 60000 x 60000
(3.6 gigapixels) is refused from its header.

EXIF orientation. Rekognition rotates JPEGs by their EXIF Orientation tag and reports every
coordinate in that upright frame; it never rotates PNGs. OpenCV's IMREAD_COLOR also applies
EXIF orientation, and recent versions do it for PNG's eXIf chunk too, which Rekognition does
not. So we decode with IMREAD_IGNORE_ORIENTATION and apply the tag ourselves, for JPEG only,
read from the APP1 segment the header walk already visits (orientations 1-8; anything else
counts as 1). Tests check that our transform agrees with OpenCV's on all eight values.

Colour: IMREAD_COLOR turns grayscale, CMYK/YCCK (Adobe-inverted included), 16-bit and
palette images into 8-bit BGR, which we reorder to RGB in place. An alpha channel is dropped
(the colour values are kept as stored), as PIL's convert("RGB") does.

libjpeg and libpng print warnings ("Corrupt JPEG data: ...", "libpng error: ...") straight
to the process's stderr, where the CLI prints AWS's error text and nothing else; decoding
therefore runs with file descriptor 2 pointed at /dev/null.
"""

from __future__ import annotations

import os
import struct
import threading
from contextlib import contextmanager

from rekcli.engine.errors import CorruptImage, ImageTooManyPixels, UnsupportedImageFormat

MAX_PIXELS = 2**27

JPEG_MAGIC = b"\xff\xd8"  # the SOI marker
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

# Start-of-frame markers carry the dimensions: C0-CF except DHT (C4), JPG (C8) and DAC (CC).
_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Markers without a length field: TEM and the restart markers.
_STANDALONE_MARKERS = frozenset([0x01, *range(0xD0, 0xD8)])
_SOS, _EOI, _APP1 = 0xDA, 0xD9, 0xE1
_EXIF_ORIENTATION_TAG = 0x0112


def image_format(data: bytes) -> str:
    """"jpeg" or "png" from the magic bytes; anything else is UnsupportedImageFormat."""
    if data[:2] == JPEG_MAGIC:
        return "jpeg"
    if data[:8] == PNG_MAGIC:
        return "png"
    raise UnsupportedImageFormat("not a JPEG or PNG image")


def image_dimensions(data: bytes) -> tuple[int, int]:
    """(width, height) as stored, read from the header only."""
    if image_format(data) == "jpeg":
        header = _read_jpeg_header(data)
        return header.width, header.height
    return _read_png_header(data)


def decode_image(data: bytes):
    """Check `data` (see module docstring) and decode it to an upright RGB DecodedImage."""
    kind = image_format(data)
    if kind == "jpeg":
        header = _read_jpeg_header(data)
        width, height, orientation = header.width, header.height, header.orientation
        _check_pixel_count(width, height)
        if data.rfind(b"\xff\xd9") < header.scan_offset:
            raise CorruptImage("JPEG data ends before the end-of-image marker (truncated)")
    else:
        width, height = _read_png_header(data)
        orientation = 1
        _check_pixel_count(width, height)

    import cv2
    import numpy as np

    from rekcli.engine import DecodedImage

    flags = cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION
    with _native_stderr_silenced():
        try:
            bgr = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), flags)
        except cv2.error as error:  # OpenCV raises rather than returning None for some inputs
            raise CorruptImage(f"cannot decode {kind.upper()} data") from error
    if bgr is None or bgr.ndim != 3 or bgr.shape[2] != 3:
        raise CorruptImage(f"cannot decode {kind.upper()} data")
    if bgr.shape[:2] != (height, width):
        raise CorruptImage("decoded size differs from the header")
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB, dst=bgr)  # in place: no second copy of the pixels
    rgb = apply_exif_orientation(rgb, orientation)
    return DecodedImage(pixels=rgb, width=int(rgb.shape[1]), height=int(rgb.shape[0]))


def apply_exif_orientation(pixels, orientation: int):
    """The pixels as they should be shown for EXIF Orientation 1-8 (a contiguous array)."""
    import cv2
    import numpy as np

    if orientation == 2:  # mirrored left-right
        out = cv2.flip(pixels, 1)
    elif orientation == 3:  # upside down
        out = cv2.rotate(pixels, cv2.ROTATE_180)
    elif orientation == 4:  # mirrored top-bottom
        out = cv2.flip(pixels, 0)
    elif orientation == 5:  # mirrored along the main diagonal
        out = cv2.transpose(pixels)
    elif orientation == 6:  # stored turned 90 degrees counter-clockwise: turn it clockwise
        out = cv2.rotate(pixels, cv2.ROTATE_90_CLOCKWISE)
    elif orientation == 7:  # mirrored along the anti-diagonal
        out = cv2.rotate(cv2.transpose(pixels), cv2.ROTATE_180)
    elif orientation == 8:  # stored turned 90 degrees clockwise: turn it back
        out = cv2.rotate(pixels, cv2.ROTATE_90_COUNTERCLOCKWISE)
    else:
        return pixels
    return np.ascontiguousarray(out)


def _check_pixel_count(width: int, height: int) -> None:
    if width * height > MAX_PIXELS:
        raise ImageTooManyPixels(
            f"{width}x{height} is {width * height} pixels; the limit is {MAX_PIXELS}"
        )


class _JpegHeader:
    __slots__ = ("width", "height", "orientation", "scan_offset")

    def __init__(self, width: int, height: int, orientation: int, scan_offset: int):
        self.width, self.height = width, height
        self.orientation, self.scan_offset = orientation, scan_offset


def _read_jpeg_header(data: bytes) -> _JpegHeader:
    """Walk the marker segments from SOI to the first SOS: size, EXIF orientation, scan start."""
    size = None
    orientation = 1
    pos = 2
    end = len(data)
    while True:
        # Each segment starts with FF, optionally padded with more FFs, then the marker code.
        if pos >= end or data[pos] != 0xFF:
            raise CorruptImage("malformed JPEG header")
        while pos < end and data[pos] == 0xFF:
            pos += 1
        if pos >= end:
            raise CorruptImage("JPEG header is truncated")
        marker = data[pos]
        pos += 1
        if marker in _STANDALONE_MARKERS:
            continue
        if marker == _EOI or marker == 0xD8:
            raise CorruptImage("JPEG has no image data")
        if pos + 2 > end:
            raise CorruptImage("JPEG header is truncated")
        (length,) = struct.unpack_from(">H", data, pos)
        if length < 2 or pos + length > end:
            raise CorruptImage("JPEG header is truncated")
        segment = data[pos + 2 : pos + length]
        if marker in _SOF_MARKERS and size is None:
            if len(segment) < 6:
                raise CorruptImage("malformed JPEG frame header")
            height, width = struct.unpack_from(">HH", segment, 1)
            if width == 0 or height == 0:
                raise CorruptImage("JPEG frame header gives no size")
            size = (width, height)
        elif marker == _APP1 and segment[:6] == b"Exif\x00\x00":
            orientation = _exif_orientation(segment[6:])
        elif marker == _SOS:
            if size is None:
                raise CorruptImage("JPEG scan starts before the frame header")
            return _JpegHeader(size[0], size[1], orientation, pos + length)
        pos += length


def _exif_orientation(tiff: bytes) -> int:
    """The Orientation tag of IFD0 in a TIFF-structured EXIF block; 1 when absent or garbled."""
    try:
        if tiff[:2] == b"II":
            order = "<"
        elif tiff[:2] == b"MM":
            order = ">"
        else:
            return 1
        magic, ifd_offset = struct.unpack_from(order + "HI", tiff, 2)
        if magic != 42:
            return 1
        (count,) = struct.unpack_from(order + "H", tiff, ifd_offset)
        for index in range(count):
            entry = ifd_offset + 2 + 12 * index
            tag, value_type = struct.unpack_from(order + "HH", tiff, entry)
            if tag == _EXIF_ORIENTATION_TAG and value_type == 3:  # SHORT, stored inline
                (value,) = struct.unpack_from(order + "H", tiff, entry + 8)
                return value if 1 <= value <= 8 else 1
    except struct.error:
        pass
    return 1


def _read_png_header(data: bytes) -> tuple[int, int]:
    """(width, height) from IHDR, which the PNG specification requires to be the first chunk."""
    if len(data) < 8 + 8 + 13:
        raise CorruptImage("PNG header is truncated")
    length, chunk_type = struct.unpack_from(">I4s", data, 8)
    if chunk_type != b"IHDR" or length != 13:
        raise CorruptImage("PNG does not start with an IHDR chunk")
    width, height = struct.unpack_from(">II", data, 16)
    if width == 0 or height == 0 or width >= 2**31 or height >= 2**31:
        raise CorruptImage("PNG header gives an invalid size")
    return width, height


_stderr_lock = threading.Lock()


@contextmanager
def _native_stderr_silenced():
    """Point file descriptor 2 at /dev/null for the duration (see module docstring)."""
    with _stderr_lock:
        try:
            saved = os.dup(2)
        except OSError:  # no stderr at all: nothing to protect
            yield
            return
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, 2)
            finally:
                os.close(devnull)
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
