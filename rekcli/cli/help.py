"""Help text, rendered by Click from the same option specs the parser uses.

`rekcli help`, `rekcli --help`, `rekcli COMMAND help` and `rekcli COMMAND --help` all land
here. Commands are built as click.Command objects from the API model only when help is
asked for, so ordinary calls never pay for them.
"""

from __future__ import annotations

import sys

import click

from rekcli.cli.argv import FLAG, LIST, command_option_specs, global_option_specs
from rekcli.service import model


def _type_label(spec) -> str:
    if spec.kind == FLAG:
        return ""
    if spec.shape is None:
        return "(" + "|".join(spec.choices) + ")" if spec.choices else "(string)"
    shape = model.shape(spec.shape)
    label = shape["type"]
    if spec.kind == LIST:
        label = f"list of {model.shape(shape['member'])['type']}"
    return f"({label})"


def _option_help(operation_name: str | None, spec) -> str:
    text = spec.help
    if spec.member and operation_name:
        op = model.operation(operation_name)
        shape = model.shape(spec.shape)
        member_shape = shape if spec.kind != LIST else model.shape(shape["member"])
        if "enum" in member_shape:
            text += " Valid values: " + ", ".join(member_shape["enum"]) + "."
        default = op["defaults"].get(spec.member)
        if default is not None:
            shown = " ".join(default) if isinstance(default, list) else default
            text += f" Default: {shown}."
        if spec.member in op["input"]["required"] and spec.shape != "ImageBlob":
            text += " Required."
    return text


def build_click_command(operation_name: str) -> click.Command:
    """A click.Command mirroring `rekcli <command>`: used to render help and completions."""
    op = model.operation(operation_name)
    params = []
    for spec in command_option_specs(operation_name).values():
        if spec.hidden:
            continue
        params.append(click.Option([spec.name], is_flag=spec.kind == FLAG,
                                   metavar=_type_label(spec) or None,
                                   help=_option_help(operation_name, spec)))
    return click.Command(model.kebab(operation_name), params=params, help=op["summary"],
                         add_help_option=False)


def command_help_text(operation_name: str) -> str:
    command = build_click_command(operation_name)
    ctx = click.Context(command, info_name=f"rekcli {command.name}", terminal_width=100)
    return command.get_help(ctx) + "\n"


def main_help_text() -> str:
    formatter = click.HelpFormatter(width=100)
    formatter.write_usage("rekcli", "[options] <command> [parameters]")
    formatter.write_paragraph()
    formatter.write_text("aws rekognition for faces, computed on this machine: the same commands, "
                         "options, JSON and exit codes as `aws rekognition`, with collections "
                         "kept in local files.")
    with formatter.section("Commands"):
        formatter.write_dl([(name, model.operation(op)["summary"])
                            for name, op in sorted(model.COMMANDS.items())])
    with formatter.section("Global options"):
        formatter.write_dl([(spec.name, spec.help) for spec in global_option_specs().values()])
    formatter.write_paragraph()
    formatter.write_text("Run `rekcli <command> help` for a command's options.")
    return formatter.getvalue()


def print_help(operation_name: str | None) -> None:
    text = command_help_text(operation_name) if operation_name else main_help_text()
    sys.stdout.write(text)
