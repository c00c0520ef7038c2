"""Shell completion: the bash, zsh and fish scripts, and the helper they call for collection ids.

The scripts in completions/ are generated from the API model (and the batch commands'
declarations, rekcli/cli/batch_commands.py, and the standalone commands of rekcli/cli/main.py)
by tools/generate_docs.py and checked in: the tables this module writes, and the shell code
written by hand in rekcli/cli/completions/rekcli.bash|zsh|fish (package data). Everything they complete is written into them
(commands, also after `help` and after the aws-style `rekognition` word, each command's
options with the globals, enum values, fileb:// and file:// paths, plain paths for --images
and --input-file, the API command that `batch` takes), so a TAB costs no Python start,
except after --collection-id: then they run

    python -m rekcli.cli.completion collection-ids [--region R] [--profile P]

with the interpreter named on the first line of the `rekcli` script on PATH (or
$REKCLI_PYTHON). It prints one collection id per line, imports no numpy, and prints nothing
at all, exiting 0, when anything goes wrong: completion must never spill an error into the
user's command line. `python -m rekcli.cli.completion script bash|zsh|fish` prints a script,
for installs that have no checkout of completions/.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass

# ---- what to complete, from the model ----------------------------------------------------

FLAG, VALUE, LIST, OPTIONAL = "flag", "value", "list", "optional"
_KINDS = {"flag": FLAG, "value": VALUE, "list": LIST, "optional-value": OPTIONAL}
# Commands whose --collection-id names a collection that does not exist yet.
_NEW_COLLECTION_COMMANDS = {"CreateCollection"}


@dataclass(frozen=True)
class OptionInfo:
    name: str                        # --quality-filter
    kind: str                        # flag | value | list | optional
    action: str | None               # words | fileb | file | path | collection-id | None
    values: tuple[str, ...] = ()     # for words
    help: str = ""                   # one sentence, for zsh and fish


def _batch_commands() -> dict:
    from rekcli.cli.batch_commands import BATCH_COMMANDS

    return BATCH_COMMANDS


def _standalone_commands() -> dict:
    from rekcli.cli.main import STANDALONE_COMMANDS

    return STANDALONE_COMMANDS


def _own_commands() -> dict:
    """rekcli's own commands that take the API globals (wait-video-job): name -> module."""
    import importlib

    from rekcli.cli.main import OWN_COMMANDS

    return {name: importlib.import_module(module) for name, module in OWN_COMMANDS.items()}


def command_names() -> list[str]:
    """Every command: the API, batch, standalone (serve ...) and own commands, sorted."""
    from rekcli.service import model

    return sorted(list(model.COMMANDS) + list(_batch_commands()) + list(_standalone_commands())
                  + list(_own_commands()))


def service_alias() -> str:
    from rekcli.cli.main import SERVICE_ALIAS

    return SERVICE_ALIAS


def first_words() -> list[str]:
    """What the first word may be: a command, `help`, or the service word aws puts first."""
    return command_names() + ["help", service_alias()]


def command_summary(command: str) -> str:
    from rekcli.service import model

    if command == "help":
        return "Show help for rekcli or a command"
    if command == service_alias():
        return "The command that follows, as `aws rekognition` spells it"
    if command in _batch_commands():
        return _batch_commands()[command].summary
    if command in _standalone_commands():
        return _standalone_commands()[command][1]
    if command in _own_commands():
        return _own_commands()[command].SUMMARY
    return model.operation(model.COMMANDS[command])["summary"]


def command_arguments(command: str) -> list[str]:
    """The words a command takes as its first positional: `batch` takes an API command,
    `help` any command."""
    from rekcli.service import model

    if command in _batch_commands() and _batch_commands()[command].argument:
        return sorted(model.COMMANDS)   # `batch <command>`
    if command == "help":
        return command_names()
    return []


def commands_with_arguments() -> list[str]:
    return [c for c in command_names() + ["help"] if command_arguments(c)]


def global_options() -> list[OptionInfo]:
    from rekcli.cli.argv import global_option_specs

    return [_option_info(spec, None) for spec in global_option_specs().values()]


def command_options(command: str) -> list[OptionInfo]:
    """The options of one command, globals excluded, in help order; hidden ones left out."""
    from rekcli.cli.argv import command_option_specs
    from rekcli.service import model

    if command in _batch_commands():
        return _batch_command_options(command)
    if command in _standalone_commands():
        return _standalone_command_options(command)
    if command in _own_commands():
        return [_option_info(spec, None) for spec in _own_commands()[command].option_specs().values()
                if not spec.is_global]
    operation_name = model.COMMANDS[command]
    return [_option_info(spec, operation_name)
            for spec in command_option_specs(operation_name).values()
            if not spec.hidden and not spec.is_global]


def _batch_command_options(command: str) -> list[OptionInfo]:
    """A batch command's options complete like the member they pass through to the operation
    each image runs (--quality-filter, --collection-id ...), as its help page documents them."""
    from rekcli.cli.argv import command_option_specs

    declared = _batch_commands()[command]
    operation_name = declared.operation
    passed = command_option_specs(operation_name) if operation_name else {}
    options = []
    for spec in declared.option_specs().values():
        if spec.is_global:
            continue
        if spec.name in declared.path_options:
            action, values = "path", ()
        elif spec.name in passed:
            action, values = _value_action(passed[spec.name], operation_name)
        else:
            action, values = _value_action(spec, None)
        options.append(OptionInfo(spec.name, _KINDS[spec.kind], action, values,
                                  first_sentence(spec.help)))
    return options


def _standalone_command_options(command: str) -> list[OptionInfo]:
    """A standalone command's options, read from its argparse parser (help excluded)."""
    import importlib

    module = importlib.import_module(_standalone_commands()[command][0])
    make_parser = getattr(module, "parser", None)
    if make_parser is None:   # no argparse parser to read: complete no options
        return []
    options = []
    for action in make_parser()._actions:
        names = [name for name in action.option_strings if name.startswith("--")]
        if not names or names[0] == "--help":
            continue
        kind = FLAG if action.nargs == 0 else VALUE
        action_kind = "path" if action.metavar == "FILE" else None
        options.append(OptionInfo(names[0], kind, action_kind, (),
                                  first_sentence(action.help or "")))
    return options


def _option_info(spec, operation_name: str | None) -> OptionInfo:
    action, values = _value_action(spec, operation_name)
    return OptionInfo(spec.name, _KINDS[spec.kind], action, values, first_sentence(spec.help))


def _value_action(spec, operation_name: str | None) -> tuple[str | None, tuple[str, ...]]:
    from rekcli.cli.output import ERROR_FORMATS
    from rekcli.service import model

    if spec.choices:
        return "words", tuple(spec.choices)
    if spec.name == "--cli-error-format":
        return "words", tuple(ERROR_FORMATS)
    if spec.name in ("--cli-input-json", "--cli-input-yaml"):
        return "file", ()
    if spec.shape is None:
        return None, ()
    shape = model.shape(spec.shape)
    element = model.shape(shape["member"]) if shape["type"] == "list" else shape
    if "enum" in element:
        return "words", tuple(element["enum"])
    if element["type"] == "blob":
        return "fileb", ()
    if element["type"] in ("structure", "map"):
        return "file", ()
    if spec.member == "CollectionId" and operation_name not in _NEW_COLLECTION_COMMANDS:
        return "collection-id", ()
    return None, ()


def first_sentence(text: str, limit: int = 72) -> str:
    sentence = re.split(r"(?<=\.)\s", text.strip(), maxsplit=1)[0].rstrip(".")
    return sentence if len(sentence) <= limit else sentence[:limit - 3].rstrip() + "..."


def _case_table(options_by_command: dict[str, list[OptionInfo]], value,
                default: str) -> list[tuple[str, str]]:
    """(case pattern, answer) pairs for `case "$command:$option"`, as few patterns as possible.

    `value(option)` is the answer, None for `default` (what the script's `*)` branch gives).
    The commonest answer of an option gets one `*:--option` pattern, after the exceptions.
    """
    answers: dict[str, dict[str | None, list[str]]] = {}
    for command, options in options_by_command.items():
        for option in options:
            answer = value(option)
            answers.setdefault(option.name, {}).setdefault(answer, []).append(command)
    table = []
    for name, by_answer in answers.items():
        common = max(by_answer, key=lambda answer: len(by_answer[answer]))
        for answer, commands in by_answer.items():
            if answer != common:
                table.append(("|".join(f"{c}:{name}" for c in commands),
                              default if answer is None else answer))
        if common is not None:
            table.append((f"*:{name}", common))
    return table


def _all_options() -> dict[str, list[OptionInfo]]:
    """Options per command; the key "" holds the globals (valid before the command too)."""
    table = {"": global_options()}
    table.update({command: command_options(command) for command in command_names()})
    return table


def _kind_answer(option: OptionInfo) -> str | None:
    return None if option.kind == VALUE else option.kind


def _values_answer(option: OptionInfo) -> str | None:
    if option.action is None:
        return None
    return "words:" + " ".join(option.values) if option.action == "words" else option.action


HEADER = "Generated by tools/generate_docs.py from rekcli's API model; do not edit."


def shell_code(shell: str) -> str:
    """The hand-written part of a script: rekcli/cli/completions/rekcli.<shell>, package data
    that shellcheck and editors read as shell code, less its header (up to the first blank
    line), which says what the file is."""
    from importlib.resources import files

    text = files("rekcli.cli").joinpath("completions", f"rekcli.{shell}").read_text(encoding="utf-8")
    return "\n" + text.split("\n\n", 1)[1]


# ---- bash ------------------------------------------------------------------------------------

def bash_script() -> str:
    options = _all_options()
    globals_ = " ".join(o.name for o in options[""])
    lines = [
        "# bash completion for rekcli                                -*- shell-script -*-",
        f"# {HEADER}",
        "# Install: source this file from ~/.bashrc, or copy it to",
        "# ~/.local/share/bash-completion/completions/rekcli (bash-completion loads it then).",
        "",
        f"_rekcli_commands='{' '.join(first_words())}'",
        f"_rekcli_alias='{service_alias()}'",
        "# Commands with options of their own only (no API globals).",
        f"_rekcli_standalone=' {' '.join(_standalone_commands())} '",
        f"_rekcli_globals='{globals_}'",
        "",
        "# The words command $1 takes as its first argument (batch: an API command).",
        "_rekcli_command_arguments()",
        "{",
        "    case $1 in",
    ]
    for command in commands_with_arguments():
        words = " ".join(command_arguments(command))
        lines.append(f"        {command}) _rekcli_reply='{words}' ;;")
    lines += [
        "        *) _rekcli_reply='' ;;",
        "    esac",
        "}",
        "",
        "# The options of command $1 (the globals apart) into _rekcli_reply.",
        "_rekcli_command_options()",
        "{",
        "    case $1 in",
    ]
    for command in command_names():
        names = " ".join(o.name for o in options[command])
        lines.append(f"        {command}) _rekcli_reply='{names}' ;;")
    lines += [
        "        *) _rekcli_reply='' ;;",
        "    esac",
        "}",
        "",
        "# How option $2 of command $1 takes values: flag, value, list or optional.",
        "_rekcli_option_kind()",
        "{",
        '    case $1:$2 in',
    ]
    lines += [f"        {pattern}) _rekcli_reply={answer} ;;"
              for pattern, answer in _case_table(options, _kind_answer, "value")]
    lines += [
        "        *) _rekcli_reply=value ;;",
        "    esac",
        "}",
        "",
        "# What completes the value of option $2 of command $1: words:<values>, fileb, file,",
        "# path, collection-id, or nothing (free text).",
        "_rekcli_option_values()",
        "{",
        '    case $1:$2 in',
    ]
    lines += [f"        {pattern}) _rekcli_reply='{answer}' ;;"
              for pattern, answer in _case_table(options, _values_answer, "")]
    lines += [
        "        *) _rekcli_reply='' ;;",
        "    esac",
        "}",
        "",
    ]
    return "\n".join(lines) + shell_code("bash")


# ---- zsh -------------------------------------------------------------------------------------

def _zsh_quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def _zsh_described(name: str, text: str) -> str:
    return _zsh_quote(f"{name.replace(':', chr(92) + ':')}:{text}")


def zsh_script() -> str:
    options = _all_options()
    lines = [
        "#compdef rekcli",
        f"# zsh completion for rekcli. {HEADER}",
        "# Install: copy to a folder of $fpath under the name _rekcli, e.g.",
        "#   mkdir -p ~/.zfunc && cp _rekcli ~/.zfunc/ and, in ~/.zshrc before compinit:",
        "#   fpath=(~/.zfunc $fpath)",
        "",
        "_rekcli_command_list() {",
        "  reply=(",
    ]
    lines += [f"    {_zsh_described(c, first_sentence(command_summary(c)))}"
              for c in first_words()]
    lines += ["  )", "}", "",
              "# The words command $1 takes as its first argument (batch: an API command).",
              "_rekcli_command_arguments() {",
              "  case $1 in"]
    for command in commands_with_arguments():
        described = " ".join(_zsh_described(c, first_sentence(command_summary(c)))
                             for c in command_arguments(command))
        lines.append(f"    ({command}) reply=({described}) ;;")
    lines += ["    (*) reply=() ;;", "  esac", "}", "",
              "# The options of command $1 (with the globals) as name:description.",
              "_rekcli_options() {",
              "  case $1 in"]
    for command in command_names():
        described = " ".join(_zsh_described(o.name, o.help) for o in options[command])
        # a standalone command (serve) takes no API globals: return before adding them
        end = "; return" if command in _standalone_commands() else ""
        lines.append(f"    ({command}) reply=({described}){end} ;;")
    globals_ = " ".join(_zsh_described(o.name, o.help) for o in options[""])
    lines += ["    (*) reply=() ;;", "  esac", f"  reply+=({globals_})", "}", "",
              "# How option $2 of command $1 takes values: flag, value, list or optional.",
              "_rekcli_option_kind() {",
              '  case "$1:$2" in']
    lines += [f"    ({pattern}) REPLY={answer} ;;"
              for pattern, answer in _case_table(options, _kind_answer, "value")]
    lines += ["    (*) REPLY=value ;;", "  esac", "}", "",
              "# What completes option $2 of command $1: words:<values>, fileb, file, path,",
              "# collection-id, or nothing.",
              "_rekcli_option_values() {",
              '  case "$1:$2" in']
    lines += [f"    ({pattern}) REPLY={_zsh_quote(answer)} ;;"
              for pattern, answer in _case_table(options, _values_answer, "")]
    lines += ["    (*) REPLY='' ;;", "  esac", "}", ""]
    return "\n".join(lines) + shell_code("zsh").replace("{alias}", service_alias())


# ---- fish ------------------------------------------------------------------------------------

def _fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _fish_option_line(option: OptionInfo, condition: str | None) -> str:
    parts = ["complete -c rekcli"]
    if condition:
        parts.append(f"-n {_fish_quote(condition)}")
    parts.append(f"-l {option.name[2:]}")
    if option.kind != FLAG:
        parts.append("-x")   # takes a value; files only through the fileb:// helper
    if option.action == "words":
        parts.append(f"-a {_fish_quote(' '.join(option.values))}")
    elif option.action in ("fileb", "file"):
        parts.append(f"-a {_fish_quote(f'(__rekcli_uri_paths {option.action}://)')}")
    elif option.action == "path":
        parts.append("-a '(__rekcli_paths)'")
    elif option.action == "collection-id":
        parts.append("-a '(__rekcli_collection_ids)'")
    if option.help:
        parts.append(f"-d {_fish_quote(option.help)}")
    return " ".join(parts)


def fish_script() -> str:
    options = _all_options()
    commands = command_names()
    lines = [
        f"# fish completion for rekcli. {HEADER}",
        "# Install: copy to ~/.config/fish/completions/rekcli.fish",
        "",
        f"set -g __rekcli_commands {' '.join(commands)} help",
        shell_code("fish"),
        "complete -c rekcli -f",
        "",
        "# commands",
    ]
    lines += [f"complete -c rekcli -n __rekcli_needs_command -a {c} "
              f"-d {_fish_quote(first_sentence(command_summary(c)))}" for c in commands]
    lines.append("complete -c rekcli -n __rekcli_needs_command -a help "
                 f"-d {_fish_quote(command_summary('help'))}")
    alias = service_alias()   # offered once: not again after `rekcli rekognition`
    alias_condition = f"__rekcli_needs_command; and not contains -- {alias} (commandline -opc)"
    lines.append(f"complete -c rekcli -n {_fish_quote(alias_condition)} -a {alias} "
                 f"-d {_fish_quote(command_summary(alias))}")
    for command in commands_with_arguments():
        arguments = command_arguments(command)
        lines += ["", f"# the argument of {command}",
                  f"set -g __rekcli_arguments_{command.replace('-', '_')} {' '.join(arguments)}"]
        condition = (f"__rekcli_using_command {command}; and __rekcli_needs_argument {command} "
                     f"$__rekcli_arguments_{command.replace('-', '_')}")
        lines += [f"complete -c rekcli -n {_fish_quote(condition)} -a {argument} "
                  f"-d {_fish_quote(first_sentence(command_summary(argument)))}"
                  for argument in arguments]
    lines += ["", "# global options"]
    # "; and": a fish condition's status is its last command's, so the tests must be chained
    not_standalone = "; and ".join(f"not __rekcli_using_command {c}"
                                   for c in _standalone_commands())
    lines += [_fish_option_line(o, not_standalone or None) for o in options[""]]
    for command in commands:
        lines += ["", f"# {command}"]
        lines += [_fish_option_line(o, f"__rekcli_using_command {command}")
                  for o in options[command]]
    return "\n".join(lines) + "\n"


# ---- the helper the scripts call -----------------------------------------------------------

def collection_ids(region: str | None = None, profile: str | None = None) -> list[str]:
    """The collection ids of a region, resolved like rekcli resolves --region."""
    from rekcli.cli.settings import GlobalOptions, Settings, load_profile_config
    from rekcli.service import invoke
    from rekcli.service.context import ServiceContext

    try:
        profile_config = load_profile_config(profile)
    except Exception:  # noqa: BLE001 - an unknown profile just means no profile settings
        profile_config = {}
    settings = Settings(GlobalOptions(region=region, profile=profile), profile_config)
    context = ServiceContext(region=settings.region)
    ids: list[str] = []
    request: dict = {"MaxResults": 4096}
    for _ in range(1000):   # pages; a bound in case a token never ends
        page = invoke("ListCollections", request, context)
        ids.extend(page.get("CollectionIds", []))
        token = page.get("NextToken")
        if not token:
            break
        request = {"MaxResults": 4096, "NextToken": token}
    return ids


def _read_flags(args: list[str]) -> dict[str, str]:
    flags, i = {}, 0
    while i < len(args):
        name, has_value, value = args[i].partition("=")
        if not has_value and i + 1 < len(args):
            value, i = args[i + 1], i + 1
        flags[name] = value
        i += 1
    return flags


SCRIPTS = {"bash": bash_script, "zsh": zsh_script, "fish": fish_script}


def main(argv: list[str] | None = None) -> int:
    """`collection-ids [--region R] [--profile P]`, or `script bash|zsh|fish` (prints the
    completion script, for installs without a checkout of completions/)."""
    args = sys.argv[1:] if argv is None else list(argv)
    if len(args) == 2 and args[0] == "script" and args[1] in SCRIPTS:
        sys.stdout.write(SCRIPTS[args[1]]())
        return 0
    if not args or args[0] != "collection-ids":
        return 2
    try:
        flags = _read_flags(args[1:])
        ids = collection_ids(flags.get("--region") or None, flags.get("--profile") or None)
        sys.stdout.write("".join(f"{collection_id}\n" for collection_id in ids))
    except (Exception, KeyboardInterrupt):  # noqa: BLE001 - completion never shows an error
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
