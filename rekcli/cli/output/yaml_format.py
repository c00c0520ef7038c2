r"""``--output yaml`` and ``--output yaml-stream``.

The aws CLI dumps with ruamel.yaml ``YAML(typ='safe')`` in block style. rekcli
reproduces that output with PyYAML by swapping in ruamel's YAML 1.2 rules where
the two libraries differ:

* implicit types follow YAML 1.2 (ruamel's default), not PyYAML's 1.1: a string
  is quoted only when it would read back as a 1.2 bool (``true``/``false``), int,
  float, null or timestamp -- so ``'7.0'``, ``'123456789012'``,
  ``'2023-11-14T22:13:20.123000+00:00'`` and ``''`` are quoted but ``yes``/``on``
  are not;
* floats are written as ``repr(value).lower()`` (``1e-05``, not PyYAML's
  ``1.0e-05``).

Shared by both libraries: mapping keys sorted, 2-space indent, a list under a key
starting at the key's column, non-ASCII written raw, ``null``/``true``/``false``, and
ruamel's default line width of 80: a long string is folded at a space past column 80, its
continuation lines indented two more (compared byte for byte with ruamel.yaml 0.19.1 in
tests/test_output_yaml.py). Two differences remain, where output reads back the same:
a double-quoted string (one holding a control character such as a tab) is folded with
PyYAML's escaped line break (``\`` at the end, ``\ `` on the next line) where ruamel
mostly writes a plain one, and a string holding U+0085 (NEL) is single-quoted where ruamel
double-quotes it as ``\N``.

A top-level scalar is written as JSON (``"foo"``, ``5``, ``true``, ``null``),
which avoids YAML's ``...`` document-end marker; an empty dict prints nothing.
yaml-stream writes each page as a one-item list, so pages concatenate into one
YAML list (``- FaceMatches: ...``; a null page is ``- null``).
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable, TextIO

import yaml
from yaml.emitter import Emitter
from yaml.representer import SafeRepresenter
from yaml.resolver import BaseResolver
from yaml.serializer import Serializer

# ruamel.yaml's implicit resolvers for YAML 1.2: (tag, pattern, first characters).
_YAML12_IMPLICIT_TYPES = [
    ("tag:yaml.org,2002:bool",
     r"^(?:true|True|TRUE|false|False|FALSE)$",
     "tTfF"),
    ("tag:yaml.org,2002:float",
     r"""^(?:
         [-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
     "-+0123456789."),
    ("tag:yaml.org,2002:int",
     r"""^(?:[-+]?0b[0-1_]+
        |[-+]?0o?[0-7_]+
        |[-+]?[0-9_]+
        |[-+]?0x[0-9a-fA-F_]+)$""",
     "-+0123456789"),
    ("tag:yaml.org,2002:merge", r"^(?:<<)$", "<"),
    ("tag:yaml.org,2002:null",
     r"""^(?: ~
        |null|Null|NULL
        | )$""",
     ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:timestamp",
     r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
        |[0-9][0-9][0-9][0-9] -[0-9][0-9]? -[0-9][0-9]?
        (?:[Tt]|[ \t]+)[0-9][0-9]?
        :[0-9][0-9] :[0-9][0-9] (?:\.[0-9]*)?
        (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""",
     "0123456789"),
    ("tag:yaml.org,2002:value", r"^(?:=)$", "="),
    ("tag:yaml.org,2002:yaml", r"^(?:!|&|\*)$", "!&*"),
]


class _Yaml12Resolver(BaseResolver):
    yaml_implicit_resolvers: dict = {}


for _tag, _pattern, _first in _YAML12_IMPLICIT_TYPES:
    _Yaml12Resolver.add_implicit_resolver(_tag, re.compile(_pattern, re.X), list(_first))


class _RuamelSafeRepresenter(SafeRepresenter):
    def represent_float(self, data: float) -> yaml.ScalarNode:
        if data != data:
            value = ".nan"
        elif data == float("inf"):
            value = ".inf"
        elif data == float("-inf"):
            value = "-.inf"
        else:
            value = repr(data).lower()  # YAML 1.2 accepts 1e-05 as a float
        return self.represent_scalar("tag:yaml.org,2002:float", value)


_RuamelSafeRepresenter.add_representer(float, _RuamelSafeRepresenter.represent_float)


class RuamelSafeDumper(Emitter, Serializer, _RuamelSafeRepresenter, _Yaml12Resolver):
    """A PyYAML dumper whose output matches ruamel.yaml ``YAML(typ='safe')``."""

    def __init__(self, stream: Any, **kwargs: Any) -> None:
        Emitter.__init__(self, stream, canonical=False, indent=2, width=80,
                         allow_unicode=True, line_break="\n")
        Serializer.__init__(self, encoding=None, explicit_start=False, explicit_end=False,
                            version=None, tags=None)
        _RuamelSafeRepresenter.__init__(self, default_style=None, default_flow_style=False,
                                        sort_keys=True)
        _Yaml12Resolver.__init__(self)


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, (dict, list, tuple, set))


def dump_yaml(value: Any) -> str:
    """One YAML document as aws writes it; scalars are written as JSON instead."""
    if _is_scalar(value):
        # aws: json.dump(value, stream) -- the json module's defaults, so
        # non-ASCII in a top-level string is \u-escaped here (unverified).
        return json.dumps(value) + "\n"
    return yaml.dump(value, Dumper=RuamelSafeDumper)


def format_yaml(response: Any) -> str:
    """``--output yaml``: nothing for an empty dict, otherwise :func:`dump_yaml`."""
    if isinstance(response, dict) and not response:
        return ""
    return dump_yaml(response)


def format_yaml_stream_page(page: Any) -> str:
    """``--output yaml-stream``: one page as a one-item YAML list (``- ...``)."""
    return dump_yaml([page])


class YAMLFormatter:
    """Formatter for ``--output yaml`` (fully buffered: the CLI merges pages first)."""

    name = "yaml"

    def __init__(self, *, operation_name: str = "", color: bool = False,
                 terminal_width: int | None = None) -> None:
        self.operation_name = operation_name

    def render(self, response: Any) -> str:
        return format_yaml(response)

    def write(self, response: Any, stream: TextIO) -> None:
        text = self.render(response)
        if text:
            stream.write(text)


class YAMLStreamFormatter:
    """Formatter for ``--output yaml-stream``: one list item per page, never merged.

    A non-paginated response is written as a single page, so ``render`` and
    ``render_page`` give the same text.
    """

    name = "yaml-stream"

    def __init__(self, *, operation_name: str = "", color: bool = False,
                 terminal_width: int | None = None) -> None:
        self.operation_name = operation_name

    def render(self, response: Any) -> str:
        return format_yaml_stream_page(response)

    def render_page(self, page: Any) -> str:
        return format_yaml_stream_page(page)

    def write(self, response: Any, stream: TextIO) -> None:
        stream.write(self.render(response))

    def write_page(self, page: Any, stream: TextIO) -> None:
        stream.write(self.render_page(page))

    def write_pages(self, response: Any, stream: TextIO, shown: Callable[[Any], Any]) -> None:
        """Every page of a ``PagedResponse`` as the service returned it, its own
        NextToken included, as the aws CLI prints them."""
        from rekcli.cli.output import emit

        for page in response.pages(raw=True):
            emit(stream, self.render_page(shown(page)))
