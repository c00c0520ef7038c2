"""Client-side validation of a request, as botocore does it before sending.

botocore checks required members, unknown members, types and minimums (lengths and values);
maximums, patterns and enums are left to the service (rekcli/service/validation.py). Every
problem found is reported, one line each, under "Parameter validation failed:" (exit 252).
"""

from __future__ import annotations

from rekcli.cli.errors import ParamValidationError
from rekcli.service import model
from rekcli.service.validation import shown_value

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
        raise ParamValidationError("Parameter validation failed:\n" + "\n".join(errors))


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
