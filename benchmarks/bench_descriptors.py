"""Face descriptors: the numpy ResNet (engine/resnet.py) against dlib's compute_face_descriptor.

    .venv/bin/python benchmarks/bench_descriptors.py [--faces DIR] [--repeat N] [--contended]

Prints JSON lines. Each configuration runs in a fresh process whose environment sets the
OpenBLAS thread count and core type (they are read when numpy loads, so they cannot be
changed inside one process):

- threads "1" (OPENBLAS_NUM_THREADS=1), "default" (OpenBLAS picks: one per core) and
  "engine" (no thread setting, model loaded through models.resnet_model(), which caps
  OpenBLAS at one thread: what rekcli runs);
- coretype "as-is" (the machine's environment, whatever OPENBLAS_CORETYPE it has),
  "unset" (OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE removed) and, with --coretype NAME,
  OPENBLAS_CORETYPE=NAME forced; each line names the kernel OpenBLAS then runs.

The faces are the 5-point fits of the faces of groups/bald_guys.jpg (24 faces); a batch of n
is the first n of them. Per batch size n = 1, 4, 16 each line gives the median over --repeat
runs of the time per face for:
- `ours_net_ms`: resnet.descriptors_from_chips on ready chips (the network alone),
- `ours_ms`: dlib.get_face_chips + the network (model.compute_face_descriptor, as
  analysis._descriptors calls it),
- `dlib_ms`: dlib's compute_face_descriptor (chips + network, one batched call).
It also gives the model load times (`ours_load_ms`: parse of the .dat; `dlib_load_ms`).

--contended runs every configuration a second time with a busy-looping process beside it,
as when batch workers keep every core busy: OpenBLAS threads then wait for a core.
Timing is never asserted anywhere.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_FACES = Path(os.environ.get("REKCLI_TEST_FACES", REPO.parent / "shared" / "faces"))
PHOTO = "groups/bald_guys.jpg"
BATCHES = (1, 4, 16)


def _openblas_corename() -> str | None:
    """The kernel numpy's bundled OpenBLAS chose (None if it cannot be asked)."""
    import ctypes
    import glob

    import numpy

    libs = glob.glob(os.path.join(os.path.dirname(numpy.__file__) + ".libs", "*openblas*"))
    for path in libs:
        lib = ctypes.CDLL(path)
        for name in ("scipy_openblas_get_corename64_", "scipy_openblas_get_corename",
                     "openblas_get_corename64_", "openblas_get_corename"):
            function = getattr(lib, name, None)
            if function is not None:
                function.restype = ctypes.c_char_p
                return function().decode()
    return None


def _median_ms_per_face(function, n: int, repeat: int) -> float:
    function()  # warm: first-call allocations, OpenBLAS thread start
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return round(statistics.median(times) * 1000 / n, 2)


def child(faces: Path, repeat: int, engine_loader: bool) -> dict:
    import dlib
    import numpy as np

    from rekcli import engine
    from rekcli.engine import models, resnet

    image = engine.decode_image((faces / PHOTO).read_bytes())
    pixels = np.ascontiguousarray(image.pixels)
    found = engine.analyze_faces(image, descriptors=False, landmarks=False)
    fitter = models.shape_predictor_5()
    shapes = [f.alignment if hasattr(f.alignment, "num_parts") else fitter(pixels, f.alignment)
              for f in found]

    start = time.perf_counter()
    if engine_loader:
        model = models.resnet_model()
    else:
        model = resnet.load_model(models.model_path("dlib_face_recognition_resnet_model_v1.dat"))
    ours_load = time.perf_counter() - start
    start = time.perf_counter()
    dlib_model = models.dlib_face_recognition_model()
    dlib_load = time.perf_counter() - start

    result = {
        "openblas_core": _openblas_corename(),
        "ours_load_ms": round(ours_load * 1000, 1),
        "dlib_load_ms": round(dlib_load * 1000, 1),
        "faces_available": len(shapes),
        "batches": {},
    }
    for n in BATCHES:
        batch = dlib.full_object_detections()
        for shape in shapes[:n]:
            batch.append(shape)
        chips = np.stack(dlib.get_face_chips(pixels, batch, size=150, padding=0.25))

        def ours_net():
            model.descriptors(chips)

        def ours():
            model.compute_face_descriptor(pixels, batch)

        def reference():
            dlib_model.compute_face_descriptor(pixels, batch)

        result["batches"][str(n)] = {
            "ours_net_ms": _median_ms_per_face(ours_net, n, repeat),
            "ours_ms": _median_ms_per_face(ours, n, repeat),
            "dlib_ms": _median_ms_per_face(reference, n, max(3, repeat // 2)),
        }
    return result


def run_child(faces: Path, repeat: int, threads: str, coretype: str, contended: bool) -> dict:
    env = os.environ.copy()
    if threads == "1":
        env["OPENBLAS_NUM_THREADS"] = "1"
    else:
        env.pop("OPENBLAS_NUM_THREADS", None)
    if coretype != "as-is":
        env.pop("OPENBLAS_CORETYPE", None)
        env.pop("OPENBLAS_L2_SIZE", None)
        if coretype != "unset":
            env["OPENBLAS_CORETYPE"] = coretype
    command = [sys.executable, __file__, "--child", "--faces", str(faces), "--repeat", str(repeat)]
    if threads == "engine":
        command.append("--engine-loader")
    burner = None
    if contended:  # a process that keeps one core busy, stopped when we are done
        busy_loop = "import time\nend = time.time() + 600\nwhile time.time() < end: pass"
        burner = subprocess.Popen([sys.executable, "-c", busy_loop])
    try:
        completed = subprocess.run(command, capture_output=True, text=True, check=True,
                                   cwd=REPO, env=env)
    finally:
        if burner is not None:
            burner.kill()
            burner.wait()
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    per_face = result.pop("batches")
    lines = []
    for n, times in per_face.items():
        lines.append({
            "benchmark": "descriptors",
            "threads": threads,
            "coretype": coretype,
            "OPENBLAS_CORETYPE": env.get("OPENBLAS_CORETYPE"),
            "contended": contended,
            "n": int(n),
            **times,
            "speedup_vs_dlib": round(times["dlib_ms"] / times["ours_ms"], 2),
            **result,
        })
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=Path, default=DEFAULT_FACES)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--contended", action="store_true",
                        help="also run each configuration beside a busy-looping process")
    parser.add_argument("--coretype", action="append", default=[],
                        help="also run with OPENBLAS_CORETYPE=NAME (e.g. Haswell); repeatable")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--engine-loader", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))

    if args.child:
        print(json.dumps(child(args.faces, args.repeat, args.engine_loader)))
        return
    if not (args.faces / PHOTO).is_file():
        raise SystemExit(f"{args.faces / PHOTO} not found (set --faces or REKCLI_TEST_FACES)")
    for contended in (False, True) if args.contended else (False,):
        for coretype in ("as-is", "unset", *args.coretype):
            for threads in ("1", "default", "engine"):
                for line in run_child(args.faces, args.repeat, threads, coretype, contended):
                    print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
