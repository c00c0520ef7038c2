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
