"""Run the help pages' examples for real and record what they print.

tools/generate_docs.py calls `record()` to write rekcli/cli/example_outputs.py, and
`drifted()` for --check. The examples (rekcli/cli/examples.py) run in SCENARIO order, each
through bash with the installed `rekcli`, from a temporary folder that holds copies of
`people`, `groups` and `noface` from the shared photos (REKCLI_FACES_DIR, else ../shared/faces next to
the checkout), with a fresh data directory and REKCLI_S3_ROOT set to that folder (so the
bucket `people` is people/).

Deterministic output:
- FaceIds are random in rekcli. Here each rekcli process draws them from a stream seeded by
  its command line (a sitecustomize module patches uuid.uuid4, only in these runs), so the
  same example always indexes the same FaceIds and the ids in the examples' commands
  (examples.OBAMA_FACE_ID ...) are the ones the scenario creates. Worker processes of the
  batch commands keep real random ids; every id that no example command names is replaced
  by a fixed one in order of first appearance.
- Timestamps (CreationTimestamp) are replaced by a fixed one.
- Numbers may differ in the last digits between machines (float32 arithmetic), so the drift
  check compares them to 3 significant decimals; the recorded values are exact.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import pprint
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:   # run as a script from a checkout
    sys.path.insert(0, str(REPO_ROOT))

from rekcli.cli.celebrity_examples import GALLERY_SETUP  # noqa: E402
OUTPUTS_MODULE = "rekcli/cli/example_outputs.py"

# What runs, in order: ("example", key) runs an example and records its output;
# ("setup", command) runs a command the examples' texts assume, output unrecorded;
# ("fresh", None) starts again with an empty data directory.
SCENARIO: list[tuple[str, str | None]] = [
    ("example", "api:CompareFaces/0"),
    ("example", "api:CompareFaces/1"),
    ("example", "api:DetectFaces/0"),
    ("example", "api:DetectFaces/1"),
    ("setup", GALLERY_SETUP),
    ("example", "api:RecognizeCelebrities/0"),
    ("example", "api:GetCelebrityInfo/0"),
    ("setup", "rekcli create-collection --collection-id office"),
    ("example", "api:CreateCollection/0"),
    ("example", "api:IndexFaces/0"),
    ("setup", "rekcli index-faces --collection-id family "
              "--image-bytes fileb://people/obama/obama2.jpg --external-image-id obama2.jpg"),
    ("example", "api:SearchFaces/0"),
    ("example", "api:SearchFacesByImage/0"),
    ("example", "api:SearchFacesByImage/1"),
    ("example", "api:CreateUser/0"),
    ("example", "api:AssociateFaces/0"),
    ("example", "api:ListUsers/0"),
    ("example", "api:SearchUsers/0"),
    ("example", "api:SearchUsersByImage/0"),
    ("example", "api:ListFaces/0"),
    ("example", "api:ListFaces/1"),
    ("example", "api:DescribeCollection/0"),
    ("example", "api:ListCollections/0"),
    ("example", "api:DisassociateFaces/0"),
    ("setup", "rekcli index-faces --collection-id family "
              "--image-bytes fileb://people/biden/biden.jpg --external-image-id biden.jpg"),
    ("example", "api:DeleteFaces/0"),
    ("example", "api:DeleteFaces/1"),
    ("example", "api:DeleteUser/0"),
    ("example", "api:TagResource/0"),
    ("example", "api:UntagResource/0"),
    ("example", "api:ListTagsForResource/0"),
    ("example", "api:DeleteCollection/0"),
    ("setup", "rekcli create-collection --collection-id family"),
    ("example", "batch:index-folder/0"),
    ("example", "batch:index-folder/1"),
    ("example", "batch:search-folder/0"),
    ("example", "batch:compare-folder/0"),
    ("example", "batch:batch/0"),
    ("fresh", None),
    ("example", "tour:/1"),
]

FIXED_TIMESTAMP = "2024-05-04T09:12:31.482000+00:00"
_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_NUMBER = re.compile(r"-?\d+\.\d+(?:[eE][-+]?\d+)?")

# Patches uuid.uuid4 in the rekcli process a scenario step starts (not in the processes it
# starts: they inherit the marker and keep real ids; forked ones are told by their pid).
SITECUSTOMIZE = '''
import os
if os.environ.get("REKCLI_EXAMPLE_RUN") == "1":
    import hashlib, sys, uuid
    os.environ["REKCLI_EXAMPLE_RUN"] = "started"
    _pid, _count, _real = os.getpid(), [0], uuid.uuid4

    def _seeded_uuid4():
        if os.getpid() != _pid:
            return _real()
        _count[0] += 1
        seed = "\\0".join(sys.argv[1:]) + f"\\0{_count[0]}"
        return uuid.UUID(bytes=hashlib.sha256(seed.encode()).digest()[:16], version=4)

    uuid.uuid4 = _seeded_uuid4
'''


class ExampleRunError(Exception):
    pass


def faces_dir() -> Path:
    return Path(os.environ.get("REKCLI_FACES_DIR") or REPO_ROOT.parent / "shared" / "faces")


def run_all() -> dict[str, object]:
    """Run SCENARIO; returns key -> output (JSON object, str or None), normalised."""
    from rekcli.cli import examples

    table = examples.all_examples()
    _check_scenario(table)
    named_ids = set(_UUID.findall(" ".join(e.command for e in table.values())))
    with tempfile.TemporaryDirectory(prefix="rekcli-examples-") as temp:
        work, env = _prepare(Path(temp))
        raw: dict[str, str] = {}
        for step, what in SCENARIO:
            if step == "fresh":
                shutil.rmtree(env["REKCLI_DATA_DIR"])
            elif step == "setup":
                _run(what, work, env, what)
            else:
                raw[what] = _run(table[what].command, work, env, what)
    return _normalised(raw, table, named_ids)


def _check_scenario(table) -> None:
    keys = [what for step, what in SCENARIO if step == "example"]
    wanted = [key for key, example in table.items() if example.run]
    missing = sorted(set(wanted) - set(keys))
    unknown = sorted(set(keys) - set(wanted))
    if missing or unknown or len(keys) != len(set(keys)):
        raise ExampleRunError(f"tools/example_runs.py SCENARIO is out of date: place "
                              f"{missing} in it, remove {unknown}, each once")


def _prepare(temp: Path) -> tuple[Path, dict[str, str]]:
    photos = faces_dir()
    if not (photos / "people").is_dir():
        raise ExampleRunError(f"the shared photos are not in {photos} (set REKCLI_FACES_DIR)")
    work = temp / "work"
    work.mkdir()
    # Copies, not symlinks: the examples read S3Object images from this folder as the local
    # bucket root, which refuses any symlink (service/images.py). 6 MB, in a temp dir.
    for folder in ("people", "groups", "noface"):
        shutil.copytree(photos / folder, work / folder)
    site = temp / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    keep = ("PATH", "LANG", "LC_ALL", "TMPDIR", "HOME", "REKCLI_CACHE_DIR")
    env = {name: os.environ[name] for name in keep if name in os.environ}
    bin_dir = os.path.dirname(sys.executable)
    env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}",
               PYTHONPATH=str(site), REKCLI_DATA_DIR=str(temp / "data"),
               REKCLI_S3_ROOT=str(work), AWS_CONFIG_FILE=str(temp / "no-aws-config"),
               REKCLI_EXAMPLE_RUN="1")
    return work, env


def _run(command: str, work: Path, env: dict, label: str) -> str:
    """Run an example's lines in one bash; only the last line's stdout is its output."""
    lines = command.split("\n")
    script = "set -e\n" + "".join(f"{{ {line}\n}} >/dev/null\n" for line in lines[:-1])
    script += lines[-1] + "\n"
    result = subprocess.run(["bash", "-c", script], cwd=work, env=env, capture_output=True,
                            text=True, timeout=900)
    if result.returncode not in (0, 254) or result.stderr:
        raise ExampleRunError(f"{label}: exit {result.returncode}\n{result.stderr}")
    return result.stdout


def _normalised(raw: dict[str, str], table, named_ids: set[str]) -> dict[str, object]:
    replacements: dict[str, str] = {}

    def fixed_id(match: re.Match) -> str:
        real = match.group(0)
        if real in named_ids:
            return real
        if real not in replacements:
            digest = hashlib.sha256(f"rekcli example id {len(replacements)}".encode()).digest()
            replacements[real] = str(uuid.UUID(bytes=digest[:16], version=4))
        return replacements[real]

    outputs: dict[str, object] = {}
    for key, text in raw.items():
        text = _UUID.sub(fixed_id, _TIMESTAMP.sub(FIXED_TIMESTAMP, text))
        outputs[key] = _as_value(text, table[key].command, key)
    return outputs


def _as_value(text: str, command: str, key: str):
    """A JSON object when the command printed one JSON document (shown folded in help);
    otherwise the text as printed; None when it printed nothing."""
    if not text:
        return None
    if key.startswith("api:") or key.startswith("tour:"):
        try:
            value = json.loads(text)
        except ValueError:
            return text
        if isinstance(value, dict) and text == json.dumps(value, indent=4) + "\n":
            return value
    return text


# ---- the generated module and the drift check -------------------------------------------------

def module_text(outputs: dict[str, object]) -> str:
    body = pprint.pformat(outputs, width=100, sort_dicts=False)
    return ('"""What the help pages\' examples printed when tools/generate_docs.py last ran '
            'them\n(tools/example_runs.py). Generated; do not edit."""\n\n'
            f"OUTPUTS: dict = {body}\n")


def recorded() -> dict[str, object]:
    from rekcli.cli.example_outputs import OUTPUTS

    return OUTPUTS


def drifted(current: dict[str, object], fresh: dict[str, object]) -> list[str]:
    """Keys whose recorded output no longer matches a fresh run (numbers to 3 decimals)."""
    keys = sorted(set(current) | set(fresh))
    return [key for key in keys
            if key not in current or key not in fresh or not _same(current[key], fresh[key])]


def _same(a, b) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        if _NUMBER.split(a) != _NUMBER.split(b):
            return False
        return all(_close(float(x), float(y))
                   for x, y in zip(_NUMBER.findall(a), _NUMBER.findall(b)))
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, (int, float)) and isinstance(b, (int, float)) and _close(a, b)
    return a == b and type(a) is type(b)


def _close(x: float, y: float) -> bool:
    return math.isclose(x, y, rel_tol=1e-3, abs_tol=1e-3)
