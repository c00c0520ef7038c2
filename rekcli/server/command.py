"""`rekcli serve [--host H] [--port N] [--region R] [--workers N] [--queue-size N]
[--log-requests]`: parse the options, start the workers, print the ready line, serve."""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys

DEFAULT_PORT = 4599


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        from rekcli.cli.errors import UsageError

        raise UsageError(message)


def parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="rekcli serve", description=(
        "Serve the local Rekognition operations over HTTP (AWS JSON 1.1), so boto3, the aws "
        "CLI and `rekcli --endpoint-url` can call them."))
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"TCP port (default {DEFAULT_PORT}; 0 picks a free one)")
    parser.add_argument("--region", default=None,
                        help="region for unsigned requests (default $AWS_REGION, "
                             "$AWS_DEFAULT_REGION, else us-east-1)")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                        help="face analysis worker processes (default min(2, CPUs))")
    parser.add_argument("--queue-size", type=int, default=32,
                        help="face analysis requests that may wait for a worker; beyond it "
                             "ThrottlingException (default 32)")
    parser.add_argument("--max-body-bytes", type=int, default=16 * 1024 * 1024,
                        help="largest request body accepted (default 16 MiB: CompareFaces "
                             "with two 5 MiB images)")
    parser.add_argument("--auth-keys", metavar="FILE", default=None,
                        help="verify SigV4 signatures against the keys in FILE (one "
                             "`ACCESS_KEY_ID SECRET_ACCESS_KEY` per line); unsigned or "
                             "badly signed requests are refused")
    parser.add_argument("--log-requests", action="store_true",
                        help="one line per request on stderr")
    return parser


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def main(args: list[str]) -> int:
    if args in (["help"], ["--help"], ["-h"]):
        parser().print_help()
        return 0
    options = parser().parse_args(args)
    if options.workers < 1 or options.queue_size < 0:
        from rekcli.cli.errors import UsageError

        raise UsageError("--workers must be at least 1 and --queue-size at least 0")
    from rekcli.server.http import RekognitionServer, serve_until_stopped, stop_on_signals
    from rekcli.server.workers import WorkerPool
    from rekcli.service.context import DEFAULT_REGION, ServiceContext, default_data_dir

    region = (options.region or os.environ.get("AWS_REGION")
              or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION)
    ServiceContext(region=region)  # refuses a malformed region before binding
    from rekcli.cli.settings import check_face_model

    # The workers inherit REKCLI_FACE_MODEL; a value they cannot use is refused here (253).
    check_face_model()
    verifier = None
    if options.auth_keys:
        from rekcli.server.auth import SignatureVerifier, read_keys

        try:
            verifier = SignatureVerifier(read_keys(options.auth_keys))
        except (OSError, ValueError) as error:
            from rekcli.cli.errors import ConfigurationError

            raise ConfigurationError(f"--auth-keys: {error}") from None
    elif not is_loopback(options.host):
        sys.stderr.write(f"warning: serving on {options.host} without signature checks "
                         "(--auth-keys): anyone who can reach this address can read and change "
                         "your collections.\n")
    # From here SIGTERM/Ctrl-C only set `stop`: a stop during the warm-up still shuts the
    # workers down (else the forkserver and its workers outlive us) and exits 0.
    stop = stop_on_signals()
    pool = WorkerPool(options.workers, options.queue_size)
    try:
        pool.warm_up()
        if stop.is_set():
            return 0
        server = RekognitionServer((options.host, options.port), pool=pool,
                                   data_dir=default_data_dir(), default_region=region,
                                   log_requests=options.log_requests,
                                   max_body=options.max_body_bytes, verifier=verifier)
        host, port = server.server_address[:2]
        shown = f"[{host}]" if ":" in host else host
        # The ready line: scripts and tests wait for it and read the port from it.
        sys.stdout.write(f"rekcli serve: listening on http://{shown}:{port}\n")
        sys.stdout.flush()
        serve_until_stopped(server, stop)
    finally:
        pool.shutdown()
    return 0
