"""Service-side checks of a request against the model: maximums, patterns, enums.

botocore (and so the aws CLI) checks only required members, types and minimums before
sending; maximums, patterns and enum values are checked by the service, which answers with an
error (exit 254). We keep that split: the CLI layer does the botocore part, this module the
service part, raising InvalidParameterException with the AWS validation wording.
"""

from __future__ import annotations

import re
from functools import lru_cache

from rekcli.service import model
from rekcli.service.errors import InvalidParameterException

# Python's `re` has no \p{...} classes; the tag patterns use letters, separators and numbers.
# \w is exactly letters (L), numbers (N) and '_' (which the patterns allow anyway). \s is not
# \p{Z}: it also takes control characters (tab, newline, \x1c-\x1f, \x85), which AWS
# refuses, so the separators are spelled out: Zs, then Zl (U+2028) and Zp (U+2029).
_SEPARATORS = "\u0020\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\u2028\u2029"
_UNICODE_CLASSES = {r"\p{L}\p{Z}\p{N}": r"\w" + _SEPARATORS}


@lru_cache(maxsize=None)
def _compiled(pattern: str) -> re.Pattern:
    for unicode_class, python_class in _UNICODE_CLASSES.items():
        pattern = pattern.replace(unicode_class, python_class)
    return re.compile(pattern)


def _member_path(path: str) -> str:
    """'Image.S3Object.Bucket' -> 'image.s3Object.bucket', the form AWS messages use."""
    parts = []
    for part in path.split("."):
        parts.append(part[:1].lower() + part[1:] if part and not part[0] == "[" else part)
    return ".".join(parts)


# Values longer than this are quoted by their first SHOWN_PREFIX characters and their length:
# a 1 MB CollectionId must not come back whole on stderr.
SHOWN_MAX = 100
SHOWN_PREFIX = 64


def shown_value(value) -> str:
    """str(value), or its first characters and its length when it is long."""
    text = value if isinstance(value, str) else str(value)
    if len(text) <= SHOWN_MAX:
        return text
    return f"{text[:SHOWN_PREFIX]}...({len(text)} characters)"


def _violation(value, path: str, constraint: str) -> InvalidParameterException:
    shown = shown_value(value) if not isinstance(value, (bytes, bytearray)) else "<binary>"
    return InvalidParameterException(
        f"1 validation error detected: Value '{shown}' at '{_member_path(path)}' failed to "
        f"satisfy constraint: {constraint}")


def check_request(operation_name: str, request: dict) -> None:
    """Raise InvalidParameterException for the first service-side constraint violated."""
    _check(request, model.operation(operation_name)["input"], "")


def _check(value, shape: dict, path: str) -> None:
    kind = shape["type"]
    if kind == "structure":
        for name, member_shape in shape["members"].items():
            if isinstance(value, dict) and value.get(name) is not None:
                _check(value[name], model.shape(member_shape), f"{path}.{name}" if path else name)
    elif kind == "list":
        _check_size(value, len(value), shape, path, "length")
        item_shape = model.shape(shape["member"])
        if item_shape["type"] == "string":
            _check_elements(value, value, item_shape, path, "Member")
        else:
            for i, item in enumerate(value):
                _check(item, item_shape, f"{path}.{i + 1}")
    elif kind == "map":
        _check_size(value, len(value), shape, path, "length")
        _check_elements(value, list(value), model.shape(shape["key"]), path, "Map keys")
        _check_elements(value, list(value.values()), model.shape(shape["value"]), path,
                        "Map value")
    elif kind == "string":
        _check_size(value, len(value), shape, path, "length")
        _check_string(value, shape, path)
    # Blobs are images: their size limit is answered by the image intake with Rekognition's
    # own ImageTooLargeException (rekcli/service/images.py), not as a validation error.
    elif kind in ("integer", "long", "float"):
        if value != value and ("min" in shape or "max" in shape):  # NaN: in no range
            bound = (f"greater than or equal to {shape['min']}" if "min" in shape
                     else f"less than or equal to {shape['max']}")
            raise _violation(value, path, f"Member must have value {bound}")
        if "max" in shape and value > shape["max"]:
            raise _violation(value, path, f"Member must have value less than or equal to {shape['max']}")
        if "min" in shape and value < shape["min"]:
            raise _violation(value, path, f"Member must have value greater than or equal to {shape['min']}")


def _check_elements(whole, items: list, item_shape: dict, path: str, what: str) -> None:
    """The strings of a list or map, checked as AWS checks them: the message shows the whole
    collection (Java's toString) and every constraint the first failing element breaks,
    e.g. `Map keys must satisfy constraint: [Member must satisfy regular expression ...]`."""
    for item in items:
        broken = _string_violations(item, item_shape)
        if broken:
            raise _violation(_java_text(whole), path,
                             f"{what} must satisfy constraint: [{', '.join(broken)}]")


def _java_text(value) -> str:
    """How the service shows a collection in a message: [a, b] and {k=v, k2=v2}."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={v}" for k, v in value.items()) + "}"
    return "[" + ", ".join(str(item) for item in value) + "]"


def _string_violations(value: str, shape: dict) -> list[str]:
    broken = []
    if "max" in shape and len(value) > shape["max"]:
        broken.append(f"Member must have length less than or equal to {shape['max']}")
    if "min" in shape and len(value) < shape["min"]:
        broken.append(f"Member must have length greater than or equal to {shape['min']}")
    if "enum" in shape and value not in shape["enum"]:
        broken.append("Member must satisfy enum value set: [" + ", ".join(shape["enum"]) + "]")
    pattern = shape.get("pattern")
    if pattern and not _compiled(pattern).fullmatch(value):
        broken.append(f"Member must satisfy regular expression pattern: {pattern}")
    return broken


def _check_size(value, size: int, shape: dict, path: str, what: str) -> None:
    if "max" in shape and size > shape["max"]:
        shown = value if isinstance(value, str) else size
        raise _violation(shown, path, f"Member must have {what} less than or equal to {shape['max']}")
    if "min" in shape and size < shape["min"]:
        shown = value if isinstance(value, str) else size
        raise _violation(shown, path, f"Member must have {what} greater than or equal to {shape['min']}")


def _check_string(value: str, shape: dict, path: str) -> None:
    if "enum" in shape and value not in shape["enum"]:
        raise _violation(value, path, "Member must satisfy enum value set: ["
                         + ", ".join(shape["enum"]) + "]")
    pattern = shape.get("pattern")
    if pattern and not _compiled(pattern).fullmatch(value):
        raise _violation(value, path, f"Member must satisfy regular expression pattern: {pattern}")
