"""`rekcli list-celebrities`: everyone in your own celebrity gallery."""

from __future__ import annotations

from rekcli.cli.gallery import GALLERY_NOTE, print_page, show, specs_with_globals

NAME = "list-celebrities"
OPERATION = "ListCelebrities"
SUMMARY = "List the people of your own celebrity gallery."

HELP = f"""{NAME}

  {SUMMARY}

  rekcli-specific. {GALLERY_NOTE}

  Prints Celebrities: each person's Id, Name, Urls, KnownGender (when given) and FaceCount
  (the photos stored for them), sorted by name. An empty gallery prints an empty list.

OPTIONS
  None besides the API's global options (--region, --output, --query ...).

EXAMPLE
  rekcli list-celebrities --query 'Celebrities[].[Id, Name]' --output text
"""


def option_specs():
    return specs_with_globals({})


def run(values: dict, settings) -> int:
    from rekcli.cli.gallery import local_context
    from rekcli.service.celebrities import list_celebrities

    return show(list_celebrities(local_context(settings)), OPERATION, settings)


def print_help() -> int:
    return print_page(HELP)
