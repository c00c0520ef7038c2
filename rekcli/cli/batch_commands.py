"""The batch commands: many requests in one process tree, with progress, order and resume.

  rekcli batch <command> --input-file requests.jsonl   one request per line, as --cli-input-json
  rekcli index-folder --collection-id C --images DIR|FILE|GLOB ...
  rekcli search-folder --collection-id C --images ...
  rekcli compare-folder --source-image-bytes fileb://ref.jpg --images ...

Output is exactly one line per request, in input order, in json and text (one document per
request in yaml, one table in table): the response (with --query applied; {} when empty), or
{"Line": N, "Error": {"Code", "Message"}} when that request failed (N: its line in the input
file). The folder jobs wrap each line with the image it is about, and their text lines start
with it. The exit code is 0 when every request succeeded, 254 when any failed.
Each is one BatchCommand declaration (BATCH_COMMANDS, at the end): dispatch, help and man
pages (rekcli/cli/help.py batch_command_page), completions and examples loop over them; the
words of their pages are in rekcli/cli/batch_examples.py.
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass
from typing import Callable

from rekcli.cli import batch_examples as words
from rekcli.cli.argv import FLAG, LIST, VALUE, OptionSpec, command_option_specs, global_option_specs
from rekcli.cli.errors import (EXIT_OK, EXIT_SERVICE, CliError, GeneralError, ParamValidationError,
                               UsageError)
from rekcli.service import model


@dataclass(frozen=True)
class BatchCommand:
    """One batch command, declared once: dispatch (cli/main.py), its help and man page
    (cli/help.py), its completions (cli/completion.py) and its examples all read this.

    options: its own options in help order; a bare name ("--quality-filter") passes that
    option of `operation` through to every item, with the type, help and limits the
    operation's model gives it, and run() reads it with passed_members()."""

    name: str
    summary: str
    options: tuple[OptionSpec | str, ...]
    run: Callable  # (values, positionals, settings) -> exit code
    operation: str | None = None        # the API operation each image runs; None: `batch`
    required: tuple[str, ...] = ()      # refused to go without (checked before run)
    path_options: tuple[str, ...] = ()  # values that are files named as they are (no fileb://)
    argument: str | None = None         # `batch <command>`: a positional naming an API command
    line_members: tuple[str, ...] = ()  # what each line has besides Image (ExternalImageId)
    skipped: tuple[str, ...] = ()       # the values of a line's Skipped, when it has one
    description: tuple[str, ...] = ()   # its page's own paragraphs (cli/batch_examples.py)
    job_input: str = ""                 # what identifies its job for resuming, in words
    examples: tuple = ()                # Examples; outputs recorded by tools/generate_docs.py

    def own_option_specs(self) -> dict[str, OptionSpec]:
        """Its options, pass-through ones as the operation's model declares them."""
        passed = command_option_specs(self.operation) if self.operation else {}
        return {spec.name: spec for spec in
                (passed[option] if isinstance(option, str) else option for option in self.options)}

    def option_specs(self) -> dict[str, OptionSpec]:
        specs = self.own_option_specs()
        specs.update(_COMMON)
        specs.update(global_option_specs())
        return specs

    def passed_options(self) -> tuple[str, ...]:
        return tuple(option for option in self.options if isinstance(option, str))

    def passed_members(self, values: dict) -> dict:
        """The pass-through options given, converted by the operation's model: member -> value."""
        from rekcli.cli.request import convert_option

        specs = self.own_option_specs()
        return {specs[name].member: convert_option(specs[name], values[name])
                for name in self.passed_options() if name in values}

    def missing_options(self, values: dict) -> list[str]:
        return [name for name in self.required if name not in values]


def _opt(name, kind, text, choices=None):
    return OptionSpec(name, kind, help=text, choices=choices)


_COMMON = {spec.name: spec for spec in (
    _opt("--workers", VALUE, "Worker processes (default: the number of cores). Each loads the "
                             "face models once."),
    _opt("--progress", FLAG, "Show progress on stderr even when it is not a terminal."),
    _opt("--no-progress", FLAG, "Never show progress."),
    _opt("--cluster", VALUE, "Run the face analysis on the Dask cluster whose scheduler is at "
                             "this address (tcp://host:8786; default: $DASK_SCHEDULER_ADDRESS, "
                             "unless --workers asks for a local run); "
                             "this process reads the images and writes the collection. Needs "
                             "rekcli[cluster]."),
)}
# What help calls an own option's value when it is not a string.
OPTION_TYPES = {"--workers": "integer"}
_IMAGES = _opt("--images", LIST, "Image files, folders or quoted glob patterns ('photos/*.jpg'); "
                                 "s3://bucket/prefix/ for the images under an S3 prefix (needs "
                                 "rekcli[s3]); - reads a list of paths from stdin, one a line.")
_RECURSIVE = _opt("--recursive", FLAG, "Also take images from sub-folders of the given folders "
                                       "(and from under sub-prefixes of an S3 prefix).")
_COLLECTION = _opt("--collection-id", VALUE, "ID of the collection to use.")


# ---- running and printing ------------------------------------------------------------------


def run_tasks(tasks, labels, settings, values, job_key_parts,
              recheck_journaled=None, *, operation: str, line_numbers=None,
              collections=(), facts_of=None) -> int:
    """Run `tasks` in order on the pool, print one line each, return the exit code.

    labels: for folder jobs, what each line says about its image ({"Image": ...}); None for
    `batch`, whose lines are bare responses. line_numbers: for `batch`, the input file's line
    of each task (error lines name it). operation: the API operation (table titles).
    recheck_journaled, facts_of: check journaled results before they are replayed, and say
    what each result depended on (see run_in_order). collections: the CollectionIds the job
    touches (a delete in any of them removes its journal)."""
    from rekcli.batch.journal import Journal, job_key
    from rekcli.store.journals import collection_ref, journals_dir
    from rekcli.batch.cluster import ClusterUnavailable
    from rekcli.batch.runner import Stopped, run_in_order
    from rekcli.cli.display import compile_query
    from rekcli.service.context import ServiceContext

    from rekcli.engine import analysis_fingerprint

    query = compile_query(settings.globals.query)
    workers = _workers(values)
    cluster = _cluster_address(values)
    context = ServiceContext(region=settings.region)
    # Results saved by another engine (detector, release) are not replayed on resume.
    journal = Journal(journals_dir(context.data_dir), job_key(*job_key_parts, analysis_fingerprint()),
                      [collection_ref(settings.region, name) for name in collections])
    progress = _progress_reporter(len(tasks), values)
    failures = 0
    journal_failure = None
    stop = _StopSignals()
    try:
        for index, result in run_in_order(tasks, workers=workers, journal=journal,
                                          recheck_journaled=recheck_journaled,
                                          facts_of=facts_of, should_stop=stop.requested,
                                          cluster=cluster):
            if "Skipped" in result and values.get("--hide-skipped"):
                progress.advance(failed=False)
                continue
            number = line_numbers[index] if line_numbers else index + 1
            item = _Item(result, labels[index] if labels else None, number, operation)
            failures += "Error" in result
            _write_item(item, _queried(query, item.line(), result, number), settings)
            progress.advance(failed="Error" in result)
            journal_failure = _warn_once_if_unjournaled(journal, journal_failure)
        journal.finish()
    except Stopped:
        stop.raise_for_signal()
    except ClusterUnavailable as error:  # the journal is kept: the same command resumes
        raise GeneralError(error.message) from None
    finally:
        try:
            journal.close()
            progress.stop()
        finally:
            stop.restore()
    return EXIT_SERVICE if failures else EXIT_OK


def run_job(job, settings, values) -> int:
    """Run a job of rekcli/batch/folder_jobs.py and print its lines."""
    return run_tasks(job.tasks, job.labels, settings, values, job.key_parts,
                     job.recheck_journaled, operation=job.operation,
                     line_numbers=job.line_numbers, collections=job.collections,
                     facts_of=job.facts_of)


def _warn_once_if_unjournaled(journal, warned):
    """A journal write failed (a full disk): the job goes on, every printed result is true,
    only a resume after an interruption would compute the unrecorded items again."""
    if journal.failure is not None and warned is None:
        reason = journal.failure.strerror or str(journal.failure)
        sys.stderr.write(f"warning: cannot write the resume journal {journal.path} ({reason}); "
                         "the job goes on, but an interrupted run will compute the remaining "
                         "items again\n")
        return journal.failure
    return warned


@dataclass(frozen=True)
class _Item:
    """One output line of a job: the result of one request or image."""

    result: dict
    label: dict | None  # folder jobs: {"Image": ..., ...}; None for `batch`
    number: int         # `batch`: the request's line in the input file
    operation: str

    def line(self):
        """The line as JSON prints it (and --query sees it). A folder job's line is its
        label plus the result; a `batch` line is the bare response, or on failure
        {"Line": N, "Error": ...} so that an error names the request it answers."""
        if self.label is not None:
            return dict(self.label, **self.result)
        if "Response" in self.result:
            return self.result["Response"]
        if "Error" in self.result:
            return {"Line": self.number, **self.result}
        return self.result


class _StopSignals:
    """Ctrl-C and SIGTERM during a batch: the first one is only noted, and the runner, which
    asks between items, stops the workers at a safe point. Raising from the handler instead
    could land in the middle of writing a line to a full pipe, and Python's buffered writer
    then wrote part of that line twice. raise_for_signal then ends the command as the
    signal would: KeyboardInterrupt (exit 130) or SystemExit (128 + signal number, 143).
    A second signal acts at once (an item stuck reading a pipe must not make rekcli
    unstoppable); the workers still end with the process."""

    def __init__(self) -> None:
        import signal
        import threading

        self.signum = None
        self._previous = {}
        if threading.current_thread() is threading.main_thread():
            for name in (signal.SIGINT, signal.SIGTERM):
                self._previous[name] = signal.signal(name, self._note)

    def _note(self, signum, frame) -> None:
        if self.signum is not None:
            self.signum = signum
            self.raise_for_signal()
        self.signum = signum

    def requested(self) -> bool:
        return self.signum is not None

    def raise_for_signal(self):
        import signal

        if self.signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise SystemExit(128 + (self.signum or signal.SIGTERM))

    def restore(self) -> None:
        import signal

        for name, handler in self._previous.items():
            signal.signal(name, handler)


def _queried(query, line, result: dict, number: int):
    """--query applied to one output line. Error lines are never filtered (as in aws). A
    line the query cannot be applied to (a JMESPath type error, e.g. length() of a member a
    skipped line does not have) is printed whole, with a warning on stderr: the request
    itself succeeded, and a write's response must never be lost to a query."""
    from rekcli.cli.display import apply_query

    if query is None or "Error" in result:
        return line
    try:
        return apply_query(query, line)
    except CliError as error:
        sys.stderr.write(f"warning: --query does not fit line {number}, printed whole: "
                         f"{error.message}\n")
        return line


def _write_item(item: _Item, shown, settings) -> None:
    """Print one item as exactly one line in json and text (one document in yaml, one table
    in table), so that output item N always answers input item N, even when the response is
    empty or the request failed."""
    text = _format_item(item, shown, settings.output, settings.use_color)
    _write_data(_escape_lone_surrogates(text) if settings.output == "json" else text)
    sys.stdout.flush()


def _format_item(item: _Item, shown, output: str, color: bool = False) -> str:
    from rekcli.cli.output import render_output

    if output == "json":
        return json.dumps(shown, ensure_ascii=False) + "\n"
    if output == "text":
        return "\t".join(_text_fields(item, shown, color)) + "\n"
    rendered = render_output(shown, output, operation_name=item.operation, color=color)
    if output == "yaml":
        # One YAML document per item: concatenated mappings would merge.
        return "---\n" + (rendered or "{}\n")
    if output == "table" and not rendered:  # an empty response, or a query's null
        return _title_only_table(item.operation)
    return rendered


def _text_fields(item: _Item, shown, color: bool) -> list[str]:
    """Text output: one line per item, its fields separated by tabs. A folder job's line
    starts with its image, --query or not (a query's fields follow it, and an image the
    query also picks is not printed twice); an error line is `ERROR <line> <Code> <Message>`
    for `batch` and `<image> ERROR <Code> <Message>` for the folder jobs (errors are never
    queried, as in aws). A response that text renders on several lines is joined into one."""
    from rekcli.cli.output import render_output

    error = item.result.get("Error")
    if error is not None:
        fields = ["ERROR", str(item.number)] if item.label is None else [item.label["Image"], "ERROR"]
        return fields + [_one_line(str(error.get("Code", ""))), _one_line(str(error.get("Message", "")))]
    if item.label is None:
        fields = []
    else:
        fields = [item.label["Image"]]
        shown = _without_the_image(shown, item.label["Image"])
        if shown is _NOTHING:
            return fields
    rendered = render_output(shown, "text", operation_name=item.operation, color=color)
    return fields + [_one_line(row) for row in rendered.splitlines() if row]


_NOTHING = object()  # a text line with only its image (`--query Image`)


def _without_the_image(shown, image: str):
    """What a text line shows after its image: the queried value, less the image when the
    query picked it too (`Image`, `[Image, ...]`, `{Image: Image, ...}`), so it is printed
    once. Nothing else is dropped, even a value equal to the image's name."""
    if shown == image:
        return _NOTHING
    if isinstance(shown, list) and shown[:1] == [image]:
        return shown[1:]
    if isinstance(shown, dict) and shown.get("Image") == image:
        return {key: value for key, value in shown.items() if key != "Image"}
    return shown


def _one_line(text: str) -> str:
    return text.replace("\r", " ").replace("\n", " ")


def _title_only_table(title: str) -> str:
    """What table prints for an empty response: its title, so the item is still seen."""
    width = len(title) + 10
    rule = "-" * width + "\n"
    return rule + "|" + title.center(width - 2) + "|\n" + rule


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape_lone_surrogates(text: str) -> str:
    """JSON text with each byte of a file name that is not UTF-8 (Python keeps byte 0xe9
    as the lone surrogate U+DCE9) written as the JSON escape \\udce9: the line stays valid
    UTF-8, and Python's json.loads and os.fsencode give the name's bytes back. (YAML's
    writer already writes \\uDCE9.) Surrogates appear only inside JSON strings."""
    return _LONE_SURROGATE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def _write_data(text: str) -> None:
    """Write output to stdout; a file name that is not UTF-8 (text and table output) is
    written as its own bytes, so a script reading the line can open the file."""
    try:
        sys.stdout.write(text)
    except UnicodeEncodeError:
        encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
        try:
            data = text.encode(encoding, "surrogateescape")
        except UnicodeEncodeError:  # an ASCII-only stdout: the rest of the line as UTF-8
            data = text.encode("utf-8", "surrogateescape")
        sys.stdout.flush()
        sys.stdout.buffer.write(data)


def _workers(values: dict) -> int:
    raw = values.get("--workers")
    if raw is None:
        return os.cpu_count() or 1
    try:
        workers = int(raw)
    except ValueError:
        raise UsageError(f"argument --workers: invalid int value: '{raw}'") from None
    if workers < 1:
        raise UsageError("argument --workers: must be at least 1")
    return workers


def _cluster_address(values: dict) -> str | None:
    """--cluster, else $DASK_SCHEDULER_ADDRESS (Dask's own variable), else None: local. An
    explicit --workers is a request for a local run, so it wins over the variable (a flag
    beats the environment, as everywhere in the aws CLI)."""
    from rekcli.batch.cluster import ADDRESS_VARIABLE

    if values.get("--cluster"):
        return values["--cluster"]
    if values.get("--workers") is not None:
        return None
    return os.environ.get(ADDRESS_VARIABLE) or None


def _progress_reporter(total: int, values: dict):
    from rekcli.cli.progress import ProgressReporter

    from rekcli.cli import terminal

    wanted = not values.get("--no-progress") and (values.get("--progress")
                                                  or terminal.current().stderr_is_tty)
    return ProgressReporter(total, enabled=bool(wanted))


# ---- batch ------------------------------------------------------------------------------------


def run_batch(values: dict, positionals: list[str], settings) -> int:
    if positionals and positionals[0] not in model.COMMANDS:
        from rekcli.cli.argv import _invalid_choice

        # as `aws rekognition nosuch`: the word refused, then the words it could have been
        raise UsageError(_invalid_choice("operation", positionals[0], model.COMMANDS)
                         + "\n\nValid choices are: " + ", ".join(sorted(model.COMMANDS)))
    if len(positionals) != 1:
        raise UsageError("batch needs one command, e.g. `rekcli batch index-faces --input-file "
                         "requests.jsonl`; valid commands: " + ", ".join(sorted(model.COMMANDS)))
    operation = model.COMMANDS[positionals[0]]
    source = values.get("--input-file", "-")
    from rekcli.batch.folder_jobs import requests_job
    from rekcli.cli.request import parse_json

    numbered = []
    for number, line in _read_request_lines(source):
        try:
            members = parse_json(line)
            if not isinstance(members, dict):
                raise ValueError("expected a JSON object")
        except ValueError as error:
            raise ParamValidationError(f"Error parsing line {number} of {source}: {error}") from None
        numbered.append((number, line, members))
    return run_job(requests_job(_where(settings), operation, numbered), settings, values)


# The most --input-file may hold: ~200,000 S3Object requests, well under the memory one run
# may take; a longer file (or /dev/zero) is refused after reading this much plus one byte.
MAX_INPUT_FILE_BYTES = 32 * 1024 * 1024


def _read_request_lines(source: str) -> list[tuple[int, str]]:
    """(line number, text) of every request: blank lines are skipped but counted, so an
    error names the line an editor shows."""
    from rekcli.cli.paramfile import read_bounded, read_stream_bounded

    try:
        if source == "-":
            data = read_stream_bounded(sys.stdin.buffer, MAX_INPUT_FILE_BYTES)
        else:
            data = read_bounded(os.path.expanduser(source), MAX_INPUT_FILE_BYTES)
    except (OSError, ValueError) as error:
        raise ParamValidationError(f"Unable to read --input-file {source}: {error}") from None
    if len(data) > MAX_INPUT_FILE_BYTES:
        raise ParamValidationError(f"Unable to read --input-file {source}: the file is larger "
                                   f"than {MAX_INPUT_FILE_BYTES} bytes; split it into several runs")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise ParamValidationError(
            f"Error parsing line {line} of {source}: not UTF-8 text (byte "
            f"0x{data[error.start]:02x} at column {column})") from None
    text = text.removeprefix("\ufeff")  # a byte-order mark, as some Windows editors write
    return [(number, line) for number, line in enumerate(text.splitlines(), start=1) if line.strip()]


def _data_dir():
    from rekcli.service.context import default_data_dir

    return default_data_dir()


# ---- folder jobs ----------------------------------------------------------------------------------


def _images(values: dict, settings) -> list:
    from rekcli.batch.jobs import find_images

    if not values.get("--images"):
        raise UsageError("the following arguments are required: --images")

    def list_s3(bucket: str, prefix: str, recursive: bool):
        from rekcli.service import s3

        return s3.list_objects(bucket, prefix, recursive, settings.region,
                               settings.globals.profile)

    found = find_images(_with_listed_paths(values["--images"]), bool(values.get("--recursive")),
                        list_s3)
    if all(item.problem for item in found):  # nothing to do: say so before any work
        problems = "".join(f"\n  {item.path}: {item.problem}" for item in found)
        raise ParamValidationError("No JPEG or PNG images found in: "
                                   + ", ".join(values["--images"]) + problems)
    return found


def _with_listed_paths(sources: list[str]) -> list[str]:
    """--images with `-` replaced by the paths listed on stdin (one a line, or NUL-separated)."""
    if "-" not in sources:
        return sources
    from rekcli.batch.jobs import read_path_list

    from rekcli.cli.paramfile import read_stream_bounded

    data = read_stream_bounded(sys.stdin.buffer, MAX_INPUT_FILE_BYTES)
    if len(data) > MAX_INPUT_FILE_BYTES:
        raise ParamValidationError(f"--images -: the list on stdin is longer than "
                                   f"{MAX_INPUT_FILE_BYTES} bytes; split it into several runs")
    listed = read_path_list(data)
    return [path for source in sources for path in (listed if source == "-" else [source])]


def run_index_folder(values: dict, positionals: list[str], settings) -> int:
    from rekcli.batch.folder_jobs import index_folder_job

    images = _images(values, settings)
    passed = BATCH_COMMANDS["index-folder"].passed_members(values)
    return run_job(index_folder_job(_where(settings), values["--collection-id"], images, passed),
                   settings, values)


def run_search_folder(values: dict, positionals: list[str], settings) -> int:
    from rekcli.batch.folder_jobs import search_folder_job

    images = _images(values, settings)
    passed = BATCH_COMMANDS["search-folder"].passed_members(values)
    return run_job(search_folder_job(_where(settings), values["--collection-id"], images, passed),
                   settings, values)


def run_compare_folder(values: dict, positionals: list[str], settings) -> int:
    from rekcli.batch.folder_jobs import compare_folder_job
    from rekcli.cli.argv import command_option_specs
    from rekcli.cli.request import as_cli_errors, convert_option, decode_blobs
    from rekcli.service.errors import ServiceError

    given = values["--source-image-bytes"]
    source = convert_option(command_option_specs("CompareFaces")["--source-image-bytes"], given)
    if isinstance(source, str):
        source = decode_blobs(source, model.shape("ImageBlob"), settings.binary_format)
    images = _images(values, settings)
    passed = BATCH_COMMANDS["compare-folder"].passed_members(values)
    try:
        with as_cli_errors():
            job = compare_folder_job(_where(settings), source, images, passed)
    except ServiceError as error:  # the reference photo is unusable: say which it is
        named = given if given.startswith("fileb://") else "--source-image-bytes"
        raise type(error)(f"Source image {named}: {error.message}") from None
    return run_job(job, settings, values)


def _where(settings):
    from rekcli.batch.folder_jobs import Where

    return Where(settings.region, str(_data_dir()), settings.globals.profile,
                 settings.binary_format)


def operation_of(name: str, positionals: list[str]) -> str:
    """The API operation a batch command calls, for "when calling the X operation" in its
    errors; `batch` with no or an unknown command stays `batch`."""
    command = BATCH_COMMANDS[name]
    if command.argument is not None:
        return model.COMMANDS.get(positionals[0], name) if len(positionals) == 1 else name
    return command.operation or name


BATCH_COMMANDS: dict[str, BatchCommand] = {
    command.name: command for command in (
        BatchCommand("batch", "Run many requests of one command from JSON Lines (one "
                              "--cli-input-json object per line), in parallel, output in order.",
                     (_opt("--input-file", VALUE, "File of requests, one JSON object per line; "
                                                  "- or nothing reads stdin."),), run_batch,
                     path_options=("--input-file",), argument="<command>",
                     description=tuple(words.BATCH_DESCRIPTION), job_input=words.BATCH_JOB_INPUT,
                     examples=tuple(words.BATCH_EXAMPLES)),
        BatchCommand("index-folder", "Index every image of folders, files or globs into a "
                                     "collection; images already indexed are skipped.",
                     (_COLLECTION, _IMAGES, _RECURSIVE,
                      "--max-faces", "--quality-filter", "--detection-attributes",
                      _opt("--hide-skipped", FLAG, "Print no line for an image skipped as already "
                                                   "indexed or analysed: only the new work.")),
                     run_index_folder, operation="IndexFaces",
                     required=("--collection-id", "--images"), path_options=("--images",),
                     line_members=("ExternalImageId",),
                     skipped=("ALREADY_INDEXED", "ALREADY_ANALYSED_NO_FACES"),
                     description=tuple(words.INDEX_FOLDER_DESCRIPTION),
                     job_input=words.INDEX_FOLDER_JOB_INPUT,
                     examples=tuple(words.INDEX_FOLDER_EXAMPLES)),
        BatchCommand("search-folder", "Search a collection with the largest face of every image "
                                      "of folders, files or globs.",
                     (_COLLECTION, _IMAGES, _RECURSIVE,
                      "--max-faces", "--face-match-threshold", "--quality-filter"),
                     run_search_folder, operation="SearchFacesByImage",
                     required=("--collection-id", "--images"), path_options=("--images",),
                     description=tuple(words.SEARCH_FOLDER_DESCRIPTION),
                     job_input=words.SEARCH_FOLDER_JOB_INPUT,
                     examples=tuple(words.SEARCH_FOLDER_EXAMPLES)),
        BatchCommand("compare-folder", "Compare one reference face with every image of folders, "
                                       "files or globs.",
                     (_opt("--source-image-bytes", VALUE, "The reference photo, usually fileb://ref.jpg."),
                      _IMAGES, _RECURSIVE, "--similarity-threshold", "--quality-filter"),
                     run_compare_folder, operation="CompareFaces",
                     required=("--source-image-bytes", "--images"), path_options=("--images",),
                     description=tuple(words.COMPARE_FOLDER_DESCRIPTION),
                     job_input=words.COMPARE_FOLDER_JOB_INPUT,
                     examples=tuple(words.COMPARE_FOLDER_EXAMPLES)),
    )
}
