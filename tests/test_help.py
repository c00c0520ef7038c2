"""Help pages: what `rekcli help`, `rekcli COMMAND help` and `--help` print.

The text is built from the API model and rekcli/cli/examples.py; these tests pin the aws-like
layout (sections, synopsis, option entries, syntax blocks, OUTPUT tree), check that every
command has a description and an example, and that every example is a command line the real
parser accepts with an output shaped like the model says. The batch commands (index-folder
...) get pages of the same layout; their examples are also run for real (e2e).
"""

from __future__ import annotations

import inspect
import json
import re
import shlex
import subprocess
import sys

import pytest

from rekcli.cli import terminal

from cli_helpers import run_cli
from conftest import FACES_DIR
from rekcli.batch.jobs import external_image_id, find_images
from rekcli.cli import examples, help
from rekcli.cli.argv import command_option_specs, parse_tokens, reject_leftovers
from rekcli.cli.batch_commands import BATCH_COMMANDS
from rekcli.cli.request import build_request
from rekcli.service import model

COMMANDS = sorted(model.COMMANDS)
BATCH = sorted(BATCH_COMMANDS)
SECTIONS = ["NAME", "DESCRIPTION", "SYNOPSIS", "OPTIONS", "GLOBAL OPTIONS", "EXAMPLES", "OUTPUT",
            "SEE ALSO"]
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def section(text: str, title: str) -> str:
    """The body of one section of a help page (up to the next heading)."""
    match = re.search(rf"^{title}\n(.*?)(?=^[A-Z][A-Z ]+\n|\Z)", text, re.M | re.S)
    assert match, f"no {title} section"
    return match.group(1)


@pytest.fixture(scope="module")
def compare_faces_help() -> str:
    return help.command_help_text("CompareFaces")


# ---- how help is reached ---------------------------------------------------------------

@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_help_has_the_aws_sections_in_order(capsys, command):
    code, out, err = run_cli(capsys, command, "help")
    assert (code, err) == (0, "")
    headings = [line for line in out.splitlines() if line and not line[0].isspace()]
    assert headings == SECTIONS
    assert out == help.command_help_text(model.COMMANDS[command])


@pytest.mark.parametrize("args", [["compare-faces", "--help"],
                                  ["compare-faces", "--region", "eu-west-1", "--help"],
                                  ["--debug", "compare-faces", "help"]])
def test_help_and_dash_dash_help_print_the_same_page(capsys, args, compare_faces_help):
    code, out, _ = run_cli(capsys, *args)
    assert code == 0
    assert out == compare_faces_help


@pytest.mark.parametrize("args", [["check-store", "help"], ["help", "check-store"],
                                  ["check-store", "--help"]])
def test_check_store_has_a_help_page(capsys, args):
    code, out, _ = run_cli(capsys, *args)
    assert code == 0
    assert out.startswith("NAME\n       rekcli check-store - ")
    assert "--collection-id" in section(out, "OPTIONS")
    assert "Healthy" in section(out, "OUTPUT") and "254" in section(out, "OUTPUT")


@pytest.mark.parametrize("args", [["help"], ["--help"]])
def test_main_help_lists_every_command_with_its_summary(capsys, args):
    code, out, _ = run_cli(capsys, *args)
    assert code == 0
    commands = section(out, "AVAILABLE COMMANDS")
    for name in COMMANDS + BATCH:
        assert f"\n       {name}\n" in "\n" + commands
    listed = [line.strip() for line in commands.splitlines() if line.startswith("       ")
              and not line.startswith("        ")]
    assert listed == sorted(COMMANDS + BATCH + ["serve", "check-store", "search-index",
                                               "wait-video-job"]
                            + ["add-celebrity", "list-celebrities", "delete-celebrity"])
    assert BATCH_COMMANDS["index-folder"].summary.split(";")[0] in " ".join(commands.split())
    assert "Compare the largest face of the source image" in commands
    for title in ("SYNOPSIS", "GLOBAL OPTIONS", "EXAMPLES", "ENVIRONMENT", "EXIT STATUS"):
        assert section(out, title).strip()
    assert "252" in section(out, "EXIT STATUS")


def test_piped_help_is_plain_text_within_80_columns():
    for page in [help.main_page()] + [help.command_page(model.COMMANDS[c]) for c in COMMANDS] + [
            help.batch_command_page(name) for name in BATCH]:
        text = help.render_text(page)
        assert not ANSI.search(text)
        assert all(line == line.rstrip() for line in text.splitlines()), "trailing spaces"
        for runs in help.layout(page):
            prose = "".join(t for t, style in runs if style != "code")
            assert len(prose) <= 80, prose


# ---- DESCRIPTION and SYNOPSIS --------------------------------------------------------------

def test_name_line_and_description(compare_faces_help):
    assert compare_faces_help.startswith(
        "NAME\n       rekcli compare-faces - Compare the largest face of the source image")
    assert "the others in UnmatchedFaces" in section(compare_faces_help, "DESCRIPTION")


def test_synopsis_has_one_option_per_line_then_cli_input_skeleton_and_globals(compare_faces_help):
    lines = [line.strip() for line in section(compare_faces_help, "SYNOPSIS").splitlines()
             if line.strip()]
    assert lines[:9] == [
        "rekcli compare-faces",
        "[--source-image <value>]",
        "[--source-image-bytes <value>]",
        "[--target-image <value>]",
        "[--target-image-bytes <value>]",
        "[--similarity-threshold <value>]",
        "[--quality-filter <value>]",
        "[--cli-input-json | --cli-input-yaml]",
        "[--generate-cli-skeleton <value>]",
    ]
    assert lines[9:12] == ["[--debug]", "[--endpoint-url <value>]", "[--no-verify-ssl]"]
    assert lines[-1] == "[--cli-error-format <value>]"


def test_required_options_have_no_brackets_in_the_synopsis():
    synopsis = section(help.command_help_text("IndexFaces"), "SYNOPSIS")
    assert "\n          --collection-id <value>\n" in synopsis
    # --image can come from --image-bytes, so it is optional on the command line (as in aws)
    assert "[--image <value>]" in synopsis
    assert "[--external-image-id <value>]" in synopsis


def test_paginated_commands_carry_the_pagination_paragraph_and_paging_options():
    text = help.command_help_text("ListFaces")
    description = " ".join(section(text, "DESCRIPTION").split())
    assert "list-faces is a paginated operation." in description
    assert "--no-paginate" in description
    assert "following query expressions: Faces" in description
    options = section(text, "OPTIONS")
    for name in ("--starting-token (string)", "--page-size (integer)", "--max-items (integer)"):
        assert f"\n       {name}\n" in options
    assert "--next-token" not in text and "--max-results" not in text
    collections = " ".join(section(help.command_help_text("ListCollections"),
                                   "DESCRIPTION").split())
    assert "query expressions: CollectionIds, FaceModelVersions" in collections
    assert "paginated" not in help.command_help_text("CompareFaces")


# ---- OPTIONS -------------------------------------------------------------------------------

def test_structure_option_has_members_shorthand_and_json_syntax(compare_faces_help):
    options = section(compare_faces_help, "OPTIONS")
    entry = options[options.index("--source-image (structure)"):
                    options.index("--source-image-bytes (blob)")]
    assert "To use a local file, give --source-image-bytes fileb://path instead." in entry
    assert "\n          Bytes -> (blob)\n" in entry
    assert "\n          S3Object -> (structure)\n" in entry
    assert "\n             Bucket -> (string)\n" in entry
    assert "- pattern: [0-9A-Za-z\\.\\-_]*" in entry
    shorthand = "Bytes=blob,S3Object={Bucket=string,Name=string,Version=string}"
    assert f"Shorthand Syntax:\n\n             {shorthand}\n" in entry
    json_block = entry[entry.index("JSON Syntax:"):].strip()
    assert json_block.split("\n", 2)[2].strip() == "\n".join(
        "             " + line for line in [
            "{",
            '  "Bytes": blob,',
            '  "S3Object": {',
            '    "Bucket": "string",',
            '    "Name": "string",',
            '    "Version": "string"',
            "  }",
            "}"]).strip()


def test_map_option_syntax():
    assert help.shorthand_syntax("TagMap") == "KeyName1=string,KeyName2=string"
    assert help.json_syntax("TagMap") == '{\n  "string": "string",\n  ...\n}'
    options = section(help.command_help_text("CreateCollection"), "OPTIONS")
    assert "--tags (map)" in options
    assert "key -> (string)" in options and "value -> (string)" in options


def test_scalar_option_shows_type_constraints_enum_default_and_required():
    options = "\n" + section(help.command_help_text("IndexFaces"), "OPTIONS")
    assert "\n       --collection-id (string) [required]\n" in options
    collection = options[options.index("--collection-id"):options.index("--image (structure)")]
    assert "- min: 1\n          - max: 255\n          - pattern: [a-zA-Z0-9_.\\-]+" in collection
    quality = options[options.index("--quality-filter"):]
    assert "Possible values:\n\n          - NONE\n          - AUTO" in quality
    assert "Default: AUTO" in quality
    attributes = options[options.index("--detection-attributes (list)"):]
    assert "\n          (string)\n" in attributes
    assert 'Syntax:\n\n             "string" "string" ...' in attributes
    assert "Default: DEFAULT" in attributes
    compare = section(help.command_help_text("CompareFaces"), "OPTIONS")
    assert "--similarity-threshold (float)" in compare and "Default: 80\n" in compare


def test_cli_only_options_are_documented(compare_faces_help):
    options = section(compare_faces_help, "OPTIONS")
    assert "\n       --cli-input-json | --cli-input-yaml (string)\n" in options
    skeleton = options[options.index("--generate-cli-skeleton (string)"):]
    assert "- input\n          - yaml-input\n          - output" in skeleton


def test_global_options_section():
    text = section(help.command_help_text("DetectFaces"), "GLOBAL OPTIONS")
    assert "\n       --debug (boolean)\n" in "\n" + text
    assert "--cli-read-timeout (int)" in text
    output = text[text.index("--output (string)"):text.index("--query")]
    assert "- yaml-stream" in output and "Default: json" in output


# ---- OUTPUT --------------------------------------------------------------------------------

def test_output_lists_members_as_a_nested_tree(compare_faces_help):
    output = section(compare_faces_help, "OUTPUT")
    assert output.startswith("       SourceImageFace -> (structure)\n")
    assert "\n       FaceMatches -> (list)\n" in output
    assert "\n          (structure)\n             Similarity -> (float)\n" in output
    assert "\n                Landmarks -> (list)\n" in output
    assert "Possible values: eyeLeft, eyeRight, nose" in output
    assert "\n       TargetImageOrientationCorrection -> (string)\n" in output


def test_commands_without_output_say_so():
    assert section(help.command_help_text("CreateUser"), "OUTPUT").strip() == "None"


def _walk_members(shape_name: str, path: str):
    """(structure shape, member) for every member reachable from a shape."""
    shape = model.shape(shape_name)
    if shape["type"] == "structure":
        for member, member_shape in shape["members"].items():
            yield shape_name, member
            yield from _walk_members(member_shape, f"{path}.{member}")
    elif shape["type"] == "list":
        yield from _walk_members(shape["member"], path)
    elif shape["type"] == "map":
        yield from _walk_members(shape["value"], path)


@pytest.mark.parametrize("operation", sorted(model.OPERATIONS))
def test_every_member_in_help_has_a_sentence(operation):
    op = model.operation(operation)
    missing = [m for m in op["output"]["members"] if not help.member_doc(operation, m)]
    for member_shape in list(op["output"]["members"].values()) + list(
            op["input"]["members"].values()):
        missing += [f"{s}.{m}" for s, m in _walk_members(member_shape, "")
                    if not help.member_doc(s, m)]
    assert not missing, f"add these to MEMBER_DOCS in rekcli/cli/examples.py: {missing}"


# ---- EXAMPLES ------------------------------------------------------------------------------

@pytest.mark.parametrize("operation", sorted(model.OPERATIONS))
def test_every_command_has_a_description_and_an_example(operation):
    assert examples.DESCRIPTIONS.get(operation), f"no description for {operation}"
    assert examples.EXAMPLES.get(operation), f"no example for {operation}"
    text = help.command_help_text(operation)
    assert f"rekcli {model.kebab(operation)}" in section(text, "EXAMPLES")


def _example_command_lines(command: str) -> list[str]:
    """The rekcli command lines of an example; VAR=$(rekcli ...) lines count too."""
    lines = []
    for line in command.split("\n"):
        assignment = re.fullmatch(r"\w+=\$\((.*)\)", line)
        line = assignment.group(1) if assignment else line
        for name, value in examples.SHELL_VARIABLES.items():
            line = line.replace(f'"${name}"', value)
        lines.append(line)
    return lines


ALL_EXAMPLES = [(operation, example) for operation, items in sorted(examples.EXAMPLES.items())
                for example in items] + [(None, example) for example in examples.TOUR]


@pytest.mark.parametrize("operation,example", ALL_EXAMPLES,
                         ids=[f"{op}-{i}" for i, (op, _) in enumerate(ALL_EXAMPLES)])
def test_example_commands_parse_with_the_real_grammar(operation, example, monkeypatch):
    lines = _example_command_lines(example.command)
    if operation is not None:
        assert shlex.split(lines[-1])[:2] == ["rekcli", model.kebab(operation)]
    for line in lines:
        words = shlex.split(line)
        assert words[0] == "rekcli"
        if words[1] in BATCH_COMMANDS:
            _parse_batch_example(words)
            continue
        name = model.COMMANDS[words[1]]
        specs = command_option_specs(name)
        parsed = parse_tokens(words[2:], specs)
        reject_leftovers(parsed)
        if "fileb://" in line:
            if not (FACES_DIR / "people").is_dir():
                continue   # the photos are needed to read the files; parsing was checked
            monkeypatch.chdir(FACES_DIR)
        member_values = {k: v for k, v in parsed.values.items() if specs[k].member}
        build_request(name, specs, member_values, "base64")   # validates like botocore


def _check_shape(value, shape_name: str, where: str) -> None:
    shape = model.shape(shape_name)
    kind = shape["type"]
    if kind == "structure":
        assert isinstance(value, dict), where
        members = list(shape["members"])
        assert list(value) == [m for m in members if m in value], f"{where}: keys or order"
        for member, item in value.items():
            _check_shape(item, shape["members"][member], f"{where}.{member}")
    elif kind == "list":
        assert isinstance(value, list), where
        for i, item in enumerate(value):
            _check_shape(item, shape["member"], f"{where}[{i}]")
    elif kind == "map":
        assert isinstance(value, dict), where
    elif "enum" in shape:
        assert value in shape["enum"], where
    else:
        expected = {"string": str, "timestamp": str, "boolean": bool, "integer": int,
                    "long": int, "float": (int, float)}[kind]
        assert isinstance(value, expected), where


@pytest.mark.parametrize("operation,example", [(op, ex) for op, ex in ALL_EXAMPLES if op],
                         ids=[f"{op}-{i}" for i, (op, _) in enumerate(ALL_EXAMPLES) if op])
def test_example_outputs_follow_the_model(operation, example):
    output_shape = model.operation(operation)["output"]
    if not example.run:   # shown without an output (not recorded)
        assert example.output is None
        return
    if example.output is None:   # commands that print nothing
        assert not output_shape["members"]
        return
    printed = help.example_output_text(example.output)
    if isinstance(example.output, str):
        assert "--output text" in example.command or "--query" in example.command
        return
    assert json.loads(printed) == help.rounded(example.output)   # folded, but still JSON
    if "--query" not in example.command:
        members = list(output_shape["members"])
        assert list(example.output) == [m for m in members if m in example.output]
        for member, value in example.output.items():
            _check_shape(value, output_shape["members"][member], member)


def test_example_output_folds_small_objects_and_stays_json():
    text = help.example_output_text({"Pose": {"Roll": 1.5, "Yaw": 2, "Pitch": 3},
                                     "Faces": [{"FaceId": "x"}]})
    assert text == ('{\n    "Pose": {"Roll": 1.5, "Yaw": 2, "Pitch": 3},\n'
                    '    "Faces": [\n        {"FaceId": "x"}\n    ]\n}')


def test_long_example_commands_are_broken_before_options():
    text = help.format_command(
        "rekcli compare-faces --source-image-bytes fileb://people/obama/obama.jpg "
        "--target-image-bytes fileb://groups/two_people.jpg --query 'A[0].B C'")
    assert text == ("rekcli compare-faces \\\n"
                    "    --source-image-bytes fileb://people/obama/obama.jpg \\\n"
                    "    --target-image-bytes fileb://groups/two_people.jpg \\\n"
                    "    --query 'A[0].B C'")
    assert shlex.split(text.replace("\\\n", "")) == shlex.split(
        "rekcli compare-faces --source-image-bytes fileb://people/obama/obama.jpg "
        "--target-image-bytes fileb://groups/two_people.jpg --query 'A[0].B C'")


# ---- the batch commands ----------------------------------------------------------------------

@pytest.mark.parametrize("name", BATCH)
def test_every_batch_command_help_has_the_aws_sections_in_order(capsys, name):
    code, out, err = run_cli(capsys, name, "help")
    assert (code, err) == (0, "")
    headings = [line for line in out.splitlines() if line and not line[0].isspace()]
    assert headings == SECTIONS
    assert out == help.batch_help_text(name)
    assert out.startswith(f"NAME\n       rekcli {name} - ")


@pytest.mark.parametrize("args", [["index-folder", "--help"],
                                  ["index-folder", "--region", "eu-west-1", "--help"],
                                  ["--debug", "index-folder", "help"],
                                  ["index-folder", "--collection-id", "family", "--help"]])
def test_batch_help_and_dash_dash_help_print_the_same_page(capsys, args):
    code, out, _ = run_cli(capsys, *args)
    assert code == 0
    assert out == help.batch_help_text("index-folder")


@pytest.mark.parametrize("name", BATCH)
def test_batch_description_covers_output_errors_exit_codes_resume_and_progress(name):
    description = " ".join(section(help.batch_help_text(name), "DESCRIPTION").split())
    item = "request" if name == "batch" else "image"
    for fragment in (f"one line per {item}, in input order", '"Error": {"Code": ...',
                     "the batch goes on", f"0 when every {item} succeeded",
                     "254 when any failed", "130 after Ctrl-C", "252 when",
                     "continues where it stopped", "journal",
                     "on stderr only when stderr is a terminal", "--progress",
                     "--no-progress"):
        assert fragment in description, fragment
    if name != "batch":
        assert "--images takes image files, folders and quoted glob patterns" in description


def test_batch_synopsis_marks_what_the_command_requires():
    lines = [line.strip() for line in section(help.batch_help_text("index-folder"),
                                              "SYNOPSIS").splitlines() if line.strip()]
    assert lines[:11] == ["rekcli index-folder", "--collection-id <value>", "--images <value>",
                          "[--recursive]", "[--max-faces <value>]", "[--quality-filter <value>]",
                          "[--detection-attributes <value>]", "[--hide-skipped]",
                          "[--workers <value>]", "[--progress]", "[--no-progress]"]
    assert lines[11] == "[--cluster <value>]"
    assert lines[12] == "[--debug]" and lines[-1] == "[--cli-error-format <value>]"
    batch = [line.strip() for line in section(help.batch_help_text("batch"),
                                              "SYNOPSIS").splitlines() if line.strip()]
    assert batch[:3] == ["rekcli batch <command>", "[--input-file <value>]", "[--workers <value>]"]
    compare = section(help.batch_help_text("compare-folder"), "SYNOPSIS")
    assert "\n          --source-image-bytes <value>\n" in compare


def test_batch_options_have_types_and_the_model_limits_of_the_member_they_fill():
    options = "\n" + section(help.batch_help_text("index-folder"), "OPTIONS")
    for entry in ("--collection-id (string) [required]", "--images (list) [required]",
                  "--recursive (boolean)", "--max-faces (integer)", "--quality-filter (string)",
                  "--detection-attributes (list)", "--workers (integer)",
                  "--progress (boolean)", "--no-progress (boolean)"):
        assert f"\n       {entry}\n" in options, entry
    collection = options[options.index("--collection-id"):options.index("--images (list)")]
    assert "- min: 1\n          - max: 255\n          - pattern: [a-zA-Z0-9_.\\-]+" in collection
    quality = options[options.index("--quality-filter (string)"):]
    assert "Possible values:\n\n          - NONE\n          - AUTO" in quality
    assert "Default: AUTO" in quality[:quality.index("--detection-attributes")]
    images = options[options.index("--images (list)"):options.index("--recursive")]
    assert 'Syntax:\n\n             "string" "string" ...' in images
    # each folder job documents the defaults of the operation its images run
    search = section(help.batch_help_text("search-folder"), "OPTIONS")
    assert "--face-match-threshold (float)" in search and "Default: 80\n" in search
    assert "Default: NONE" in search[search.index("--quality-filter"):]
    compare = "\n" + section(help.batch_help_text("compare-folder"), "OPTIONS")
    assert "\n       --source-image-bytes (blob) [required]\n" in compare
    assert "--similarity-threshold (float)" in compare
    batch = section(help.batch_help_text("batch"), "OPTIONS")
    assert batch.startswith("       <command> (string) [required]\n")
    assert "- detect-faces\n" in batch and "--input-file (string)" in batch
    assert "Default: - (stdin)" in batch
    for name in BATCH:   # the common options and the globals are on every page
        text = help.batch_help_text(name)
        assert "--workers (integer)" in section(text, "OPTIONS")
        assert "\n       --query (string)\n" in section(text, "GLOBAL OPTIONS")


def test_batch_output_says_what_one_line_holds():
    output = section(help.batch_help_text("index-folder"), "OUTPUT")
    members = [line.split(" -> ")[0].strip() for line in output.splitlines()
               if line.startswith("       ") and not line.startswith("        ") and " -> " in line]
    assert members == ["Image", "ExternalImageId", "Response", "Skipped", "Error"]
    assert "\n          FaceRecords -> (list)\n" in output
    assert "rekcli-index-faces(1)" in " ".join(output.split())
    assert "\n          Code -> (string)\n" in output and "FileError" in output
    search = section(help.batch_help_text("search-folder"), "OUTPUT")
    assert "\n          FaceMatches -> (list)\n" in search
    assert "ExternalImageId ->" not in search and "Skipped" not in search
    batch = section(help.batch_help_text("batch"), "OUTPUT")
    assert "\n       Error -> (structure)\n" in batch and "Response" not in batch


def test_batch_pages_name_the_operation_their_images_run():
    for name, command in BATCH_COMMANDS.items():
        if command.operation is None:
            continue
        from rekcli.batch import folder_jobs

        job = getattr(folder_jobs, name.replace("-", "_") + "_job")   # what run() runs
        assert f'"{command.operation}"' in inspect.getsource(job), name
        see_also = section(help.batch_help_text(name), "SEE ALSO")
        assert f"rekcli-{model.kebab(command.operation)}(1)" in see_also


@pytest.mark.parametrize("name", BATCH)
def test_options_marked_required_are_required(capsys, tmp_path, name):
    photo = tmp_path / "reference.jpg"
    photo.write_bytes(b"\xff\xd8\xff")
    values = {"--collection-id": ["family"], "--images": [str(tmp_path / "none")],
              "--source-image-bytes": [f"fileb://{photo}"]}
    required = BATCH_COMMANDS[name].required
    if name == "batch":
        code, _, err = run_cli(capsys, "batch", "--input-file", str(photo))
        assert code == 252 and "batch needs one command" in err
    for missing in required:
        args = [word for option in required if option != missing
                for word in [option] + values[option]]
        code, _, err = run_cli(capsys, name, *args)
        assert code == 252
        assert f"the following arguments are required: {missing}" in err


def _parse_batch_example(words: list[str]):
    """Parse `rekcli <batch command> ...` with the batch command's own specs."""
    command = BATCH_COMMANDS[words[1]]
    parsed = parse_tokens(words[2:], command.option_specs())
    if words[1] == "batch":
        assert len(parsed.positionals) == 1 and parsed.positionals[0] in model.COMMANDS
    else:
        reject_leftovers(parsed)
    missing = command.missing_options(parsed.values)
    assert not missing, missing
    return parsed


ALL_BATCH_EXAMPLES = [(name, example) for name, command in sorted(BATCH_COMMANDS.items())
                      for example in examples.with_outputs("batch", name, command.examples)]


@pytest.mark.parametrize("name", BATCH)
def test_every_batch_command_has_an_example(name):
    assert BATCH_COMMANDS[name].examples, f"no example for {name}"
    assert f"rekcli {name}" in section(help.batch_help_text(name), "EXAMPLES")


@pytest.mark.parametrize("name,example", ALL_BATCH_EXAMPLES,
                         ids=[f"{name}-{i}" for i, (name, _) in enumerate(ALL_BATCH_EXAMPLES)])
def test_batch_examples_parse_and_print_one_line_per_item(name, example, monkeypatch):
    line = example.command.split("\n")[-1]
    words = shlex.split(line)
    assert words[:2] == ["rekcli", name]
    parsed = _parse_batch_example(words)
    if "--quality-filter" in parsed.values:
        assert parsed.values["--quality-filter"] in model.QUALITY_FILTER_VALUES
    printed = [json.loads(text) for text in example.output.splitlines()]   # JSON Lines
    if not (FACES_DIR / "people").is_dir():
        return   # the photos are needed to count the items; parsing was checked
    monkeypatch.chdir(FACES_DIR)
    if name == "batch":
        pattern = re.search(r"(\S+\*\S*) >", example.command).group(1)
        assert len(printed) == len(sorted(FACES_DIR.glob(pattern)))
        return
    images = find_images(parsed.values["--images"], bool(parsed.values.get("--recursive")))
    assert len(printed) == len(images)
    for value, (path, relative, _) in zip(printed, images):
        if isinstance(value, dict) and "Image" in value:
            assert value["Image"] == str(path)
        elif isinstance(value, list) and isinstance(value[0], str):
            assert value[0] in (str(path), external_image_id(relative))


# The batch examples' outputs are recorded from real runs and checked against a fresh run by
# tests/test_example_outputs.py (with every other example's).


def test_batch_help_on_a_terminal_is_styled_and_paged(capsys, monkeypatch, tmp_path):
    terminal.use(terminal.Terminal(stdout_is_tty=True))
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.delenv("MANPAGER", raising=False)
    paged = tmp_path / "paged.txt"
    monkeypatch.setenv("PAGER", f"cat > '{paged}'")
    help.print_batch_help("search-folder")
    assert capsys.readouterr().out == ""
    styled = paged.read_text(encoding="utf-8")
    assert "\x1b[1mNAME" in styled
    assert ANSI.sub("", styled) == help.render_text(help.batch_command_page("search-folder"), 80)


# ---- terminal rendering and cost -----------------------------------------------------------

def test_help_on_a_terminal_is_styled_with_rich_and_paged(capsys, monkeypatch, tmp_path):
    terminal.use(terminal.Terminal(stdout_is_tty=True))
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("COLUMNS", "80")   # rich reads the width from it first
    monkeypatch.delenv("MANPAGER", raising=False)
    paged = tmp_path / "paged.txt"
    monkeypatch.setenv("PAGER", f"cat > '{paged}'")
    help.print_help("CompareFaces")
    assert capsys.readouterr().out == ""
    styled = paged.read_text(encoding="utf-8")
    assert "\x1b[1mNAME" in styled
    assert ANSI.sub("", styled) == help.render_text(help.command_page("CompareFaces"), 80)


def test_an_empty_pager_prints_directly(capsys, monkeypatch):
    terminal.use(terminal.Terminal(stdout_is_tty=True))
    monkeypatch.setenv("MANPAGER", "")
    help.print_help(None)
    assert "AVAILABLE COMMANDS" in ANSI.sub("", capsys.readouterr().out)


@pytest.mark.parametrize("args", [["--help"], ["compare-faces", "--help"],
                                  ["index-faces", "help"], ["index-folder", "--help"],
                                  ["batch", "help"]])
def test_piped_help_imports_neither_rich_click_nor_the_engine(args):
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "rekcli", *args],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    imported = {line.rsplit("|", 1)[1].strip().split(".")[0]
                for line in result.stderr.splitlines() if line.startswith("import time:")}
    assert not imported & {"numpy", "cv2", "dlib", "rich", "click"}


def test_the_serve_page_documents_every_option_of_its_parser():
    from rekcli.server.command import parser

    page = help.render_text(help.serve_page())
    for action in parser()._actions:
        for name in action.option_strings:
            if name.startswith("--") and name != "--help":
                assert f"\n       {name} (" in page, name
