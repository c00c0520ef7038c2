"""Help pages: `rekcli help`, `rekcli COMMAND help`, `--help`, and the man pages.

What each page says. A page is built from three sources: the API model
(rekcli/service/model.py: types, constraints, enums, defaults, output members), the option
specs the parser uses (rekcli/cli/argv.py, and the declarations of rekcli/cli/batch_commands.py
for the batch commands: which options exist, in which order) and our own words
(rekcli/cli/examples.py and rekcli/cli/batch_examples.py: descriptions, member docs, worked
examples). It is a document tree (rekcli/cli/help_document.py), rendered as plain text or
roff by rekcli/cli/help_render.py and printed, styled and paged on a terminal, by
rekcli/cli/help_pager.py.

`rekcli --help` goes through here on every call, so this module imports only the standard
library and the model at load time; rich is imported only when stdout is a terminal.
"""

from __future__ import annotations

import json

from rekcli.cli import batch_examples, examples
from rekcli.cli.argv import FLAG, LIST, command_option_specs, global_option_specs
from rekcli.cli.help_document import PROG, Bullets, Code, Entry, Page, Para, Section
from rekcli.cli.help_render import layout, render_roff, render_text  # noqa: F401 - for callers
from rekcli.cli.output import FORMATS as OUTPUT_FORMATS
from rekcli.cli.output import spoken_list
from rekcli.service import model



# ---- pages of commands ---------------------------------------------------------------------

PAGINATION_PARAGRAPH = (
    "{command} is a paginated operation. Multiple calls may be made to the service to "
    "retrieve the entire data set of results. You can disable pagination by providing the "
    "--no-paginate argument. When using --output text and the --query argument on a "
    "paginated response, the --query argument must extract data from the results of the "
    "following query expressions: {keys}")

CLI_OPTION_DOCS = {
    "--starting-token": (
        "(string)", "A token to specify where to start paginating: the NextToken of a "
                    "previously truncated output."),
    "--page-size": (
        "(integer)", "The number of items fetched by each call to the service. It does not "
                     "change the output, only how many calls make it up."),
    "--max-items": (
        "(integer)", "The total number of items to print. When more items remain, the output "
                     "ends with a NextToken; give it to --starting-token to continue. Do not "
                     "use that NextToken outside rekcli: it is not the service's token."),
    "--cli-input-json | --cli-input-yaml": (
        "(string)", "Read the request from the JSON (or YAML) text given, or from a file with "
                    "file://path. The text follows the template that --generate-cli-skeleton "
                    "prints. Options given on the command line override its values. An image's "
                    "Bytes is base64 text, as with aws (raw text with --cli-binary-format "
                    "raw-in-base64-out), or \"fileb://path\" to read the file: the same shape "
                    "as a rekcli batch line (aws reads no file there). The two options cannot "
                    "be used together."),
    "--generate-cli-skeleton": (
        "(string)", "Print a template and exit without calling the service. With no value or "
                    "input, a JSON request template for --cli-input-json; with yaml-input, a "
                    "YAML one for --cli-input-yaml; with output, the command's inputs are "
                    "validated and a sample response is printed. The templates may change "
                    "between versions of rekcli."),
}

EXAMPLES_NOTE = ("The examples run from the folder of the test photos (people/<name>/ with one "
                 "face per photo, groups/ with several, as in ../shared/faces); any JPEG or PNG "
                 "photos of yours work the same way. The outputs are what the commands printed "
                 "(recorded by running them), with numbers rounded to four decimals and small "
                 "objects on one line to save space.")

GLOBAL_TYPES = {"--cli-read-timeout": "(int)", "--cli-connect-timeout": "(int)"}
GLOBAL_DEFAULTS = {"--output": "json", "--color": "auto", "--cli-binary-format": "base64",
                   "--region": "us-east-1", "--cli-error-format": "enhanced"}


def command_page(operation_name: str) -> Page:
    op = model.operation(operation_name)
    command = model.kebab(operation_name)
    specs = [s for s in command_option_specs(operation_name).values() if not s.hidden]
    options = [s for s in specs if not s.is_global]
    sections = [
        Section("DESCRIPTION", _description(operation_name)),
        Section("SYNOPSIS", [Code(_synopsis(operation_name, specs))]),
        Section("OPTIONS", _option_entries(operation_name, options)),
        Section("GLOBAL OPTIONS", _global_entries()),
        Section("EXAMPLES", [Para(EXAMPLES_NOTE)] + _example_blocks(
            examples.EXAMPLES.get(operation_name, []))),
        Section("OUTPUT", _output_entries(operation_name)),
        Section("SEE ALSO", [Para(f"{PROG}(1); aws rekognition {command} help, the command "
                                  f"this one mirrors.")]),
    ]
    return Page(f"{PROG} {command}", f"{PROG}-{command}", op["summary"], sections)


def _description(operation_name: str) -> list:
    op = model.operation(operation_name)
    blocks = [Para(text) for text in examples.DESCRIPTIONS.get(operation_name, [])]
    if op["paginator"]:
        blocks.append(Para(PAGINATION_PARAGRAPH.format(
            command=model.kebab(operation_name),
            keys=", ".join(op["paginator"]["result_keys"]))))
    return blocks


def cli_required(operation_name: str, spec) -> bool:
    """Required on the command line: image members are not, their --*-bytes helper can fill
    them (the same rule as rekcli/cli/operation.py check_required_options)."""
    op = model.operation(operation_name)
    return (spec.member is not None and spec.shape != "ImageBlob"
            and spec.member in op["input"]["required"] and spec.member not in model.BLOB_HELPERS)


def _synopsis(operation_name: str, specs) -> str:
    lines = [f"  {PROG} {model.kebab(operation_name)}"]
    for spec in specs:
        if spec.name == "--cli-input-yaml":
            continue
        if spec.name == "--cli-input-json":
            lines.append("[--cli-input-json | --cli-input-yaml]")
            continue
        usage = spec.name if spec.kind == FLAG else f"{spec.name} <value>"
        lines.append(usage if cli_required(operation_name, spec) else f"[{usage}]")
    return "\n".join(lines)


def _option_entries(operation_name: str, specs) -> list:
    op = model.operation(operation_name)
    entries = []
    for spec in specs:
        if spec.name == "--cli-input-yaml":
            continue
        if spec.name == "--cli-input-json":
            name = "--cli-input-json | --cli-input-yaml"
            detail, text = CLI_OPTION_DOCS[name]
            entries.append(Entry(name, detail, [Para(text)]))
        elif spec.member is None:
            detail, text = CLI_OPTION_DOCS.get(spec.name, ("(string)", spec.help))
            body = [Para(text)]
            if spec.choices:
                body += [Para("Possible values:", label=True), Bullets(list(spec.choices))]
            entries.append(Entry(spec.name, detail, body))
        elif spec.shape == "ImageBlob":
            body = [Para(spec.help)] + _constraints(model.shape("ImageBlob"))
            entries.append(Entry(spec.name, "(blob)", body))
        else:
            entries.append(_member_option(operation_name, op, spec))
    return entries


def _member_option(operation_name: str, op: dict, spec) -> Entry:
    shape = model.shape(spec.shape)
    detail = f"({shape['type']})" + (" [required]" if cli_required(operation_name, spec) else "")
    body = _shape_body(spec.shape, spec.help, op["defaults"].get(spec.member))
    helper = model.BLOB_HELPERS.get(spec.member) if spec.shape == "Image" else None
    if helper:
        body.insert(1, Para(f"To use a local file, give --{helper} fileb://path instead."))
    kind = shape["type"]
    if kind in ("structure", "map") or (
            kind == "list" and model.shape(shape["member"])["type"] in ("structure", "map")):
        body += [Para("Shorthand Syntax:", label=True), Code(shorthand_syntax(spec.shape)),
                 Para("JSON Syntax:", label=True), Code(json_syntax(spec.shape))]
    elif kind == "list":
        item = model.shape(shape["member"])["type"]
        body += [Para("Syntax:", label=True), Code(f'"{item}" "{item}" ...')]
    return Entry(spec.name, detail, body)


def _shape_body(shape_name: str, doc: str | None, default=None, *, output: bool = False) -> list:
    """Doc, constraints, possible values, default and nested members of one shape."""
    shape = model.shape(shape_name)
    blocks: list = [Para(doc)] if doc else []
    if not output:
        blocks += _constraints(shape)
    if "enum" in shape and output:   # read, not chosen: one paragraph is enough
        blocks.append(Para("Possible values: " + ", ".join(shape["enum"])))
    elif "enum" in shape:
        blocks += [Para("Possible values:", label=True), Bullets(list(shape["enum"]))]
    if default is not None:
        blocks.append(Para(f"Default: {_format_default(default)}"))
    kind = shape["type"]
    if kind == "structure":
        for member, member_shape in shape["members"].items():
            required = not output and member in shape["required"]
            blocks.append(_member_entry(member, member_shape, member_doc(shape_name, member),
                                        required, output))
    elif kind == "list":
        item = model.shape(shape["member"])
        blocks.append(Entry("", f"({item['type']})",
                            _shape_body(shape["member"], None, output=output)))
    elif kind == "map":
        for part in ("key", "value"):
            blocks.append(_member_entry(part, shape[part], member_doc(shape_name, part),
                                        False, output))
    return blocks


def _member_entry(name: str, shape_name: str, doc: str | None, required: bool,
                  output: bool) -> Entry:
    detail = f"-> ({model.shape(shape_name)['type']})" + (" [required]" if required else "")
    return Entry(name, detail, _shape_body(shape_name, doc, output=output))


def member_doc(container: str, member: str) -> str | None:
    """Our sentence about `member` of a structure shape or operation (examples.MEMBER_DOCS)."""
    return examples.MEMBER_DOCS.get(f"{container}.{member}") or examples.MEMBER_DOCS.get(member)


def _constraints(shape: dict) -> list:
    items = [f"{key}: {_format_number(shape[key])}" for key in ("min", "max") if key in shape]
    if "pattern" in shape:
        items.append(f"pattern: {shape['pattern']}")
    return [Para("Constraints:", label=True), Bullets(items)] if items else []


def _format_number(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _format_default(value) -> str:
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return _format_number(value)


def shorthand_syntax(shape_name: str) -> str:
    """`Bytes=blob,S3Object={Bucket=string,Name=string,Version=string}` (reference §3.4)."""
    shape = model.shape(shape_name)
    if shape["type"] == "map":
        value = _shorthand_value(shape["value"])
        return f"KeyName1={value},KeyName2={value}"
    if shape["type"] == "list":
        return _shorthand_value(shape["member"]).strip("{}") + " ..."
    return _shorthand_value(shape_name)[1:-1]


def _shorthand_value(shape_name: str) -> str:
    shape = model.shape(shape_name)
    kind = shape["type"]
    if kind == "structure":
        return "{" + ",".join(f"{m}={_shorthand_value(s)}"
                              for m, s in shape["members"].items()) + "}"
    if kind == "list":
        item = _shorthand_value(shape["member"])
        return f"[{item},{item}]"
    if kind == "map":
        value = _shorthand_value(shape["value"])
        return "{KeyName1=" + value + ",KeyName2=" + value + "}"
    return kind


def json_syntax(shape_name: str) -> str:
    lines: list[str] = []
    _json_lines(shape_name, 0, "", lines)
    return "\n".join(lines)


def _json_lines(shape_name: str, indent: int, prefix: str, lines: list[str]) -> None:
    """Append the JSON template of `shape_name`; `prefix` is `"Name": ` or empty."""
    pad = "  " * indent
    shape = model.shape(shape_name)
    kind = shape["type"]
    if kind == "structure":
        lines.append(f"{pad}{prefix}{{")
        members = list(shape["members"].items())
        for i, (member, member_shape) in enumerate(members):
            _json_lines(member_shape, indent + 1, f'"{member}": ', lines)
            if i < len(members) - 1:
                lines[-1] += ","
        lines.append(f"{pad}}}")
    elif kind == "list":
        lines.append(f"{pad}{prefix}[")
        _json_lines(shape["member"], indent + 1, "", lines)
        lines[-1] += ","
        lines.append(f"{pad}  ...")
        lines.append(f"{pad}]")
    elif kind == "map":
        lines.append(f"{pad}{prefix}{{")
        key = _json_scalar(model.shape(shape["key"]))
        _json_lines(shape["value"], indent + 1, f"{key}: ", lines)
        lines[-1] += ","
        lines.append(f"{pad}  ...")
        lines.append(f"{pad}}}")
    else:
        lines.append(f"{pad}{prefix}{_json_scalar(shape)}")


def _json_scalar(shape: dict) -> str:
    if "enum" in shape:
        return "|".join(f'"{value}"' for value in shape["enum"])
    kind = shape["type"]
    if kind in ("string", "timestamp"):
        return f'"{kind}"'
    if kind == "boolean":
        return "true|false"
    return kind


def _global_entries() -> list:
    entries = []
    for spec in global_option_specs().values():
        detail = "(boolean)" if spec.kind == FLAG else GLOBAL_TYPES.get(spec.name, "(string)")
        body = [Para(spec.help)]
        if spec.choices:
            body += [Para("Possible values:", label=True), Bullets(list(spec.choices))]
        if spec.name in GLOBAL_DEFAULTS:
            body.append(Para(f"Default: {GLOBAL_DEFAULTS[spec.name]}"))
        entries.append(Entry(spec.name, detail, body))
    return entries


def _example_blocks(items) -> list:
    blocks = []
    for example in items:
        blocks.append(Para(example.title, label=True))
        if example.text:
            blocks.append(Para(example.text))
        blocks.append(Code(format_command(example.command)))
        if example.output is not None:
            blocks += [Para("Output:"), Code(example_output_text(example.output))]
    return blocks


def format_command(command: str, width: int = 66) -> str:
    """Break long command lines before options, with shell continuations (" \\").

    An option whose values alone are too long for a line gets one value per line.
    """
    out = []
    for line in command.split("\n"):
        chunks: list[list[str]] = []
        for word in _shell_words(line):
            if chunks and not word.startswith("--"):
                chunks[-1].append(word)
            else:
                chunks.append([word])
        current = " ".join(chunks[0])
        for chunk in chunks[1:]:
            text = " ".join(chunk)
            if len(current) + 1 + len(text) + 2 <= width:
                current += " " + text
                continue
            out.append(current + " \\")
            current = "    " + text
            if len(current) + 2 > width and len(chunk) > 2:
                current = "    " + " ".join(chunk[:2])
                for value in chunk[2:]:
                    out.append(current + " \\")
                    current = "        " + value
        out.append(current)
    return "\n".join(out)


def _shell_words(line: str) -> list[str]:
    """Split at spaces outside quotes, keeping the quotes (shlex would remove them)."""
    words, current, quote = [], "", ""
    for char in line:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == " ":
            if current:
                words.append(current)
            current = ""
            continue
        current += char
    return words + ([current] if current else [])


def example_output_text(output) -> str:
    """An example's output as --output json prints it, with small objects folded on one line
    and numbers rounded to four decimals.

    Folding keeps landmarks and boxes to a line each; the text stays valid JSON.
    """
    if isinstance(output, str):
        return output.rstrip("\n")
    return _folded_json(rounded(output), 0)


def rounded(value, places: int = 4):
    """`value` with its floats rounded, as the example outputs show them."""
    if isinstance(value, float):
        return round(value, places)
    if isinstance(value, list):
        return [rounded(item, places) for item in value]
    if isinstance(value, dict):
        return {key: rounded(item, places) for key, item in value.items()}
    return value


def _folded_json(value, depth: int, used: int = 0, width: int = 70) -> str:
    """JSON with indent 4, where a container of plain values that fits goes on one line.

    `used` is how many characters precede the value on its line; `width` leaves room for the
    indent of literal blocks in an 80-column page.
    """
    pad, inner = "    " * depth, "    " * (depth + 1)
    if not isinstance(value, (dict, list)) or not value:
        return json.dumps(value, ensure_ascii=False)
    children = value.values() if isinstance(value, dict) else value
    if not any(isinstance(v, (dict, list)) and v for v in children):
        folded = json.dumps(value, ensure_ascii=False)
        if used + len(folded) + 1 <= width:   # +1: the comma after it
            return folded
    if isinstance(value, dict):
        items = []
        for key, child in value.items():
            head = f"{inner}{json.dumps(key)}: "
            items.append(head + _folded_json(child, depth + 1, len(head), width))
    else:
        items = [inner + _folded_json(child, depth + 1, len(inner), width) for child in value]
    opening, closing = ("{", "}") if isinstance(value, dict) else ("[", "]")
    return opening + "\n" + ",\n".join(items) + f"\n{pad}{closing}"


def _output_entries(operation_name: str) -> list:
    output = model.operation(operation_name)["output"]
    if not output["members"]:
        return [Para("None")]
    return [Entry(member, f"-> ({model.shape(shape_name)['type']})",
                  _shape_body(shape_name, member_doc(operation_name, member), output=True))
            for member, shape_name in output["members"].items()]


# ---- pages of the batch commands -----------------------------------------------------------

def batch_commands() -> dict:
    """name -> BatchCommand (rekcli/cli/batch_commands.py, light to import)."""
    from rekcli.cli.batch_commands import BATCH_COMMANDS

    return BATCH_COMMANDS


def batch_command_page(name: str) -> Page:
    command = batch_commands()[name]
    specs = list(command.option_specs().values())   # own options, then common, then globals
    options = [s for s in specs if not s.is_global]
    operation_name = command.operation
    if operation_name:
        runs = f"{PROG}-{model.kebab(operation_name)}(1), the command each image runs"
        if "--collection-id" in command.required:
            runs += f"; {PROG}-create-collection(1)"
    else:
        runs = f"the page of the command the requests are for, e.g. {PROG}-detect-faces(1)"
    sections = [
        Section("DESCRIPTION", _batch_description(name)),
        Section("SYNOPSIS", [Code(_batch_synopsis(name, specs))]),
        Section("OPTIONS", _batch_option_entries(name, options)),
        Section("GLOBAL OPTIONS", _global_entries()),
        Section("EXAMPLES", [Para(EXAMPLES_NOTE)] + _example_blocks(
            examples.with_outputs("batch", name, command.examples))),
        Section("OUTPUT", _batch_output(name)),
        Section("SEE ALSO", [Para(f"{PROG}(1); {runs}.")]),
    ]
    return Page(f"{PROG} {name}", f"{PROG}-{name}", command.summary, sections)


def _batch_item(name: str) -> str:
    return "image" if batch_commands()[name].operation else "request"


def _batch_description(name: str) -> list:
    command = batch_commands()[name]
    texts = list(command.description)
    if command.operation:
        texts.insert(1, batch_examples.IMAGES_DESCRIPTION)
    if "--collection-id" in command.required:
        texts.append("The collection must exist: when it does not, the job stops at once with "
                     "ResourceNotFoundException (exit 254), before reading any image.")
    item = _batch_item(name)
    usage_errors = ("no command or an unknown one, an unreadable input file, a line that is "
                    "not a JSON object" if command.argument else
                    "a required option missing, no images found, a bad option value")
    error_line = '{"Line": <line of the input file>, "Error": {"Code": ..., "Message": ...}}'
    text_line = ("the response's text on one line; a failure: ERROR, the line of the input "
                 "file, Code, Message")
    if item == "image":
        error_line = '{"Image": ..., "Error": {"Code": ..., "Message": ...}}'
        text_line = ("the image first, never twice when --query picks it too, then the "
                     "line's text, or for a failure ERROR, Code, Message")
    texts += [text.format(item=item, An_item="An image" if item == "image" else "A request",
                          error_line=error_line, usage_errors=usage_errors, text_line=text_line,
                          job_input=command.job_input)
              for text in batch_examples.BATCH_COMMON_DESCRIPTION]
    return [Para(text) for text in texts]


def _batch_synopsis(name: str, specs) -> str:
    command = batch_commands()[name]
    lines = [f"  {PROG} {name}" + (f" {command.argument}" if command.argument else "")]
    for spec in specs:
        usage = spec.name if spec.kind == FLAG else f"{spec.name} <value>"
        lines.append(usage if spec.name in command.required else f"[{usage}]")
    return "\n".join(lines)


def _batch_option_entries(name: str, specs) -> list:
    entries = []
    argument = batch_commands()[name].argument
    if argument:
        entries.append(Entry(argument, "(string) [required]", [
            Para("The API command every request is for; its page describes the members a "
                 "request may hold and the response."),
            Para("Possible values:", label=True), Bullets(sorted(model.COMMANDS))]))
    for spec in specs:
        entries.append(_batch_option(name, spec))
    return entries


def _batch_option(name: str, spec) -> Entry:
    from rekcli.cli.batch_commands import OPTION_TYPES

    command = batch_commands()[name]
    required = " [required]" if spec.name in command.required else ""
    operation_name = command.operation
    passed = command_option_specs(operation_name).get(spec.name) if operation_name else None
    if passed is not None and passed.shape == "ImageBlob":
        body = [Para(spec.help)] + _constraints(model.shape("ImageBlob"))
        return Entry(spec.name, "(blob)" + required, body)
    if passed is not None and passed.member is not None:
        # The member the option fills: documented as on the operation's own page.
        entry = _member_option(operation_name, model.operation(operation_name), passed)
        entry.detail = f"({model.shape(passed.shape)['type']})" + required
        return entry
    if spec.kind == FLAG:
        detail = "(boolean)"
    elif spec.kind == LIST:
        detail = "(list)"
    else:
        detail = f"({OPTION_TYPES.get(spec.name, 'string')})"
    body = [Para(spec.help)] + [Para(text) for text in
                                batch_examples.BATCH_OPTION_NOTES.get(spec.name, [])]
    if spec.kind == LIST:
        body += [Para("Syntax:", label=True), Code('"string" "string" ...')]
    return Entry(spec.name, detail + required, body)


def _batch_output(name: str) -> list:
    declared = batch_commands()[name]
    item = _batch_item(name)
    docs = batch_examples.BATCH_LINE_DOCS
    error = Entry("Error", "-> (structure)", [
        Para(docs["Error"].format(item=item, response="Response" if declared.operation
                                  else "response members")),
        Entry("Code", "-> (string)", [Para(docs["Error.Code"])]),
        Entry("Message", "-> (string)", [Para(docs["Error.Message"])])])
    if not declared.operation:
        return [Para("One line per request, in input order: the response of the request, "
                     "with the members listed in the OUTPUT section of the command's own "
                     "page (rekcli <command> help); {} when the response is empty; or, when "
                     "the request failed, an object with these members:"),
                Entry("Line", "-> (integer)", [Para(docs["Line"])]),
                error,
                Para("With --query, each response is replaced by the result of the query; "
                     "error lines are printed whole.")]
    operation_name = declared.operation
    command = model.kebab(operation_name)
    entries = [Para("One line per image, in the order of their paths. With --output json "
                    "(the default) a line is a JSON object with these members, in this "
                    "order:"),
               Entry("Image", "-> (string)", [Para(docs["Image"])])]
    entries += [Entry(member, "-> (string)", [Para(docs[member])])
                for member in declared.line_members]
    response = [Para(f"What rekcli {command} prints for this image; see OUTPUT in "
                     f"{PROG}-{command}(1) for the members of each.")]
    output = model.operation(operation_name)["output"]["members"]
    response += [Entry(member, f"-> ({model.shape(shape_name)['type']})",
                       [Para(member_doc(operation_name, member))])
                 for member, shape_name in output.items()]
    entries.append(Entry("Response", "-> (structure)", response))
    if declared.skipped:
        entries.append(Entry("Skipped", "-> (string)", [
            Para(docs["Skipped"] + " The line has no Response."),
            Para("Possible values: " + ", ".join(declared.skipped))]))
    entries += [error,
                Para("With --query, each line that succeeded is replaced by the result of the "
                     "query applied to the object above; error lines are printed whole.")]
    return entries


# ---- the main page ---------------------------------------------------------------------------

MAIN_DESCRIPTION = [
    "rekcli is aws rekognition for faces, run on this machine: the same commands, options, "
    "JSON output, errors and exit codes as the face commands of AWS CLI v2, computed locally "
    "by dlib, with collections of faces kept in local files. A script written for "
    "aws rekognition compare-faces ... runs with rekcli compare-faces ... and parses the same "
    "output; rekcli rekognition compare-faces ... is accepted too, so a wrapper that only "
    "replaces the word aws works unchanged.",
    "Options that take structures accept JSON or the aws shorthand syntax "
    "(S3Object={Bucket=b,Name=k}); any value can be read from a file with file://path, and "
    "image bytes with fileb://path (--image-bytes fileb://photo.jpg). --query filters the "
    "response with JMESPath; --output picks "
    f"{spoken_list(tuple(name for name in OUTPUT_FORMATS if name != 'off'))}.",
    "The batch commands run many requests in one process tree, loading the face models once "
    "per worker: index-folder, search-folder and compare-folder take folders of photos, batch "
    "takes requests of any command as JSON Lines. They print one line per image or request, "
    "in input order, and a re-run continues an interrupted job.",
    "Run rekcli COMMAND help for a command's options, examples and output, or read "
    "man rekcli-COMMAND.",
]

ENVIRONMENT = [
    ("REKCLI_DATA_DIR", "Where collections are kept (default: ${XDG_DATA_HOME:-~/.local/share}/"
                        "rekcli), one folder per region. A home directory that does not "
                        "exist is never created: writes fail naming it."),
    ("REKCLI_SHARED_STORE", "Set to 'group' for a store deliberately shared with your group: "
                            "files are created 0660/0770 and a group-writable data dir is "
                            "accepted (default: private, 0600/0700; a folder another user "
                            "owns or can write is refused)."),
    ("REKCLI_S3_ROOT", "Folder whose sub-folders stand in for S3 buckets: "
                       "S3Object={Bucket=b,Name=k} reads $REKCLI_S3_ROOT/b/k. Unset, "
                       "S3Object is read from S3 (AWS_ENDPOINT_URL_S3 for an S3-compatible "
                       "store)."),
    ("REKCLI_S3_REGION_CHECK", "Which S3 endpoints refuse a bucket of another region, as "
                               "Rekognition does: 'aws' (default: AWS's own endpoints), "
                               "'always' (a custom endpoint that is AWS), 'never'."),
    ("REKCLI_FACE_MODEL", "Set to 'clean' for the licence-clean mode: landmarks, pose and "
                          "descriptors from dlib's 5-point model, never loading the 68-point "
                          "model (iBUG 300-W, non-commercial). Its collections have "
                          "FaceModelVersion 1.0-clean and refuse the other mode's faces "
                          "and searches (default: unset, the 68-point model, 1.0)."),
    ("AWS_REGION, AWS_DEFAULT_REGION", "Region, after --region and before the profile's region "
                                       "(default us-east-1)."),
    ("AWS_DEFAULT_OUTPUT", "Output format, after --output and before the profile's output."),
    ("AWS_PROFILE", "Profile of the aws config file to read settings from."),
    ("AWS_CONFIG_FILE", "The aws config file (default ~/.aws/config)."),
    ("AWS_PAGER, PAGER", "Pager for output on a terminal (default less; empty for none)."),
    ("MANPAGER, PAGER", "Pager for help on a terminal (default less)."),
    ("AWS_CLI_ERROR_FORMAT", "How errors are printed, as --cli-error-format."),
]

EXIT_STATUS = [
    ("0", "The command succeeded."),
    ("130", "Interrupted (Ctrl-C)."),
    ("252", "The command line was wrong: unknown option or command, bad or missing value."),
    ("253", "Configuration problem, e.g. an unparseable config file."),
    ("254", "The service answered with an error (printed as An error occurred (Code) ...); "
            "for a batch command, an image or request failed."),
    ("255", "Any other failure."),
]


def command_summaries() -> dict[str, str]:
    """Every command, the batch commands included, with its one-line summary, sorted."""
    summaries = {name: model.operation(op)["summary"] for name, op in model.COMMANDS.items()}
    summaries.update({name: command.summary for name, command in batch_commands().items()})
    return dict(sorted(summaries.items()))


def check_store_page() -> Page:
    """`rekcli check-store`: a customization with its own two options."""
    from rekcli.cli import check_store

    synopsis = "  rekcli check-store\n" + "\n".join(
        f"[{name} <value>]" for name, _, _ in check_store.OPTIONS)
    sections = [
        Section("DESCRIPTION", [Para(text) for text in check_store.DESCRIPTION]),
        Section("SYNOPSIS", [Code(synopsis)]),
        Section("OPTIONS", [Entry(name, "(string)", [Para(text)])
                            for name, _, text in check_store.OPTIONS]),
        Section("GLOBAL OPTIONS", [Para("None: check-store reads no AWS settings besides the "
                                        "region, and always prints JSON.")]),
        Section("EXAMPLES", [Para("To check a collection", label=True),
                             Code(check_store.EXAMPLE_COMMAND)]),
        Section("OUTPUT", [Para("A JSON object on stdout with these members:")]
                + [Entry(name, detail, [Para(text)])
                   for name, detail, text in check_store.OUTPUT]
                + [Para(check_store.EXIT_STATUS)]),
        Section("SEE ALSO", [Para(f"{PROG}(1); {PROG}-delete-collection(1); "
                                  f"{PROG}-index-folder(1).")]),
    ]
    return Page(f"{PROG} check-store", f"{PROG}-check-store", check_store.SUMMARY, sections)


def search_index_page() -> Page:
    """`rekcli search-index`: a customization with its own options."""
    from rekcli.cli import search_index

    synopsis = "  rekcli search-index\n" + "\n".join(
        f"[{name}]" if metavar is None else f"{name} <value>" if name == "--collection-id"
        else f"[{name} <value>]" for name, metavar, _ in search_index.OPTIONS)
    sections = [
        Section("DESCRIPTION", [Para(text) for text in search_index.DESCRIPTION]),
        Section("SYNOPSIS", [Code(synopsis)]),
        Section("OPTIONS", [Entry(name, "(boolean)" if metavar is None else "(string)",
                                  [Para(text)])
                            for name, metavar, text in search_index.OPTIONS]),
        Section("GLOBAL OPTIONS", [Para("None: search-index reads no AWS settings besides "
                                        "the region, and always prints JSON.")]),
        Section("EXAMPLES", [Para("To rebuild the index of a collection", label=True),
                             Code(search_index.EXAMPLE_COMMAND)]),
        Section("OUTPUT", [Para("A JSON object on stdout with these members:")]
                + [Entry(name, detail, [Para(text)])
                   for name, detail, text in search_index.OUTPUT]
                + [Para(search_index.EXIT_STATUS)]),
        Section("SEE ALSO", [Para(f"{PROG}(1); {PROG}-search-faces(1); "
                                  f"{PROG}-check-store(1).")]),
    ]
    return Page(f"{PROG} search-index", f"{PROG}-search-index", search_index.SUMMARY,
                sections)


def standalone_summaries() -> dict[str, str]:
    """The commands with options of their own (serve, wait-video-job): their own help pages
    document them."""
    from rekcli.cli.main import STANDALONE_COMMANDS

    import importlib

    from rekcli.cli.main import OWN_COMMANDS

    own = {name: f"{importlib.import_module(module).SUMMARY} Options: {PROG} {name} help."
           for name, module in OWN_COMMANDS.items()}
    return own | {name: f"{summary} Options: {PROG} {name} --help."
                  for name, (_, summary) in STANDALONE_COMMANDS.items()}


def serve_page() -> Page:
    """`rekcli serve`: its page built from its argparse parser, so the two cannot differ
    (`rekcli serve --help` prints argparse's own rendering of the same options)."""
    from rekcli.server.command import parser

    server = parser()
    options = []
    for action in server._actions:
        names = [name for name in action.option_strings if name.startswith("--")]
        if not names or names[0] == "--help":
            continue
        detail = ("(boolean)" if action.nargs == 0 else
                  "(integer)" if action.type is int else "(string)")
        options.append(Entry(names[0], detail, [Para(action.help[:1].upper() + action.help[1:]
                                                     + ".")]))
    sections = [
        Section("DESCRIPTION", [Para(server.description), Para(
            "Face operations run in worker processes that keep the models loaded; metadata "
            "operations in the server's threads. The first line on stdout says where it "
            "listens, once it is ready. SIGTERM or Ctrl-C stops it after the requests in "
            "flight (exit 0). Clients: `rekcli --endpoint-url URL`, "
            "AWS_ENDPOINT_URL_REKOGNITION, boto3's endpoint_url, `aws rekognition "
            "--endpoint-url URL`.")]),
        Section("SYNOPSIS", [Code("  rekcli serve [--host H] [--port P] [--region R]\n"
                                  "               [--workers N] [--queue-size N]\n"
                                  "               [--max-body-bytes N] [--auth-keys FILE]\n"
                                  "               [--log-requests]")]),
        Section("OPTIONS", options),
        Section("GLOBAL OPTIONS", [Para("None: serve takes only its own options. The data "
                                        "directory is $REKCLI_DATA_DIR, as for every "
                                        "command.")]),
        Section("EXAMPLES", [Para("To serve this machine's collections on port 4599",
                                  label=True),
                             Code("rekcli serve --port 4599"),
                             Para("To call it", label=True),
                             Code("rekcli --endpoint-url http://127.0.0.1:4599 "
                                  "list-collections")]),
        Section("OUTPUT", [Para("One line on stdout once the server is ready: `rekcli "
                                "serve: listening on http://HOST:PORT` (with --port 0, the "
                                "port it picked). With --log-requests, one line per request "
                                "on stderr: client, operation, status, error code, "
                                "milliseconds, request id.")]),
        Section("SEE ALSO", [Para(f"{PROG}(1); the README's \"A local endpoint\" section.")]),
    ]
    return Page(f"{PROG} serve", f"{PROG}-serve", server.description.split(" (")[0] + ".",
                sections)


def standalone_pages() -> dict:
    """The standalone commands' man pages."""
    return {"check-store": check_store_page, "serve": serve_page,
            "search-index": search_index_page}


def main_page() -> Page:
    summaries = command_summaries()
    listed = dict(sorted({**summaries, **standalone_summaries()}.items()))
    commands = [Entry(name, "", [Para(summary)]) for name, summary in listed.items()]
    paged = sorted([*summaries, *standalone_pages()])
    see_also = ", ".join([f"{PROG}-{name}(1)" for name in paged] + ["aws(1)"])
    sections = [
        Section("SYNOPSIS", [Code(f"  {PROG} [options] <command> [parameters]\n"
                                  f"  {PROG} help\n  {PROG} <command> help")]),
        Section("DESCRIPTION", [Para(text) for text in MAIN_DESCRIPTION]),
        Section("AVAILABLE COMMANDS", commands),
        Section("GLOBAL OPTIONS", _global_entries()),
        Section("EXAMPLES", [Para(EXAMPLES_NOTE)] + _example_blocks(examples.TOUR)),
        Section("ENVIRONMENT", [Entry(name, "", [Para(text)]) for name, text in ENVIRONMENT]),
        Section("EXIT STATUS", [Entry(code, "", [Para(text)]) for code, text in EXIT_STATUS]),
        Section("SEE ALSO", [Para(see_also)]),
    ]
    return Page(PROG, PROG, "aws rekognition for faces, computed on this machine", sections)


# ---- the pages as text ---------------------------------------------------------------------

def command_help_text(operation_name: str) -> str:
    return render_text(command_page(operation_name))


def main_help_text() -> str:
    return render_text(main_page())


def batch_help_text(name: str) -> str:
    return render_text(batch_command_page(name))


# ---- printing ------------------------------------------------------------------------------

def print_help(operation_name: str | None) -> None:
    """Print the page of an API command, or the main page for None."""
    from rekcli.cli.help_pager import print_page

    print_page(command_page(operation_name) if operation_name else main_page())


def print_batch_help(name: str) -> None:
    """Print the page of a batch command (index-folder ...)."""
    from rekcli.cli.help_pager import print_page

    print_page(batch_command_page(name))
