"""`rekcli delete-celebrity --id ID`: remove a person and their faces from the gallery."""

from __future__ import annotations

from rekcli.cli.argv import VALUE, OptionSpec
from rekcli.cli.gallery import (GALLERY_NOTE, local_context, print_page, required, show,
                                specs_with_globals)

NAME = "delete-celebrity"
OPERATION = "DeleteCelebrity"
SUMMARY = "Delete a person and their face descriptors from your own celebrity gallery."

HELP = f"""{NAME}

  {SUMMARY}

  rekcli-specific. {GALLERY_NOTE}

  The person's record and every face stored for them are deleted; the descriptors are
  overwritten on disk in the same step, as delete-faces does (biometric data: nothing is
  left behind). Prints the Id and DeletedFaceCount. An unknown Id is a
  ResourceNotFoundException (exit 254).

OPTIONS
  --id ID     Id of the celebrity, as add-celebrity or list-celebrities printed it
              (required).

  The API's global options apply (--region, --output, --query ...).

EXAMPLE
  rekcli delete-celebrity --id 1SK7cR8M
"""


def option_specs() -> dict[str, OptionSpec]:
    return specs_with_globals({"--id": OptionSpec("--id", VALUE, help="Id of the celebrity.")})


def run(values: dict, settings) -> int:
    from rekcli.service.celebrities import delete_celebrity

    celebrity_id = required(values, "--id")
    return show(delete_celebrity(local_context(settings), {"Id": celebrity_id}), OPERATION,
                settings)


def print_help() -> int:
    return print_page(HELP)
