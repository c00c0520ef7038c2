"""``--output json``: ``json.dumps(indent=4, ensure_ascii=False)`` plus one newline.

Keys keep the order they have in the response (model order, or the order of a
``--query`` multiselect hash); json is the only format that does not sort them.
"""

from __future__ import annotations

import base64
import datetime
import json
from typing import Any, TextIO


def _encode_extra(value: Any) -> Any:
    # Blobs print as base64 text and timestamps as ISO 8601, as the aws CLI's
    # json_encoder does; anything else is a programming error.
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def format_json(response: Any) -> str:
    """Render ``response`` as the aws CLI does; an empty dict renders as nothing at all."""
    if isinstance(response, dict) and not response:
        # aws prints nothing for {} (operations with an empty body), but other
        # falsy values ([], "", 0, false, null) do print.
        return ""
    return json.dumps(response, indent=4, ensure_ascii=False, default=_encode_extra) + "\n"


class JSONFormatter:
    """Formatter for ``--output json`` (fully buffered: the CLI merges pages first)."""

    name = "json"

    def __init__(self, *, operation_name: str = "", color: bool = False,
                 terminal_width: int | None = None) -> None:
        # json ignores the title, colour and width; the keywords keep one constructor
        # signature for every formatter.
        self.operation_name = operation_name

    def render(self, response: Any) -> str:
        return format_json(response)

    def write(self, response: Any, stream: TextIO) -> None:
        text = self.render(response)
        if text:
            stream.write(text)
