"""`rekcli check-store [--collection-id ID] [--region R]`: a customization (like
`aws configure`) that checks the local store and prints what is damaged.

stdout: the report as JSON. Exit 0 when the store is healthy, 254 when damage was found
(the report says where), 252 for bad options, 254 for a --collection-id that does not exist.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from rekcli.cli.errors import EXIT_OK, EXIT_SERVICE

SUMMARY = "Check the local store of a region and report what is damaged."
DESCRIPTION = [
    "A rekcli customization (like aws configure), with no Rekognition counterpart. It checks "
    "the region's catalog and every collection (or only --collection-id): each database with "
    "SQLite's integrity check; each vector file (present, a regular file, as long as its "
    "committed faces need); the checksum every face's descriptor carries; that the rows of "
    "deleted faces hold no descriptor any more; and that the counts of faces and users "
    "agree. It only reads: nothing is repaired or re-created, so the evidence stays as found.",
    "Ordinary commands check as they go too: a search verifies the faces it answers with and "
    "reports any row whose distance comes out NaN, infinite or impossible, and loading a "
    "face's descriptor verifies its checksum; check-store verifies every row, including "
    "damage too small to change a search.",
    "A damaged collection is best restored from a backup of its folder (the Directory of the "
    "report, with the catalog); otherwise delete the collection and index its faces again.",
]
OUTPUT = [
    ("Region", "-> (string)", "The region checked."),
    ("DataDirectory", "-> (string)", "The data directory ($REKCLI_DATA_DIR)."),
    ("Healthy", "-> (boolean)", "true when no problem was found."),
    ("Catalog", "-> (structure)", "File: the region's catalog.sqlite; Problems: what is "
                                  "wrong with it (empty when nothing)."),
    ("Collections", "-> (list)", "One object per collection checked: CollectionId, Directory "
                                 "(its folder), VectorFile, VectorFormat (1: checksummed; 0: "
                                 "written before checksums, upgraded by the next write), "
                                 "FaceCount, UserCount, Rows (rows in the vector file), "
                                 "DeletedRows (rows of deleted faces awaiting compaction), "
                                 "SearchIndex (the state of its search index, as rekcli "
                                 "search-index shows it: NONE, CURRENT, STALE, OBSOLETE, "
                                 "DAMAGED or UNAVAILABLE; every face's code in it is "
                                 "re-encoded from the vectors and compared, and a damaged "
                                 "index is removed, to be rebuilt), "
                                 "and Problems: each names the damaged file and what is "
                                 "wrong (empty when nothing)."),
]
EXIT_STATUS = ("Exit status: 0 when the store is healthy; 254 when damage was found (the "
               "report says where; a one-line notice goes to stderr) or the collection does "
               "not exist; 252 for invalid options.")
EXAMPLE_COMMAND = "rekcli check-store --collection-id family"


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        from rekcli.cli.errors import UsageError

        raise UsageError(message)


OPTIONS = [
    ("--collection-id", "COLLECTION_ID", "Check only this collection (default: the catalog "
                                         "and every collection of the region)."),
    ("--region", "REGION", "Region whose store to check (default $AWS_REGION, "
                           "$AWS_DEFAULT_REGION, else us-east-1)."),
]


def parser() -> argparse.ArgumentParser:
    result = _Parser(prog="rekcli check-store", add_help=False)
    for name, metavar, text in OPTIONS:
        result.add_argument(name, default=None, metavar=metavar, help=text)
    return result


def main(args: list[str]) -> int:
    if args in (["help"], ["--help"], ["-h"]):
        from rekcli.cli.help import check_store_page
        from rekcli.cli.help_pager import print_page

        print_page(check_store_page())
        return EXIT_OK
    options = parser().parse_args(args)
    from rekcli.service.context import DEFAULT_REGION, ServiceContext
    from rekcli.service.store_check import check_store

    region = (options.region or os.environ.get("AWS_REGION")
              or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION)
    report = check_store(ServiceContext(region=region), options.collection_id)
    sys.stdout.write(json.dumps(report, indent=4) + "\n")
    if report["Healthy"]:
        return EXIT_OK
    sys.stderr.write("rekcli: the store is damaged; see Problems in the report\n")
    return EXIT_SERVICE
