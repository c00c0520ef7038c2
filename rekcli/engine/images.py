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
   every PNG chunk up to IEND must fit in the file (libpng allocates a chunk's declared
   length before reading it: a 150 KB PNG whose tEXt declares 2 GB would cost 2 GB);
5. a progressive (or multi-scan) JPEG whose whole-image coefficient buffer (64 two-byte
   coefficients per 8x8 block per component, whatever the output scale) would pass
   MAX_COEFFICIENT_BYTES (400 MiB) is `ImageTooManyPixels`: a 4:4:4 progressive JPEG of
   134 MP needs 806 MB there, a 4:2:0 one 403 MB (allowed);
6. OpenCV decodes, at reduced scale for large images (below); failure is `CorruptImage`.

Memory. One request must stay under 600 MB whatever image the API accepts. OpenCV's
imdecode holds two full copies of the pixels at its output size (a 134 MP image: 812 MB),
so images above DECODE_MAX_PIXELS (64 MP) are decoded at 1/2, 1/4 or 1/8 scale: a baseline
JPEG through libjpeg's scaled decoding (it never holds the full size), to at most 64 MP; a
PNG or a progressive JPEG, which the decoder holds at full size anyway before shrinking, to
at most BUFFERED_REDUCED_MAX_PIXELS (16 MP). Peak RSS of `detect-faces` (measured): 11585 x
11585 all-black PNG 839 MB before, 470 MB now (RGB, RGBA and 16-bit alike); same-size
baseline JPEG 842 -> 252 MB; progressive 4:2:0 JPEG 471 MB; an 8192 x 8192 JPEG (not
reduced) 447 MB. Coordinates are unaffected: boxes and landmarks are reported as ratios of
the decoded size. Photos up to 64 MP (48 MP phones included) are decoded at full size.

What reduced scale costs (benchmarks/bench_reduced_decode.py on ../shared/faces: 26 photos,
87 faces found at full size, each photo decoded at 1/2 and 1/4): at 1/2, 55 of 87 faces
are still found; every miss is a face 52 px wide or less at full size (26 px or less as
decoded), every face of 62 px or more is found; boxes agree with the full-size ones at
median IoU 0.83 (min 0.64) and each face's descriptor stays at Similarity median 99.9
(min 96.4) to its full-size self. At 1/4, 40 of 87: faces under about 125 px are lost;
median IoU 0.83 (min 0.55), self-Similarity median 99.6 (min 87.3). Same-person pairs move
by less than a point: obama/obama2 97.2 (1/1), 97.0 (1/2), 96.3 (1/4); biden 95.4, 95.6,
95.0; kit_harington 97.3, 97.3, 97.7; rose_leslie 95.5, 95.8, 95.8. So in a photo above
64 MP the smallest face found is about 60 px wide instead of about 36 (about 125 px in a
PNG or progressive JPEG above 64 MP); faces that are found match as well as at full size.

MAX_PIXELS = 2**27 (134 million pixels), checked before anything is decoded. Rekognition
publishes byte limits (5 MiB inline, 15 MB from S3) but no pixel limit; at the compression
of ordinary photos, 15 MB of JPEG holds about 100-130 megapixels, the largest frames cameras make (100-MP medium format at
11648 x 8736, 108-MP phones at 12000 x 9000); such images are decoded at reduced scale
(see Memory). A 100-byte PNG claiming 60000 x 60000 (3.6 gigapixels) is refused from its
header.

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
DECODE_MAX_PIXELS = 2**26
BUFFERED_REDUCED_MAX_PIXELS = 2**24
MAX_COEFFICIENT_BYTES = 400 * 2**20

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
    """Check `data` (see module docstring) and decode it to an upright RGB DecodedImage,
    at a reduced scale when it is larger than DECODE_MAX_PIXELS."""
    kind = image_format(data)
    if kind == "jpeg":
        header = _read_jpeg_header(data)
        width, height, orientation = header.width, header.height, header.orientation
        _check_pixel_count(width, height)
        if data.rfind(b"\xff\xd9") < header.scan_offset:
            raise CorruptImage("JPEG data ends before the end-of-image marker (truncated)")
        buffered = _check_coefficient_memory(data, header)
    else:
        width, height = _read_png_header(data)
        orientation = 1
        _check_pixel_count(width, height)
        _check_png_chunks(data)
        buffered = True  # OpenCV decodes a PNG whole, then shrinks it

    import cv2
    import numpy as np

    from rekcli.engine import DecodedImage

    factor = reduction_factor(width, height, buffered)
    flags = _REDUCED_FLAGS[factor] | cv2.IMREAD_IGNORE_ORIENTATION
    with _native_stderr_silenced():
        try:
            bgr = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), flags)
        except cv2.error as error:  # OpenCV raises rather than returning None for some inputs
            raise CorruptImage(f"cannot decode {kind.upper()} data") from error
    if bgr is None or bgr.ndim != 3 or bgr.shape[2] != 3:
        raise CorruptImage(f"cannot decode {kind.upper()} data")
    # Scaled JPEG decoding rounds each side up, PNG's resize rounds to nearest: within 1.
    if abs(bgr.shape[0] - height / factor) >= 1 or abs(bgr.shape[1] - width / factor) >= 1:
        raise CorruptImage("decoded size differs from the header")
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB, dst=bgr)  # in place: no second copy of the pixels
    rgb = apply_exif_orientation(rgb, orientation)
    return DecodedImage(pixels=rgb, width=int(rgb.shape[1]), height=int(rgb.shape[0]))


def reduction_factor(width: int, height: int, buffered: bool) -> int:
    """1, 2, 4 or 8: how much smaller than stored an image is decoded (see module docstring).

    `buffered`: the decoder holds the whole image at full size anyway (PNG, progressive
    JPEG), so the reduced copy is made smaller to keep the sum down."""
    budget = BUFFERED_REDUCED_MAX_PIXELS if buffered else DECODE_MAX_PIXELS
    if width * height <= DECODE_MAX_PIXELS:
        return 1
    factor = 2
    while factor < 8 and width * height > budget * factor * factor:
        factor *= 2
    return factor


def _check_coefficient_memory(data: bytes, header: "_JpegHeader") -> bool:
    """Progressive (or multi-scan) JPEGs keep every DCT coefficient of the whole image in
    memory until the last scan, at any output scale: refuse those that need too much.
    True when the JPEG is one of those (its decoder buffers the whole image)."""
    # More scans before the image's end marker (not counting an EXIF thumbnail before the
    # first scan, nor images that phones append after the end marker).
    end = data.find(b"\xff\xd9", header.scan_offset)
    multi_scan = header.progressive or data.count(b"\xff\xda", header.scan_offset, end) > 0
    if multi_scan and header.coefficient_bytes > MAX_COEFFICIENT_BYTES:
        raise ImageTooManyPixels(
            f"a {header.width}x{header.height} progressive JPEG needs "
            f"{header.coefficient_bytes} bytes of coefficients; the limit is "
            f"{MAX_COEFFICIENT_BYTES}")
    return multi_scan


def _check_png_chunks(data: bytes) -> None:
    """Every chunk up to IEND must fit in the file: libpng allocates a chunk's declared length
    before reading it, so a tEXt claiming 2 GB in a 150 KB file would cost 2 GB."""
    pos, end = 8, len(data)
    while pos + 8 <= end:
        length, chunk_type = struct.unpack_from(">I4s", data, pos)
        if length >= 2**31 or pos + 12 + length > end:
            raise CorruptImage(f"PNG chunk {chunk_type!r} declares {length} bytes, more than "
                               f"the file holds")
        if chunk_type == b"IEND":
            return
        pos += 12 + length


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
    __slots__ = ("width", "height", "orientation", "scan_offset", "progressive",
                 "coefficient_bytes")

    def __init__(self, width: int, height: int, orientation: int, scan_offset: int,
                 progressive: bool, coefficient_bytes: int):
        self.width, self.height = width, height
        self.orientation, self.scan_offset = orientation, scan_offset
        self.progressive, self.coefficient_bytes = progressive, coefficient_bytes


# SOF markers of progressive frames (huffman and arithmetic, sequential and differential).
_PROGRESSIVE_SOF = frozenset([0xC2, 0xC6, 0xCA, 0xCE])


def _coefficient_bytes(width: int, height: int, segment: bytes) -> int:
    """What libjpeg's whole-image coefficient buffer takes: 64 two-byte coefficients per 8x8
    block of every component, each component sampled at its own H x V factors."""
    count = segment[5]
    if len(segment) < 6 + 3 * count or count == 0:
        raise CorruptImage("malformed JPEG frame header")
    factors = [(segment[7 + 3 * i] >> 4, segment[7 + 3 * i] & 15) for i in range(count)]
    h_max = max(h for h, _ in factors) or 1
    v_max = max(v for _, v in factors) or 1
    total = 0
    for h, v in factors:
        blocks_wide = -(-width * h // (8 * h_max))
        blocks_high = -(-height * v // (8 * v_max))
        total += blocks_wide * blocks_high * 128
    return total


def _read_jpeg_header(data: bytes) -> _JpegHeader:
    """Walk the marker segments from SOI to the first SOS: size, EXIF orientation, scan start."""
    size = None
    orientation = 1
    progressive, coefficients = False, 0
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
            progressive = marker in _PROGRESSIVE_SOF
            coefficients = _coefficient_bytes(width, height, segment)
        elif marker == _APP1 and segment[:6] == b"Exif\x00\x00":
            orientation = _exif_orientation(segment[6:])
        elif marker == _SOS:
            if size is None:
                raise CorruptImage("JPEG scan starts before the frame header")
            return _JpegHeader(size[0], size[1], orientation, pos + length, progressive,
                               coefficients)
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


def _reduced_flags() -> dict[int, int]:
    import cv2

    return {1: cv2.IMREAD_COLOR, 2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4,
            8: cv2.IMREAD_REDUCED_COLOR_8}


class _LazyFlags(dict):
    """OpenCV's IMREAD_REDUCED_COLOR_n flags, looked up on first use (cv2 imports slowly)."""

    def __missing__(self, factor):
        self.update(_reduced_flags())
        return dict.__getitem__(self, factor)


_REDUCED_FLAGS = _LazyFlags()


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
