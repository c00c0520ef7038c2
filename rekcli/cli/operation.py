"""Run one operation from parsed options: skeletons, request building, paging, display."""

from __future__ import annotations

import logging
import sys

from rekcli.cli import paginate, skeleton
from rekcli.cli.display import OutputWriter, compile_query, write_response
from rekcli.cli.errors import EXIT_OK, GeneralError, UsageError
from rekcli.cli.request import build_request
from rekcli.service import model

log = logging.getLogger("rekcli.operation")


def run_operation(operation_name: str, specs: dict, values: dict, settings) -> int:
    skeleton_kind = values.get("--generate-cli-skeleton")
    if skeleton_kind in ("input", "yaml-input"):
        text = (skeleton.json_input_skeleton(operation_name) if skeleton_kind == "input"
                else skeleton.yaml_input_skeleton(operation_name))
        sys.stdout.write(text)
        return EXIT_OK
    query = compile_query(settings.globals.query)
    check_required_options(operation_name, specs, values)
    if skeleton_kind == "output":
        response = skeleton.output_skeleton(model.operation(operation_name)["output"])
        return display(response, operation_name, settings, query)
    request = build_request(operation_name, specs, values, settings.binary_format)
    log.debug("Calling %s with members %s", operation_name, sorted(request))
    paginator = model.operation(operation_name)["paginator"]
    if paginator and not _paging_disabled(values, request, settings):
        return run_paginated(operation_name, request, paginator, values, settings, query)
    return display(call_service(operation_name, request, settings), operation_name, settings, query)


def check_required_options(operation_name: str, specs: dict, values: dict) -> None:
    """argparse's own check: required options must be given unless --cli-input-* is used."""
    if "--cli-input-json" in values or "--cli-input-yaml" in values:
        return
    op = model.operation(operation_name)
    given_members = {specs[name].member for name in values if specs[name].member}
    missing = [
        "--" + model.kebab(member) for member in op["input"]["required"]
        if member not in given_members and member not in model.BLOB_HELPERS
    ]
    if missing:
        raise UsageError("the following arguments are required: " + ", ".join(missing))


def call_service(operation_name: str, request: dict, settings) -> dict:
    from rekcli.cli import remote

    endpoint = remote.configured_endpoint(settings)
    if endpoint is not None:  # a `rekcli serve` (or other Rekognition) endpoint answers
        return remote.call(endpoint, operation_name, request, settings)
    from rekcli.service import OperationNotAvailable, invoke
    from rekcli.service.context import ServiceContext

    try:
        return invoke(operation_name, request, ServiceContext(
            region=settings.region, aws_profile=settings.globals.profile))
    except OperationNotAvailable:
        raise GeneralError(f"{model.kebab(operation_name)} is not available in this version "
                           f"of rekcli yet.") from None


def display(response, operation_name: str, settings, query) -> int:
    writer = OutputWriter(settings.pager)
    write_response(response, settings=settings, query=query, operation_name=operation_name,
                   stream=writer.stream)
    writer.close()
    return EXIT_OK


def _paging_disabled(values: dict, request: dict, settings) -> bool:
    if settings.globals.no_paginate:
        paginate.check_no_paginate_conflicts(values)
        return True
    # Giving the raw service members switches automatic paging off, as in the aws CLI.
    return request.get("NextToken") is not None or request.get("MaxResults") is not None


def run_paginated(operation_name, request, paginator, values, settings, query) -> int:
    page_size = paginate.parse_paging_int("--page-size", values.get("--page-size"))
    max_items = paginate.parse_paging_int("--max-items", values.get("--max-items"))
    if max_items is not None and max_items <= 0:
        sys.stderr.write("warning: Non-positive values for --max-items may result in undefined "
                         "behavior.\n")
    response = paginate.PagedResponse(
        lambda page_request: call_service(operation_name, page_request, settings), request,
        paginator, page_size=page_size, max_items=max_items,
        starting_token=values.get("--starting-token"))
    # The formatter walks the pages: text and yaml-stream print each one as it arrives.
    return display(response, operation_name, settings, query)
