"""Print a response the aws CLI v2 way: timestamps as ISO-8601, --query, format, pager."""

from __future__ import annotations

import io
import os
import subprocess
import sys

from rekcli.cli import terminal
from rekcli.cli.errors import GeneralError, PagerError, ParamValidationError
from rekcli.service.requests import render_timestamps


def compile_query(expression: str | None):
    """Compile --query up front: a syntax error is a parameter error (exit 252)."""
    if expression is None:
        return None
    import jmespath
    from jmespath.exceptions import JMESPathError

    from rekcli.service.validation import shown_value

    try:
        return jmespath.compile(expression)
    except JMESPathError as error:
        reason = str(error)
        if shown_value(expression) != expression:  # long: jmespath would quote it whole again
            reason = reason.split(", for expression:")[0]
        raise ParamValidationError(f"Bad value for --query {shown_value(expression)}: "
                                   f"{reason}") from None
    except RecursionError:  # jmespath's parser recurses once per nested sub-expression
        raise ParamValidationError(f"Bad value for --query {shown_value(expression)}: the "
                                   f"expression is nested too deeply") from None


def apply_query(query, value):
    if query is None:
        return value
    from jmespath.exceptions import JMESPathError

    try:
        return query.search(value)
    except JMESPathError as error:  # wrong types or unknown function: raised while formatting
        raise GeneralError(str(error)) from None
    except RecursionError:
        raise GeneralError("--query is nested too deeply to evaluate") from None


class OutputWriter:
    """Where formatted output goes: stdout, or a pager when stdout is a terminal."""

    def __init__(self, pager_command: str):
        self._use_pager = bool(pager_command) and terminal.current().stdout_is_tty
        self._pager_command = pager_command
        self.stream = io.StringIO() if self._use_pager else sys.stdout

    def close(self) -> None:
        if not self._use_pager:
            sys.stdout.flush()
            return
        text = self.stream.getvalue()
        if not text:
            return
        env = dict(os.environ)
        env.setdefault("LESS", "FRX")
        try:
            pager = subprocess.Popen(self._pager_command, shell=True, stdin=subprocess.PIPE, env=env)
        except OSError as error:
            raise PagerError(_pager_message(error)) from None
        try:
            pager.communicate(text.encode("utf-8"))
        except BrokenPipeError:
            pass
        if pager.returncode == 127:  # the shell could not find the pager
            raise PagerError(_pager_message(f"{self._pager_command}: command not found"))


def _pager_message(error) -> str:
    return ("Unable to redirect output to pager. Received the following error when opening "
            f"pager:\n{error}\n\nSet AWS_PAGER (or PAGER) to a pager that exists, or to an empty "
            f"value to turn paging off; --no-cli-pager turns it off for one call.")


def write_response(response, *, settings, query, operation_name: str, stream) -> None:
    """Write a response, or a PagedResponse, which the formatter walks itself (--query then
    applies to each page for text and yaml-stream, to the merged result for the others)."""
    from rekcli.cli.output import write_output, write_paged
    from rekcli.cli.paginate import PagedResponse

    def shown(value):
        return apply_query(query, render_timestamps(value, settings.timestamp_format))

    if isinstance(response, PagedResponse):
        write_paged(response, settings.output, operation_name=operation_name, stream=stream,
                    shown=shown, color=settings.use_color)
        return
    write_output(shown(response), settings.output, operation_name=operation_name,
                 stream=stream, color=settings.use_color)
