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

DESCRIPTION = (
    "Check the local store of a region and report what is damaged: the catalog and every "
    "collection's database (SQLite integrity check), vector file (present, a regular file, "
    "as long as its committed faces need), every face's checksum, that deleted faces left no "
    "descriptor behind, and that the counts agree. Nothing is changed or repaired.")
EPILOG = (
    "Output: a JSON object on stdout: Region, DataDirectory, Healthy (true or false), Catalog "
    "{File, Problems} and Collections, a list of {CollectionId, Directory, VectorFile, "
    "VectorFormat, FaceCount, UserCount, Rows, DeletedRows, Problems}; each Problems entry "
    "names the damaged file and what is wrong. Exit status: 0 when healthy, 254 when damage "
    "was found (or the collection does not exist), 252 for invalid options. A damaged "
    "collection is best restored from a backup of its folder; otherwise delete it and "
    "index its faces again. Example: rekcli check-store --collection-id family")


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        from rekcli.cli.errors import UsageError

        raise UsageError(message)


def parser() -> argparse.ArgumentParser:
    result = _Parser(prog="rekcli check-store", description=DESCRIPTION, epilog=EPILOG)
    result.add_argument("--collection-id", default=None,
                        help="check only this collection (default: the catalog and every "
                             "collection of the region)")
    result.add_argument("--region", default=None,
                        help="region whose store to check (default $AWS_REGION, "
                             "$AWS_DEFAULT_REGION, else us-east-1)")
    return result


def main(args: list[str]) -> int:
    if args in (["help"], ["--help"], ["-h"]):
        parser().print_help()
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
