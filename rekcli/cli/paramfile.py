"""Parameter values loaded from files: `file://path` (text) and `fileb://path` (bytes).

Any parameter value may name a file instead of holding the value itself, exactly as in
the aws CLI (`awscli/paramfile.py`): `file://` reads the file as UTF-8 text, `fileb://`
reads its raw bytes, and `~` and `$VARS` in the path are expanded. Anything else is an
ordinary value and comes back unchanged.

A file that cannot be read raises `ParamFileError` whose text is the aws message body;
the caller prefixes it with `Error parsing parameter '--x': ` (exit 252).

Every read is bounded, so `file:///dev/zero` or a 300 MB file costs a few MB and no time:
* `fileb://` reads at most MAX_BINARY_BYTES + 1 bytes. The largest blob the API takes is an
  inline image (5 MiB); a longer file comes back cut at 5 MiB + 1 byte, which is still too
  large, so the service answers with AWS's own ImageTooLargeException (exit 254) exactly
  as it would for the whole file.
* `file://` reads at most MAX_TEXT_BYTES + 1 bytes (8 MiB: room for a --cli-input-json
  carrying a 5 MiB image as base64, which is 6.7 MiB); a longer file is refused here.

Standard library only: this runs on every CLI start.
"""

from __future__ import annotations

import os

TEXT_PREFIX = "file://"
BINARY_PREFIX = "fileb://"

MAX_BINARY_BYTES = 5 * 1024 * 1024  # Image.Bytes, the API's largest blob
MAX_TEXT_BYTES = 8 * 1024 * 1024

_UNDECODABLE = (
    "Unable to load paramfile ({path}), text contents could not be decoded.  "
    "If this is a binary file, please use the fileb:// prefix instead of the file:// prefix."
)


class ParamFileError(Exception):
    """A `file://` or `fileb://` value could not be loaded; str() is the aws message."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def resolve_param_file(value):
    """Return the contents `value` points at, or `value` itself when it names no file.

    `file://p` gives `str` (UTF-8, universal newlines, nothing stripped), `fileb://p` gives
    `bytes`. Non-string values (lists, None, bytes) pass through untouched.
    """
    if not isinstance(value, str):
        return value
    if value.startswith(TEXT_PREFIX):
        return _load(value, value[len(TEXT_PREFIX):], binary=False)
    if value.startswith(BINARY_PREFIX):
        return _load(value, value[len(BINARY_PREFIX):], binary=True)
    return value


def read_bounded(path: str, limit: int) -> bytes:
    """At most `limit` + 1 bytes of the file at `path`: one byte more than allowed tells the
    caller the file is too long without reading the rest (a device may never end)."""
    with open(path, "rb") as handle:
        return read_stream_bounded(handle, limit)


def read_stream_bounded(handle, limit: int) -> bytes:
    """At most `limit` + 1 bytes from a binary stream (pipes return short reads: loop)."""
    from rekcli.bounded_read import read_at_most

    return read_at_most(handle.read, limit + 1)


def decode_text(data: bytes) -> str:
    """UTF-8 with universal newlines, as `open(path, encoding="utf-8")` reads it."""
    return data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")


def _load(value: str, raw_path: str, *, binary: bool):
    path = os.path.expandvars(os.path.expanduser(raw_path))
    try:
        if binary:
            return read_bounded(path, MAX_BINARY_BYTES)
        data = read_bounded(path, MAX_TEXT_BYTES)
        if len(data) > MAX_TEXT_BYTES:
            raise ParamFileError(f"Unable to load paramfile {value}: the file is larger than "
                                 f"{MAX_TEXT_BYTES} bytes, the most a file:// value may hold")
        return decode_text(data)
    except UnicodeDecodeError:
        # aws names the expanded path here, in parentheses, and the original value below.
        raise ParamFileError(_UNDECODABLE.format(path=path)) from None
    except (OSError, ValueError) as exc:
        # OSError: missing, directory, permission, ... -> "[Errno n] <strerror>: '<path>'".
        # ValueError: a path with a NUL byte; aws would crash, we answer in the same form.
        raise ParamFileError(f"Unable to load paramfile {value}: {exc}") from None
