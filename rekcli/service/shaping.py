"""Put a response in model order and drop absent members, as botocore's parser does."""

from __future__ import annotations

from rekcli.service import model


def shape_response(value, shape: dict):
    kind = shape["type"]
    if kind == "structure":
        if not isinstance(value, dict):
            return value
        ordered = {}
        for name, member_shape in shape["members"].items():
            member = value.get(name)
            if member is not None:
                ordered[name] = shape_response(member, model.shape(member_shape))
        return ordered
    if kind == "list" and isinstance(value, list):
        member_shape = model.shape(shape["member"])
        return [shape_response(item, member_shape) for item in value]
    if kind == "map" and isinstance(value, dict):
        value_shape = model.shape(shape["value"])
        return {key: shape_response(item, value_shape) for key, item in value.items()}
    return value
