"""Automatic pagination of list operations, as the aws CLI does it (reference §5).

By default every page is fetched and the result keys merged. --page-size sets MaxResults per
call; --max-items stops after N items and adds a NextToken (base64 JSON of the service token
and how many items of that page were already printed) as the last key; --starting-token
resumes from such a token or from a raw service token.
"""

from __future__ import annotations

import base64
import binascii
import json

from rekcli.cli.errors import GeneralError, ParamValidationError


def encode_cli_token(service_token, truncate_amount: int | None) -> str:
    token = {"NextToken": service_token}
    if truncate_amount:
        token["boto_truncate_amount"] = truncate_amount
    return base64.b64encode(json.dumps(token).encode("utf-8")).decode("ascii")


def decode_cli_token(token: str) -> tuple[str | None, int]:
    """(service token, items of that page to skip); a raw service token is accepted too."""
    try:
        decoded = json.loads(base64.b64decode(token, validate=True).decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        return token, 0  # the legacy form: a raw service token
    if not isinstance(decoded, dict) or "NextToken" not in decoded:
        return token, 0
    skip = decoded.get("boto_truncate_amount") or 0
    if not isinstance(skip, int) or isinstance(skip, bool) or skip < 0:
        from rekcli.service.validation import shown_value

        # botocore's PaginationError, which the aws CLI prints with exit 255
        raise GeneralError(f"Bad starting token: {shown_value(token)}")
    return decoded.get("NextToken"), skip


def iterate_pages(call, request: dict, paginator: dict, *, page_size=None, max_items=None,
                  starting_token=None, raw_pages: bool = False):
    """Yield pages (dicts) with at most `max_items` result items in all.

    The last page yielded carries "NextToken" (a CLI token) when the output was truncated.
    With raw_pages (yaml-stream), every page keeps the service's own NextToken instead, as
    the aws CLI prints them.
    """
    result_keys = paginator["result_keys"]
    service_token, skip = decode_cli_token(starting_token) if starting_token else (None, 0)
    printed = 0
    while True:
        page_request = dict(request)
        if service_token is not None:
            page_request["NextToken"] = service_token
        if page_size is not None:
            page_request["MaxResults"] = page_size
        page = call(page_request)
        next_service_token = page.get("NextToken") if raw_pages else page.pop("NextToken", None)
        if skip:
            for key in result_keys:
                page[key] = page.get(key, [])[skip:]
            skip_used = skip
            skip = 0
        else:
            skip_used = 0
        count = len(page.get(result_keys[0], []))
        if max_items is not None and printed + count >= max_items:
            keep = max_items - printed
            for key in result_keys:
                if key in page:
                    page[key] = page[key][:keep]
            if raw_pages:
                pass  # the page keeps the service's token
            elif keep < count:
                page["NextToken"] = encode_cli_token(service_token, skip_used + keep)
            elif next_service_token is not None:
                page["NextToken"] = encode_cli_token(next_service_token, None)
            yield page
            return
        printed += count
        yield page
        if next_service_token is None:
            return
        service_token = next_service_token


class PagedResponse:
    """A paginated operation's response, fetched while a formatter walks it (what botocore's
    PageIterator is to the aws CLI's formatters): json, table and yaml take the merged
    `full_result()`; text and yaml-stream walk `pages()` and print each as it arrives."""

    def __init__(self, call, request: dict, paginator: dict, *, page_size=None,
                 max_items=None, starting_token=None):
        self._call, self._request, self._paginator = call, request, paginator
        self._paging = {"page_size": page_size, "max_items": max_items,
                        "starting_token": starting_token}
        self.result_keys: list[str] = paginator["result_keys"]
        self.non_aggregate_keys: list[str] = paginator["non_aggregate_keys"]

    def pages(self, *, raw: bool = False):
        """The pages; see `iterate_pages` for the NextToken each carries (raw: the service's)."""
        return iterate_pages(self._call, self._request, self._paginator, raw_pages=raw,
                             **self._paging)

    def full_result(self) -> dict:
        return merge_pages(list(self.pages()), self._paginator)


def merge_pages(pages: list[dict], paginator: dict) -> dict:
    """One response: result keys concatenated, then non-aggregate keys, then NextToken."""
    merged: dict = {key: [] for key in paginator["result_keys"]}
    for page in pages:
        for key in paginator["result_keys"]:
            merged[key].extend(page.get(key, []))
    for key in paginator["non_aggregate_keys"]:
        for page in pages:
            if key in page:
                merged[key] = page[key]
                break
    if pages and "NextToken" in pages[-1]:
        merged["NextToken"] = pages[-1]["NextToken"]
    return merged


def parse_paging_int(option_name: str, raw) -> int | None:
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        from rekcli.cli.errors import UsageError

        raise UsageError(f"argument {option_name}: invalid int value: '{raw}'") from None


def check_no_paginate_conflicts(values: dict) -> None:
    used = [name for name in ("--max-items", "--page-size", "--starting-token") if name in values]
    if used:
        raise ParamValidationError("Cannot specify --no-paginate along with pagination "
                                   f"arguments: {', '.join(used)}")
