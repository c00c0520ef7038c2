"""The aws CLI v2 command-line grammar: which options a command has and how argv is read.

Options come from the API model: one `--kebab-name` per input member, the blob helpers
(`--image-bytes` ...), the paging options of paginated operations, the cli-input options and
the global options. The tokenizer reproduces the argparse behaviours scripts rely on
(reference §3.1): global options anywhere, unambiguous prefixes, space-separated lists
(`--face-ids a b c`), the last repeated option wins, `--opt=value`, a lone `help` word.
Help pages are built from the same specs (rekcli/cli/help.py). rekcli does not use Click:
it has no variadic options, prefix matching or aws error texts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from rekcli.cli.errors import UnknownOptionsError, UsageError
from rekcli.cli.settings import GLOBAL_HELP, GLOBAL_OPTIONS, SKELETON_CHOICES
from rekcli.service import model

FLAG, VALUE, LIST, OPTIONAL_VALUE = "flag", "value", "list", "optional-value"
_NEGATIVE_NUMBER = re.compile(r"^-\d+$|^-\d*\.\d+$")


@dataclass(frozen=True)
class OptionSpec:
    """One command-line option and where its value goes."""

    name: str                  # --collection-id
    kind: str                  # flag | value | list | optional-value
    member: str | None = None  # API member it fills (CollectionId), None for CLI-only options
    shape: str | None = None   # model shape of that member
    choices: tuple[str, ...] | None = None
    help: str = ""
    hidden: bool = False
    is_global: bool = False
    const: str | None = None   # value of an optional-value option given without one


@dataclass
class ParsedArgs:
    values: dict[str, object] = field(default_factory=dict)   # option name -> raw value(s)
    positionals: list[str] = field(default_factory=list)


def _is_scalar_list(shape_name: str) -> bool:
    shape = model.shape(shape_name)
    return shape["type"] == "list" and model.shape(shape["member"])["type"] not in (
        "structure", "map", "list")


@lru_cache(maxsize=None)
def global_option_specs() -> dict[str, OptionSpec]:
    specs = {}
    for name, (_, takes_value, choices) in GLOBAL_OPTIONS.items():
        specs[name] = OptionSpec(name, VALUE if takes_value else FLAG, choices=choices,
                                 help=GLOBAL_HELP[name], is_global=True)
    return specs


@lru_cache(maxsize=None)
def command_option_specs(operation_name: str) -> dict[str, OptionSpec]:
    """Every option `rekcli <command>` accepts, in help order: members, helpers, globals."""
    op = model.operation(operation_name)
    paginated = op["paginator"] is not None
    specs: dict[str, OptionSpec] = {}
    for member, shape_name in op["input"]["members"].items():
        name = "--" + model.kebab(member)
        hidden = paginated and member in ("NextToken", "MaxResults")
        specs[name] = OptionSpec(name, LIST if _is_scalar_list(shape_name) else VALUE, member,
                                 shape_name, help=op["docs"][member], hidden=hidden)
        helper = model.BLOB_HELPERS.get(member) if shape_name == "Image" else None
        if helper:
            specs["--" + helper] = OptionSpec(
                "--" + helper, VALUE, member, "ImageBlob",
                help=f"The bytes of the {model.kebab(member).replace('-', ' ')}, usually "
                     f"fileb://path/to/photo.jpg. Fills {member}.Bytes.")
    if paginated:
        for name, text in (("--starting-token", "Token from a previous, truncated output "
                                                "(its NextToken) to continue from."),
                           ("--page-size", "Number of items fetched per page; does not change "
                                           "the output."),
                           ("--max-items", "Total number of items to print; a NextToken is "
                                           "added when more remain.")):
            specs[name] = OptionSpec(name, VALUE, help=text)
    specs["--cli-input-json"] = OptionSpec(
        "--cli-input-json", VALUE, help="Read the request from JSON (a string or file://path); "
                                        "options given on the command line win.")
    specs["--cli-input-yaml"] = OptionSpec(
        "--cli-input-yaml", VALUE, help="Read the request from YAML (a string or file://path).")
    specs["--generate-cli-skeleton"] = OptionSpec(
        "--generate-cli-skeleton", OPTIONAL_VALUE, choices=SKELETON_CHOICES, const="input",
        help="Print a request template (input, yaml-input) or a sample response (output).")
    specs.update(global_option_specs())
    return specs


def _resolve_option(token: str, specs: dict[str, OptionSpec]) -> OptionSpec | None:
    """Exact name, else the one option that `token` is a prefix of (argparse allows that)."""
    if token in specs:
        return specs[token]
    matches = [name for name in specs if name.startswith(token)]
    if len(matches) > 1:
        raise UsageError(f"ambiguous option: {token} could match {', '.join(matches)}")
    return specs[matches[0]] if matches else None


def _looks_like_option(token: str) -> bool:
    return token.startswith("-") and len(token) > 1 and not _NEGATIVE_NUMBER.match(token)


def parse_tokens(tokens: list[str], specs: dict[str, OptionSpec]) -> ParsedArgs:
    """Read argv tokens against `specs`.

    Words that are not options are kept in `positionals`, in order, together with unknown
    options: a lone `help` asks for help, anything else is reported by the caller as
    'Unknown options: ...' (see `reject_leftovers`).
    """
    parsed = ParsedArgs()
    i = 0
    while i < len(tokens):
        token = tokens[i]
        i += 1
        if token == "--":
            parsed.positionals.extend(tokens[i:])
            break
        if not token.startswith("--"):
            parsed.positionals.append(token)
            continue
        name, has_inline, inline = token.partition("=")
        spec = _resolve_option(name, specs)
        if spec is None:
            parsed.positionals.append(token)
            continue
        i = _consume(spec, tokens, i, inline if has_inline else None, parsed)
    return parsed


def reject_leftovers(parsed: ParsedArgs) -> None:
    if parsed.positionals:
        raise UnknownOptionsError("Unknown options: " + ", ".join(parsed.positionals))


def _consume(spec: OptionSpec, tokens: list[str], i: int, inline: str | None,
             parsed: ParsedArgs) -> int:
    """Take the value(s) of `spec` starting at tokens[i]; return the next index."""
    if spec.kind == FLAG:
        if inline is not None:
            raise UsageError(f"argument {spec.name}: ignored explicit argument '{inline}'")
        parsed.values[spec.name] = True
        return i
    if spec.kind == OPTIONAL_VALUE:
        value, i = _optional_value(spec, tokens, i, inline)
    elif spec.kind == LIST:
        value, i = _list_values(spec, tokens, i, inline)
    else:
        if inline is not None:
            value = inline
        elif i < len(tokens) and not _looks_like_option(tokens[i]):
            value, i = tokens[i], i + 1
        else:
            raise UsageError(f"argument {spec.name}: expected one argument")
    if spec.choices and spec.kind != LIST and value not in spec.choices:
        raise UsageError(_invalid_choice(spec.name, value, spec.choices))
    parsed.values[spec.name] = value  # the last repeated option wins, as with argparse
    return i


def _optional_value(spec, tokens, i, inline):
    if inline is not None:
        return inline, i
    if i < len(tokens) and tokens[i] in (spec.choices or ()):
        return tokens[i], i + 1
    return spec.const, i


def _list_values(spec, tokens, i, inline):
    values = [inline] if inline is not None else []
    while i < len(tokens) and not _looks_like_option(tokens[i]):
        values.append(tokens[i])
        i += 1
    if not values:
        raise UsageError(f"argument {spec.name}: expected at least one argument")
    return values, i


def _invalid_choice(name: str, value: str, choices) -> str:
    import difflib

    message = f"argument {name}: Found invalid choice '{value}'"
    close = difflib.get_close_matches(value, list(choices), cutoff=0.8)
    if close:
        message += "\n\nMaybe you meant:\n\n" + "\n".join(f"  * {c}" for c in close)
    return message


def split_command(argv: list[str]) -> tuple[str | None, list[str]]:
    """Find the command word (the first non-option token that is not a global's value).

    Returns (command, the other tokens) so that global options may stand before or after it.
    """
    specs = global_option_specs()
    i = 0
    while i < len(argv):
        token = argv[i]
        if token.startswith("--"):
            name = token.partition("=")[0]
            try:
                spec = _resolve_option(name, specs)
            except UsageError:
                spec = None
            if spec is not None and spec.kind == VALUE and "=" not in token:
                i += 1
            i += 1
            continue
        return token, argv[:i] + argv[i + 1:]
    return None, list(argv)
