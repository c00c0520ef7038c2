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

import hashlib
import json
import os
import re
import sys
from dataclasses import dataclass
from typing import Callable

from rekcli.cli import batch_examples as words
from rekcli.cli.argv import FLAG, LIST, VALUE, OptionSpec, command_option_specs, global_option_specs
from rekcli.cli.errors import EXIT_OK, EXIT_SERVICE, CliError, ParamValidationError, UsageError
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
    from rekcli.batch.runner import Stopped, run_in_order
    from rekcli.cli.display import compile_query
    from rekcli.service.context import ServiceContext

    from rekcli.engine import analysis_fingerprint

    query = compile_query(settings.globals.query)
    workers = _workers(values)
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
                                          facts_of=facts_of, should_stop=stop.requested):
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
    finally:
        try:
            journal.close()
            progress.stop()
        finally:
            stop.restore()
    return EXIT_SERVICE if failures else EXIT_OK


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
    numbered = _read_request_lines(source)
    from rekcli.batch.worker import Task
    from rekcli.cli.request import parse_json

    tasks = []
    for number, line in numbered:
        try:
            members = parse_json(line)
            if not isinstance(members, dict):
                raise ValueError("expected a JSON object")
        except ValueError as error:
            raise ParamValidationError(f"Error parsing line {number} of {source}: {error}") from None
        tasks.append(Task(operation, members, settings.region, str(_data_dir()), settings.binary_format,
                          profile=settings.globals.profile))
    lines = [line for _, line in numbered]
    resume = _BatchResume(operation, tasks, settings)
    return run_tasks(tasks, None, settings, values, ("batch", operation, lines, settings.region,
                                                    str(_data_dir()), settings.binary_format),
                     resume.recheck, operation=operation,
                     line_numbers=[number for number, _ in numbered],
                     collections=sorted(set(resume.collection_of.values())), facts_of=resume.facts)


class _BatchResume:
    """When a resumed `batch` may replay a journaled result: only when a fresh run would
    print the same. Each result is recorded with what its answer depended on, its facts: the
    identity of every file the request reads (fileb:// images, S3Object files), taken when
    the job starts, and the state of the collection it names (creation time, generation),
    taken after it finished. On resume a result is replayed when its files are the same, its
    collection is the same one (not deleted and made again), and either
      - IndexFaces: every face it indexed is still in the collection (a fresh run would find
        them there; indexing again would duplicate them), or
      - anything else: the collection has not changed since the interrupted run's last
        result (searches would match other faces; a write's answer may differ).
    Everything else is computed again, and so is every result of an operation whose answer
    depends on store state that no CollectionId names (tags, the list of collections)."""

    # Operations that never change a collection: its state is read once, at the first result
    # (~3 ms a read). Recorded early, a state can only be older than the answer, and on
    # resume that makes a result computed again, never replayed wrongly.
    READ_ONLY = {"SearchFaces", "SearchFacesByImage", "SearchUsers", "SearchUsersByImage",
                 "ListFaces", "ListUsers", "DescribeCollection"}
    NEVER_REPLAYED = {"ListCollections", "ListTagsForResource", "TagResource", "UntagResource"}

    def __init__(self, operation: str, tasks: list, settings) -> None:
        from rekcli.service.context import ServiceContext

        self.operation = operation
        self.settings = settings
        self.context = ServiceContext(region=settings.region)
        self.files = [_digest(self._file_identities(task.members)) for task in tasks]
        self.collection_of = {index: task.members["CollectionId"] for index, task in enumerate(tasks)
                              if isinstance(task.members.get("CollectionId"), str)}
        self._read_once: dict[str, object] = {}

    def _file_identities(self, members: dict) -> list:
        from rekcli.batch.journal import file_identity
        from rekcli.service.images import local_s3_object_path

        identities = []
        for member in ("Image", "SourceImage", "TargetImage"):
            image = members.get(member)
            if not isinstance(image, dict):
                continue
            try:
                if isinstance(image.get("Bytes"), str) and image["Bytes"].startswith("fileb://"):
                    identities.append(file_identity(os.path.expanduser(image["Bytes"][len("fileb://"):])))
                elif isinstance(image.get("S3Object"), dict) and self.context.s3_root is None:
                    # An object in S3 has no identity without asking S3 for it: an identity
                    # that never matches makes a resumed run compute it again.
                    identities.append(["s3", os.urandom(8).hex()])
                elif isinstance(image.get("S3Object"), dict):
                    identities.append(file_identity(local_s3_object_path(self.context.s3_root,
                                                                         image["S3Object"])))
            except Exception as error:  # noqa: BLE001 - the item reports it; here it is a fact
                identities.append(type(error).__name__)
        return identities

    def _state(self, collection_id: str):
        from rekcli.service.collections import collection_state
        from rekcli.service.errors import ServiceError

        try:
            return list(collection_state(self.context, collection_id))
        except ServiceError:
            return None

    def facts(self, index: int, result: dict) -> dict:
        facts: dict = {"Files": self.files[index]}
        if index in self.collection_of:
            name = self.collection_of[index]
            if self.operation not in self.READ_ONLY:
                facts["Collection"] = self._state(name)
            else:
                if name not in self._read_once:
                    self._read_once[name] = self._state(name)
                facts["Collection"] = self._read_once[name]
        return facts

    def recheck(self, done: dict, facts: dict) -> dict:
        from rekcli.service.errors import ServiceError

        if self.operation in self.NEVER_REPLAYED:
            return {}
        now = {name: self._state(name) for name in set(self.collection_of.values())}
        last_generation: dict[str, int] = {}
        for index in done:
            recorded = (facts.get(index) or {}).get("Collection")
            if index in self.collection_of and recorded:
                name = self.collection_of[index]
                last_generation[name] = max(last_generation.get(name, recorded[1]), recorded[1])
        kept = {}
        for index, result in done.items():
            recorded = facts.get(index)
            if not isinstance(recorded, dict) or recorded.get("Files") != self.files[index]:
                continue
            if index in self.collection_of:
                name = self.collection_of[index]
                state, then = now[name], recorded.get("Collection")
                if (state is None) != (then is None) or (state and state[0] != then[0]):
                    continue  # deleted, or deleted and made again
                if state and not (self.operation == "IndexFaces" and "Response" in result) \
                        and state[1] != last_generation.get(name):
                    continue  # changed since the interruption
            kept[index] = result
        indexed = {index: result for index, result in kept.items()
                   if self.operation == "IndexFaces" and "Response" in result}
        for name in {self.collection_of[index] for index in indexed}:
            mine = {index: result for index, result in indexed.items()
                    if self.collection_of[index] == name}
            try:
                present = _existing_face_ids(name, set().union(*map(_face_ids, mine.values())),
                                             self.settings)
            except ServiceError:
                present = set()
            for index, result in mine.items():
                if not _face_ids(result) <= present:
                    del kept[index]
        return kept


def _digest(value) -> str:
    return hashlib.sha256(json.dumps(value).encode("utf-8")).hexdigest()[:32]


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


def _printable(path) -> str:
    """The path as the output shows it. A byte of a file name that is not valid UTF-8 stays
    a lone surrogate here (0xe9 is U+DCE9, as Python decodes names), which _write_item
    writes as the raw byte in text and table output and as the escape \\udce9 in JSON."""
    return os.fspath(path)


def _fingerprint(images) -> list:
    """Identify the job's files by path and file_identity (cheap, no reading)."""
    from rekcli.batch.journal import file_identity

    from rekcli.batch.jobs import S3Location

    out = []
    for path, _, problem in images:
        if isinstance(path, S3Location):  # its listing's ETag tells its versions apart
            out.append((str(path), "s3", path.etag, path.size))
            continue
        try:
            out.append((str(path), *file_identity(path)))
        except OSError as error:
            out.append((str(path), problem or str(error)))
    return out


def run_index_folder(values: dict, positionals: list[str], settings) -> int:
    from rekcli.batch.jobs import external_image_ids
    from rekcli.batch.worker import Task

    images = _images(values, settings)
    extra = BATCH_COMMANDS["index-folder"].passed_members(values)
    created, _ = _collection_state(values["--collection-id"], settings)  # fails early when missing
    ext_ids = external_image_ids(images, _indexed_under(values["--collection-id"], settings))
    tasks, labels = [], []
    for (path, relative, problem), ext_id in zip(images, ext_ids):
        members = {"CollectionId": values["--collection-id"], "ExternalImageId": ext_id, **extra}
        tasks.append(Task("IndexFaces", members, settings.region, str(_data_dir()),
                          profile=settings.globals.profile,
                          image_files={"Image": str(path)}, skip_if_indexed=True,
                          problem=problem))
        labels.append({"Image": _printable(path), "ExternalImageId": ext_id})
    return run_tasks(tasks, labels, settings, values,
                     ("index-folder", values["--collection-id"], created, extra, _fingerprint(images),
                      settings.region, str(_data_dir()), ext_ids),
                     recheck_journaled=_faces_still_indexed(values["--collection-id"], settings),
                     operation="IndexFaces", collections=[values["--collection-id"]])


def _indexed_under(collection_id: str, settings):
    """For external_image_ids: which of the files that would share an ExternalImageId the
    collection already holds under it (same image bytes), so that it keeps that name. Asked
    only when names meet, which is rare: the collection is listed once, on the first ask."""
    from rekcli.batch.worker import image_bytes_of
    from rekcli.service import invoke
    from rekcli.service.context import ServiceContext
    from rekcli.service.errors import ServiceError
    from rekcli.service.faces_by_image import image_id_for

    listed: list[dict] = []  # ExternalImageId -> its ImageIds, once listed

    def image_ids_by_name() -> dict:
        if listed:
            return listed[0]
        by_name: dict = {}
        context = ServiceContext(region=settings.region)
        request = {"CollectionId": collection_id, "MaxResults": 4096}
        while True:
            page = invoke("ListFaces", request, context)
            for face in page["Faces"]:
                by_name.setdefault(face.get("ExternalImageId"), set()).add(face["ImageId"])
            if not page.get("NextToken"):
                listed.append(by_name)
                return by_name
            request["NextToken"] = page["NextToken"]

    def indexed_under(name: str, paths: list) -> int | None:
        owners = image_ids_by_name().get(name)
        for position, path in enumerate(paths if owners else ()):
            try:
                data = image_bytes_of(str(path), settings.region, settings.globals.profile)
                if image_id_for(data) in owners:
                    return position
            except (OSError, ServiceError):
                continue  # unreadable or too large: it cannot have been indexed
        return None

    return indexed_under


def _faces_still_indexed(collection_id: str, settings):
    """For a resumed index-folder: keep the journaled results whose faces are all still in
    the collection; the others are computed again, as a fresh run would: an image whose
    faces were all deleted since the interruption is indexed again, one that kept some is
    ALREADY_INDEXED, and no line names a FaceId that no longer exists."""
    from rekcli.service.errors import ServiceError

    def recheck_journaled(done: dict, facts: dict) -> dict:
        wanted = set().union(*(_face_ids(result) for result in done.values()))
        try:
            present = _existing_face_ids(collection_id, wanted, settings)
        except ServiceError:
            return {}  # compute every item again: the skip check indexes nothing twice
        return {index: result for index, result in done.items() if _face_ids(result) <= present}

    return recheck_journaled


def _face_ids(result: dict) -> set:
    return {record["Face"]["FaceId"] for record in result.get("Response", {}).get("FaceRecords", [])}


def _existing_face_ids(collection_id: str, wanted: set, settings) -> set:
    """Which of `wanted` are faces of the collection now (ServiceError if it cannot say)."""
    from rekcli.service import invoke
    from rekcli.service.context import ServiceContext

    wanted = sorted(wanted)
    present: set = set()
    context = ServiceContext(region=settings.region)
    for start in range(0, len(wanted), 4096):  # ListFaces takes up to 4096 ids
        request = {"CollectionId": collection_id, "FaceIds": wanted[start:start + 4096],
                   "MaxResults": 4096}
        present.update(face["FaceId"] for face in invoke("ListFaces", request, context)["Faces"])
    return present


def run_search_folder(values: dict, positionals: list[str], settings) -> int:
    from rekcli.batch.worker import Task

    images = _images(values, settings)
    extra = BATCH_COMMANDS["search-folder"].passed_members(values)
    collection_state = _collection_state(values["--collection-id"], settings)
    members = {"CollectionId": values["--collection-id"], **extra}
    tasks = [Task("SearchFacesByImage", members, settings.region, str(_data_dir()),
                  profile=settings.globals.profile, image_files={"Image": str(path)}, problem=problem)
             for path, _, problem in images]
    labels = [{"Image": _printable(path)} for path, _, _ in images]
    # Search results depend on the collection's content: any change to it is a new job.
    return run_tasks(tasks, labels, settings, values,
                     ("search-folder", members, _fingerprint(images), settings.region, str(_data_dir()),
                      collection_state), operation="SearchFacesByImage",
                     collections=[values["--collection-id"]])


def run_compare_folder(values: dict, positionals: list[str], settings) -> int:
    from rekcli.batch.worker import Task
    from rekcli.cli.argv import command_option_specs
    from rekcli.cli.request import convert_option

    source = convert_option(command_option_specs("CompareFaces")["--source-image-bytes"],
                            values["--source-image-bytes"])
    if isinstance(source, str):
        from rekcli.cli.request import decode_blobs

        source = decode_blobs(source, model.shape("ImageBlob"), settings.binary_format)
    images = _images(values, settings)
    extra = BATCH_COMMANDS["compare-folder"].passed_members(values)
    members = {"SourceImage": {"Bytes": source}, **extra}
    _require_source_face(members, values["--source-image-bytes"], settings)
    tasks = [Task("CompareFaces", members, settings.region, str(_data_dir()),
                  profile=settings.globals.profile, image_files={"TargetImage": str(path)}, problem=problem)
             for path, _, problem in images]
    labels = [{"Image": _printable(path)} for path, _, _ in images]
    return run_tasks(tasks, labels, settings, values,
                     ("compare-folder", hashlib.sha256(source).hexdigest(), extra, _fingerprint(images)),
                     operation="CompareFaces")


def _require_source_face(members: dict, given: str, settings) -> None:
    """Fail at once, naming the source, when the reference photo cannot be read or has no
    usable face: every comparison would fail the same way, each after a target's work."""
    from rekcli.cli.request import build_request_from_input
    from rekcli.service.context import ServiceContext
    from rekcli.service.errors import ServiceError
    from rekcli.service.faces_by_image import require_source_face

    # The source stands in for the target too: the request is validated whole, as each
    # item's will be, so a bad option also fails here rather than once per image.
    request = build_request_from_input(
        "CompareFaces", dict(members, TargetImage=members["SourceImage"]), settings.binary_format)
    try:
        require_source_face(ServiceContext(region=settings.region), request)
    except ServiceError as error:
        named = given if given.startswith("fileb://") else "--source-image-bytes"
        raise type(error)(f"Source image {named}: {error.message}") from None


def _collection_state(collection_id: str, settings) -> tuple[float, int]:
    """(creation time, generation) of the collection, for the keys of resume journals (see
    service.collections.collection_state); ResourceNotFoundException, before any image work,
    when it does not exist."""
    from rekcli.service.collections import collection_state
    from rekcli.service.context import ServiceContext

    return collection_state(ServiceContext(region=settings.region), collection_id)


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
