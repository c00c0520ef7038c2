"""rekcli's own commands for the celebrity gallery: add-celebrity, list-celebrities,
delete-celebrity.

Not AWS commands: AWS's celebrities are Amazon's, and rekcli knows none. The gallery is the
user's own (service/celebrities.py, store/gallery.py); recognize-celebrities and
get-celebrity-info answer from it. Each command is a module listed in cli/main.py's
OWN_COMMANDS (NAME, SUMMARY, option_specs(), run(values, settings), print_help()); this
module holds what they share. They always work on this machine's store, like the batch
commands, even when an endpoint is configured.
"""

from __future__ import annotations

import sys

from rekcli.cli.argv import global_option_specs
from rekcli.cli.errors import EXIT_OK, UsageError

GALLERY_NOTE = ("The gallery is your own: rekcli knows no celebrities.\n  "
                "recognize-celebrities recognizes only the people added with add-celebrity,"
                "\n  and with an empty gallery every face is unrecognized.")


def specs_with_globals(own: dict) -> dict:
    specs = dict(own)
    specs.update(global_option_specs())
    return specs


def required(values: dict, name: str):
    value = values.get(name)
    if value is None or value == []:
        raise UsageError(f"the following arguments are required: {name}")
    return value


def local_context(settings):
    """The service context of this machine's store (never an endpoint's), saying so once
    when an endpoint is configured."""
    from rekcli.cli import remote
    from rekcli.service.context import ServiceContext

    endpoint = remote.configured_endpoint(settings)
    ctx = ServiceContext(region=settings.region, aws_profile=settings.globals.profile)
    if endpoint is not None:
        sys.stderr.write(f"note: the celebrity gallery is kept here, in {ctx.data_dir}; the "
                         f"endpoint {endpoint} is not used.\n")
    return ctx


def show(response: dict, operation_name: str, settings) -> int:
    """Print like an API command: --output, --query, the pager."""
    from rekcli.cli.display import compile_query
    from rekcli.cli.operation import display

    return display(response, operation_name, settings, compile_query(settings.globals.query))


def print_page(text: str) -> int:
    sys.stdout.write(text)
    return EXIT_OK
