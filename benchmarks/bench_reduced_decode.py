"""What decoding at reduced scale costs detection and matching, measured on the shared photos.

rekcli decodes images above 64 MP at 1/2 (1/4 and 1/8 when the decoder holds the whole image
anyway) to keep a request under 600 MB. No shared photo is that large, so this decodes each
one at 1/1, 1/2 and 1/4 and compares the faces found at reduced scale with those found at
full size: how many are still found, how well the boxes agree (IoU, boxes scaled back) and
how similar each face's descriptor stays to its full-size self (Similarity 0-100).
Also: same-person Similarity (obama.jpg vs obama2.jpg etc.) at each scale.

    .venv/bin/python benchmarks/bench_reduced_decode.py [faces_dir]
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

from rekcli import engine
from rekcli.engine import images
from rekcli.engine.similarity import similarity_from_distance

FACTORS = (1, 2, 4)
PAIRS = [("people/obama/obama.jpg", "people/obama/obama2.jpg"),
         ("people/biden/biden.jpg", "people/biden/biden2.jpg"),
         ("people/kit_harington/john1.jpeg", "people/kit_harington/john2.jpeg"),
         ("people/rose_leslie/img1.jpg", "people/rose_leslie/img2.jpg")]


def faces_at(path: Path, factor: int):
    original = images.reduction_factor
    images.reduction_factor = lambda width, height, buffered: factor
    try:
        image = engine.decode_image(path.read_bytes())
    finally:
        images.reduction_factor = original
    return [(tuple(v * factor for v in face.box), face.descriptor)
            for face in engine.analyze_faces(image)]


def iou(a, b) -> float:
    left, top = max(a[0], b[0]), max(a[1], b[1])
    right, bottom = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0.0, right - left) * max(0.0, bottom - top)
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def main(root: Path) -> None:
    photos = sorted(p for folder in ("people", "groups", "detection")
                    for p in (root / folder).rglob("*") if p.suffix in (".jpg", ".jpeg", ".png"))
    results = {f: {"found": 0, "ious": [], "sims": [], "sizes": []} for f in FACTORS[1:]}
    total = 0
    for photo in photos:
        full = faces_at(photo, 1)
        total += len(full)
        for factor in FACTORS[1:]:
            reduced = faces_at(photo, factor)
            for box, descriptor in full:
                best = max(reduced, key=lambda face: iou(box, face[0]), default=None)
                if best is None or iou(box, best[0]) < 0.5:
                    results[factor]["sizes"].append(round(box[2]))
                    continue
                results[factor]["found"] += 1
                results[factor]["ious"].append(iou(box, best[0]))
                results[factor]["sims"].append(similarity_from_distance(
                    engine.descriptor_distance(descriptor, best[1])))
    print(f"{len(photos)} photos, {total} faces found at full size")
    for factor, r in results.items():
        print(f"1/{factor}: found {r['found']}/{total}; missed faces' widths (full-size px) "
              f"{sorted(r['sizes'])}; box IoU median {statistics.median(r['ious']):.3f} "
              f"min {min(r['ious']):.3f}; self-Similarity median "
              f"{statistics.median(r['sims']):.1f} min {min(r['sims']):.1f}")
    for a, b in PAIRS:
        row = []
        for factor in FACTORS:
            fa, fb = faces_at(root / a, factor), faces_at(root / b, factor)
            if fa and fb:
                row.append(f"1/{factor}: {similarity_from_distance(engine.descriptor_distance(fa[0][1], fb[0][1])):.1f}")
        print(f"{a} vs {b}: " + ", ".join(row))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared" / "faces")
