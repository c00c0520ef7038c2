"""A request as a client hands it to the service: its members filled, decoded and checked
before any work, by the CLI (rekcli/cli/request.py, which first turns options into members)
and by the batch workers (rekcli/batch/worker.py, one JSON object or folder item each).

- build_request_from_input: fill idempotency tokens, decode blobs given as text, validate.
- validate_request: the client-side validation botocore does before sending: required,
  unknown members, types and minimums (lengths and values); maximums, patterns and enums are
  left to the service (rekcli/service/validation.py). Every problem found is reported, one
  line each, under "Parameter validation failed:".
- render_timestamps: a response's datetimes as the aws CLI prints them.

Problems raise RequestError (its code ParamValidation, as aws reports them) or, for blob
text that is not base64, BlobDecodeError (no code: aws prints the bare message); the CLI
turns them into its own errors and exit codes, the workers into an item's error line.
"""

from __future__ import annotations

import datetime
import uuid

from rekcli.service import model
from rekcli.service.validation import shown_value


class RequestError(ValueError):
    """A request the client-side checks refuse; nothing was sent."""

    code = "ParamValidation"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class BlobDecodeError(RequestError):
    code = ""


def build_request_from_input(operation_name: str, request: dict, binary_format: str) -> dict:
    """Fill tokens, decode blobs and validate a request given as API members."""
    input_shape = model.operation(operation_name)["input"]
    request = dict(request)
    for member, shape_name in input_shape["members"].items():
        if model.shape(shape_name).get("idempotency_token") and request.get(member) is None:
            request[member] = str(uuid.uuid4())
    request = decode_blobs(request, input_shape, binary_format)
    validate_request(request, input_shape)
    return request


def decode_blobs(value, shape: dict, binary_format: str):
    """Text given where the model wants bytes: base64-decoded (v2 default) or raw UTF-8."""
    kind = shape["type"]
    if kind == "structure" and isinstance(value, dict):
        members = shape["members"]
        return {k: decode_blobs(v, model.shape(members[k]), binary_format) if k in members else v
                for k, v in value.items()}
    if kind == "blob" and isinstance(value, str):
        if binary_format == "raw-in-base64-out":
            return value.encode("utf-8")
        import base64
        import binascii

        try:  # like aws: characters outside the alphabet (the newlines `base64` writes) skipped
            return base64.b64decode(value)
        except (binascii.Error, ValueError):
            raise BlobDecodeError(f'Invalid base64: "{value}"') from None
    return value


def render_timestamps(value, timestamp_format: str = "iso8601"):
    """datetimes -> `2023-11-14T22:13:20.123000+00:00` (v2 default) or epoch seconds (wire)."""
    if isinstance(value, datetime.datetime):
        if timestamp_format == "wire":
            return value.timestamp()
        return value.astimezone(datetime.timezone.utc).isoformat()
    if isinstance(value, dict):
        return {k: render_timestamps(v, timestamp_format) for k, v in value.items()}
    if isinstance(value, list):
        return [render_timestamps(v, timestamp_format) for v in value]
    return value


# ---- client-side validation ------------------------------------------------------------------

_VALID_TYPES = {
    "structure": (dict,),
    "map": (dict,),
    "list": (list, tuple),
    "string": (str,),
    "integer": (int,),
    "long": (int,),
    "float": (float, int),
    "boolean": (bool,),
    "blob": (bytes, bytearray),
}
_TYPE_NAMES = {
    "structure": "<class 'dict'>",
    "map": "<class 'dict'>",
    "list": "<class 'list'>, <class 'tuple'>",
    "string": "<class 'str'>",
    "integer": "<class 'int'>",
    "long": "<class 'int'>",
    "float": "<class 'float'>, <class 'decimal.Decimal'>, <class 'int'>",
    "boolean": "<class 'bool'>",
    "blob": "<class 'bytes'>, <class 'bytearray'>, file-like object",
}


def validate_request(request: dict, input_shape: dict) -> None:
    errors: list[str] = []
    _validate(request, input_shape, "", errors)
    if errors:
        raise RequestError("Parameter validation failed:\n" + "\n".join(errors))


def _validate(value, shape: dict, path: str, errors: list[str]) -> None:
    kind = shape["type"]
    if not _has_valid_type(value, kind):
        if kind != "timestamp":
            errors.append(f"Invalid type for parameter {path}, value: {shown_value(value)}, type: "
                          f"{type(value)}, valid types: {_TYPE_NAMES[kind]}")
        return
    if kind == "structure":
        _validate_structure(value, shape, path, errors)
    elif kind == "list":
        _check_min_length(value, shape, path, errors)
        for i, item in enumerate(value):
            _validate(item, model.shape(shape["member"]), f"{path}[{i}]", errors)
    elif kind == "map":
        _check_min_length(value, shape, path, errors)
        for key, item in value.items():
            _validate(key, model.shape(shape["key"]), f"{path} (key: {key})", errors)
            _validate(item, model.shape(shape["value"]), f"{path}.{key}", errors)
    elif kind == "string":
        _check_min_length(value, shape, path, errors)
    elif kind in ("integer", "long", "float"):
        if "min" in shape and value < shape["min"]:
            errors.append(f"Invalid value for parameter {path}, value: {shown_value(value)}, "
                          f"valid min value: "
                          f"{shape['min']}")


def _has_valid_type(value, kind: str) -> bool:
    if kind == "timestamp":
        return True
    if kind in ("integer", "long", "float") and isinstance(value, bool):
        return False
    if kind == "blob" and hasattr(value, "read"):
        return True
    return isinstance(value, _VALID_TYPES[kind])


def _validate_structure(value: dict, shape: dict, path: str, errors: list[str]) -> None:
    where = path or "input"
    for name in shape["required"]:
        if name not in value:
            errors.append(f'Missing required parameter in {where}: "{name}"')
    members = shape["members"]
    for name, item in value.items():
        if name not in members:
            errors.append(f'Unknown parameter in {where}: "{name}", must be one of: '
                          f'{", ".join(members)}')
        else:  # a null value is a type error, as in botocore, never silently "absent"
            _validate(item, model.shape(members[name]), f"{path}.{name}" if path else name, errors)


def _check_min_length(value, shape: dict, path: str, errors: list[str]) -> None:
    if "min" in shape and len(value) < shape["min"]:
        errors.append(f"Invalid length for parameter {path}, value: {len(value)}, valid min "
                      f"length: {shape['min']}")
