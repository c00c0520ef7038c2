"""``--output text``: tab-separated lines, the layout of the aws CLI's ``awscli/text.py``.

Rules (reference §1.3):

* a scalar prints as ``str(value)``: ``True``/``False``/``None``, floats as ``repr``;
* a dict prints its scalar values on one tab-separated line in sorted key order,
  prefixed by the UPPERCASED parent key (no prefix at the top level), then each
  non-scalar value in sorted key order with its own key as the new prefix;
* a list of dicts uses the sorted union of the elements' scalar keys as columns,
  a missing key giving an empty field;
* a scalar list under a key gives one ``KEY<TAB>item`` line per item, a top-level
  scalar list one tab-joined line; a list of lists prints its scalar members
  first, then each inner list;
* empty lists and dicts print nothing.

Paginated output is just the concatenation of each page's rendering.
"""

from __future__ import annotations

import base64
from typing import Any, Callable, TextIO


def _is_container(value: Any) -> bool:
    return isinstance(value, (dict, list))


def _scalar_text(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return str(value)


def _prefix(identifier: Any) -> str:
    return str(identifier).upper()


def format_text(value: Any) -> str:
    """Render ``value`` (already --query filtered) as aws ``--output text`` would."""
    out: list[str] = []
    _write_value(value, out, identifier=None, columns=None)
    return "".join(out)


def _write_value(value: Any, out: list[str], identifier: Any, columns: list | None) -> None:
    if isinstance(value, dict):
        _write_dict(value, out, identifier, columns)
    elif isinstance(value, list):
        _write_list(value, out, identifier)
    else:
        # A bare scalar has no prefix, even when it sits under a key.
        out.append(_scalar_text(value) + "\n")


def _write_list(items: list, out: list[str], identifier: Any) -> None:
    if not items:
        return
    if any(isinstance(item, dict) for item in items):
        # Every element of a list of dicts shares the same columns, so rows line up.
        columns = sorted({key for item in items if isinstance(item, dict)
                          for key, val in item.items() if not _is_container(val)})
        for item in items:
            _write_value(item, out, identifier, columns)
    elif any(isinstance(item, list) for item in items):
        scalars = [item for item in items if not _is_container(item)]
        if scalars:
            _write_scalar_list(scalars, out, identifier)
        for item in items:
            if _is_container(item):
                _write_value(item, out, identifier, None)
    else:
        _write_scalar_list(items, out, identifier)


def _write_scalar_list(items: list, out: list[str], identifier: Any) -> None:
    if identifier is None:
        out.append("\t".join(_scalar_text(item) for item in items) + "\n")
    else:
        prefix = _prefix(identifier)
        out.extend(f"{prefix}\t{_scalar_text(item)}\n" for item in items)


def _write_dict(item: dict, out: list[str], identifier: Any, columns: list | None) -> None:
    fields: list[str] = []
    nested: list[tuple[Any, Any]] = []
    if columns is None:
        for key in sorted(item):
            val = item[key]
            if _is_container(val):
                nested.append((key, val))
            else:
                fields.append(_scalar_text(val))
    else:
        # Shared columns of a list of dicts. A column key that holds a container
        # in this element prints its Python repr, exactly as aws does.
        fields = [_scalar_text(item.get(key, "")) for key in columns]
        in_columns = set(columns)
        nested = [(key, item[key]) for key in sorted(item) if key not in in_columns]
    if fields:
        if identifier is not None:
            fields.insert(0, _prefix(identifier))
        out.append("\t".join(fields) + "\n")
    for key, val in nested:
        _write_value(val, out, key, None)


class TextFormatter:
    """Formatter for ``--output text``; streams page by page.

    A paginated response it walks itself (:meth:`write_pages`), as the aws CLI's
    TextFormatter walks the paginator: each page printed as it arrives, with
    ``--query`` applied to that page. When ``--max-items`` truncated the result, one
    more synthetic page, ``{"NextToken": {"NextToken": token}}`` (see
    :func:`rekcli.cli.output.next_token_page`), also through the query, renders as
    ``NEXTTOKEN<TAB>token`` -- or ``None`` when the query does not match it, as in aws.
    """

    name = "text"

    def __init__(self, *, operation_name: str = "", color: bool = False,
                 terminal_width: int | None = None) -> None:
        self.operation_name = operation_name

    def render(self, response: Any) -> str:
        return format_text(response)

    def render_page(self, page: Any) -> str:
        return format_text(page)

    def write(self, response: Any, stream: TextIO) -> None:
        text = self.render(response)
        if text:
            stream.write(text)

    def write_page(self, page: Any, stream: TextIO) -> None:
        self.write(page, stream)

    def write_pages(self, response: Any, stream: TextIO, shown: Callable[[Any], Any]) -> None:
        """Every page of a ``PagedResponse``; the non-aggregate keys (FaceModelVersion)
        with the first page only, as aws prints them."""
        from rekcli.cli.output import emit, next_token_page

        for number, page in enumerate(response.pages()):
            token = page.pop("NextToken", None)  # only a truncated output's last page has one
            if number > 0:
                for key in response.non_aggregate_keys:
                    page.pop(key, None)
            emit(stream, self.render_page(shown(page)))
            if token is not None:
                emit(stream, self.render_page(shown(next_token_page(token))))
