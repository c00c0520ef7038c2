"""CLI errors, their exit codes, and how they are printed on stderr.

One table decides every exit code, as in the aws CLI v2 (reference §4.1):
252 usage and client-side validation, 253 configuration, 254 service errors,
255 anything else, 130 Ctrl-C. No other module prints errors or picks a code.
"""

from __future__ import annotations

import sys

from rekcli.cli.output import ERROR_DOCUMENT_FORMATS

PROG = "rekcli"

EXIT_OK = 0
EXIT_USAGE = 252
EXIT_CONFIGURATION = 253
EXIT_SERVICE = 254
EXIT_GENERAL = 255
EXIT_INTERRUPTED = 130

USAGE = f"""usage: {PROG} [options] <command> [parameters]
To see help text, you can run:

  {PROG} help
  {PROG} <command> help
"""


class CliError(Exception):
    """An error the CLI reports itself; `code` names it in structured error output."""

    exit_code = EXIT_GENERAL
    code = ""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def enhanced_message(self) -> str:
        return f"An error occurred ({self.code}): {self.message}" if self.code else self.message


class ParamValidationError(CliError):
    """Bad parameter values: shorthand/JSON/file errors, botocore-style validation."""

    exit_code = EXIT_USAGE
    code = "ParamValidation"


class UsageError(ParamValidationError):
    """An argparse-style error: printed with the usage block after the message."""


class UnknownOptionsError(ParamValidationError):
    """Unknown options: aws prints the usage block first and no error code."""

    def enhanced_message(self) -> str:
        return self.message


class ConfigurationError(CliError):
    exit_code = EXIT_CONFIGURATION
    code = "Configuration"


class PagerError(CliError):
    exit_code = EXIT_CONFIGURATION
    code = "Pager"


class GeneralError(CliError):
    """Anything else (exit 255): printed as the bare message, never structured."""

    exit_code = EXIT_GENERAL


def service_error_message(code: str, operation_name: str, message: str) -> str:
    return f"An error occurred ({code or 'Unknown'}) when calling the {operation_name} operation: {message}"


def write_error_line(message: str, stream=None) -> None:
    stream = stream or sys.stderr
    stream.write(f"\n{PROG}: [ERROR]: {message.strip()}\n")
    stream.flush()


def report_cli_error(error: CliError, error_format: str, stream=None) -> int:
    """Print `error` in the chosen --cli-error-format and return its exit code."""
    stream = stream or sys.stderr
    if isinstance(error, UnknownOptionsError):
        stream.write("\n" + USAGE + "\n")
        write_error_line(error.message, stream)
        return error.exit_code
    structured = error_format in ERROR_DOCUMENT_FORMATS and error.code and not isinstance(
        error, GeneralError)
    if structured:
        write_structured_error({"Code": error.code, "Message": error.message}, error_format, stream)
        return error.exit_code
    write_error_line(error.message if error_format == "legacy" else error.enhanced_message(), stream)
    if isinstance(error, UsageError):
        stream.write("\n" + USAGE + "\n")
    return error.exit_code


def report_service_error(code: str, message: str, operation_name: str, error_format: str,
                         stream=None) -> int:
    stream = stream or sys.stderr
    if error_format in ERROR_DOCUMENT_FORMATS:
        write_structured_error({"Code": code, "Message": message}, error_format, stream)
    else:
        write_error_line(service_error_message(code, operation_name, message), stream)
    return EXIT_SERVICE


def write_structured_error(document: dict, error_format: str, stream) -> None:
    from rekcli.cli.output import write_error_document

    write_error_document(document, error_format, stream)
