"""Descriptors of every face rekcli finds in a folder of photos (default ../shared/faces),
with the identity each one belongs to when its photo sits in people/<name>/ (else -1).

    .venv/bin/python benchmarks/real_descriptors.py OUT.npz [--faces DIR]

bench_search.py fits its synthetic identities to these and measures recall on them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from rekcli import engine  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--faces", default=str(REPO.parent / "shared" / "faces"))
    args = parser.parse_args()
    root = Path(args.faces)
    descriptors, people, names = [], [], []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        try:
            image = engine.decode_image(path.read_bytes())
            faces = engine.analyze_faces(image, landmarks=False)
        except Exception as exc:  # not an image, or one the engine refuses
            print(f"skip {path.relative_to(root)}: {type(exc).__name__}", file=sys.stderr)
            continue
        relative = path.relative_to(root).parts
        person = relative[1] if relative[0] == "people" and len(relative) > 2 else ""
        for face in faces:
            descriptors.append(np.asarray(face.descriptor, dtype=np.float32))
            names.append(person)
        print(f"{path.relative_to(root)}: {len(faces)} face(s)", file=sys.stderr)
    labels = sorted(set(n for n in names if n))
    people = [labels.index(n) if n else -1 for n in names]
    np.savez(args.out, descriptors=np.stack(descriptors), person=np.array(people),
             labels=np.array(labels))
    print(f"{len(descriptors)} faces, {len(labels)} named people", file=sys.stderr)


if __name__ == "__main__":
    main()
