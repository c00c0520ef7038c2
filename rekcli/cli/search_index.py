"""`rekcli search-index --collection-id ID [--rebuild [--full]] [--region R]`: a
customization that shows, updates or rebuilds the search index of a large collection.

stdout: the index's state as JSON. Exit 0; 252 for bad options; 254 for a --collection-id
that does not exist.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from rekcli.cli.errors import EXIT_OK

SUMMARY = "Show, update or rebuild the search index of a large collection."
DESCRIPTION = [
    "A rekcli customization, with no Rekognition counterpart. Collections of at least "
    "$REKCLI_SEARCH_INDEX_MIN_FACES faces (default 2,000,000; an eighth of that in a process "
    "that searched the collection before, like rekcli serve or a batch job) are searched "
    "through an index "
    "kept beside their vectors (search-index.pq, 32 bytes a face): each search scans every "
    "face's compressed code (about 20 ms at ten million faces), measures the nearest few "
    "thousand, plus every face added since the index was built, exactly, and applies "
    "FaceMatchThreshold and MaxFaces to the exact distances. Smaller collections are "
    "searched exhaustively. The index needs faiss: pip install 'rekcli[search-index]'; "
    "without it every collection is searched exhaustively.",
    "The first search of a collection past that size without a current index starts a "
    "build in the background (answering exhaustively until it is ready); set "
    "REKCLI_SEARCH_INDEX_BUILD=off to build only with --rebuild. Once more than 20,000 "
    "faces were added since the build, a search starts an update that appends their "
    "codes; a compaction (which renumbers the faces) makes the index obsolete until it is "
    "rebuilt. A damaged index is reported on stderr, searched around exhaustively, and "
    "rebuilt. Deleting faces wipes their codes in the index; deleting the collection "
    "deletes it.",
]
OUTPUT = [
    ("CollectionId", "-> (string)", "The collection."),
    ("Rebuilt", "-> (boolean)", "With --rebuild: true when this call built the index, "
                                "false when another build was already running."),
    ("BuildSeconds", "-> (float)", "With --rebuild: how long the build took."),
    ("Build", "-> (string)", "With --rebuild: FULL (trained and built anew) or APPEND "
                             "(the faces added since the last build appended)."),
    ("Faces", "-> (integer)", "Faces in the collection."),
    ("Threshold", "-> (integer)", "Faces from which searches use the index."),
    ("File", "-> (string)", "The index file."),
    ("State", "-> (string)", "NONE (no index), CURRENT (used), STALE (used; an update is "
                             "due), OBSOLETE (built before a compaction: not used), "
                             "DAMAGED (not used; Problem says why) or UNAVAILABLE (faiss "
                             "is not installed: every search is exhaustive)."),
    ("CoveredRows", "-> (integer)", "Rows of the vector file the index holds codes of "
                                    "(deleted faces' codes are wiped)."),
    ("TailRows", "-> (integer)", "Rows added since, searched exhaustively."),
    ("Margin", "-> (float)", "The calibrated error of code distances (squared distance): "
                             "rows are re-measured exactly up to this far past the "
                             "answers."),
    ("BytesPerRow", "-> (integer)", "Bytes of code per face."),
    ("Bytes", "-> (integer)", "Size of the index file."),
]
EXIT_STATUS = ("Exit status: 0; 254 when the collection does not exist; 252 for invalid "
               "options; 255 for --rebuild without faiss.")
EXAMPLE_COMMAND = "rekcli search-index --collection-id doorbell --rebuild"


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        from rekcli.cli.errors import UsageError

        raise UsageError(message)


OPTIONS = [
    ("--collection-id", "COLLECTION_ID", "The collection whose index to show (required)."),
    ("--rebuild", None, "Build the index now (waits for the build): append the faces added "
                        "since the last build, or build it anew when it cannot be "
                        "extended."),
    ("--full", None, "With --rebuild: retrain and build anew even when the index could be "
                     "extended."),
    ("--region", "REGION", "Region of the collection (default $AWS_REGION, "
                           "$AWS_DEFAULT_REGION, else us-east-1)."),
]


def parser() -> argparse.ArgumentParser:
    result = _Parser(prog="rekcli search-index", add_help=False)
    for name, metavar, text in OPTIONS:
        if metavar is None:
            result.add_argument(name, action="store_true", help=text)
        else:
            result.add_argument(name, default=None, metavar=metavar, help=text,
                                required=name == "--collection-id")
    return result


def main(args: list[str]) -> int:
    if args in (["help"], ["--help"], ["-h"]):
        from rekcli.cli.help import search_index_page
        from rekcli.cli.help_pager import print_page

        print_page(search_index_page())
        return EXIT_OK
    options = parser().parse_args(args)
    from rekcli.service.context import DEFAULT_REGION, ServiceContext
    from rekcli.service.search_index import search_index

    region = (options.region or os.environ.get("AWS_REGION")
              or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION)
    from rekcli.cli.errors import CliError, UsageError
    from rekcli.service.search_index import SearchIndexUnavailable

    if options.full and not options.rebuild:
        raise UsageError("--full goes with --rebuild")
    try:
        report = search_index(ServiceContext(region=region), options.collection_id,
                              rebuild=options.rebuild, full=options.full)
    except SearchIndexUnavailable as exc:
        raise CliError(str(exc)) from None
    if options.rebuild and not report["Rebuilt"]:
        sys.stderr.write("rekcli: another build of this index is running; not rebuilt\n")
    sys.stdout.write(json.dumps(report, indent=4) + "\n")
    return EXIT_OK
