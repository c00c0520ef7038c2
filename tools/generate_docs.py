#!/usr/bin/env python3
"""Write the generated, checked-in documentation: man pages, shell completions, and the
outputs of the help pages' examples.

    python tools/generate_docs.py           # run the examples, regenerate everything
    python tools/generate_docs.py --check   # exit 1 and print a diff if anything is stale
    ... --no-examples                       # skip running the examples (about a minute)

The examples run for real (tools/example_runs.py) against a temporary data directory and
the shared photos; their outputs go to rekcli/cli/example_outputs.py, which the help and man
pages print. --check runs them again and fails when an output drifted from the recorded one
(numbers compared to 3 decimals), so an example cannot show what rekcli no longer prints.

Everything comes from rekcli's API model, the batch commands' option specs
(rekcli/cli/batch_commands.py) and help text (rekcli/cli/help.py, rekcli/cli/examples.py,
rekcli/cli/completion.py), so after changing an operation, an option or a help sentence, run
it and commit the result. CI runs --check (tests/test_man_pages.py and
tests/test_completions.py do the same comparison), so a change that forgets to regenerate
fails the build.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:   # run as a script from a checkout
    sys.path.insert(0, str(REPO_ROOT))

# Folders this tool owns entirely: a file in them that it does not generate is stale.
OWNED_FOLDERS = ("man", "completions")


def generated_files() -> dict[str, str]:
    """Repository-relative path -> text, for every file this tool writes."""
    from rekcli.cli import completion, help
    from rekcli.service import model

    files = {"man/rekcli.1": help.render_roff(help.main_page())}
    for command, operation_name in sorted(model.COMMANDS.items()):
        files[f"man/rekcli-{command}.1"] = help.render_roff(help.command_page(operation_name))
    for command in sorted(help.batch_commands()):   # index-folder, batch ...
        files[f"man/rekcli-{command}.1"] = help.render_roff(help.batch_command_page(command))
    for command, page in help.standalone_pages().items():   # check-store
        files[f"man/rekcli-{command}.1"] = help.render_roff(page())
    files["completions/rekcli.bash"] = completion.bash_script()
    files["completions/_rekcli"] = completion.zsh_script()
    files["completions/rekcli.fish"] = completion.fish_script()
    return files


def stale_files(root: Path = REPO_ROOT) -> dict[str, tuple[str | None, str | None]]:
    """Files that differ from what would be generated: path -> (on disk, generated).

    None on disk means missing; None generated means a leftover (e.g. a removed command).
    """
    expected = generated_files()
    stale: dict[str, tuple[str | None, str | None]] = {}
    for relative, text in expected.items():
        path = root / relative
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current != text:
            stale[relative] = (current, text)
    for folder in OWNED_FOLDERS:
        if (root / folder).is_dir():
            for path in sorted((root / folder).iterdir()):
                relative = f"{folder}/{path.name}"
                if path.is_file() and relative not in expected:
                    stale[relative] = (path.read_text(encoding="utf-8", errors="replace"), None)
    return stale


def diff(relative: str, current: str | None, generated: str | None) -> str:
    return "".join(difflib.unified_diff(
        (current or "").splitlines(keepends=True), (generated or "").splitlines(keepends=True),
        fromfile=f"a/{relative}" if current is not None else "/dev/null",
        tofile=f"b/{relative}" if generated is not None else "/dev/null"))


def write(root: Path = REPO_ROOT) -> list[str]:
    """Bring the files up to date; returns the paths that changed."""
    changed = []
    for relative, (_, text) in stale_files(root).items():
        path = root / relative
        if text is None:
            path.unlink()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        changed.append(relative)
    return changed


def check_examples() -> list[str]:
    """Run the examples; the keys whose recorded output drifted, with a diff on stdout."""
    import pprint

    from tools import example_runs

    current, fresh = example_runs.recorded(), example_runs.run_all()
    keys = example_runs.drifted(current, fresh)
    for key in keys:
        sys.stdout.write(diff(f"{example_runs.OUTPUTS_MODULE} [{key}]",
                              pprint.pformat(current.get(key), width=100) + "\n",
                              pprint.pformat(fresh.get(key), width=100) + "\n"))
    return keys


def record_examples(root: Path = REPO_ROOT) -> bool:
    """Run the examples and write their outputs; True when the module changed."""
    import importlib

    from tools import example_runs

    text = example_runs.module_text(example_runs.run_all())
    path = root / example_runs.OUTPUTS_MODULE
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    path.write_text(text, encoding="utf-8")
    from rekcli.cli import example_outputs, examples

    importlib.reload(example_outputs)
    importlib.reload(examples)   # help.py reads examples.EXAMPLES ... at call time
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 and print a diff if a file is stale")
    parser.add_argument("--no-examples", action="store_true",
                        help="do not run the examples (their recorded outputs are kept)")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files()
        for relative, (current, generated) in stale.items():
            sys.stdout.write(diff(relative, current, generated))
        drifted = [] if args.no_examples else check_examples()
        if stale or drifted:
            sys.stderr.write(f"{len(stale)} generated file(s) are stale, {len(drifted)} example "
                             f"output(s) drifted: run python tools/generate_docs.py\n")
            return 1
        return 0
    if not args.no_examples and record_examples():
        print("wrote rekcli/cli/example_outputs.py")
    for relative in write():
        print(f"wrote {relative}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
