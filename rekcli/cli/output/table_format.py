"""``--output table``: the boxed layout of the aws CLI's ``awscli/table.py``.

The work happens in two steps, like aws: the response is first laid out as a
list of :class:`Section` objects (title, header row, value rows, indent level),
then the sections are drawn with one shared width.

Layout (reference §1.4):

* the first section is titled with the operation name (``CompareFaces``); a falsy
  response (``{}``, ``[]``, ``0``, ``false``, ``""``, null) prints nothing;
* a dict's scalar keys (sorted) form a header row and one value row; a dict with
  exactly one scalar key gets a single headerless ``key | value`` row instead;
  non-scalar keys (sorted) become sub-sections one level deeper, titled by key;
* a list of dicts uses the sorted union of scalar keys as header, one row per
  element (missing key -> empty cell); when the elements hold nested values,
  each element after the first repeats the title and header;
* a list of scalars is a one-column table, a list of scalar lists one row per
  inner list; inner lists of unequal length raise ``ValueError("Row should have
  N elements, instead it has M")`` (aws exits 255 on it).

Geometry: a column is as wide as its longest cell plus 4, then every section is
scaled to the width of the widest one. When that width exceeds the terminal,
each single-row section with a header is turned into vertical ``key | value``
rows. East-Asian wide and ambiguous characters count as two columns.
"""

from __future__ import annotations

import base64
import unicodedata
from typing import Any, TextIO

# Cell padding: two spaces before the text and room for the separator.
_PADDING = 4
# One border character on each side of a section.
_BORDER = 2

# colorama's Style.BRIGHT + Fore.BLUE / Style.DIM + Fore.YELLOW / Style.RESET_ALL.
_BOLD_BLUE = "\x1b[1m\x1b[34m"
_DIM_YELLOW = "\x1b[2m\x1b[33m"
_RESET = "\x1b[0m"


class TableFormatError(ValueError):
    """The response has a shape the table layout cannot draw (aws exits 255 on these).

    Raised for rows of unequal length (``Row should have N elements, instead it
    has M``, the aws message) and for a list whose first element is an object
    but which also holds non-objects (aws crashes with a TypeError there).
    """


def text_width(text: Any) -> int:
    """Columns a string occupies: East-Asian wide, full-width and ambiguous count 2."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F", "A") else 1
               for ch in str(text))


def determine_terminal_width() -> int:
    """Width of the terminal on stdout (cli/terminal.py); 80 if stdout is no TTY."""
    from rekcli.cli import terminal

    return terminal.current().width


def _cell_text(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return str(value)


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, (list, dict))


def _ragged(expected: int | None, got: int) -> TableFormatError:
    return TableFormatError(f"Row should have {expected} elements, instead it has {got}")


class Section:
    """One titled block of the table: optional header row, value rows, indent level."""

    def __init__(self, title: Any = "", indent_level: int = 0) -> None:
        # A nested list of lists can start a section without a title; aws keeps
        # None there (not drawn, but str(None) still counts toward the width).
        self.title = title
        self.indent_level = indent_level
        self.headers: list[str] = []
        self.rows: list[list[str]] = []
        self._num_cols: int | None = None
        self._max_widths: list[int] = []

    def add_header(self, headers: list) -> None:
        headers = [_cell_text(h) for h in headers]
        if self._max_widths and len(headers) > len(self._max_widths):
            raise _ragged(self._num_cols, len(headers))
        self._update_max_widths(headers)
        if self._num_cols is None:
            self._num_cols = len(headers)
        self.headers = headers

    def add_row(self, row: list) -> None:
        if self._num_cols is None:
            self._num_cols = len(row)
        if len(row) != self._num_cols:
            raise _ragged(self._num_cols, len(row))
        cells = [_cell_text(value) for value in row]
        self.rows.append(cells)
        self._update_max_widths(cells)

    def _update_max_widths(self, cells: list[str]) -> None:
        if not self._max_widths:
            self._max_widths = [text_width(c) for c in cells]
            return
        for i, cell in enumerate(cells):
            if i < len(self._max_widths):
                self._max_widths[i] = max(self._max_widths[i], text_width(cell))
            else:  # cannot happen with equal-length rows; stay drawable anyway
                self._max_widths.append(text_width(cell))

    def natural_width(self) -> int:
        """Width this section needs, including its borders and indentation bars."""
        columns = sum(w + _PADDING for w in self._max_widths) + _BORDER
        title = text_width(self.title) + _BORDER
        return max(title, columns) + 2 * self.indent_level

    def column_widths(self, total: int) -> list[int]:
        """Column widths (padding included) scaled so that they sum to ``total``."""
        natural = [w + _PADDING for w in self._max_widths]
        if not natural:
            return []
        scale = total / float(sum(natural))
        scaled = [int(round(scale * w)) for w in natural]
        # Rounding leaves the sum a little off: take the surplus from the left
        # columns, or give the shortfall to the right ones, one column at a time.
        off_by = sum(scaled) - total
        while off_by:
            order = range(len(scaled)) if off_by > 0 else reversed(range(len(scaled)))
            for i in order:
                if off_by > 0:
                    scaled[i] -= 1
                    off_by -= 1
                else:
                    scaled[i] += 1
                    off_by += 1
                if off_by == 0:
                    break
        return scaled

    def to_vertical(self) -> "Section":
        """The same single row as ``header | value`` rows."""
        vertical = Section(self.title, self.indent_level)
        for header, value in zip(self.headers, self.rows[0]):
            vertical.add_row([header, value])
        return vertical


class TableBuilder:
    """Turns a response into sections, following the aws ``TableFormatter`` rules."""

    def __init__(self) -> None:
        self.sections: list[Section] = []
        self._current: Section | None = None

    def build(self, title: str, response: Any) -> bool:
        """Lay out ``response``; False when it is falsy and nothing should print."""
        return self._add(title, response, 0)

    def _new_section(self, title: Any, indent_level: int) -> None:
        self._current = Section(title, indent_level)
        self.sections.append(self._current)

    def _section(self) -> Section:
        if self._current is None:  # only reachable through a title-less top level
            self._new_section("", 0)
        assert self._current is not None
        return self._current

    def _add(self, title: Any, value: Any, indent_level: int) -> bool:
        if not value:
            return False
        if title is not None:
            self._new_section(title, indent_level)
        if isinstance(value, list):
            if isinstance(value[0], dict):
                self._add_list_of_dicts(value, indent_level, title)
            else:
                for item in value:
                    if _is_scalar(item):
                        self._section().add_row([item])
                    elif all(_is_scalar(el) for el in item):
                        # A dict here iterates to its keys, a quirk kept from aws.
                        self._section().add_row(list(item))
                    else:
                        # aws continues in the current section, at indent level 0.
                        self._add(None, item, 0)
        elif isinstance(value, dict):
            self._add_dict(value, indent_level)
        return True

    def _add_dict(self, value: dict, indent_level: int) -> None:
        headers, nested = _split_keys(value)
        if len(headers) == 1:
            self._section().add_row([headers[0], value[headers[0]]])
        elif headers:
            self._section().add_header(headers)
            self._section().add_row([value[key] for key in headers])
        for key in nested:
            self._add(key, value[key], indent_level + 1)

    def _add_list_of_dicts(self, items: list, indent_level: int, title: Any) -> None:
        if not all(isinstance(item, dict) for item in items):
            raise TableFormatError(
                "Cannot render a list that mixes objects and other values as a table")
        header_set: set = set()
        nested_set: set = set()
        for item in items:
            headers, nested = _split_keys(item)
            header_set.update(headers)
            nested_set.update(nested)
        headers = sorted(header_set)
        nested = sorted(nested_set)
        self._section().add_header(headers)
        for position, item in enumerate(items):
            if position and nested:
                self._new_section(title, indent_level)
                self._section().add_header(headers)
            self._section().add_row([item.get(key, "") for key in headers])
            for key in nested:
                if key in item:
                    self._add(key, item[key], indent_level + 1)


def _split_keys(value: dict) -> tuple[list, list]:
    """Sorted scalar keys and sorted non-scalar keys of a dict."""
    scalars = sorted(key for key, val in value.items() if _is_scalar(val))
    nested = sorted(key for key, val in value.items() if not _is_scalar(val))
    return scalars, nested


class _Styler:
    def cell(self, text: str) -> str:
        return text

    def bar(self, text: str) -> str:
        return text


class _ColorStyler(_Styler):
    """Bold blue cells and dim yellow indentation bars; titles and headers stay plain."""

    def cell(self, text: str) -> str:
        return _BOLD_BLUE + text + _RESET

    def bar(self, text: str) -> str:
        return _DIM_YELLOW + text + _RESET


def _centered(text: str, styled: str, width: int, left: str, right: str) -> str:
    length = text_width(text)
    before = width // 2 - length // 2 - 1
    after = width - len(right) - (len(left) + before + length)
    return left + " " * before + styled + " " * after + right


def _left_aligned(text: str, styled: str, width: int, left: str, right: str) -> str:
    length = text_width(text)
    padding = 2 if width - (length + 2 + len(left) + len(right)) >= 0 else 0
    after = width - (len(left) + padding + length) - len(right)
    return left + " " * padding + styled + " " * after + right


def _rule(widths: list[int]) -> str:
    parts = ["+" + "-" * (widths[0] - 2) + "+"]
    parts.extend("-" * (w - 1) + "+" for w in widths[1:])
    return "".join(parts)


def render_sections(sections: list[Section], terminal_width: int, color: bool = False) -> str:
    """Draw laid-out sections; may replace single-row sections by vertical ones."""
    styler = _ColorStyler() if color else _Styler()
    total = max(section.natural_width() for section in sections)
    if total > terminal_width:
        sections[:] = [s.to_vertical() if len(s.rows) == 1 and s.headers else s
                       for s in sections]
        total = max(section.natural_width() for section in sections)
    lines = ["-" * total]
    for section in sections:
        bars = styler.bar("|") * section.indent_level
        width = total - 2 * section.indent_level
        for line in _section_lines(section, width, styler):
            lines.append(bars + line + bars)
    return "\n".join(lines) + "\n"


def _section_lines(section: Section, width: int, styler: _Styler) -> list[str]:
    lines: list[str] = []
    if section.title:
        title = str(section.title)
        lines.append(_centered(title, title, width, "|", "|"))
        if not section.headers and not section.rows:
            lines.append("+" + "-" * (width - 2) + "+")
    if section.headers:
        widths = section.column_widths(width)
        lines.append(_rule(widths))
        cells = [_centered(header, header, w, "|" if i == 0 else "", "|")
                 for i, (w, header) in enumerate(zip(widths, section.headers))]
        lines.append("".join(cells))
    if section.rows:
        widths = section.column_widths(width)
        if widths:
            lines.append(_rule(widths))
            for row in section.rows:
                cells = [_left_aligned(cell, styler.cell(cell), w, "|" if i == 0 else "", "|")
                         for i, (w, cell) in enumerate(zip(widths, row))]
                lines.append("".join(cells))
            lines.append(_rule(widths))
    return lines


def format_table(response: Any, title: str, *, color: bool = False,
                 terminal_width: int | None = None) -> str:
    """Render ``response`` as an aws table titled ``title``; "" for a falsy response.

    ``terminal_width`` defaults to the width of the terminal on stdout (80 when
    stdout is not a TTY). Raises :class:`TableFormatError` (a ValueError) for
    shapes aws cannot draw either.
    """
    builder = TableBuilder()
    if not builder.build(title, response):
        return ""
    if terminal_width is None:
        terminal_width = determine_terminal_width()
    return render_sections(builder.sections, terminal_width, color)


class TableFormatter:
    """Formatter for ``--output table`` (fully buffered: the CLI merges pages first)."""

    name = "table"

    def __init__(self, *, operation_name: str = "", color: bool = False,
                 terminal_width: int | None = None) -> None:
        self.operation_name = operation_name
        self.color = color
        self.terminal_width = terminal_width

    def render(self, response: Any) -> str:
        return format_table(response, self.operation_name, color=self.color,
                            terminal_width=self.terminal_width)

    def write(self, response: Any, stream: TextIO) -> None:
        text = self.render(response)
        if text:
            stream.write(text)
