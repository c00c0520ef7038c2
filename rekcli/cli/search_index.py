"""`rekcli search-index --collection-id ID [--rebuild] [--region R]`: a customization that
shows, or rebuilds, the search index of a large collection.

stdout: the index's state as JSON. Exit 0; 252 for bad options; 254 for a --collection-id
that does not exist.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from rekcli.cli.errors import EXIT_OK

SUMMARY = "Show or rebuild the search index of a large collection."
DESCRIPTION = [
    "A rekcli customization, with no Rekognition counterpart. Collections of at least "
    "$REKCLI_SEARCH_INDEX_MIN_FACES faces (default 2,000,000) are searched through an index "
    "kept beside their vectors (search-index.ivf): each search scans the few percent of "
    "faces nearest to the query, plus every face added since the index was built, and "
    "measures them exactly. Smaller collections are searched exhaustively.",
    "The first search of a collection past that size without a current index starts a "
    "build in the background (answering exhaustively until it is ready); set "
    "REKCLI_SEARCH_INDEX_BUILD=off to build only with --rebuild. The index is rebuilt the "
    "same way once the faces added since its build pass 10% of those it covers, or after "
    "a compaction renumbered the faces. A damaged index is reported on stderr, searched "
    "around exhaustively, and rebuilt. Deleting faces wipes their copies in the index; "
    "deleting the collection deletes it.",
]
OUTPUT = [
    ("CollectionId", "-> (string)", "The collection."),
    ("Rebuilt", "-> (boolean)", "With --rebuild: true when this call built the index, "
                                "false when another build was already running."),
    ("BuildSeconds", "-> (float)", "With --rebuild: how long the build took."),
    ("Faces", "-> (integer)", "Faces in the collection."),
    ("Threshold", "-> (integer)", "Faces from which searches use the index."),
    ("File", "-> (string)", "The index file."),
    ("State", "-> (string)", "NONE (no index), CURRENT (used), STALE (used; a rebuild is "
                             "due), OBSOLETE (built before a compaction: not used) or "
                             "DAMAGED (not used; Problem says why)."),
    ("Lists", "-> (integer)", "Lists (k-means cells) of the index."),
    ("Rows", "-> (integer)", "Faces the index holds."),
    ("CoveredRows", "-> (integer)", "Rows of the vector file the index was built from."),
    ("TailRows", "-> (integer)", "Rows added since, searched exhaustively."),
    ("ProbedLists", "-> (integer)", "Lists each search scans."),
    ("Bytes", "-> (integer)", "Size of the index file."),
]
EXIT_STATUS = ("Exit status: 0; 254 when the collection does not exist; 252 for invalid "
               "options.")
EXAMPLE_COMMAND = "rekcli search-index --collection-id doorbell --rebuild"


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        from rekcli.cli.errors import UsageError

        raise UsageError(message)


OPTIONS = [
    ("--collection-id", "COLLECTION_ID", "The collection whose index to show (required)."),
    ("--rebuild", None, "Build the index now, whatever its state (waits for the build)."),
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
    report = search_index(ServiceContext(region=region), options.collection_id,
                          rebuild=options.rebuild)
    if options.rebuild and not report["Rebuilt"]:
        sys.stderr.write("rekcli: another build of this index is running; not rebuilt\n")
    sys.stdout.write(json.dumps(report, indent=4) + "\n")
    return EXIT_OK
