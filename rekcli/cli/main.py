"""rekcli's entry point: read argv, run one operation, print it, and pick the exit code.

`main` is the only place that maps exceptions to exit codes (see rekcli/cli/errors.py);
`run` is the program without error handling, so tests and --debug can see real tracebacks.
"""

from __future__ import annotations

import sys

from rekcli.cli import argv as argv_grammar
from rekcli.cli import terminal
from rekcli.cli.errors import (EXIT_GENERAL, EXIT_INTERRUPTED, EXIT_OK, CliError, GeneralError,
                               UsageError, report_cli_error,
                               report_service_error)
from rekcli.cli.settings import GLOBAL_OPTIONS, GlobalOptions, Settings, error_format, load_profile_config


class Invocation:
    """What main learned about the command line before anything failed (for error output)."""

    def __init__(self):
        self.globals = GlobalOptions()
        self.profile_config: dict = {}
        self.operation_name = ""
        self.batch = False  # a batch command: its stdout is JSON Lines


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    invocation = Invocation()
    terminal.use(terminal.Terminal.detect())  # once, for everything this invocation prints
    try:
        return run(args, invocation)
    except KeyboardInterrupt:
        return interrupted(as_the_program=argv is None, lines_of_data=invocation.batch)
    except BaseException as error:  # noqa: BLE001 - the one place every error becomes a code
        return handle_error(error, invocation)


def interrupted(as_the_program: bool, lines_of_data: bool) -> int:
    """Ctrl-C: exit 130, with no traceback whatever else goes wrong.

    Like aws, a newline ends the terminal's "^C" line on stdout; but not after a batch
    command, whose stdout is JSON Lines (a blank line would break their readers): there it
    goes to stderr, on a terminal. A reader that died of the same Ctrl-C
    (`rekcli ... | tee out.jsonl`) must not turn into a BrokenPipeError, and when this is
    the program (not a test calling main), a second Ctrl-C while Python shuts down is ignored.
    """
    import os
    import signal

    if as_the_program:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        if not lines_of_data:
            sys.stdout.write("\n")
        elif terminal.current().stderr_is_tty:
            sys.stderr.write("\n")
        sys.stdout.flush()
    except OSError:  # the reader is gone: what is still buffered goes nowhere, quietly
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        except (OSError, ValueError):
            pass
    return EXIT_INTERRUPTED


def handle_error(error: BaseException, invocation: Invocation) -> int:
    from rekcli.service.errors import ServiceError

    if isinstance(error, SystemExit):
        raise error
    fmt = error_format(invocation.globals, invocation.profile_config)
    if invocation.globals.debug:
        import traceback

        traceback.print_exception(type(error), error, error.__traceback__, file=sys.stderr)
    if isinstance(error, ServiceError):
        return report_service_error(error.code, error.message, invocation.operation_name, fmt)
    if isinstance(error, CliError):
        return report_cli_error(error, fmt)
    if isinstance(error, BrokenPipeError):
        return EXIT_GENERAL
    return report_cli_error(GeneralError(str(error) or type(error).__name__), fmt)


def run(args: list[str], invocation: Invocation) -> int:
    command, rest = argv_grammar.split_command(args)
    if command == SERVICE_ALIAS:  # `rekcli rekognition compare-faces ...`, as aws spells it
        command, rest = argv_grammar.split_command(rest)
    if command is None:
        return run_without_command(rest, invocation)
    if command == "help" and len(rest) == 1 and rest[0] in STANDALONE_COMMANDS:
        command, rest = rest[0], ["--help"]
    if command == "help" and len(rest) == 1 and rest[0] in OWN_COMMANDS:
        command, rest = rest[0], ["--help"]
    if command == "help":  # `rekcli help`, `rekcli help compare-faces`, `rekcli help index-folder`
        return show_help_topic(rest[0] if rest else None)
    if command in STANDALONE_COMMANDS:  # e.g. the HTTP endpoint: own options, no API globals
        # Errors name it as aws names a customization's: `check-store` -> CheckStore.
        invocation.operation_name = command.title().replace("-", "")
        return run_standalone_command(command, rest)
    if command in OWN_COMMANDS:  # rekcli's own, not an AWS command; takes API globals
        return run_own_command(command, rest, invocation)
    from rekcli.service.model import COMMANDS

    operation_name = COMMANDS.get(command)
    if operation_name is None and command in batch_command_names():
        return run_batch_command(command, rest, invocation)
    if operation_name is None:
        _read_globals_for_errors(rest, invocation)
        raise UsageError(argv_grammar._invalid_choice("command", command, all_command_names()))
    invocation.operation_name = operation_name
    specs = argv_grammar.command_option_specs(operation_name)
    parsed = argv_grammar.parse_tokens(rest, specs)
    invocation.globals = globals_from(parsed.values)
    if parsed.positionals == ["help"] or "--help" in rest:
        return show_help(operation_name, [])
    argv_grammar.reject_leftovers(parsed)
    if invocation.globals.version:
        return print_version()
    from rekcli.cli.operation import run_operation

    settings = prepare_settings(invocation)
    return run_operation(operation_name, specs, parsed.values, settings)


def commands_by_name() -> dict:
    from rekcli.service.model import COMMANDS

    return COMMANDS


def batch_command_names() -> list[str]:
    """index-folder, batch ...: each declared once, in rekcli/cli/batch_commands.py."""
    from rekcli.cli.batch_commands import BATCH_COMMANDS

    return list(BATCH_COMMANDS)

# Commands that are neither an API operation nor a batch job: name -> (module whose
# main(args) runs it and whose parser(), if any, builds its argparse parser (its options
# are completed from it), one-line summary).
# Completions, the invalid-choice list and `rekcli help NAME` all read this table.
STANDALONE_COMMANDS = {
    "serve": ("rekcli.server.command",
              "Serve the local Rekognition operations over HTTP (AWS JSON 1.1)."),
    "check-store": ("rekcli.cli.check_store",
                    "Check the local store of a region and report what is damaged."),
    "search-index": ("rekcli.cli.search_index",
                     "Show or rebuild the search index of a large collection."),
}

# rekcli's own commands that take the API's global options (--region ...) but are not API
# operations: name -> module with SUMMARY, option_specs() and run(values, settings).
OWN_COMMANDS = {"wait-video-job": "rekcli.cli.video_wait",
                "add-celebrity": "rekcli.cli.gallery.add",
                "list-celebrities": "rekcli.cli.gallery.list",
                "delete-celebrity": "rekcli.cli.gallery.delete"}

# The aws CLI's service word: `rekcli rekognition <command>` is `rekcli <command>`, so a
# wrapper that turns `aws ...` into `rekcli ...` works unchanged.
SERVICE_ALIAS = "rekognition"


def all_command_names() -> list[str]:
    """Every command word: API commands, batch commands, standalone commands."""
    return (list(commands_by_name()) + batch_command_names() + list(STANDALONE_COMMANDS)
            + list(OWN_COMMANDS))


def run_standalone_command(name: str, rest: list[str]) -> int:
    import importlib

    module = importlib.import_module(STANDALONE_COMMANDS[name][0])
    return module.main(rest)


def run_batch_command(name: str, rest: list[str], invocation: Invocation) -> int:
    from rekcli.cli.batch_commands import BATCH_COMMANDS, operation_of

    command = BATCH_COMMANDS[name]
    invocation.batch = True
    parsed = argv_grammar.parse_tokens(rest, command.option_specs())
    invocation.globals = globals_from(parsed.values)
    invocation.operation_name = operation_of(name, parsed.positionals)
    if parsed.positionals == ["help"] or "--help" in rest:
        from rekcli.cli.help import print_batch_help

        print_batch_help(name)
        return EXIT_OK
    if command.argument is None:
        argv_grammar.reject_leftovers(parsed)
    if invocation.globals.version:
        return print_version()
    missing = command.missing_options(parsed.values)
    if missing:
        raise UsageError("the following arguments are required: " + ", ".join(missing))
    settings = prepare_settings(invocation)
    _say_batch_runs_here(name, settings)
    return command.run(parsed.values, parsed.positionals, settings)


def _say_batch_runs_here(name: str, settings) -> None:
    """Batch commands keep their own warm workers and always run on this machine's store:
    with an endpoint configured (say AWS_ENDPOINT_URL for a `rekcli serve`), say so once,
    since a server with another data directory would not see what they write."""
    from rekcli.cli import remote

    endpoint = remote.configured_endpoint(settings)
    if endpoint is not None:
        sys.stderr.write(f"note: {name} runs here, on the store in {_data_dir_shown()}, with "
                         f"its own workers; the endpoint {endpoint} is not used.\n")


def _data_dir_shown() -> str:
    from rekcli.service.context import default_data_dir

    return str(default_data_dir())


def run_own_command(name: str, rest: list[str], invocation: Invocation) -> int:
    import importlib

    module = importlib.import_module(OWN_COMMANDS[name])
    parsed = argv_grammar.parse_tokens(rest, module.option_specs())
    invocation.globals = globals_from(parsed.values)
    invocation.operation_name = module.NAME
    if parsed.positionals == ["help"] or "--help" in rest:
        return module.print_help()
    argv_grammar.reject_leftovers(parsed)
    if invocation.globals.version:
        return print_version()
    return module.run(parsed.values, prepare_settings(invocation))


def run_without_command(rest: list[str], invocation: Invocation) -> int:
    if rest in (["--help"], ["-h"]):
        return show_help(None, [])
    parsed = argv_grammar.parse_tokens(rest, argv_grammar.global_option_specs())
    invocation.globals = globals_from(parsed.values)
    if parsed.positionals == ["help"]:
        return show_help(None, [])
    argv_grammar.reject_leftovers(parsed)
    if invocation.globals.version:
        return print_version()
    raise UsageError("the following arguments are required: command")


def _read_globals_for_errors(rest: list[str], invocation: Invocation) -> None:
    """Best effort: honour --cli-error-format/--debug even when the command is unknown."""
    try:
        specs = argv_grammar.global_option_specs()
        known = [t for t in rest if t.partition("=")[0] in specs or not t.startswith("--")]
        invocation.globals = globals_from(argv_grammar.parse_tokens(known, specs).values)
    except CliError:
        pass


def globals_from(values: dict) -> GlobalOptions:
    options = GlobalOptions()
    for name, (attribute, _, _) in GLOBAL_OPTIONS.items():
        if name in values:
            setattr(options, attribute, values[name])
    return options


def prepare_settings(invocation: Invocation) -> Settings:
    options = invocation.globals
    if options.debug:
        _enable_debug_logging()
    invocation.profile_config = load_profile_config(options.profile)
    for name in ("--cli-read-timeout", "--cli-connect-timeout"):
        raw = getattr(options, GLOBAL_OPTIONS[name][0])
        if raw is not None:
            try:
                int(raw)
            except ValueError:
                raise UsageError(f"argument {name}: invalid int value: '{raw}'") from None
    # Batch commands always run on the local store; API commands may go to an endpoint.
    return Settings(options, invocation.profile_config).checked(
        uses_local_store=invocation.batch)


def _enable_debug_logging() -> None:
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(
        "%(asctime)s - %(threadName)s - %(name)s - %(levelname)s - %(message)s"))
    logger = logging.getLogger("rekcli")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    from rekcli import __version__

    logger.debug("rekcli version: %s, argv: %s", __version__, sys.argv)


def print_version() -> int:
    import platform

    from rekcli import __version__

    sys.stdout.write(f"rekcli/{__version__} Python/{platform.python_version()} "
                     f"{platform.system()}/{platform.release()} source/{platform.machine()}\n")
    return EXIT_OK


def show_help_topic(topic: str | None) -> int:
    """`rekcli help [COMMAND]`: an API command's page, a batch command's page, or the index."""
    if topic == SERVICE_ALIAS:  # `rekcli help rekognition`: the service's page, as aws has it
        topic = None
    if topic in batch_command_names():
        from rekcli.cli.help import print_batch_help

        print_batch_help(topic)
        return EXIT_OK
    if topic is not None and topic not in commands_by_name():
        raise UsageError(argv_grammar._invalid_choice("command", topic, all_command_names()))
    return show_help(commands_by_name()[topic] if topic else None, [])


def show_help(operation_name: str | None, rest: list[str]) -> int:
    from rekcli.cli.help import print_help

    print_help(operation_name)
    return EXIT_OK
