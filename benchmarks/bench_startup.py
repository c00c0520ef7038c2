"""Start-up cost of the commands that must feel instant (issue 2: each <= 150 ms).

Prints one JSON line per command: median and best wall time over repeated cold runs,
how many modules were imported, and whether any heavy module (numpy, cv2, dlib) was.
Run: .venv/bin/python benchmarks/bench_startup.py
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from startup import HEAVY_MODULES, LIGHT_COMMANDS, prepare_data_dir, run_with_importtime, wall_time  # noqa: E402

RUNS = 15
BUDGET_SECONDS = 0.150


def main() -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        env = prepare_data_dir(data_dir)
        baseline = statistics.median(
            wall_time_python(env) for _ in range(RUNS))
        for label, args in LIGHT_COMMANDS.items():
            times = sorted(wall_time(args, env) for _ in range(RUNS))
            _, modules, code = run_with_importtime(args, env)
            heavy = sorted({m.split(".")[0] for m in modules} & set(HEAVY_MODULES))
            median = statistics.median(times)
            print(json.dumps({
                "command": label, "exit_code": code, "median_ms": round(median * 1000, 1),
                "best_ms": round(times[0] * 1000, 1), "bare_python_ms": round(baseline * 1000, 1),
                "modules_imported": len(modules), "heavy_modules": heavy,
                "within_budget": code == 0 and median <= BUDGET_SECONDS and not heavy,
            }))


def wall_time_python(env: dict) -> float:
    import subprocess
    import time

    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], env=env)
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
