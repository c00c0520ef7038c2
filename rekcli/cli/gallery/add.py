"""`rekcli add-celebrity --name NAME --images PHOTO... [--urls URL...] [--known-gender G]`,
or `rekcli add-celebrity --id ID --images PHOTO...` for more photos of someone added before."""

from __future__ import annotations

from rekcli.cli.argv import LIST, VALUE, OptionSpec
from rekcli.cli.gallery import (GALLERY_NOTE, local_context, print_page, required, show,
                                specs_with_globals)

NAME = "add-celebrity"
OPERATION = "AddCelebrity"
SUMMARY = "Add a person to your own celebrity gallery, from one or more photos."
GENDERS = ["Male", "Female", "Nonbinary", "Unlisted"]

HELP = f"""{NAME}

  {SUMMARY}

  rekcli-specific. {GALLERY_NOTE}

  The largest face of each photo is stored (its descriptor, never the photo) in the gallery
  of the region, a private store under the data directory like a collection. Every photo
  must show a face; if one does not (or cannot be read), nothing is added. Prints the new
  celebrity: its Id (8 letters and digits, which recognize-celebrities and
  get-celebrity-info return), Name, Urls, KnownGender and FaceCount. More photos of one
  person make recognition surer: --id with --images adds photos to someone added before
  (prints them with their new FaceCount). delete-celebrity removes the person and their
  faces.

OPTIONS
  --name NAME                  The person's name, as recognize-celebrities will print it
                               (required unless --id).
  --id ID                      Add the photos to this celebrity of the gallery instead of
                               adding a new one (then no --name, --urls, --known-gender).
  --images PHOTO [PHOTO ...]   JPEG or PNG files showing the person (required; up to 5 MB
                               each).
  --urls URL [URL ...]         Links about the person, returned in Urls.
  --known-gender GENDER        Male, Female, Nonbinary or Unlisted, returned in KnownGender.

  The API's global options apply (--region, --output, --query ...).

EXAMPLES
  rekcli add-celebrity --name 'Barack Obama' --images people/obama/obama.jpg \\
      people/obama/obama2.jpg --urls https://en.wikipedia.org/wiki/Barack_Obama \\
      --known-gender Male
  rekcli add-celebrity --id 1SK7cR8M --images people/obama/obama3.jpg
"""


def option_specs() -> dict[str, OptionSpec]:
    return specs_with_globals({
        "--name": OptionSpec("--name", VALUE, help="The person's name."),
        "--id": OptionSpec("--id", VALUE, help="Add the photos to this celebrity instead."),
        "--images": OptionSpec("--images", LIST, help="Photos of the person (JPEG or PNG)."),
        "--urls": OptionSpec("--urls", LIST, help="Links about the person."),
        "--known-gender": OptionSpec("--known-gender", VALUE, choices=GENDERS,
                                     help="Male, Female, Nonbinary or Unlisted."),
    })


def run(values: dict, settings) -> int:
    from rekcli.service.celebrities import add_celebrity

    if values.get("--id") is None:
        required(values, "--name")
    paths = required(values, "--images")
    request = {"Images": [{"Bytes": _read_photo(path)} for path in paths]}
    for option, member in (("--id", "Id"), ("--name", "Name"), ("--urls", "Urls"),
                           ("--known-gender", "KnownGender")):
        if values.get(option) is not None:
            request[member] = values[option]
    return show(add_celebrity(local_context(settings), request), OPERATION, settings)


def _read_photo(path: str) -> bytes:
    """At most one byte past the API's 5 MB image limit, so the service can refuse it."""
    from rekcli.cli.errors import ParamValidationError
    from rekcli.cli.paramfile import read_bounded
    from rekcli.service.images import MAX_BYTES

    try:
        return read_bounded(path, MAX_BYTES)
    except (OSError, ValueError) as error:
        raise ParamValidationError(f"Unable to read the photo {path}: {error}") from None


def print_help() -> int:
    return print_page(HELP)
