"""`rekcli wait-video-job --job-id ID`: block until a stored-video job ends.

Not an AWS command (the aws CLI has no waiter for these jobs), so it is kept apart from the
API commands and named like none of them. It polls GetFaceDetection or GetFaceSearch
(whichever started the job; through --endpoint-url too) and, like `aws ... wait`, prints
nothing: exit 0 when the job SUCCEEDED; 255 with the StatusMessage when it FAILED or when
--timeout passed first; 254 for an unknown job.
"""

from __future__ import annotations

import sys
import time

from rekcli.cli.argv import VALUE, OptionSpec, global_option_specs
from rekcli.cli.errors import EXIT_OK, GeneralError, UsageError

NAME = "wait-video-job"
SUMMARY = "Wait until a stored-video job (start-face-detection/-search) has ended."
DEFAULT_INTERVAL = 1.0

HELP = f"""{NAME}

  {SUMMARY}

  rekcli-specific: the aws CLI has no waiter for these jobs. Polls the job's get- command
  every --interval seconds and prints nothing. Exit status: 0 when the job SUCCEEDED; 255
  when it FAILED (its StatusMessage on stderr) or --timeout passed first; 254 when no such
  job exists.

OPTIONS
  --job-id ID        JobId printed by start-face-detection or start-face-search (required).
  --interval SECS    Seconds between polls (default 1).
  --timeout SECS     Give up after this many seconds (default: wait as long as it runs).

EXAMPLE
  JOB=$(rekcli start-face-search --collection-id family \\
        --video 'S3Object={{Bucket=doorcam,Name=monday.mp4}}' --query JobId --output text)
  rekcli wait-video-job --job-id "$JOB" && rekcli get-face-search --job-id "$JOB"
"""


def option_specs() -> dict[str, OptionSpec]:
    specs = {name: OptionSpec(name, VALUE, help=text) for name, text in (
        ("--job-id", "JobId printed by the start- command."),
        ("--interval", "Seconds between polls (default 1)."),
        ("--timeout", "Give up after this many seconds (default: no limit)."))}
    specs.update(global_option_specs())
    return specs


def _seconds(values: dict, name: str, default: float | None) -> float | None:
    raw = values.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise UsageError(f"argument {name}: invalid float value: '{raw}'") from None
    if value < 0:
        raise UsageError(f"argument {name}: must not be negative")
    return value


def run(values: dict, settings) -> int:
    from rekcli.cli.operation import call_service
    from rekcli.service.errors import ServiceError

    job_id = values.get("--job-id")
    if not job_id:
        raise UsageError("the following arguments are required: --job-id")
    interval = _seconds(values, "--interval", DEFAULT_INTERVAL)
    timeout = _seconds(values, "--timeout", None)
    deadline = None if timeout is None else time.monotonic() + timeout
    operations = ["GetFaceDetection", "GetFaceSearch"]
    while True:
        try:
            response = call_service(operations[0], {"JobId": job_id, "MaxResults": 1}, settings)
        except ServiceError as error:  # (a remote endpoint's errors carry only the code)
            if error.code != "ResourceNotFoundException" or len(operations) == 1:
                raise
            operations.pop(0)  # a face-search job: ask its own get- command from now on
            continue
        status = response.get("JobStatus")
        if status == "SUCCEEDED":
            return EXIT_OK
        if status == "FAILED":
            raise GeneralError(f"Waiter VideoJobComplete failed: the job FAILED: "
                               f"{response.get('StatusMessage') or 'no message'}")
        if deadline is not None and time.monotonic() >= deadline:
            raise GeneralError("Waiter VideoJobComplete failed: Max attempts exceeded "
                               f"(--timeout {timeout:g} s; the job is still {status})")
        time.sleep(interval)


def print_help() -> int:
    sys.stdout.write(HELP)
    return EXIT_OK
