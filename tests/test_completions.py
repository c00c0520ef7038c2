"""Shell completions: the checked-in scripts are current, and bash completes for real.

The bash tests source completions/rekcli.bash in a real bash, set COMP_WORDS/COMP_CWORD the
way bash would for a command line (splitting at ':' and '=' as COMP_WORDBREAKS does), call
the completion function and read COMPREPLY. zsh and fish are not installed in CI; their
scripts are checked for being current and for containing what the model says, and, where
the shells are installed, for parsing (zsh -n, fish -n) and, in fish, for completing for
real (complete -C).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

from conftest import REPO_ROOT
from rekcli.cli import completion
from rekcli.cli.batch_commands import BATCH_COMMANDS
from rekcli.service import model

sys.path.insert(0, str(REPO_ROOT / "tools"))
import generate_docs  # noqa: E402

BASH = shutil.which("bash")
ZSH = shutil.which("zsh")
FISH = shutil.which("fish")
BASH_SCRIPT = REPO_ROOT / "completions" / "rekcli.bash"
needs_bash = pytest.mark.skipif(BASH is None, reason="bash is not installed")
ALL_COMMANDS = sorted(list(model.COMMANDS) + list(BATCH_COMMANDS)
                      + ["serve", "check-store", "search-index", "wait-video-job"]
                      + ["add-celebrity", "list-celebrities", "delete-celebrity"])


# ---- the checked-in scripts ----------------------------------------------------------------

@pytest.mark.parametrize("name", ["rekcli.bash", "_rekcli", "rekcli.fish"])
def test_checked_in_script_is_what_the_generator_writes(name):
    relative = f"completions/{name}"
    generated = generate_docs.generated_files()[relative]
    current = (REPO_ROOT / relative).read_text(encoding="utf-8")
    assert current == generated, (
        f"{relative} is stale: run python tools/generate_docs.py\n"
        + generate_docs.diff(relative, current, generated)[:3000])


@pytest.mark.parametrize("shell,name", [("bash", "rekcli.bash"), ("zsh", "_rekcli"),
                                        ("fish", "rekcli.fish")])
def test_helper_prints_the_scripts(shell, name):
    result = subprocess.run([sys.executable, "-m", "rekcli.cli.completion", "script", shell],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert result.stdout == (REPO_ROOT / "completions" / name).read_text(encoding="utf-8")


def test_scripts_hold_every_command_and_enum_from_the_model():
    scripts = {name: (REPO_ROOT / "completions" / name).read_text(encoding="utf-8")
               for name in ("rekcli.bash", "_rekcli", "rekcli.fish")}
    for name, text in scripts.items():
        for command in ALL_COMMANDS:
            assert command in text, (name, command)
        for value in model.QUALITY_FILTER_VALUES + model.ATTRIBUTE_VALUES:
            assert value in text, (name, value)
        assert "yaml-stream" in text and "raw-in-base64-out" in text and "yaml-input" in text
        assert "rekcli.cli.completion collection-ids" in text


def test_option_table_comes_from_the_parser_specs():
    options = {o.name: o for o in completion.command_options("compare-faces")}
    assert list(options)[:2] == ["--source-image", "--source-image-bytes"]
    assert options["--quality-filter"].values == tuple(model.QUALITY_FILTER_VALUES)
    assert options["--source-image-bytes"].action == "fileb"
    assert options["--source-image"].action == "file"
    listing = {o.name: o for o in completion.command_options("list-faces")}
    assert "--next-token" not in listing and "--starting-token" in listing
    assert listing["--collection-id"].action == "collection-id"
    assert listing["--face-ids"].kind == "list"
    create = {o.name: o for o in completion.command_options("create-collection")}
    assert create["--collection-id"].action is None   # a new id: nothing to offer


def test_batch_commands_are_commands_with_their_options():
    assert completion.command_names() == ALL_COMMANDS
    assert completion.command_summary("index-folder") == BATCH_COMMANDS["index-folder"].summary
    for name, command in BATCH_COMMANDS.items():
        names = [o.name for o in completion.command_options(name)]
        assert names == [spec.name for spec in command.option_specs().values()
                         if not spec.is_global], name
    index = {o.name: o for o in completion.command_options("index-folder")}
    assert index["--collection-id"].action == "collection-id"
    assert (index["--images"].kind, index["--images"].action) == ("list", "path")
    assert index["--quality-filter"].values == tuple(model.QUALITY_FILTER_VALUES)
    assert index["--detection-attributes"].values == tuple(model.ATTRIBUTE_VALUES)
    assert index["--recursive"].kind == index["--progress"].kind == "flag"
    assert index["--workers"].action is None and index["--max-faces"].action is None
    search = {o.name: o for o in completion.command_options("search-folder")}
    assert search["--collection-id"].action == "collection-id"
    compare = {o.name: o for o in completion.command_options("compare-folder")}
    assert compare["--source-image-bytes"].action == "fileb"
    batch = {o.name: o for o in completion.command_options("batch")}
    assert batch["--input-file"].action == "path"
    assert completion.command_arguments("batch") == sorted(model.COMMANDS)
    assert completion.command_arguments("index-folder") == []


# ---- bash, for real ------------------------------------------------------------------------

def bash_words(line: str) -> list[str]:
    """COMP_WORDS as bash builds it for `line` (cursor at the end): split at blanks, and at
    ':' and '=' (default COMP_WORDBREAKS), which become words of their own."""
    words = []
    for token in line.split():
        words += [part for part in re.split(r"([:=]+)", token) if part]
    if not line or line[-1].isspace():
        words.append("")
    return words


def complete(line: str, cwd: Path | None = None, env: dict | None = None) -> list[str]:
    """COMPREPLY of the rekcli bash completion for `line`."""
    words = bash_words(line)
    program = "\n".join([
        f"source {shlex.quote(str(BASH_SCRIPT))}",
        f"COMP_WORDS=({' '.join(shlex.quote(w) for w in words)})",
        f"COMP_CWORD={len(words) - 1}",
        f"COMP_LINE={shlex.quote(line)}",
        "COMP_POINT=${#COMP_LINE}",
        "_rekcli rekcli",
        'for reply in "${COMPREPLY[@]}"; do printf "%s\\n" "$reply"; done',
    ])
    full_env = dict(os.environ)
    full_env.update(env or {})
    result = subprocess.run([BASH, "--norc", "--noprofile", "-c", program], capture_output=True,
                            text=True, cwd=cwd, env=full_env, timeout=60)
    assert result.stderr == ""
    assert result.returncode == 0
    return result.stdout.splitlines()


@needs_bash
def test_bash_completes_command_names():
    assert complete("rekcli ") == ALL_COMMANDS + ["help", "rekognition"]
    assert complete("rekcli comp") == ["compare-faces", "compare-folder"]
    assert complete("rekcli index-f") == ["index-faces", "index-folder"]
    assert complete("rekcli index-fo") == ["index-folder"]
    assert complete("rekcli ba") == ["batch"]
    assert complete("rekcli search-f") == ["search-faces", "search-faces-by-image",
                                           "search-folder"]
    # a global option's value is not taken for the command
    assert complete("rekcli --region eu-west-1 list-co") == ["list-collections"]


@needs_bash
def test_bash_completes_the_options_of_compare_faces():
    replies = complete("rekcli compare-faces --")
    assert replies[:6] == ["--source-image", "--source-image-bytes", "--target-image",
                           "--target-image-bytes", "--similarity-threshold", "--quality-filter"]
    assert {"--cli-input-json", "--generate-cli-skeleton", "--output", "--region",
            "--debug"} <= set(replies)
    assert complete("rekcli compare-faces --sim") == ["--similarity-threshold"]
    assert complete("rekcli compare-faces --qu") == ["--quality-filter", "--query"]
    # options already given are not offered again
    assert complete("rekcli compare-faces --quality-filter NONE --qu") == ["--query"]
    # after a flag, options again
    assert "--quality-filter" in complete("rekcli compare-faces --debug ")


@needs_bash
def test_bash_completes_enum_values():
    assert complete("rekcli compare-faces --quality-filter ") == ["NONE", "AUTO", "LOW",
                                                                   "MEDIUM", "HIGH"]
    assert complete("rekcli compare-faces --quality-filter M") == ["MEDIUM"]
    assert complete("rekcli detect-faces --attributes DEFAULT SM") == ["SMILE"]
    assert complete("rekcli index-faces --detection-attributes A") == ["ALL", "AGE_RANGE"]
    assert complete("rekcli --output y") == ["yaml", "yaml-stream"]
    assert complete("rekcli list-faces --color ") == ["on", "off", "auto"]
    assert complete("rekcli detect-faces --cli-binary-format r") == ["raw-in-base64-out"]
    assert complete("rekcli detect-faces --generate-cli-skeleton ") == [
        "input", "yaml-input", "output"]
    # --opt=value: bash's current word is what follows '=', the replies replace just that
    assert complete("rekcli --output=ya") == ["yaml", "yaml-stream"]
    assert complete("rekcli --output=") == ["=json", "=text", "=table", "=yaml",
                                            "=yaml-stream", "=off"]
    # free-text values get nothing
    assert complete("rekcli index-faces --external-image-id ") == []


@needs_bash
def test_bash_completes_the_options_of_the_batch_commands():
    assert complete("rekcli index-folder --qual") == ["--quality-filter"]
    replies = complete("rekcli index-folder --")
    assert replies[:10] == ["--collection-id", "--images", "--recursive", "--max-faces",
                            "--quality-filter", "--detection-attributes", "--hide-skipped",
                            "--workers", "--progress", "--no-progress"]
    assert {"--output", "--query", "--region", "--debug"} <= set(replies)
    assert complete("rekcli search-folder --face") == ["--face-match-threshold"]
    assert complete("rekcli compare-folder --sim") == ["--similarity-threshold"]
    assert complete("rekcli compare-folder --no-") == [
        "--no-progress", "--no-verify-ssl", "--no-paginate", "--no-sign-request",
        "--no-cli-pager", "--no-cli-auto-prompt"]
    # flags take no value: options again after them; options given are not offered again
    assert complete("rekcli index-folder --recursive --qual") == ["--quality-filter"]
    assert complete("rekcli index-folder --quality-filter LOW --qual") == []
    # enum values as for the API commands, free text gets nothing
    assert complete("rekcli index-folder --quality-filter ") == model.QUALITY_FILTER_VALUES
    assert complete("rekcli search-folder --quality-filter H") == ["HIGH"]
    assert complete("rekcli index-folder --detection-attributes A") == ["ALL", "AGE_RANGE"]
    assert complete("rekcli index-folder --workers ") == []
    assert complete("rekcli index-folder --output=t") == ["text", "table"]


@needs_bash
def test_bash_completes_the_command_that_batch_runs():
    assert complete("rekcli batch ") == sorted(model.COMMANDS)
    assert complete("rekcli batch det") == ["detect-faces"]
    assert complete("rekcli batch search-faces") == ["search-faces", "search-faces-by-image"]
    # an option's value is not the argument: the command is still to come
    assert complete("rekcli batch --workers 2 index-f") == ["index-faces"]
    assert complete("rekcli --region eu-west-1 batch compare-f") == ["compare-faces"]
    # after it, the options of batch
    assert complete("rekcli batch detect-faces --in") == ["--input-file"]
    assert complete("rekcli batch detect-faces ")[:4] == ["--input-file", "--workers",
                                                          "--progress", "--no-progress"]
    assert complete("rekcli batch --")[:4] == ["--input-file", "--workers", "--progress",
                                               "--no-progress"]
    # no other command takes an argument
    assert complete("rekcli index-folder ")[:2] == ["--collection-id", "--images"]


@needs_bash
def test_bash_completes_paths_for_images_and_input_file(tmp_path):
    (tmp_path / "people" / "obama").mkdir(parents=True)
    (tmp_path / "people" / "obama" / "obama.jpg").write_bytes(b"x")
    (tmp_path / "groups").mkdir()
    (tmp_path / "requests.jsonl").write_text("{}\n")
    (tmp_path / "my photos").mkdir()
    assert complete("rekcli index-folder --images pe", cwd=tmp_path) == ["people/"]
    assert complete("rekcli index-folder --images people/", cwd=tmp_path) == ["people/obama/"]
    assert complete("rekcli index-folder --images people/obama/", cwd=tmp_path) == [
        "people/obama/obama.jpg"]
    # --images takes several: the next value is a path too, an option after a dash
    assert complete("rekcli search-folder --images people/ gr", cwd=tmp_path) == ["groups/"]
    assert complete("rekcli search-folder --images people/ --rec", cwd=tmp_path) == [
        "--recursive"]
    assert complete("rekcli index-folder --images my", cwd=tmp_path) == ["my\\ photos/"]
    assert complete("rekcli batch detect-faces --input-file req", cwd=tmp_path) == [
        "requests.jsonl"]
    assert complete("rekcli batch --input-file=req", cwd=tmp_path) == ["requests.jsonl"]
    # the reference photo of compare-folder is read with fileb://, like --image-bytes
    assert complete("rekcli compare-folder --source-image-bytes ", cwd=tmp_path) == [
        "fileb://"]
    assert complete("rekcli compare-folder --source-image-bytes fileb://pe", cwd=tmp_path) == [
        "//people/"]


@needs_bash
def test_bash_completes_paths_after_fileb_and_file(tmp_path):
    (tmp_path / "people").mkdir()
    (tmp_path / "people" / "obama.jpg").write_bytes(b"x")
    (tmp_path / "request.json").write_text("{}")
    assert complete("rekcli detect-faces --image-bytes ", cwd=tmp_path) == ["fileb://"]
    assert complete("rekcli detect-faces --image-bytes fi", cwd=tmp_path) == ["fileb://"]
    # bash split "fileb://pe" into fileb, :, //pe: the reply replaces the last part
    assert complete("rekcli detect-faces --image-bytes fileb://pe", cwd=tmp_path) == [
        "//people/"]
    assert complete("rekcli detect-faces --image-bytes fileb://people/", cwd=tmp_path) == [
        "//people/obama.jpg"]
    assert complete("rekcli detect-faces --image file://req", cwd=tmp_path) == [
        "//request.json"]
    assert complete("rekcli detect-faces --cli-input-json ", cwd=tmp_path) == ["file://"]


def _fake_python(tmp_path: Path) -> Path:
    """Stands in for the interpreter: records its arguments, prints two collection ids."""
    script = tmp_path / "fake-python"
    script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {shlex.quote(str(tmp_path))}/args\n'
                      "printf 'family\\nfriends\\n'\n")
    script.chmod(0o755)
    return script


@needs_bash
def test_bash_completes_collection_ids_from_the_helper(tmp_path):
    env = {"REKCLI_PYTHON": str(_fake_python(tmp_path))}
    assert complete("rekcli index-faces --collection-id ", env=env) == ["family", "friends"]
    assert complete("rekcli list-faces --collection-id fr", env=env) == ["friends"]
    assert (tmp_path / "args").read_text().split() == [
        "-m", "rekcli.cli.completion", "collection-ids"]
    assert complete("rekcli --region eu-west-1 list-faces --profile work --collection-id f",
                    env=env) == ["family", "friends"]
    assert (tmp_path / "args").read_text().split()[3:] == [
        "--region", "eu-west-1", "--profile", "work"]
    assert complete("rekcli list-faces --region=eu-west-1 --collection-id=fa", env=env) == [
        "family"]
    assert "--region=eu-west-1" in (tmp_path / "args").read_text().split()
    # create-collection names a new collection: nothing to offer
    assert complete("rekcli create-collection --collection-id ", env=env) == []
    # the folder jobs work on an existing collection
    assert complete("rekcli index-folder --collection-id ", env=env) == ["family", "friends"]
    assert complete("rekcli search-folder --images x.jpg --collection-id fa", env=env) == [
        "family"]


@needs_bash
def test_bash_completes_collection_ids_of_the_real_store(tmp_path):
    env = {"REKCLI_DATA_DIR": str(tmp_path / "data"), "REKCLI_PYTHON": sys.executable}
    for name, region in (("family", "us-east-1"), ("office", "us-east-1"),
                         ("berlin", "eu-central-1")):
        result = subprocess.run([sys.executable, "-m", "rekcli", "create-collection",
                                 "--collection-id", name, "--region", region],
                                capture_output=True, env={**os.environ, **env}, timeout=60)
        assert result.returncode == 0, result.stderr
    assert sorted(complete("rekcli describe-collection --collection-id ", env=env)) == [
        "family", "office"]
    assert complete("rekcli --region eu-central-1 list-faces --collection-id ",
                    env=env) == ["berlin"]


@needs_bash
def test_bash_finds_the_interpreter_on_the_rekcli_scripts_first_line(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = _fake_python(tmp_path)
    (bin_dir / "rekcli").write_text(f"#!{fake}\nimport sys\n")
    (bin_dir / "rekcli").chmod(0o755)
    env = {"PATH": f"{bin_dir}:{os.environ.get('PATH', '')}", "REKCLI_PYTHON": ""}
    assert complete("rekcli search-faces --collection-id ", env=env) == ["family", "friends"]
    # no rekcli on PATH: nothing, and no error
    assert complete("rekcli search-faces --collection-id ",
                    env={"PATH": "/nonexistent", "REKCLI_PYTHON": ""}) == []


# ---- zsh and fish, where installed ---------------------------------------------------------

@pytest.mark.skipif(ZSH is None, reason="zsh is not installed")
def test_zsh_parses_its_script():
    result = subprocess.run([ZSH, "-n", str(REPO_ROOT / "completions" / "_rekcli")],
                            capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stderr) == (0, "")


def fish_complete(line: str, cwd: Path | None = None) -> list[str]:
    """What fish offers for `line` (the words, without their descriptions)."""
    script = REPO_ROOT / "completions" / "rekcli.fish"
    result = subprocess.run([FISH, "--no-config", "-c",
                             f"source {shlex.quote(str(script))}; complete -C {shlex.quote(line)}"],
                            capture_output=True, text=True, cwd=cwd, timeout=60)
    assert (result.returncode, result.stderr) == (0, "")
    return [reply.split("\t")[0] for reply in result.stdout.splitlines()]


@pytest.mark.skipif(FISH is None, reason="fish is not installed")
def test_fish_completes_the_batch_commands(tmp_path):
    (tmp_path / "people").mkdir()
    (tmp_path / "requests.jsonl").write_text("{}\n")
    assert fish_complete("rekcli index-f") == ["index-faces", "index-folder"]
    assert fish_complete("rekcli index-folder --qual") == ["--quality-filter"]
    assert sorted(fish_complete("rekcli index-folder --quality-filter ")) == sorted(
        model.QUALITY_FILTER_VALUES)
    assert fish_complete("rekcli batch det") == ["detect-faces"]
    assert sorted(fish_complete("rekcli batch ")) == sorted(model.COMMANDS)
    assert fish_complete("rekcli batch detect-faces det") == []
    assert fish_complete("rekcli batch --input-file req", cwd=tmp_path) == ["requests.jsonl"]
    assert fish_complete("rekcli index-folder --images pe", cwd=tmp_path) == ["people/"]
    assert fish_complete("rekcli compare-folder --source-image-bytes ") == ["fileb://"]


# ---- the helper ----------------------------------------------------------------------------

def test_helper_prints_the_ids_of_the_region(monkeypatch, capsys):
    calls = []

    def list_collections(ctx, request):
        calls.append((ctx.region, dict(request)))
        if "NextToken" not in request:
            return {"CollectionIds": ["a", "b"], "NextToken": "t", "FaceModelVersions": []}
        return {"CollectionIds": ["c"], "FaceModelVersions": []}

    fake = types.ModuleType("rekcli.service.collections")
    fake.list_collections = list_collections
    monkeypatch.setitem(sys.modules, "rekcli.service.collections", fake)
    assert completion.main(["collection-ids", "--region", "eu-west-1"]) == 0
    assert capsys.readouterr().out == "a\nb\nc\n"
    assert [region for region, _ in calls] == ["eu-west-1", "eu-west-1"]
    assert calls[1][1]["NextToken"] == "t"
    monkeypatch.setenv("AWS_REGION", "ap-south-1")
    assert completion.main(["collection-ids"]) == 0
    assert calls[-1][0] == "ap-south-1"


def test_helper_never_prints_an_error(monkeypatch, capsys):
    def broken(ctx, request):
        raise RuntimeError("database is locked")

    fake = types.ModuleType("rekcli.service.collections")
    fake.list_collections = broken
    monkeypatch.setitem(sys.modules, "rekcli.service.collections", fake)
    assert completion.main(["collection-ids", "--profile", "no-such-profile"]) == 0
    assert completion.main(["something-else"]) == 2
    assert capsys.readouterr() == ("", "")


def test_helper_imports_nothing_heavy(tmp_path):
    env = {**os.environ, "REKCLI_DATA_DIR": str(tmp_path / "data")}
    subprocess.run([sys.executable, "-m", "rekcli", "create-collection", "--collection-id",
                    "family"], capture_output=True, env=env, timeout=60)
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "rekcli.cli.completion",
                             "collection-ids"], capture_output=True, text=True, env=env,
                            timeout=60)
    assert result.returncode == 0
    imported = {line.rsplit("|", 1)[1].strip().split(".")[0]
                for line in result.stderr.splitlines() if line.startswith("import time:")}
    assert not imported & {"numpy", "cv2", "dlib", "rich", "click"}
    assert result.stdout == "family\n"
