"""Output formats of ``--output`` and ``--cli-error-format``: one small module per style.

The registry, :data:`FORMATTERS`, is a plain dict from format name to the
``(module, class)`` that implements it. Modules are imported on first use only,
so printing json never imports PyYAML (and nothing here imports rich, numpy or
jmespath).

Every formatter class takes ``(*, operation_name, color, terminal_width)`` and has

* ``render(response) -> str``: the exact bytes to print (pure, testable);
* ``write(response, stream)``: the same, written to ``stream``.

The streaming formats (text, yaml-stream, listed in :data:`PAGED_FORMATS`) also
have ``render_page(page)``/``write_page(page, stream)`` and
``write_pages(response, stream, shown)``.

How the CLI drives them (reference §1.1, §5): a non-paginated response goes, with
``--query`` applied, to :func:`write_output`. A paginated one goes to
:func:`write_paged` as a ``PagedResponse`` (``rekcli/cli/paginate.py``, what
botocore's PageIterator is to the aws CLI's formatters), pages not fetched yet, with
``shown`` (timestamps and ``--query``):

* json, table, yaml, off: the merged ``full_result()``, shown, written once;
* text, yaml-stream: the formatter walks the pages itself (``write_pages``) and
  prints each as it arrives, shown on its own. text gives the non-aggregate keys
  with the first page only and, when ``--max-items`` truncated the result, ends
  with one more page, ``next_token_page(token)`` (also shown), which prints
  ``NEXTTOKEN<TAB>token``; yaml-stream prints each page as the service returned
  it, its own NextToken included.

:func:`write_error_document` renders ``--cli-error-format json|yaml|text|table``.
Table output may raise ``ValueError`` (``Row should have N elements, instead it
has M``) for shapes aws cannot draw either; the CLI maps it to exit 255.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable, TextIO

#: Format name -> (module, class), in the order aws lists the ``--output`` values.
#: ``None`` means: write nothing (``off``).
FORMATTERS: dict[str, tuple[str, str] | None] = {
    "json": ("rekcli.cli.output.json_format", "JSONFormatter"),
    "text": ("rekcli.cli.output.text_format", "TextFormatter"),
    "table": ("rekcli.cli.output.table_format", "TableFormatter"),
    "yaml": ("rekcli.cli.output.yaml_format", "YAMLFormatter"),
    "yaml-stream": ("rekcli.cli.output.yaml_format", "YAMLStreamFormatter"),
    "off": None,
}

#: Valid ``--output`` values: the one list, which settings, validation, help and
#: completions read.
FORMATS: tuple[str, ...] = tuple(FORMATTERS)

#: Formats written page by page (``--query`` applies to each page).
PAGED_FORMATS: frozenset[str] = frozenset({"text", "yaml-stream"})

#: Valid structured ``--cli-error-format`` values (``enhanced``/``legacy`` are plain text).
ERROR_DOCUMENT_FORMATS: tuple[str, ...] = ("json", "yaml", "text", "table")

#: Every valid ``--cli-error-format`` value, the plain-text ones first: the one list.
ERROR_FORMATS: tuple[str, ...] = ("enhanced", "legacy") + ERROR_DOCUMENT_FORMATS


def spoken_list(words: tuple[str, ...]) -> str:
    """``a, b or c``: a list of formats as help text names it."""
    return ", ".join(words[:-1]) + " or " + words[-1]


class OffFormatter:
    """``--output off``: nothing reaches stdout (errors still surface)."""

    name = "off"

    def __init__(self, *, operation_name: str = "", color: bool = False,
                 terminal_width: int | None = None) -> None:
        self.operation_name = operation_name

    def render(self, response: Any) -> str:
        return ""

    render_page = render

    def write(self, response: Any, stream: TextIO) -> None:
        return None

    write_page = write


def get_formatter(output_format: str, *, operation_name: str, color: bool = False,
                  terminal_width: int | None = None) -> Any:
    """The formatter object for ``output_format``; ValueError for an unknown name.

    ``operation_name`` is the CamelCase operation (``CompareFaces``), the table
    title. ``color`` only affects table. ``terminal_width`` (table only) defaults
    to the width of the terminal on stdout, 80 when stdout is not a TTY.
    """
    if output_format not in FORMATTERS:
        raise ValueError(f"Unknown output type: {output_format}")
    entry = FORMATTERS[output_format]
    if entry is None:
        cls: Any = OffFormatter
    else:
        module_name, class_name = entry
        cls = getattr(importlib.import_module(module_name), class_name)
    return cls(operation_name=operation_name, color=color, terminal_width=terminal_width)


def render_output(response: Any, output_format: str, *, operation_name: str,
                  color: bool = False, terminal_width: int | None = None) -> str:
    """The text :func:`write_output` would write, as a string."""
    formatter = get_formatter(output_format, operation_name=operation_name, color=color,
                              terminal_width=terminal_width)
    return formatter.render(response)


def write_output(response: Any, output_format: str, *, operation_name: str, stream: TextIO,
                 color: bool = False, terminal_width: int | None = None) -> None:
    """Write a whole (merged, ``--query``-filtered) response in ``output_format``.

    ``response`` is a plain value: dict/list/str/int/float/bool/None, dict keys
    in the order json should print them. The text is rendered completely before
    anything is written, so a table layout error leaves ``stream`` untouched.
    """
    text = render_output(response, output_format, operation_name=operation_name,
                         color=color, terminal_width=terminal_width)
    _write(stream, text)


def write_page(page: Any, output_format: str, *, operation_name: str, stream: TextIO,
               is_first_page: bool = True, color: bool = False,
               terminal_width: int | None = None) -> None:
    """Write one page of a paginated response for text or yaml-stream (or off).

    Each page is self-contained: text prints that page's lines, yaml-stream one
    ``- ...`` list item. ``is_first_page`` changes no bytes -- the CLI itself puts
    the non-aggregate keys (e.g. ``FaceModelVersion``) into the first page only,
    as aws does -- and is accepted so callers can pass it uniformly.
    The truncation token goes last, as the page ``next_token_page(token)``.
    """
    if output_format not in PAGED_FORMATS and output_format != "off":
        raise ValueError(f"--output {output_format} is not written page by page; "
                         "merge the pages and call write_output")
    formatter = get_formatter(output_format, operation_name=operation_name, color=color,
                              terminal_width=terminal_width)
    _write(stream, formatter.render_page(page))


def write_paged(response: Any, output_format: str, *, operation_name: str, stream: TextIO,
                shown: Callable[[Any], Any] = lambda value: value, color: bool = False,
                terminal_width: int | None = None) -> None:
    """Write a paginated response (a ``PagedResponse``): a formatter that prints page by
    page walks the pages itself; any other gets the merged result, as the aws CLI's
    base Formatter builds the full result of a paginator. ``shown`` turns a page (or the
    merged result) into what is printed: timestamps rendered, ``--query`` applied."""
    formatter = get_formatter(output_format, operation_name=operation_name, color=color,
                              terminal_width=terminal_width)
    write_pages = getattr(formatter, "write_pages", None)
    if write_pages is not None:
        write_pages(response, stream, shown)
        return
    _write(stream, formatter.render(shown(response.full_result())))


def next_token_page(token: str) -> dict:
    """The synthetic last page aws formats in text mode when output was truncated.

    ``format_text({"NextToken": {"NextToken": tok}})`` is ``NEXTTOKEN\\ttok\\n``: the
    outer dict is the top level (no prefix), the inner one is prefixed by its key.
    """
    return {"NextToken": {"NextToken": token}}


def error_document(error: dict) -> dict:
    """The error dict in the key order aws prints it: Message, Code, then the rest."""
    ordered = {key: error[key] for key in ("Message", "Code") if key in error}
    ordered.update((key, value) for key, value in error.items() if key not in ordered)
    return ordered


def render_error_document(error: dict, error_format: str, *,
                          terminal_width: int | None = None) -> str:
    """``--cli-error-format json|yaml|text|table`` text for ``{"Code": .., "Message": ..}``.

    The error goes through the normal formatter with no ``--query``; the table
    title is ``error``. Raises ValueError for any other format name.
    """
    fmt = error_format.lower()
    if fmt not in ERROR_DOCUMENT_FORMATS:
        raise ValueError(f"Unknown error format: {error_format}")
    return render_output(error_document(error), fmt, operation_name="error",
                         terminal_width=terminal_width)


def write_error_document(error: dict, error_format: str, stream: TextIO, *,
                         terminal_width: int | None = None) -> None:
    """Write :func:`render_error_document` to ``stream`` (stderr, in the CLI)."""
    _write(stream, render_error_document(error, error_format, terminal_width=terminal_width))


def emit(stream: TextIO, text: str) -> None:
    """Write `text` (if any) and flush, so a page shows as soon as it is formatted."""
    if text:
        stream.write(text)
    flush = getattr(stream, "flush", None)
    if flush is not None:
        flush()


_write = emit


__all__ = [
    "ERROR_DOCUMENT_FORMATS", "ERROR_FORMATS", "FORMATS", "FORMATTERS", "PAGED_FORMATS",
    "OffFormatter", "emit", "error_document", "get_formatter", "next_token_page",
    "render_error_document", "render_output", "spoken_list", "write_error_document",
    "write_output", "write_page", "write_paged",
]
