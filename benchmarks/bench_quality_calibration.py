"""Where do matches stop being reliable? The measurement behind QualityFilter's levels.

    .venv/bin/python benchmarks/bench_quality_calibration.py [--faces DIR] [--quick]
        [--tables size,resolution,blur,brightness,roll,yaw,pitch,cut] [--json FILE]

Probes: every photo of a person with two or more photos in people/ (obama 4, biden 2,
alex_lacamoire 2, kit_harington 2, rose_leslie 2: 12 photos of 5 people). Each probe photo
is degraded one way at a time, analysed by the engine as rekcli analyses any photo, and the
largest face found is compared (the engine's Similarity, 0-100; FaceMatchThreshold defaults
to 80) with:
- same person: the descriptors of the person's *other* original photos (never the photo the
  probe was made from);
- strangers: every other person's original photos (lin_manuel_miranda included) and the 24
  faces of groups/bald_guys.jpg.

A probe face is *reliable* when every same-person similarity is >= 80 (it is found by a
search at the default threshold) and above every stranger's (a search ranks its own person
first). The degradations:

- size: the photo shrunk so that its face is 20..120 px wide and pasted into a 1280 x 960
  canvas (1.2 MP, the photos of the issue); the filter sees the detected box;
- resolution: the same shrunk faces enlarged 2x again before the canvas, so the detector
  finds faces below its reach: the detail a face of that size holds, for the descriptor;
- blur: a Gaussian of sigma = 0..8% of the face width (face at 150 px, and at 45 px);
- brightness: pixel values times 0.06..3 (darkened / brightened, clipped to 0..255);
- roll: the photo turned in-plane by 0..90 degrees;
- yaw: the photos' own yaw (0-30 degrees) and, as a stand-in for faces turned further,
  the face foreshortened horizontally (width x 0.8..0.55; the engine reads yaw up to 50
  on the turned photos; true turning also hides one side of the face, so this is an
  approximation);
- pitch: the face foreshortened vertically (height x 0.8..0.6), the same stand-in;
- cut: the photo cropped so that 0..50% of the face's width lies past its left edge.

Prints one table per degradation (medians of the filter's measures, the worst same-person
and best stranger similarity, reliable faces), then, per filter measure over the tables
that vary it, the value above which every face was reliable, and what candidate bars would
do (reliable faces dropped, unreliable faces kept). One process, one probe at a time
(about 4 minutes on a shared 2-core machine); --quick uses 4 probes. Nothing here is
asserted: tests/test_quality_calibration.py checks the cases the levels were set for.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_FACES = Path(os.environ.get("REKCLI_TEST_FACES", REPO.parent / "shared" / "faces"))
sys.path.insert(0, str(REPO))

CANVAS = (1280, 960)  # width, height: 1.2 MP
MATCH_THRESHOLD = 80.0
BASE_FACE_PX = 150  # blur, brightness and pose variants start from this face width

SIZES = (20, 24, 28, 32, 36, 40, 45, 50, 60, 80, 120)
RESOLUTIONS = (12, 16, 20, 24, 28, 32, 40)
BLURS = (0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.08)
BLUR_FACE_SIZES = (BASE_FACE_PX, 45)
GAINS = (0.06, 0.1, 0.15, 0.25, 0.4, 0.6, 1.0, 1.5, 2.0, 3.0)
ROLLS = (0, 15, 30, 45, 60, 90)
YAW_SQUEEZES = (1.0, 0.8, 0.7, 0.65, 0.6, 0.55)
PITCH_SQUEEZES = (0.8, 0.7, 0.6)
CUTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)


@dataclass
class Probe:
    person: str
    path: Path
    pixels: object
    box: tuple  # the face's box in the original photo


@dataclass
class Record:
    """One degraded probe, analysed."""

    table: str
    setting: str
    person: str
    photo: str
    found: bool
    box: float = 0.0
    yaw: float = 0.0
    pitch: float = 0.0
    roll: float = 0.0
    brightness: float = 0.0
    sharpness: float = 0.0
    confidence: float = 0.0
    outside: float = 0.0
    same: list = field(default_factory=list)
    stranger: float = 0.0

    @property
    def reliable(self) -> bool:
        return bool(self.found and self.same and min(self.same) >= MATCH_THRESHOLD
                    and min(self.same) > self.stranger)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=Path, default=DEFAULT_FACES)
    parser.add_argument("--quick", action="store_true", help="every third probe (4 of 12)")
    parser.add_argument("--json", type=Path, help="also write every record to this file")
    parser.add_argument("--tables", help="only these tables, comma-separated (size,blur,...)")
    args = parser.parse_args()

    started = time.monotonic()
    gallery, strangers, probes = load_photos(args.faces)
    if args.quick:
        probes = probes[::3]
    print(f"{len(probes)} probes of {len({p.person for p in probes})} people; "
          f"{len(strangers)} stranger faces; match threshold {MATCH_THRESHOLD:g}\n")
    baseline(gallery, strangers)

    records = []
    for table, variants in degradations():
        if args.tables and table.split(":")[0] not in args.tables.split(","):
            continue
        rows = []
        for setting, make in variants:
            for probe in probes:
                rows.append(measure(table, setting, probe, make(probe), gallery, strangers))
        print_table(table, rows)
        records.extend(rows)
    print_limits(records)
    print(f"\n{len(records)} analyses in {time.monotonic() - started:.0f} s")
    if args.json:
        args.json.write_text(json.dumps([vars(r) | {"reliable": r.reliable} for r in records],
                                        indent=1))


# --- photos -------------------------------------------------------------------------------

def load_photos(faces_dir: Path):
    """(gallery: (person, photo) -> descriptor, strangers: [(person, descriptor)], probes)."""
    gallery, probes = {}, []
    for person_dir in sorted((faces_dir / "people").iterdir()):
        photos = sorted(p for p in person_dir.iterdir() if p.suffix in (".jpg", ".jpeg", ".png"))
        for path in photos:
            pixels = decode(path.read_bytes())
            face = largest_face(pixels)
            gallery[(person_dir.name, path.name)] = face.descriptor
            if len(photos) >= 2:
                probes.append(Probe(person_dir.name, path, pixels, face.box))
    strangers = [(person, descriptor) for (person, _), descriptor in gallery.items()]
    group = decode((faces_dir / "groups" / "bald_guys.jpg").read_bytes())
    strangers += [("bald_guys", face.descriptor) for face in analyze(group)]
    return gallery, strangers, probes


def decode(data: bytes):
    from rekcli.engine import decode_image

    return decode_image(data).pixels


def analyze(pixels):
    import numpy as np

    from rekcli.engine import DecodedImage, analyze_faces

    pixels = np.ascontiguousarray(pixels)
    image = DecodedImage(pixels, pixels.shape[1], pixels.shape[0])
    return analyze_faces(image)


def largest_face(pixels):
    faces = analyze(pixels)
    return faces[0] if faces else None


# --- degradations -------------------------------------------------------------------------

def degradations():
    """(table name, [(setting label, probe -> pixels)]) for each table, in print order."""
    yield "size: face width in a 1280x960 photo (px)", [
        (str(px), _sized(px)) for px in SIZES]
    yield "resolution: face shrunk to N px, enlarged 2x", [
        (str(px), _low_detail(px)) for px in RESOLUTIONS]
    for face_px in BLUR_FACE_SIZES:
        yield f"blur: Gaussian sigma, share of a {face_px}-px face's width", [
            (f"{share:.0%}", _blurred(face_px, share)) for share in BLURS]
    yield "brightness: pixel values times", [
        (f"{gain:g}", _gained(gain)) for gain in GAINS]
    yield "roll: turned in-plane (degrees)", [
        (str(angle), _rolled(angle)) for angle in ROLLS]
    yield "yaw: own pose; face width times (turned-face stand-in)", [
        (f"{factor:g}", _squeezed(factor, 1.0)) for factor in YAW_SQUEEZES]
    yield "pitch: face height times (tilted-face stand-in)", [
        (f"{factor:g}", _squeezed(1.0, factor)) for factor in PITCH_SQUEEZES]
    yield "cut: share of the face box cut off by the image's left edge", [
        (f"{share:.0%}", _cut(share)) for share in CUTS]


def _sized(face_px):
    return lambda probe: in_canvas(scaled(probe, face_px))


def _low_detail(face_px):
    return lambda probe: in_canvas(enlarged(scaled(probe, face_px), 2.0))


def _blurred(face_px, share):
    return lambda probe: in_canvas(blurred(scaled(probe, face_px), share * face_px))


def _gained(gain):
    return lambda probe: in_canvas(gained(scaled(probe, BASE_FACE_PX), gain))


def _rolled(angle):
    return lambda probe: rotated(in_canvas(scaled(probe, BASE_FACE_PX)), angle)


def _squeezed(width_factor, height_factor):
    def make(probe):
        return in_canvas(squeezed(scaled(probe, BASE_FACE_PX), width_factor, height_factor))

    return make


def _cut(share):
    return lambda probe: cut(probe, share)


def scaled(probe: Probe, face_px: float):
    import cv2

    factor = face_px / probe.box[2]
    return cv2.resize(probe.pixels, None, fx=factor, fy=factor,
                      interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR)


def enlarged(pixels, factor: float):
    import cv2

    return cv2.resize(pixels, None, fx=factor, fy=factor, interpolation=cv2.INTER_LINEAR)


def blurred(pixels, sigma: float):
    import cv2

    return pixels if sigma <= 0 else cv2.GaussianBlur(pixels, (0, 0), sigma)


def gained(pixels, gain: float):
    import numpy as np

    return np.clip(pixels.astype(np.float32) * gain, 0, 255).astype(np.uint8)


def squeezed(pixels, width_factor: float, height_factor: float):
    import cv2

    height, width = pixels.shape[:2]
    size = (max(1, round(width * width_factor)), max(1, round(height * height_factor)))
    return cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)


def rotated(pixels, degrees: float):
    import cv2

    if degrees == 0:
        return pixels
    height, width = pixels.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    return cv2.warpAffine(pixels, matrix, (width, height), borderValue=(128, 128, 128))


def cut(probe: Probe, share: float):
    """The photo at a 150-px face, cropped so that `share` of the face's width lies left of
    the image (no canvas: the cut must be the image's edge)."""
    pixels = scaled(probe, BASE_FACE_PX)
    factor = BASE_FACE_PX / probe.box[2]
    left = int(round((probe.box[0] + share * probe.box[2]) * factor))
    return pixels[:, max(0, left):]


def in_canvas(pixels):
    """`pixels` centred on a mid-grey 1280 x 960 canvas (cropped if larger)."""
    import numpy as np

    width, height = CANVAS
    canvas = np.full((height, width, 3), 128, np.uint8)
    crop = pixels[:height, :width]
    top, left = (height - crop.shape[0]) // 2, (width - crop.shape[1]) // 2
    canvas[top:top + crop.shape[0], left:left + crop.shape[1]] = crop
    return canvas


# --- measurement --------------------------------------------------------------------------

def measure(table, setting, probe: Probe, pixels, gallery, strangers) -> Record:
    from rekcli.engine.similarity import similarity_from_distance
    from rekcli.service.quality import share_outside_image

    record = Record(table, setting, probe.person, probe.path.name, found=False)
    face = largest_face(pixels)
    if face is None:
        return record
    record.found = True
    record.box = min(face.box[2], face.box[3])
    record.roll, record.yaw, record.pitch = face.pose if face.pose else (math.nan,) * 3
    record.brightness, record.sharpness = face.quality
    record.confidence = face.confidence
    record.outside = share_outside_image(face.box, pixels.shape[1], pixels.shape[0])

    def similarity(descriptor) -> float:
        return float(similarity_from_distance(distance(face.descriptor, descriptor)))

    record.same = [similarity(descriptor) for (person, photo), descriptor in gallery.items()
                   if person == probe.person and photo != probe.path.name]
    record.stranger = max(similarity(d) for person, d in strangers if person != probe.person)
    return record


def distance(a, b) -> float:
    import numpy as np

    return float(np.linalg.norm(np.asarray(a, np.float64) - np.asarray(b, np.float64)))


def baseline(gallery, strangers) -> None:
    """Same-person and stranger similarities of the undegraded photos."""
    from rekcli.engine.similarity import similarity_from_distance

    same, other = [], []
    keys = list(gallery)
    for i, a in enumerate(keys):
        for b in keys[i + 1:]:
            sim = float(similarity_from_distance(distance(gallery[a], gallery[b])))
            (same if a[0] == b[0] else other).append(sim)
    group = [float(similarity_from_distance(distance(d, gallery[k])))
             for k in keys for person, d in strangers if person == "bald_guys"]
    print("undegraded photos:")
    print(f"  same person     {len(same):4d} pairs  min {min(same):5.1f}  "
          f"median {statistics.median(same):5.1f}  max {max(same):5.1f}")
    print(f"  different people {len(other + group):3d} pairs  max {max(other + group):5.1f}  "
          f"median {statistics.median(other + group):5.1f}\n")


# --- reports ------------------------------------------------------------------------------

# table columns: the median over the faces found (setting, found and reliable aside)
COLUMNS = (
    ("box px", lambda r: r.box),
    ("|roll|", lambda r: abs(r.roll)),
    ("|yaw|", lambda r: abs(r.yaw)),
    ("pitch", lambda r: r.pitch),
    ("bright", lambda r: r.brightness),
    ("sharp", lambda r: r.sharpness),
    ("conf", lambda r: r.confidence),
    ("same", lambda r: min(r.same)),  # a face's worst same-person similarity
    ("stranger", lambda r: r.stranger),  # a face's best stranger
)


def print_table(title: str, rows: list[Record]) -> None:
    """One line per setting: faces found, medians of the measures, the lowest same-person
    similarity of any face, the best stranger of any face, and the reliable faces."""
    print(title)
    print("  medians of the faces found, then the worst same-person and best stranger of any")
    print("  setting | found | " + " | ".join(f"{name:>8}" for name, _ in COLUMNS)
          + " | worst same | best stranger | reliable")
    for setting in dict.fromkeys(r.setting for r in rows):
        group = [r for r in rows if r.setting == setting]
        found = [r for r in group if r.found]
        medians = [_median([value(r) for r in found]) for _, value in COLUMNS]
        worst_same = min((min(r.same) for r in found), default=None)
        best_stranger = max((r.stranger for r in found), default=None)
        print(f"  {setting:>7} | {len(found):2d}/{len(group):<2d} | "
              + " | ".join(f"{_fmt(m):>8}" for m in medians)
              + f" | {_fmt(worst_same):>10} | {_fmt(best_stranger):>13} | "
              f"{sum(r.reliable for r in group):2d}/{len(group)}")
    print()


def _median(values):
    values = [v for v in values if not math.isnan(v)]
    return statistics.median(values) if values else None


# filter measure -> (the tables that vary it, its value with higher = better, candidate bars
# in the same units: a face is kept when its value >= the bar)
MEASURES = (
    ("box (shorter side, px)", ("size", "resolution"), lambda r: r.box, (30, 36, 40, 45, 50)),
    ("sharpness", ("size", "resolution", "blur"), lambda r: r.sharpness,
     (0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5, 10, 25)),
    ("brightness (darkened)", ("brightness",),
     lambda r: r.brightness if r.brightness < 55 else math.nan, (2, 3, 5, 10, 20)),
    ("brightness (brightened, -)", ("brightness",),
     lambda r: -r.brightness if r.brightness > 55 else math.nan, (-75, -85, -95)),
    ("|roll| (degrees, -)", ("roll",), lambda r: -abs(r.roll), (-30, -45, -60)),
    ("|yaw| (degrees, -)", ("yaw",), lambda r: -abs(r.yaw), (-30, -45, -50, -60)),
    ("|pitch| (degrees, -)", ("pitch", "roll"), lambda r: -abs(r.pitch), (-20, -30, -35, -40, -45)),
    ("share outside (-)", ("cut",), lambda r: -r.outside, (-0.1, -0.2, -0.3, -0.4, -0.5)),
    ("confidence", ("size", "resolution", "blur", "brightness", "roll", "yaw", "pitch", "cut"),
     lambda r: r.confidence, (85, 87, 89, 91, 95)),
)


def print_limits(records: list[Record]) -> None:
    """Per measure, over the faces of the tables that vary it: `worst` is the best value
    of a face that was not reliable (a bar must lie above it to drop every such face), `safe`
    the lowest value from which on every face was reliable, `lowest` the lowest value of a
    reliable face; then what each candidate bar would do. Measures marked (-) are negated
    (higher = better)."""
    found = [r for r in records if r.found]
    print("limits per measure (higher = better; measures marked (-) are negated):")
    for name, tables, value, bars in MEASURES:
        rows = [r for r in found if r.table.split(":")[0] in tables and not math.isnan(value(r))]
        if not rows:
            continue
        failing = [value(r) for r in rows if not r.reliable]
        worst = max(failing) if failing else None
        safe = min((value(r) for r in rows if worst is None or value(r) > worst), default=None)
        passing = sorted(value(r) for r in rows if r.reliable)
        print(f"  {name:26} unreliable up to {_fmt(worst):>6}; all reliable from {_fmt(safe):>6}; "
              f"lowest reliable {_fmt(passing[0] if passing else None):>6} "
              f"({len(failing)} unreliable of {len(rows)})")
        for bar in bars:
            dropped_good = sum(1 for r in rows if r.reliable and value(r) < bar)
            kept_bad = sum(1 for r in rows if not r.reliable and value(r) >= bar)
            print(f"      bar {bar:>6g}: drops {dropped_good:3d} reliable, "
                  f"keeps {kept_bad:3d} unreliable")
    print("\nunreliable faces:")
    for r in found:
        if not r.reliable:
            print(f"  {r.table.split(':')[0]:10} {r.setting:>5} {r.person}/{r.photo}: "
                  f"box {r.box:.0f} "
                  f"roll {r.roll:.0f} yaw {r.yaw:.0f} pitch {r.pitch:.0f} "
                  f"bright {r.brightness:.0f} sharp {r.sharpness:.1f} conf {r.confidence:.1f} "
                  f"outside {r.outside:.2f} "
                  f"same {min(r.same):.1f} stranger {r.stranger:.1f}")


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.1f}"


if __name__ == "__main__":
    main()
