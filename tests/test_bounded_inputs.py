"""Every input is read up to its limit and no further (issue 19 item 7).

`/dev/zero` never ends and a 300 MB file is 60 times the largest image: both must be refused
after reading the limit plus one byte, with the AWS error, in bounded memory. Memory is
measured as the peak RSS of a fresh `python -m rekcli` run (ru_maxrss of the only child of a
small wrapper process), never by time.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from rekcli.cli.paramfile import MAX_BINARY_BYTES, MAX_TEXT_BYTES

# A rekcli run that reads a few MB stays far below this; reading /dev/zero whole goes past
# it within a second (and on to all the memory there is).
BOUNDED_RSS_MB = 200

_MEASURE = (
    "import resource, subprocess, sys\n"
    "done = subprocess.run(sys.argv[1:], capture_output=True, timeout=300)\n"
    "sys.stdout.write(str(done.returncode) + '\\n')\n"
    "sys.stdout.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) + '\\n')\n"
    "sys.stdout.write(done.stderr.decode('utf-8', 'replace'))\n"
)


def run_measured(*args: str, stdin_path: str | None = None) -> tuple[int, float, str]:
    """(exit code, peak RSS in MB, stderr) of `python -m rekcli <args>` in a fresh process."""
    command = [sys.executable, "-c", _MEASURE, sys.executable, "-m", "rekcli", *args]
    stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, stdin=stdin)
    finally:
        if stdin_path:
            stdin.close()
    code, peak_kb, stderr = done.stdout.split("\n", 2)
    return int(code), int(peak_kb) / 1024, stderr


@pytest.fixture(scope="module")
def big_file(tmp_path_factory):
    """A 300 MB file of zeros, sparse so that it costs no disk."""
    path = tmp_path_factory.mktemp("big") / "big.bin"
    with open(path, "wb") as handle:
        handle.truncate(300 * 1024 * 1024)
    return path


def test_fileb_dev_zero_is_image_too_large_in_bounded_memory():
    code, peak, stderr = run_measured("detect-faces", "--image-bytes", "fileb:///dev/zero")
    assert code == 254, stderr
    assert "ImageTooLargeException" in stderr
    assert peak < BOUNDED_RSS_MB


def test_fileb_300_mb_file_is_image_too_large_in_bounded_memory(big_file):
    code, peak, stderr = run_measured("detect-faces", "--image-bytes", f"fileb://{big_file}")
    assert code == 254, stderr
    assert "ImageTooLargeException" in stderr
    assert peak < BOUNDED_RSS_MB


@pytest.mark.parametrize("option", ["--collection-id", "--cli-input-json", "--cli-input-yaml"])
def test_file_dev_zero_is_refused_naming_the_limit(option):
    command = ["describe-collection", option, "file:///dev/zero"]
    if option != "--collection-id":
        command.append("--collection-id=c")
    code, peak, stderr = run_measured(*command)
    assert code == 252, stderr
    assert f"larger than {MAX_TEXT_BYTES} bytes" in stderr
    assert peak < BOUNDED_RSS_MB


def test_batch_input_file_dev_zero_is_refused_in_bounded_memory():
    code, peak, stderr = run_measured("batch", "describe-collection", "--input-file", "/dev/zero")
    assert code == 252, stderr
    assert "Unable to read --input-file /dev/zero: the file is larger than" in stderr
    assert peak < BOUNDED_RSS_MB


def test_batch_stdin_dev_zero_is_refused_in_bounded_memory():
    code, peak, stderr = run_measured("batch", "describe-collection", stdin_path="/dev/zero")
    assert code == 252, stderr
    assert "the file is larger than" in stderr
    assert peak < BOUNDED_RSS_MB


def test_file_at_the_text_limit_is_read_and_one_byte_more_is_not(tmp_path):
    from rekcli.cli.paramfile import ParamFileError, resolve_param_file

    path = tmp_path / "value.txt"
    path.write_bytes(b"a" * MAX_TEXT_BYTES)
    assert len(resolve_param_file(f"file://{path}")) == MAX_TEXT_BYTES
    path.write_bytes(b"a" * (MAX_TEXT_BYTES + 1))
    with pytest.raises(ParamFileError, match="larger than"):
        resolve_param_file(f"file://{path}")


def test_fileb_reads_at_most_the_limit_plus_one_byte(tmp_path, big_file):
    from rekcli.cli.paramfile import resolve_param_file

    assert len(resolve_param_file(f"fileb://{big_file}")) == MAX_BINARY_BYTES + 1


def test_billion_laughs_yaml_is_refused_fast_in_bounded_memory(tmp_path):
    lines = ['CollectionId: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for previous, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    path = tmp_path / "laughs.yaml"
    path.write_text("\n".join(lines) + "\n")
    assert path.stat().st_size < 400
    code, peak, stderr = run_measured("describe-collection", "--cli-input-yaml", f"file://{path}")
    assert code == 252, stderr
    assert "Invalid YAML received: its aliases expand it to more than" in stderr
    assert peak < BOUNDED_RSS_MB


def test_yaml_with_a_few_aliases_still_loads(tmp_path):
    from rekcli.cli.request import parse_yaml

    document = "x: &id abc\nCollectionId: *id\nTags: {a: *id, b: *id}\n"
    assert parse_yaml(document) == {"x": "abc", "CollectionId": "abc",
                                    "Tags": {"a": "abc", "b": "abc"}}


def test_batch_line_json_and_cli_input_json_share_the_nesting_limit():
    from rekcli.cli.request import MAX_NESTING, DocumentError, parse_json

    assert parse_json("[" * MAX_NESTING + "]" * MAX_NESTING)
    with pytest.raises(DocumentError, match="nested more than"):
        parse_json("[" * (MAX_NESTING + 1) + "]" * (MAX_NESTING + 1))
    with pytest.raises(DocumentError, match="nested more than"):
        parse_json(json.dumps({"a": [[{"b": [[[]]]}]]}).replace("[]", "[" * 70 + "]" * 70))


# ---- images: checked before decoding, large ones decoded at reduced scale ---------------------

# The most memory one request may take, whatever image the API accepts.
REQUEST_RSS_MB = 600


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    import struct
    import zlib

    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _zero_png(width: int, height: int, extra: bytes = b"") -> bytes:
    """An all-black RGB PNG, compressed row by row (never held whole in memory)."""
    import struct
    import zlib

    compressor = zlib.compressobj(9)
    row = bytes(1 + 3 * width)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + extra
            + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def huge_zero_png(tmp_path_factory):
    """391 KB of PNG standing for 11585 x 11585 pixels, just under the pixel limit."""
    path = tmp_path_factory.mktemp("png") / "zero.png"
    path.write_bytes(_zero_png(11585, 11585))
    return path


def test_huge_all_zero_png_decodes_within_the_request_memory(huge_zero_png):
    assert huge_zero_png.stat().st_size < 400_000
    code, peak, stderr = run_measured("detect-faces", "--image-bytes", f"fileb://{huge_zero_png}")
    assert code == 0, stderr
    assert peak < REQUEST_RSS_MB


def test_png_chunk_declaring_more_than_the_file_is_refused_before_decoding(tmp_path):
    import struct

    png = _zero_png(100, 100)
    text_at = png.index(b"IDAT") - 4
    lying = struct.pack(">I", 2**31 - 1) + b"tEXt" + b"a\0" + b"x" * 150_000
    path = tmp_path / "lying.png"
    path.write_bytes(png[:text_at] + lying + png[text_at:])
    code, peak, stderr = run_measured("detect-faces", "--image-bytes", f"fileb://{path}")
    assert code == 254, stderr
    assert "InvalidImageFormatException" in stderr
    assert peak < BOUNDED_RSS_MB


def _jpeg_header_only(width: int, height: int, sof: int, sampling: list[int]) -> bytes:
    """SOI, a frame header and an empty scan: enough for the header checks, not an image."""
    import struct

    components = b"".join(bytes([i + 1, hv, 0]) for i, hv in enumerate(sampling))
    frame = struct.pack(">BHHB", 8, height, width, len(sampling)) + components
    scan = bytes([1, 1, 0x00, 0, 63, 0])
    return (b"\xff\xd8" + bytes([0xFF, sof]) + struct.pack(">H", 2 + len(frame)) + frame
            + b"\xff\xda" + struct.pack(">H", 2 + len(scan)) + scan + b"\x00" * 16 + b"\xff\xd9")


def test_progressive_jpeg_whose_coefficients_exceed_the_budget_is_too_large():
    from rekcli.engine import ImageTooManyPixels, decode_image

    full_colour = _jpeg_header_only(11585, 11585, 0xC2, [0x11, 0x11, 0x11])  # 806 MB
    with pytest.raises(ImageTooManyPixels, match="progressive JPEG"):
        decode_image(full_colour)


def test_reduction_factor_keeps_ordinary_photos_at_full_size():
    from rekcli.engine.images import reduction_factor

    assert reduction_factor(8000, 6000, buffered=False) == 1      # 48 MP phone
    assert reduction_factor(8000, 6000, buffered=True) == 1
    assert reduction_factor(12000, 9000, buffered=False) == 2     # 108 MP
    assert reduction_factor(11585, 11585, buffered=True) == 4


def test_a_baseline_jpeg_with_a_thumbnail_and_an_appended_image_is_not_multi_scan():
    from rekcli.engine.images import _check_coefficient_memory, _read_jpeg_header

    thumbnail = _jpeg_header_only(160, 120, 0xC0, [0x11])
    app1 = b"Exif\x00\x00" + thumbnail
    main = _jpeg_header_only(11585, 11585, 0xC0, [0x11, 0x11, 0x11])
    data = (main[:2] + b"\xff\xe1" + (2 + len(app1)).to_bytes(2, "big") + app1 + main[2:]
            + thumbnail)  # as phones append a second image after the end marker
    assert _check_coefficient_memory(data, _read_jpeg_header(data)) is False
