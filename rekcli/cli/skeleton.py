"""--generate-cli-skeleton: request templates (input, yaml-input) and a sample response."""

from __future__ import annotations

import json

from rekcli.service import model

_PLACEHOLDERS = {"string": "", "integer": 0, "long": 0, "float": 0.0, "boolean": False,
                 "blob": None, "timestamp": "1970-01-01T00:00:00"}


def input_skeleton(shape: dict, depth: int = 0):
    """A template of `shape`: every member, one element per list, placeholders for scalars."""
    kind = shape["type"]
    if depth > 10:  # recursive shapes would never end; the face API has none, but be safe
        return {}
    if kind == "structure":
        return {name: input_skeleton(model.shape(s), depth + 1) for name, s in shape["members"].items()}
    if kind == "list":
        return [input_skeleton(model.shape(shape["member"]), depth + 1)]
    if kind == "map":
        return {"KeyName": input_skeleton(model.shape(shape["value"]), depth + 1)}
    if "enum" in shape:
        return shape["enum"][0]
    return _PLACEHOLDERS[kind]


def output_skeleton(shape: dict, name: str = "", depth: int = 0):
    """A fake response as the aws CLI builds it (botocore's ArgumentGenerator with member
    names): a string is the name of the member holding it, a list's item the name of the
    item's shape ("String", "UnsuccessfulFaceDeletionReason"), a map's value ""; numbers 0,
    booleans true, timestamps the epoch."""
    kind = shape["type"]
    if depth > 10:
        return {}
    if kind == "structure":
        return {member: output_skeleton(model.shape(s), member, depth + 1)
                for member, s in shape["members"].items()}
    if kind == "list":
        return [output_skeleton(model.shape(shape["member"]), shape["member"], depth + 1)]
    if kind == "map":
        return {"KeyName": output_skeleton(model.shape(shape["value"]), "", depth + 1)}
    if kind in ("integer", "long"):
        return 0
    if kind == "float":
        return 0.0
    if kind == "boolean":
        return True
    if kind == "timestamp":
        return _PLACEHOLDERS["timestamp"]
    if kind == "blob":
        return None
    return name


def json_input_skeleton(operation_name: str) -> str:
    template = input_skeleton(model.operation(operation_name)["input"])
    return json.dumps(template, indent=4) + "\n"


def yaml_input_skeleton(operation_name: str) -> str:
    """YAML template with a comment per member: [REQUIRED], its help, its valid values."""
    op = model.operation(operation_name)
    lines: list[str] = []
    _yaml_members(op["input"], op["docs"], 0, lines)
    return "\n".join(lines) + "\n"


def _yaml_members(shape: dict, docs: dict, indent: int, lines: list[str]) -> None:
    pad = " " * indent
    for name, shape_name in shape["members"].items():
        member = model.shape(shape_name)
        comment = _yaml_comment(name in shape["required"], docs.get(name, ""), member)
        kind = member["type"]
        if kind == "structure":
            lines.append(f"{pad}{name}:{comment}")
            _yaml_members(member, {}, indent + 2, lines)
        elif kind == "list":
            item = model.shape(member["member"])
            if item["type"] == "structure":
                lines.append(f"{pad}{name}:{comment}")
                lines.append(f"{pad}-")
                _yaml_members(item, {}, indent + 2, lines)
            else:
                lines.append(f"{pad}{name}:{comment}")
                lines.append(f"{pad}- {_yaml_scalar(item)}")
        elif kind == "map":
            lines.append(f"{pad}{name}:{comment}")
            lines.append(f"{pad}  KeyName: {_yaml_scalar(model.shape(member['value']))}")
        else:
            lines.append(f"{pad}{name}: {_yaml_scalar(member)}{comment}")


def _yaml_scalar(shape: dict) -> str:
    if "enum" in shape:
        return shape["enum"][0]
    return {"string": "''", "integer": "0", "long": "0", "float": "0.0", "boolean": "false",
            "blob": "!!binary ''", "timestamp": "1970-01-01 00:00:00"}[shape["type"]]


def _yaml_comment(required: bool, doc: str, shape: dict) -> str:
    parts = []
    if required:
        parts.append("[REQUIRED]")
    if doc:
        parts.append(doc.split(". ")[0].rstrip("."))
    if "enum" in shape:
        parts.append("Valid values are: " + ", ".join(shape["enum"]) + ".")
    return "  # " + " ".join(parts) if parts else ""
