"""The licence-clean mode (REKCLI_FACE_MODEL=clean) measured against the default one.

    .venv/bin/python benchmarks/bench_clean_mode.py [--faces DIR]

Every photo of people/ and groups/ is analysed twice, as rekcli analyses any photo: with the
68-point model (default) and with the 5-point model (clean). Identities as in
tests/test_engine_photos.py: people/<name>/ by folder; in groups/, faces ordered from the
image's left: two_people obama, biden; obama_and_biden biden, obama, a child; kit_with_rose
rose_leslie, kit_harington. The unnamed actors of bald_guys are compared only with the named
people (some of them appear in more than one shot).

Prints, per mode:
- descriptor distances: the largest between two photos of one person, the smallest between
  two different people, and the gap between them; the Similarity of each under the mode's
  calibration (engine/similarity.py), and how many pairs match at the default threshold 80;
- the closest the named people come to the 43 strangers of detection/ (faces of no one in
  people/), a second check for false matches;
- for the clean mode, how far its landmarks and pose are from the default mode's on the same
  faces (eye centres, nose, in % of the distance between the eyes; angles in degrees);
- the time each landmark model takes to load in a fresh process (median of 3), the part of a
  cold command the mode changes.

Nothing here is asserted: tests/test_clean_mode.py checks the matches and non-matches.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

GROUP_IDENTITIES = {
    "groups/two_people.jpg": ["obama", "biden"],
    "groups/obama_and_biden.jpg": ["biden", "obama", "child"],
    "groups/kit_with_rose.jpg": ["rose_leslie", "kit_harington"],
}
UNNAMED = "groups/bald_guys.jpg"
THRESHOLD = 80.0


def analyse(faces_dir: Path, mode: str) -> dict:
    """{relative path: (image, faces sorted from the image's left)} in one mode."""
    from rekcli.engine import analyze_faces, decode_image

    os.environ["REKCLI_FACE_MODEL"] = mode
    paths = sorted((faces_dir / "people").glob("*/*")) + sorted((faces_dir / "groups").iterdir())
    result = {}
    for path in paths:
        image = decode_image(path.read_bytes())
        faces = sorted(analyze_faces(image, detailed=True), key=lambda face: face.box[0])
        result[path.relative_to(faces_dir).as_posix()] = (image, faces)
    return result


def identified(analysed: dict) -> list[tuple]:
    """[(identity or None, label, face)] for every face."""
    faces = []
    for name, (_, found) in analysed.items():
        if name.startswith("people/"):
            faces.append((name.split("/")[1], name, found[0]))
        elif name in GROUP_IDENTITIES:
            faces.extend((who, f"{name}:{who}", face)
                         for who, face in zip(GROUP_IDENTITIES[name], found))
        else:
            faces.extend((None, f"{name}#{i}", face) for i, face in enumerate(found))
    return faces


def pair_distances(faces: list[tuple]):
    from rekcli.engine import descriptor_distance

    same, different = [], []
    for (who_a, label_a, a), (who_b, label_b, b) in itertools.combinations(faces, 2):
        if who_a is None and who_b is None:
            continue
        distance = descriptor_distance(a.descriptor, b.descriptor)
        (same if who_a == who_b else different).append((distance, label_a, label_b))
    return sorted(same), sorted(different)


def report_distances(mode: str, faces: list[tuple]) -> None:
    from rekcli.engine.similarity import similarity_from_distance

    os.environ["REKCLI_FACE_MODEL"] = mode  # the calibration follows the mode
    same, different = pair_distances(faces)
    worst_same, best_stranger = same[-1], different[0]
    false_matches = sum(similarity_from_distance(d) >= THRESHOLD for d, _, _ in different)
    missed = sum(similarity_from_distance(d) < THRESHOLD for d, _, _ in same)
    print(f"\n== {mode} mode: {len(faces)} faces, {len(same)} same-person pairs, "
          f"{len(different)} different-people pairs")
    print(f"  largest same-person distance  {worst_same[0]:.3f}  Similarity "
          f"{similarity_from_distance(worst_same[0]):5.1f}  ({worst_same[1]} / {worst_same[2]})")
    print(f"  smallest stranger distance    {best_stranger[0]:.3f}  Similarity "
          f"{similarity_from_distance(best_stranger[0]):5.1f}  "
          f"({best_stranger[1]} / {best_stranger[2]})")
    print(f"  gap {best_stranger[0] - worst_same[0]:+.3f}; at threshold {THRESHOLD:.0f}: "
          f"{missed} same-person pairs missed, {false_matches} false matches")
    print("  same-person distances, largest five: "
          + ", ".join(f"{d:.3f}" for d, _, _ in same[-5:]))
    print("  stranger distances, smallest five:   "
          + ", ".join(f"{d:.3f}" for d, _, _ in different[:5]))


def report_detection_strangers(faces_dir: Path, mode: str, faces: list[tuple]) -> None:
    from rekcli.engine import analyze_faces, decode_image, descriptor_distance
    from rekcli.engine.similarity import similarity_from_distance

    os.environ["REKCLI_FACE_MODEL"] = mode
    strangers = []
    for path in sorted((faces_dir / "detection").glob("*.jpg")):
        strangers += analyze_faces(decode_image(path.read_bytes()))
    named = [face for who, _, face in faces if who is not None]
    distances = sorted(descriptor_distance(a.descriptor, b.descriptor)
                       for a in named for b in strangers)
    print(f"  {len(named)} named faces against the {len(strangers)} faces of detection/: "
          f"smallest distance {distances[0]:.3f}, Similarity "
          f"{similarity_from_distance(distances[0]):.1f}; "
          f"{sum(similarity_from_distance(d) >= THRESHOLD for d in distances)} false matches")


def report_geometry(default: dict, clean: dict) -> None:
    """How far the 5-point landmarks and pose are from the 68-point ones, face by face."""
    import numpy as np

    eye_gaps, nose_gaps, nose_drop, angle_gaps = [], [], [], {"Roll": [], "Yaw": [], "Pitch": []}
    for name, (_, faces68) in default.items():
        faces5 = clean[name][1]
        if len(faces5) != len(faces68):
            print(f"  {name}: {len(faces68)} faces with 68 points, {len(faces5)} with 5")
            continue
        for f68, f5 in zip(faces68, faces5):
            left, right = np.array(f68.landmarks["eyeLeft"]), np.array(f68.landmarks["eyeRight"])
            span = float(np.linalg.norm(right - left))
            for eye in ("eyeLeft", "eyeRight"):
                eye_gaps.append(np.linalg.norm(np.subtract(f5.landmarks[eye],
                                                           f68.landmarks[eye])) / span)
            nose_gaps.append(np.linalg.norm(np.subtract(f5.landmarks["nose"],
                                                        f68.landmarks["nose"])) / span)
            nose_drop.append((f5.landmarks["nose"][1] - f68.landmarks["nose"][1]) / span)
            if f68.pose is not None and f5.pose is not None:
                for key, a, b in zip(("Roll", "Yaw", "Pitch"), f68.pose, f5.pose):
                    angle_gaps[key].append(abs(a - b))
    print(f"\n== clean vs default landmarks and pose ({len(nose_gaps)} faces)")
    print(f"  eye centres: median {100 * np.median(eye_gaps):.1f} %, "
          f"max {100 * np.max(eye_gaps):.1f} % of the eye distance")
    print(f"  nose (clean: base; default: tip): median {100 * np.median(nose_gaps):.1f} %, "
          f"max {100 * np.max(nose_gaps):.1f} %; the base lies lower by a median "
          f"{100 * np.median(nose_drop):.1f} %")
    for key, gaps in angle_gaps.items():
        print(f"  {key:5s} |clean - default|: median {np.median(gaps):4.1f}, "
              f"90th percentile {np.percentile(gaps, 90):4.1f}, max {np.max(gaps):4.1f} degrees")


_LOAD_PROBE = """
import sys, time
from rekcli.engine import models
import dlib  # imported before the clock starts: only the model file's load is timed
start = time.perf_counter()
getattr(models, sys.argv[1])()
print(time.perf_counter() - start)
"""


def report_load_times(runs: int = 3) -> None:
    import statistics
    import subprocess

    print("\n== landmark model load, fresh process (median of %d)" % runs)
    for loader in ("shape_predictor_5", "shape_predictor_68"):
        times = [float(subprocess.run([sys.executable, "-c", _LOAD_PROBE, loader],
                                      capture_output=True, text=True, check=True).stdout)
                 for _ in range(runs)]
        print(f"  {loader}: {1000 * statistics.median(times):.0f} ms")
    print(f"  (load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=Path, default=REPO.parent / "shared" / "faces")
    args = parser.parse_args()
    default = analyse(args.faces, "default")
    clean = analyse(args.faces, "clean")
    for mode, analysed in (("default", default), ("clean", clean)):
        report_distances(mode, identified(analysed))
        report_detection_strangers(args.faces, mode, identified(analysed))
    report_geometry(default, clean)
    report_load_times()


if __name__ == "__main__":
    main()
