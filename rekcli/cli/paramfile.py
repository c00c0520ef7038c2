"""Parameter values loaded from files: `file://path` (text) and `fileb://path` (bytes).

Any parameter value may name a file instead of holding the value itself, exactly as in
the aws CLI (`awscli/paramfile.py`): `file://` reads the file as UTF-8 text, `fileb://`
reads its raw bytes, and `~` and `$VARS` in the path are expanded. Anything else is an
ordinary value and comes back unchanged.

A file that cannot be read raises `ParamFileError` whose text is the aws message body;
the caller prefixes it with `Error parsing parameter '--x': ` (exit 252).

Standard library only: this runs on every CLI start.
"""

from __future__ import annotations

import os

TEXT_PREFIX = "file://"
BINARY_PREFIX = "fileb://"

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


def _load(value: str, raw_path: str, *, binary: bool):
    path = os.path.expandvars(os.path.expanduser(raw_path))
    try:
        if binary:
            with open(path, "rb") as handle:
                return handle.read()
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except UnicodeDecodeError:
        # aws names the expanded path here, in parentheses, and the original value below.
        raise ParamFileError(_UNDECODABLE.format(path=path)) from None
    except (OSError, ValueError) as exc:
        # OSError: missing, directory, permission, ... -> "[Errno n] <strerror>: '<path>'".
        # ValueError: a path with a NUL byte; aws would crash, we answer in the same form.
        raise ParamFileError(f"Unable to load paramfile {value}: {exc}") from None
