"""Global options and how each setting is resolved: flag > environment > config file > default.

The chains are the aws CLI v2's (reference §6). The config file is the aws one
(`$AWS_CONFIG_FILE`, else ~/.aws/config), so a profile's `region` and `output` apply to
rekcli as they do to aws.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from rekcli.cli.errors import ConfigurationError, GeneralError
from rekcli.cli.output import ERROR_FORMATS, spoken_list
from rekcli.cli.output import FORMATS as OUTPUT_FORMATS
from rekcli.service.context import DEFAULT_REGION, REGION_PATTERN

COLOR_CHOICES = ("on", "off", "auto")
BINARY_FORMATS = ("base64", "raw-in-base64-out")
SKELETON_CHOICES = ("input", "yaml-input", "output")


@dataclass
class GlobalOptions:
    """The global options as given on the command line (None = not given)."""

    debug: bool = False
    endpoint_url: str | None = None
    no_verify_ssl: bool = False
    no_paginate: bool = False
    output: str | None = None
    query: str | None = None
    profile: str | None = None
    region: str | None = None
    version: bool = False
    color: str = "auto"
    no_sign_request: bool = False
    ca_bundle: str | None = None
    cli_read_timeout: str | None = None
    cli_connect_timeout: str | None = None
    cli_binary_format: str | None = None
    no_cli_pager: bool = False
    cli_auto_prompt: bool = False
    no_cli_auto_prompt: bool = False
    cli_error_format: str | None = None


# Global option name -> (attribute, takes a value, choices). The order is the synopsis order.
GLOBAL_OPTIONS: dict[str, tuple[str, bool, tuple[str, ...] | None]] = {
    "--debug": ("debug", False, None),
    "--endpoint-url": ("endpoint_url", True, None),
    "--no-verify-ssl": ("no_verify_ssl", False, None),
    "--no-paginate": ("no_paginate", False, None),
    "--output": ("output", True, OUTPUT_FORMATS),
    "--query": ("query", True, None),
    "--profile": ("profile", True, None),
    "--region": ("region", True, None),
    "--version": ("version", False, None),
    "--color": ("color", True, COLOR_CHOICES),
    "--no-sign-request": ("no_sign_request", False, None),
    "--ca-bundle": ("ca_bundle", True, None),
    "--cli-read-timeout": ("cli_read_timeout", True, None),
    "--cli-connect-timeout": ("cli_connect_timeout", True, None),
    "--cli-binary-format": ("cli_binary_format", True, BINARY_FORMATS),
    "--no-cli-pager": ("no_cli_pager", False, None),
    "--cli-auto-prompt": ("cli_auto_prompt", False, None),
    "--no-cli-auto-prompt": ("no_cli_auto_prompt", False, None),
    "--cli-error-format": ("cli_error_format", True, None),
}

GLOBAL_HELP = {
    "--debug": "Log what rekcli does to stderr, with tracebacks on errors.",
    "--endpoint-url": "Send the call to this Rekognition endpoint (e.g. a `rekcli serve`).",
    "--no-verify-ssl": "Accepted for compatibility; rekcli makes no network calls.",
    "--no-paginate": "Make one call and print the raw page, with the service's NextToken.",
    "--output": f"Output format: {spoken_list(OUTPUT_FORMATS)}.",
    "--query": "A JMESPath query applied to the response before it is printed.",
    "--profile": "Profile of the aws config file to read settings (region, output) from.",
    "--region": "Region whose collections to use (collections are kept per region).",
    "--version": "Print the version and exit.",
    "--color": "Colour table output: on, off or auto (only on a terminal).",
    "--no-sign-request": "With an endpoint URL, send the call unsigned.",
    "--ca-bundle": "Accepted for compatibility; rekcli makes no network calls.",
    "--cli-read-timeout": "Accepted for compatibility; rekcli makes no network calls.",
    "--cli-connect-timeout": "Accepted for compatibility; rekcli makes no network calls.",
    "--cli-binary-format": "How text given for a blob is read: base64 (default) or raw-in-base64-out.",
    "--no-cli-pager": "Never send output through a pager.",
    "--cli-auto-prompt": "Accepted for compatibility; rekcli has no interactive prompt.",
    "--no-cli-auto-prompt": "Accepted for compatibility.",
    "--cli-error-format": f"How errors are printed: {spoken_list(ERROR_FORMATS)}.",
}


@dataclass
class Settings:
    """Resolved settings for one invocation."""

    globals: GlobalOptions
    profile_config: dict = field(default_factory=dict)

    def checked(self, uses_local_store: bool = True) -> "Settings":
        """These settings, with the ones read only when printing checked now: a bad value
        found after the call would report a write that happened as failed (and a script
        retrying it would write twice). aws checks them before any request too.

        uses_local_store: False for a command that may go to an endpoint (an API command);
        then, with an endpoint configured, no local store is opened and none is checked."""
        for lazily_checked in ("output", "binary_format", "timestamp_format"):
            getattr(self, lazily_checked)  # each property raises ConfigurationError if bad
        from rekcli.cli import remote

        if not uses_local_store and remote.configured_endpoint(self) is not None:
            return self  # the endpoint's store is its own business
        check_face_model()
        check_s3_region_check()
        from rekcli.service.context import default_data_dir

        data_dir = default_data_dir()
        if data_dir.exists() and not data_dir.is_dir():  # reads would find nothing, writes fail
            raise ConfigurationError(f"The data directory {data_dir} is not a directory "
                                     f"(set REKCLI_DATA_DIR to a folder, or unset it)")
        check_trusted_dirs(data_dir, self.region)
        return self

    @property
    def region(self) -> str:
        region = (self.globals.region or os.environ.get("AWS_REGION")
                  or os.environ.get("AWS_DEFAULT_REGION") or self.profile_config.get("region")
                  or DEFAULT_REGION)
        if not REGION_PATTERN.match(region):
            raise GeneralError(f"Provided region_name '{region}' doesn't match a supported format.")
        return region

    @property
    def output(self) -> str:
        value = (self.globals.output or os.environ.get("AWS_DEFAULT_OUTPUT")
                 or self.profile_config.get("output") or "json")
        if value not in OUTPUT_FORMATS:
            raise ConfigurationError(f"Invalid value for output format: {value}, valid values "
                                     f"are: {', '.join(OUTPUT_FORMATS)}")
        return value

    @property
    def binary_format(self) -> str:
        value = self.globals.cli_binary_format or self.profile_config.get("cli_binary_format") or "base64"
        if value not in BINARY_FORMATS:
            raise ConfigurationError(f"Invalid value for cli_binary_format: {value}")
        return value

    @property
    def timestamp_format(self) -> str:
        value = self.profile_config.get("cli_timestamp_format", "iso8601")
        if value not in ("iso8601", "wire"):
            raise ConfigurationError(f'Unknown cli_timestamp_format value: {value}, valid values '
                                     f'are "wire" or "iso8601"')
        return value

    @property
    def pager(self) -> str:
        if self.globals.no_cli_pager:
            return ""
        for value in (os.environ.get("AWS_PAGER"), self.profile_config.get("cli_pager"),
                      os.environ.get("PAGER")):
            if value is not None:
                return value
        return "less"

    @property
    def use_color(self) -> bool:
        if self.globals.color == "auto":
            from rekcli.cli import terminal

            return terminal.current().stdout_is_tty
        return self.globals.color == "on"


def check_trusted_dirs(data_dir, region: str) -> None:
    """Refuse a data, region or cache folder another user could change (OpenSSH StrictModes).

    Exit 253, as aws does for local configuration it cannot use: nothing was sent, and the
    fix is on this machine (the folder's owner or mode, or REKCLI_DATA_DIR/REKCLI_CACHE_DIR).
    """
    from rekcli.engine.models import cache_dir
    from rekcli.store.files import SHARED_STORE_ENV, group_shared, untrusted_reason

    for label, path in (("data directory", data_dir), ("region folder", data_dir / region),
                        ("cache directory", cache_dir())):
        reason = untrusted_reason(path)
        if reason is None:
            continue
        mode = "750" if group_shared() else "700"
        raise ConfigurationError(
            f"Refusing to use the {label} {path}: {reason}. Another user could read or "
            f"replace the face data in it. Fix: chown it to yourself and chmod {mode} it, "
            f"or point rekcli at a private folder (REKCLI_DATA_DIR / REKCLI_CACHE_DIR). "
            f"For a store deliberately shared with your group, set {SHARED_STORE_ENV}=group.")


def check_face_model() -> None:
    """A REKCLI_FACE_MODEL the engine does not have is local configuration it cannot use:
    exit 253 before any work, as for a bad folder."""
    from rekcli.engine.errors import UnknownFaceModel
    from rekcli.engine.models import face_model

    try:
        face_model()
    except UnknownFaceModel as error:
        raise ConfigurationError(str(error)) from None


def check_s3_region_check() -> None:
    """A REKCLI_S3_REGION_CHECK typo is local configuration too: exit 253 before any work,
    not an InvalidParameterException line for every S3 image of a job."""
    from rekcli.service.errors import ServiceError
    from rekcli.service.s3 import region_check_setting

    try:
        region_check_setting()
    except ServiceError as error:
        raise ConfigurationError(error.message) from None


def error_format(globals_: GlobalOptions, profile_config: dict | None = None) -> str:
    """--cli-error-format > AWS_CLI_ERROR_FORMAT > config; an unknown value means enhanced."""
    value = (globals_.cli_error_format or os.environ.get("AWS_CLI_ERROR_FORMAT")
             or (profile_config or {}).get("cli_error_format") or "enhanced").lower()
    return value if value in ERROR_FORMATS else "enhanced"


def load_profile_config(profile: str | None) -> dict:
    """The settings of one profile of the aws config file; {} when there is no file.

    An explicitly named profile that does not exist is an error (exit 255), as in aws.
    """
    explicit = profile or os.environ.get("AWS_PROFILE")
    name = explicit or "default"
    path = os.environ.get("AWS_CONFIG_FILE") or os.path.join(os.path.expanduser("~"), ".aws", "config")
    sections = _read_ini(path)
    section = sections.get("default" if name == "default" else f"profile {name}")
    if section is None and name != "default":
        section = sections.get(name)
    if section is None:
        if explicit and explicit != "default" and not _has_credentials(name):
            raise GeneralError(f"The config profile ({name}) could not be found")
        return {}
    return section


def _has_credentials(profile: str) -> bool:
    """A profile may live only in the credentials file (keys, no settings), as for aws."""
    path = os.environ.get("AWS_SHARED_CREDENTIALS_FILE") or os.path.join(
        os.path.expanduser("~"), ".aws", "credentials")
    return profile in _read_ini(path)


def _read_ini(path: str) -> dict[str, dict]:
    if not os.path.isfile(path):
        return {}
    import configparser

    parser = configparser.RawConfigParser()
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError) as error:
        raise ConfigurationError(f"Unable to parse config file: {path}: {error}") from None
    return {name: dict(parser.items(name)) for name in parser.sections()}
