"""AWS JSON 1.1 as Rekognition speaks it: blobs travel base64, timestamps as epoch seconds,
errors as {"__type", "Message"} with the status the developer guide gives."""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import datetime

from rekcli.service import model

CONTENT_TYPE = "application/x-amz-json-1.1"
TARGET_PREFIX = "RekognitionService."
# The real service answers throttling with 400 ("Slow down") so SDKs back off rather than
# treat it as a server fault; only InternalServerError is a 500.
SERVER_ERROR_CODES = {"InternalServerError"}
_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([^/,\s]+)/")


class FrontDoorError(Exception):
    """An error found before any operation runs (unknown target, unparsable body, ...)."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def operation_from_target(target: str | None) -> str:
    name = (target or "")[len(TARGET_PREFIX):] if (target or "").startswith(TARGET_PREFIX) else ""
    if name not in model.OPERATIONS:
        raise FrontDoorError("UnknownOperationException", "")
    return name


def region_from_authorization(header: str | None) -> str | None:
    """The region of the SigV4 credential scope; the client's region as botocore sent it."""
    match = _SCOPE.search(header or "")
    return match.group(1) if match else None


def parse_request(operation_name: str, body: bytes) -> dict:
    if not body.strip():
        return {}
    try:
        request = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # nested past Python's stack
        raise FrontDoorError("SerializationException", "Start of structure or map found where "
                             "not expected.") from None
    if not isinstance(request, dict):
        raise FrontDoorError("SerializationException", "Expected a JSON object as the body.")
    return _decode(request, model.operation(operation_name)["input"])


def _decode(value, shape: dict):
    """Turn base64 blob members into bytes, walking the input shape like botocore's parser."""
    kind = shape["type"]
    if kind == "structure" and isinstance(value, dict):
        members = shape["members"]
        # A JSON null is an absent member, as botocore's parser treats it.
        return {key: (_decode(item, model.shape(members[key])) if key in members else item)
                for key, item in value.items() if item is not None}
    if kind == "list" and isinstance(value, list):
        member_shape = model.shape(shape["member"])
        return [_decode(item, member_shape) for item in value]
    if kind == "blob":
        if not isinstance(value, str):
            raise FrontDoorError("SerializationException", "Expected a base64 string for a blob.")
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise FrontDoorError("SerializationException", "Invalid base64 in a blob member.") \
                from None
    return value


def encode_response(response: dict) -> bytes:
    return json.dumps(response, default=_json_default, allow_nan=False,
                      separators=(",", ":")).encode()


def _json_default(value):
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def error_status(code: str) -> int:
    return 500 if code in SERVER_ERROR_CODES else 400


def encode_error(code: str, message: str, lower_case_message: bool = False) -> bytes:
    # AWS's front door (auth errors) writes "message"; the service writes "Message".
    key = "message" if lower_case_message else "Message"
    return json.dumps({"__type": code, key: message}).encode()
