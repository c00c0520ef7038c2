"""The light commands must not import numpy, cv2 or dlib (DESIGN.md: import cost is a feature).

Timing is measured by benchmarks/bench_startup.py, never asserted here; what is asserted is
the cause of slowness that a code change can silently introduce: a heavy import.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from startup import HEAVY_MODULES, LIGHT_COMMANDS, prepare_data_dir, run_with_importtime  # noqa: E402


@pytest.mark.parametrize("label", list(LIGHT_COMMANDS))
def test_light_command_imports_nothing_heavy(label, tmp_path):
    env = prepare_data_dir(str(tmp_path / "data"))
    _, modules, code = run_with_importtime(LIGHT_COMMANDS[label], env)
    assert code == 0
    heavy = {m.split(".")[0] for m in modules} & set(HEAVY_MODULES)
    assert not heavy, f"{label} imported {sorted(heavy)}"


def _fingerprint_in_a_new_process(extra_env: dict | None = None) -> tuple[str, list[str]]:
    import json
    import os
    import subprocess

    script = ("import json, sys\n"
              "from rekcli.engine import analysis_fingerprint\n"
              "value = analysis_fingerprint()\n"
              "print(json.dumps([value, sorted(m for m in sys.modules if m.split('.')[0] in "
              f"{list(HEAVY_MODULES)!r})]))")
    env = dict(os.environ, **(extra_env or {}))
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, env=env, check=True)
    return tuple(json.loads(result.stdout))


def test_analysis_fingerprint_is_cheap_and_the_same_in_every_process():
    """index-folder compares it with stored ones before any image work, in other processes."""
    first, heavy = _fingerprint_in_a_new_process({"PYTHONHASHSEED": "1"})
    second, _ = _fingerprint_in_a_new_process({"PYTHONHASHSEED": "2"})
    assert heavy == []
    assert first == second
    assert "detector hog" in first and "dlib-bin" in first
    other, _ = _fingerprint_in_a_new_process({"REKCLI_DETECTOR": "cnn"})
    assert other != first
