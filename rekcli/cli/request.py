"""Turn parsed command-line values into the request dict an operation receives.

Steps, in the aws CLI's order (reference §3): resolve file:// and fileb:// values; convert
each option by its model shape (scalars, JSON or shorthand for structures and maps, lists);
merge the blob helpers (`--image-bytes`) into their Image member; merge --cli-input-json /
--cli-input-yaml shallowly under the command line; fill idempotency tokens; decode base64
text given for blobs; validate like botocore (required, unknown, types, minimums).
The last three steps are rekcli/service/requests.py's, shared with the batch workers.
"""

from __future__ import annotations

import json
from contextlib import contextmanager

from rekcli.cli.argv import OptionSpec
from rekcli.cli.errors import GeneralError, ParamValidationError, UsageError
from rekcli.cli.paramfile import BINARY_PREFIX, ParamFileError, resolve_param_file
from rekcli.service import model, requests
from rekcli.service.validation import shown_value

# Input documents (JSON, YAML, batch lines) nested deeper than this are refused: the deepest
# Rekognition request is 4 levels, and deeper values would only exhaust Python's stack later.
MAX_NESTING = 64
# Python refuses to convert integers longer than this (its default int_max_str_digits);
# any integer the API takes has at most 19 digits.
_MAX_INT_DIGITS = 4300


def _unreadable_value(error: ValueError) -> "DocumentError":
    """The DocumentError for a ValueError raised while building values (not a syntax error)."""
    if "digits" in str(error):  # "Exceeds the limit (4300 digits) for integer string conversion"
        return DocumentError(f"a number has more than {_MAX_INT_DIGITS} digits and is out of range")
    return DocumentError(f"a value cannot be read ({shown_value(str(error))})")


class DocumentError(ValueError):
    """A JSON or YAML document we refuse whole (too deep, absurd numbers); str() says why."""


def parse_json(text: str):
    """json.loads, with nesting and number sizes bounded and named in the error.

    JSONDecodeError (a syntax error) passes through for the callers' aws wording; the other
    refusals are DocumentError."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise DocumentError(f"nested more than {MAX_NESTING} levels deep") from None
    except ValueError as error:  # the integer digit limit
        raise _unreadable_value(error) from None
    check_nesting(value)
    return value


def check_nesting(value) -> None:
    """Refuse lists and maps nested more than MAX_NESTING deep (walked without recursion)."""
    if not isinstance(value, (dict, list)):
        return  # a scalar document: its callers say it is not the map they want
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        if depth > MAX_NESTING:
            raise DocumentError(f"nested more than {MAX_NESTING} levels deep")
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))


def parse_int(text) -> int:
    """int(text), with a message that names the problem for absurdly long digit strings."""
    if isinstance(text, str) and len(text) > _MAX_INT_DIGITS:
        raise ValueError(f"invalid value {shown_value(text.strip())!r}: an integer of "
                         f"{len(text.strip())} characters is out of range")
    return int(text)


def load_param_value(value: str, option_name: str):
    """Resolve a file:// or fileb:// value; other values come back unchanged."""
    from rekcli.cli.paramfile import ParamFileError, resolve_param_file

    try:
        return resolve_param_file(value)
    except ParamFileError as error:
        raise ParamValidationError(f"Error parsing parameter '{option_name}': {error}") from None


def convert_option(spec: OptionSpec, raw):
    """Value of one member option, converted by its model shape."""
    shape = model.shape(spec.shape)
    if isinstance(raw, list):
        values = [load_param_value(v, spec.name) for v in raw]
        return _convert_scalar_list(spec, values, shape)
    value = load_param_value(raw, spec.name)
    kind = shape["type"]
    if kind in ("structure", "map"):
        return _parse_structured(spec.name, value, shape)
    return _convert_scalar(spec.name, value, shape)


def _convert_scalar(option_name: str, value, shape: dict):
    kind = shape["type"]
    if kind == "blob" or isinstance(value, bytes):
        return value
    if kind == "integer":
        try:
            return parse_int(value)
        except ValueError as error:
            raise GeneralError(str(error)) from None
    if kind in ("long", "float"):
        convert = parse_int if kind == "long" else float
        try:
            return convert(value)
        except ValueError:
            name = "int" if kind == "long" else "float"
            raise UsageError(f"argument {option_name}: invalid {name} value: "
                             f"'{shown_value(value)}'") from None
    return value


def _convert_scalar_list(spec: OptionSpec, values: list, shape: dict) -> list:
    if len(values) == 1 and isinstance(values[0], str) and values[0].lstrip().startswith("["):
        try:
            parsed = parse_json(values[0])
        except ValueError as error:
            raise ParamValidationError(_invalid_json(spec.name, error, values[0])) from None
        return parsed if isinstance(parsed, list) else [parsed]
    member_shape = model.shape(shape["member"])
    return [_convert_scalar(spec.name, v, member_shape) for v in values]


def _invalid_json(option_name: str, error: Exception, text: str) -> str:
    return (f"Error parsing parameter '{option_name}': Invalid JSON: {error}\n"
            f"JSON received: {shown_value(text)}")


def _parse_structured(option_name: str, value, shape: dict):
    """A structure or map option: JSON when it starts with { or [, else shorthand."""
    from rekcli.cli.paramfile import ParamFileError
    from rekcli.cli.shorthand import ShorthandParseError, parse_shorthand, should_parse_as_json

    if isinstance(value, bytes):
        raise ParamValidationError(f"Error parsing parameter '{option_name}': Expected a text "
                                   f"value, received binary data (use file:// for JSON files)")
    if should_parse_as_json(value):
        try:
            return parse_json(value)
        except ValueError as error:
            raise ParamValidationError(_invalid_json(option_name, error, value)) from None
    try:
        parsed = parse_shorthand(value)
    except ShorthandParseError as error:
        raise ParamValidationError(f"Error parsing parameter '{option_name}': {error}") from None
    except ParamFileError as error:  # a key@=file:// member: aws reports it as a general error
        raise GeneralError(str(error)) from None
    return coerce_shorthand(parsed, shape)


def coerce_shorthand(value, shape: dict):
    """Shorthand gives strings; convert them by the model, like awscli's BackCompatVisitor."""
    kind = shape["type"]
    if kind == "structure" and isinstance(value, dict):
        members = shape["members"]
        return {k: coerce_shorthand(v, model.shape(members[k])) if k in members else v
                for k, v in value.items()}
    if kind == "map" and isinstance(value, dict):
        value_shape = model.shape(shape["value"])
        return {k: coerce_shorthand(v, value_shape) for k, v in value.items()}
    if kind == "list":
        items = value if isinstance(value, list) else [value]
        return [coerce_shorthand(item, model.shape(shape["member"])) for item in items]
    if isinstance(value, str):
        try:
            if kind in ("integer", "long"):
                return parse_int(value)
            if kind == "float":
                return float(value)
        except ValueError as error:
            raise GeneralError(str(error)) from None
        if kind == "boolean" and value.lower() in ("true", "false"):
            return value.lower() == "true"
    return value


def load_cli_input(values: dict) -> dict:
    """The request read from --cli-input-json or --cli-input-yaml ({} when neither)."""
    given = [name for name in ("--cli-input-json", "--cli-input-yaml") if name in values]
    if not given:
        return {}
    if len(given) == 2:
        raise ParamValidationError("Only one --cli-input- parameter may be specified.")
    option = given[0]
    text = load_param_value(values[option], option)
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    label = option.lstrip("-")
    if option == "--cli-input-json":
        try:
            loaded = parse_json(text)
        except json.JSONDecodeError:
            raise ParamValidationError(f"Error parsing parameter '{label}': Invalid JSON received.") from None
        except DocumentError as error:
            raise ParamValidationError(f"Error parsing parameter '{label}': Invalid JSON "
                                       f"received: {error}.") from None
    else:
        import yaml

        try:
            loaded = parse_yaml(text)
        except yaml.YAMLError:
            raise ParamValidationError(f"Error parsing parameter '{label}': Invalid YAML received.") from None
        except DocumentError as error:
            raise ParamValidationError(f"Error parsing parameter '{label}': Invalid YAML "
                                       f"received: {error}.") from None
    if not isinstance(loaded, dict):
        raise ParamValidationError(f"Error parsing parameter '{option}': Invalid type: expecting "
                                   f"map, received {type(loaded)}")
    return loaded


# A YAML document may name a node again by an alias; a few aliases nested in each other
# ("billion laughs", 372 bytes) stand for billions of values once anything walks the result.
# Composing a document counts what it would expand to and refuses more than this.
MAX_YAML_EXPANDED_NODES = 100_000


def parse_yaml(text: str):
    """yaml.safe_load with nesting bounded and alias expansion refused past a small size."""
    loader = _bounded_yaml_loader()(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if loader.aliases and _expanded_size(node) > MAX_YAML_EXPANDED_NODES:
            raise DocumentError(f"its aliases expand it to more than {MAX_YAML_EXPANDED_NODES} "
                                f"values")
        value = loader.construct_document(node)
    except RecursionError:
        raise DocumentError(f"nested more than {MAX_NESTING} levels deep") from None
    except DocumentError:
        raise
    except ValueError as error:  # an integer too long to convert, a date out of range
        raise _unreadable_value(error) from None
    finally:
        loader.dispose()
    check_nesting(value)
    return value


def _bounded_yaml_loader():
    import yaml

    class BoundedLoader(yaml.SafeLoader):
        """Counts aliases and depth while composing, before anything is expanded."""

        def __init__(self, stream):
            super().__init__(stream)
            self.aliases = 0
            self.depth = 0

        def compose_node(self, parent, index):
            if self.check_event(yaml.AliasEvent):
                self.aliases += 1
            self.depth += 1
            try:
                if self.depth > MAX_NESTING:
                    raise DocumentError(f"nested more than {MAX_NESTING} levels deep")
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

    return BoundedLoader


def _expanded_size(root) -> int:
    """How many nodes the YAML graph holds with every alias expanded (shared nodes counted
    once per reference, each node's size computed once)."""
    import yaml

    sizes: dict[int, int] = {}

    def size(node) -> int:
        known = sizes.get(id(node))
        if known is not None:
            return known
        total = 1
        if isinstance(node, yaml.SequenceNode):
            total += sum(size(child) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            total += sum(size(key) + size(item) for key, item in node.value)
        sizes[id(node)] = total
        return total

    return size(root)  # recursion is bounded: composing refused anything deeper than MAX_NESTING


def _cli_input_option(values: dict) -> str:
    return "--cli-input-json" if "--cli-input-json" in values else "--cli-input-yaml"


def read_blob_files(value, shape: dict, option: str):
    """A blob given as "fileb://path" in --cli-input-json/--cli-input-yaml: the file's bytes.

    The same shape as a `rekcli batch` line, so one request file works in both. aws reads no
    file there, but nothing aws accepts changes meaning: base64 text never holds a ':'.
    """
    kind = shape["type"]
    if kind == "structure" and isinstance(value, dict):
        members = shape["members"]
        return {k: read_blob_files(v, model.shape(members[k]), option) if k in members else v
                for k, v in value.items()}
    if kind == "blob" and isinstance(value, str) and value.startswith(BINARY_PREFIX):
        try:
            return resolve_param_file(value)
        except ParamFileError as error:
            raise ParamValidationError(
                f"Error parsing parameter '{option}': {error.message}") from None
    return value


def command_line_members(specs: dict[str, OptionSpec], values: dict) -> dict:
    """Members given as options, with blob helpers merged into their Image member."""
    members: dict = {}
    for name, raw in values.items():
        spec = specs[name]
        if spec.member is None or spec.shape == "ImageBlob":
            continue
        members[spec.member] = convert_option(spec, raw)
    for name, raw in values.items():
        spec = specs[name]
        if spec.member is not None and spec.shape == "ImageBlob":
            image = members.get(spec.member)
            image = dict(image) if isinstance(image, dict) else {}
            image["Bytes"] = convert_option(spec, raw)
            members[spec.member] = image
    return members


def build_request(operation_name: str, specs: dict[str, OptionSpec], values: dict,
                  binary_format: str) -> dict:
    """The validated request for one command line."""
    request = load_cli_input(values)
    if request:
        request = read_blob_files(request, model.operation(operation_name)["input"],
                                  _cli_input_option(values))
    request.update(command_line_members(specs, values))  # shallow merge: the command line wins
    return build_request_from_input(operation_name, request, binary_format)


def build_request_from_input(operation_name: str, request: dict, binary_format: str) -> dict:
    """Fill tokens, decode blobs and validate a request given as API members (the service's
    rekcli/service/requests.py), its problems as the CLI reports them."""
    with as_cli_errors():
        return requests.build_request_from_input(operation_name, request, binary_format)


def decode_blobs(value, shape: dict, binary_format: str):
    """Text given where the model wants bytes: base64-decoded (v2 default) or raw UTF-8."""
    with as_cli_errors():
        return requests.decode_blobs(value, shape, binary_format)


@contextmanager
def as_cli_errors():
    """A request the service's client-side checks refuse: ParamValidation (exit 252), or
    blob text that is not base64 (exit 255, the bare message), as aws reports them."""
    try:
        yield
    except requests.BlobDecodeError as error:
        raise GeneralError(error.message) from None
    except requests.RequestError as error:
        raise ParamValidationError(error.message) from None
