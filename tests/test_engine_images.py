"""Image intake: formats, header limits, corrupt data, EXIF orientation, colour models."""

from __future__ import annotations

import struct
import subprocess
import sys
import zlib

import pytest

from rekcli.engine import (
    CorruptImage,
    DecodedImage,
    ImageError,
    ImageTooManyPixels,
    UnsupportedImageFormat,
    decode_image,
    image_dimensions,
)
from rekcli.engine.images import MAX_PIXELS, apply_exif_orientation

import numpy as np  # noqa: E402 - a required dependency: a broken install must fail
import cv2  # noqa: E402


# --- helpers that build images in memory ---------------------------------------------------


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def make_png(width, height, color_type, bit_depth, rows: bytes, extra_chunks=()) -> bytes:
    """A PNG built by hand (cv2 cannot write palette or gray+alpha PNGs)."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    chunks = [png_chunk(b"IHDR", ihdr), *extra_chunks, png_chunk(b"IDAT", zlib.compress(rows))]
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunks) + png_chunk(b"IEND", b"")


def tiff_orientation(orientation: int, order: str) -> bytes:
    """A minimal TIFF block (EXIF payload) whose IFD0 holds only the Orientation tag."""
    fmt = "<" if order == "II" else ">"
    header = order.encode() + struct.pack(fmt + "HI", 42, 8)
    ifd = struct.pack(fmt + "H", 1) + struct.pack(fmt + "HHIHH", 0x0112, 3, 1, orientation, 0)
    return header + ifd + struct.pack(fmt + "I", 0)


def with_exif_orientation(jpeg: bytes, orientation: int, order: str = "MM") -> bytes:
    payload = b"Exif\x00\x00" + tiff_orientation(orientation, order)
    app1 = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    return jpeg[:2] + app1 + jpeg[2:]


def asymmetric_rgb(height=24, width=40):
    """An image whose every flip and rotation is distinguishable: a gradient plus a corner mark."""
    y, x = np.mgrid[0:height, 0:width]
    channels = [x * 255 // width, y * 255 // height, (x + y) * 255 // (width + height)]
    image = np.stack(channels, axis=2)
    image = image.astype(np.uint8)
    image[:6, :6] = (255, 0, 0)
    return image


def encode_jpeg(rgb, quality=98) -> bytes:
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return data.tobytes()


# --- formats and headers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"hello world",
        b"RIFF\x00\x00\x00\x00WEBPVP8 ",
        b"BM" + b"\x00" * 60,
        b"GIF89a" + b"\x00" * 20,
    ],
    ids=["empty", "text", "webp", "bmp", "gif"],
)
def test_non_jpeg_png_bytes_are_unsupported(data):
    with pytest.raises(UnsupportedImageFormat):
        decode_image(data)
    with pytest.raises(UnsupportedImageFormat):
        image_dimensions(data)


def test_errors_share_one_base_class():
    for error in (UnsupportedImageFormat, CorruptImage, ImageTooManyPixels):
        assert issubclass(error, ImageError)


def test_png_claiming_60000_squared_pixels_is_refused_from_its_header():
    data = make_png(60000, 60000, 2, 8, b"")
    assert len(data) < 100
    assert image_dimensions(data) == (60000, 60000)
    with pytest.raises(ImageTooManyPixels):
        decode_image(data)


def test_jpeg_frame_header_claiming_too_many_pixels_is_refused():
    data = bytearray(encode_jpeg(asymmetric_rgb()))
    sof = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, 65000, 65000)
    assert image_dimensions(bytes(data)) == (65000, 65000)
    with pytest.raises(ImageTooManyPixels):
        decode_image(bytes(data))


def test_pixel_limit_admits_the_largest_camera_frames():
    assert 12000 * 9000 <= MAX_PIXELS < 60000 * 60000


@pytest.mark.parametrize("cut", [2, 3, 10, 100])
def test_jpeg_cut_inside_the_header_is_corrupt(cut):
    data = encode_jpeg(asymmetric_rgb())
    with pytest.raises(CorruptImage):
        image_dimensions(data[:cut])
    with pytest.raises(CorruptImage):
        decode_image(data[:cut])


def test_jpeg_cut_inside_the_scan_is_corrupt():
    data = encode_jpeg(asymmetric_rgb(200, 200))
    with pytest.raises(CorruptImage):
        decode_image(data[: len(data) * 3 // 4])


def test_truncated_png_is_corrupt_and_libpng_stays_off_stderr(capfd):
    rgb = asymmetric_rgb(60, 60)
    ok, encoded = cv2.imencode(".png", rgb)
    data = encoded.tobytes()
    with pytest.raises(CorruptImage):
        decode_image(data[: len(data) // 2])
    assert capfd.readouterr().err == ""


def test_png_without_ihdr_first_is_corrupt():
    data = b"\x89PNG\r\n\x1a\n" + png_chunk(b"tEXt", b"a\x00b") + b"\x00" * 20
    with pytest.raises(CorruptImage):
        image_dimensions(data)


def test_trailing_bytes_after_the_jpeg_end_marker_are_accepted():
    rgb = asymmetric_rgb()
    image = decode_image(encode_jpeg(rgb) + b"\x00" * 100)
    assert (image.width, image.height) == (40, 24)


# --- colour models ---------------------------------------------------------------------------


def assert_rgb(image: DecodedImage, width: int, height: int):
    assert isinstance(image, DecodedImage)
    assert (image.width, image.height) == (width, height)
    assert image.pixels.shape == (height, width, 3)
    assert image.pixels.dtype == np.uint8
    assert image.pixels.flags["C_CONTIGUOUS"]


def test_jpeg_channels_come_back_in_rgb_order():
    rgb = np.zeros((16, 16, 3), np.uint8)
    rgb[..., 0] = 200  # pure-ish red
    image = decode_image(encode_jpeg(rgb))
    red, green, blue = image.pixels.reshape(-1, 3).mean(axis=0)
    assert red > 150 and green < 50 and blue < 50


def test_sixteen_bit_png_becomes_eight_bit():
    rgb16 = (asymmetric_rgb().astype(np.uint16) * 257)
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(rgb16, cv2.COLOR_RGB2BGR))
    image = decode_image(encoded.tobytes())
    assert_rgb(image, 40, 24)
    assert np.abs(image.pixels.astype(int) - asymmetric_rgb().astype(int)).max() <= 1


def test_palette_png():
    palette = bytes([255, 0, 0, 0, 0, 255])  # index 0 red, index 1 blue
    rows = b"".join(b"\x00" + bytes([0, 1, 0, 1]) for _ in range(3))
    image = decode_image(make_png(4, 3, 3, 8, rows, [png_chunk(b"PLTE", palette)]))
    assert_rgb(image, 4, 3)
    assert tuple(image.pixels[0, 0]) == (255, 0, 0)
    assert tuple(image.pixels[0, 1]) == (0, 0, 255)


def test_gray_alpha_png_drops_the_alpha_channel():
    rows = b"".join(b"\x00" + bytes([100, 0, 200, 255]) for _ in range(2))  # 2 px of (gray, alpha)
    image = decode_image(make_png(2, 2, 4, 8, rows))
    assert_rgb(image, 2, 2)
    assert tuple(image.pixels[0, 0]) == (100, 100, 100)
    assert tuple(image.pixels[0, 1]) == (200, 200, 200)


def test_rgba_png_is_read_as_rgb():
    rgba = np.dstack([asymmetric_rgb(), np.full((24, 40), 128, np.uint8)])
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA))
    image = decode_image(encoded.tobytes())
    assert np.array_equal(image.pixels, asymmetric_rgb())


# --- EXIF orientation ------------------------------------------------------------------------

# What each EXIF Orientation value asks a viewer to do to the stored pixels (TIFF 6.0 / EXIF).
EXPECTED_DISPLAY = {
    1: lambda a: a,
    2: np.fliplr,
    3: lambda a: np.rot90(a, 2),
    4: np.flipud,
    5: lambda a: np.rot90(np.fliplr(a), 1),
    6: lambda a: np.rot90(a, -1),
    7: lambda a: np.rot90(np.fliplr(a), -1),
    8: lambda a: np.rot90(a, 1),
}


@pytest.mark.parametrize("orientation", range(1, 9))
def test_apply_exif_orientation_matches_the_specification(orientation):
    stored = asymmetric_rgb()
    shown = apply_exif_orientation(stored, orientation)
    assert np.array_equal(shown, EXPECTED_DISPLAY[orientation](stored))
    assert shown.flags["C_CONTIGUOUS"]


@pytest.mark.parametrize("order", ["II", "MM"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_jpeg_exif_orientation_is_applied_like_opencv_does(orientation, order):
    stored = asymmetric_rgb()
    data = with_exif_orientation(encode_jpeg(stored), orientation, order)
    image = decode_image(data)
    assert image_dimensions(data) == (40, 24)  # the header reports the stored frame
    expected_shape = (24, 40) if orientation <= 4 else (40, 24)
    assert image.pixels.shape[:2] == expected_shape
    # OpenCV's own EXIF handling (IMREAD_COLOR) must agree with ours.
    theirs = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    theirs = cv2.cvtColor(theirs, cv2.COLOR_BGR2RGB)
    if orientation == 6 and theirs.shape[:2] != (40, 24):
        pytest.skip("this OpenCV build does not apply EXIF orientation")
    assert np.array_equal(image.pixels, theirs)
    # And the corner mark ends up where the specification says.
    reference = EXPECTED_DISPLAY[orientation](decode_image(encode_jpeg(stored)).pixels)
    assert np.abs(image.pixels.astype(int) - reference.astype(int)).mean() < 2


def test_png_exif_orientation_is_not_applied():
    """Rekognition rotates JPEGs only; a PNG's eXIf chunk is ignored."""
    rgb = asymmetric_rgb()
    rows = b"".join(b"\x00" + rgb[y].tobytes() for y in range(rgb.shape[0]))
    data = make_png(40, 24, 2, 8, rows, [png_chunk(b"eXIf", tiff_orientation(6, "MM"))])
    image = decode_image(data)
    assert np.array_equal(image.pixels, rgb)


def test_garbled_exif_counts_as_upright():
    stored = asymmetric_rgb()
    payload = b"Exif\x00\x00MM\x00\x2a\xff\xff\xff\xff"  # IFD offset far past the end
    app1 = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    data = encode_jpeg(stored)
    image = decode_image(data[:2] + app1 + data[2:])
    assert image.pixels.shape[:2] == (24, 40)


# --- import cost -----------------------------------------------------------------------------


def test_importing_the_engine_loads_no_heavy_module():
    code = (
        "import sys, rekcli.engine, rekcli.engine.models, rekcli.engine.errors;"
        "print(sorted(m for m in ('numpy', 'cv2', 'dlib') if m in sys.modules))"
    )
    command = [sys.executable, "-c", code]
    output = subprocess.run(command, capture_output=True, text=True, check=True)
    assert output.stdout.strip() == "[]"


# --- the shared edge photos ------------------------------------------------------------------


@pytest.mark.e2e
@pytest.mark.parametrize("name", ["obama.bmp", "obama.webp", "not_an_image.jpg"])
def test_edge_files_that_are_not_jpeg_or_png(faces_dir, name):
    data = (faces_dir / "edge" / name).read_bytes()
    with pytest.raises(UnsupportedImageFormat):
        decode_image(data)


@pytest.mark.e2e
def test_truncated_edge_jpeg_is_corrupt(faces_dir, capfd):
    with pytest.raises(CorruptImage):
        decode_image((faces_dir / "edge" / "obama_truncated.jpg").read_bytes())
    assert capfd.readouterr().err == ""


@pytest.mark.e2e
def test_tiny_image_decodes(faces_dir):
    """60 x 75 is below Rekognition's 80-px minimum, but that rule belongs to the service."""
    data = (faces_dir / "edge" / "obama_tiny_60x75.jpg").read_bytes()
    assert image_dimensions(data) == (60, 75)
    assert_rgb(decode_image(data), 60, 75)


@pytest.fixture(scope="module")
def upright_obama(faces_dir):
    return decode_image((faces_dir / "people" / "obama" / "obama.jpg").read_bytes())


@pytest.mark.e2e
@pytest.mark.parametrize(
    "name, stored_size",
    [
        ("obama_exif_orientation_3.jpg", (910, 1137)),
        ("obama_exif_orientation_6.jpg", (1137, 910)),
        ("obama_exif_orientation_8.jpg", (1137, 910)),
        ("obama_cmyk.jpg", (910, 1137)),
        ("obama_progressive.jpg", (910, 1137)),
        ("obama_grayscale.jpg", (910, 1137)),
    ],
)
def test_edge_variants_decode_to_the_upright_photo(faces_dir, upright_obama, name, stored_size):
    data = (faces_dir / "edge" / name).read_bytes()
    assert image_dimensions(data) == stored_size
    image = decode_image(data)
    assert_rgb(image, 910, 1137)
    ours = image.pixels.astype(np.int16)
    reference = upright_obama.pixels.astype(np.int16)
    # Same picture (gray for the grayscale copy): compare brightness, pixel by pixel.
    assert np.abs(ours.mean(axis=2) - reference.mean(axis=2)).mean() < 4
    if name != "obama_grayscale.jpg":
        assert np.abs(ours - reference).mean() < 4
    else:
        assert np.array_equal(image.pixels[..., 0], image.pixels[..., 2])


@pytest.mark.e2e
def test_rgba_edge_png(faces_dir):
    image = decode_image((faces_dir / "edge" / "rgba_32bit.png").read_bytes())
    assert_rgb(image, 626, 1200)
