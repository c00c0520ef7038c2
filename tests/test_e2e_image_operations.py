"""compare-faces and detect-faces for real: the dlib engine on the shared photos, through the
CLI, checking members, order, ranges, and the AWS answer to every bad input (reference §1.2).
"""

from __future__ import annotations

import json
import struct
import zlib

import pytest

from cli_helpers import run_cli

pytestmark = pytest.mark.e2e


def compare(capsys, source, target, *extra):
    return run_cli(capsys, "compare-faces", "--source-image-bytes", f"fileb://{source}",
                   "--target-image-bytes", f"fileb://{target}", *extra)


def detect(capsys, image, *extra):
    return run_cli(capsys, "detect-faces", "--image-bytes", f"fileb://{image}", *extra)


def assert_ratio_box(box):
    assert list(box) == ["Width", "Height", "Left", "Top"]
    assert 0 < box["Width"] <= 1.5 and 0 < box["Height"] <= 1.5
    assert -0.5 < box["Left"] < 1 and -0.5 < box["Top"] < 1


def test_compare_faces_finds_obama_among_two_people(capsys, faces_dir):
    code, out, err = compare(capsys, faces_dir / "people/obama/obama.jpg", faces_dir / "groups/two_people.jpg")
    assert code == 0, err
    response = json.loads(out)
    assert list(response) == ["SourceImageFace", "FaceMatches", "UnmatchedFaces"]
    assert list(response["SourceImageFace"]) == ["BoundingBox", "Confidence"]
    assert len(response["FaceMatches"]) == 1 and len(response["UnmatchedFaces"]) == 1
    match = response["FaceMatches"][0]
    assert list(match) == ["Similarity", "Face"]
    assert 80 <= match["Similarity"] <= 100
    face = match["Face"]
    assert list(face) == ["BoundingBox", "Confidence", "Landmarks", "Pose", "Quality"]
    assert_ratio_box(face["BoundingBox"])
    assert [l["Type"] for l in face["Landmarks"]] == ["eyeLeft", "eyeRight", "mouthLeft", "mouthRight", "nose"]
    assert list(face["Pose"]) == ["Roll", "Yaw", "Pitch"]
    assert all(-180 <= v <= 180 for v in face["Pose"].values())
    assert list(face["Quality"]) == ["Brightness", "Sharpness"]
    assert all(0 <= v <= 100 for v in face["Quality"].values())
    assert 0 <= face["Confidence"] <= 100


@pytest.mark.parametrize("quality_filter", ["NONE", "LOW"])
def test_the_same_photo_scores_exactly_100_whatever_the_options(capsys, faces_dir, quality_filter):
    photo = faces_dir / "people/obama/obama.jpg"
    code, out, _ = compare(capsys, photo, photo, "--quality-filter", quality_filter)
    assert json.loads(out)["FaceMatches"][0]["Similarity"] == 100.0


def test_threshold_moves_faces_between_matches_and_unmatched(capsys, faces_dir):
    code, out, _ = compare(capsys, faces_dir / "people/obama/obama.jpg", faces_dir / "groups/two_people.jpg",
                           "--similarity-threshold", "100")
    response = json.loads(out)
    assert response["FaceMatches"] == [] and len(response["UnmatchedFaces"]) == 2


def test_source_without_a_face_is_invalid_parameter(capsys, faces_dir):
    code, _, err = compare(capsys, faces_dir / "noface/dog.jpg", faces_dir / "groups/two_people.jpg")
    assert code == 254
    assert err == ("\nrekcli: [ERROR]: An error occurred (InvalidParameterException) when calling the "
                   "CompareFaces operation: There are no faces in the image. Should be at least 1.\n")


def test_target_without_a_face_is_invalid_parameter(capsys, faces_dir):
    code, _, err = compare(capsys, faces_dir / "people/obama/obama.jpg", faces_dir / "noface/eagle.jpg")
    assert code == 254 and "InvalidParameterException" in err


def test_compare_faces_text_output(capsys, faces_dir):
    code, out, _ = compare(capsys, faces_dir / "people/biden/biden.jpg", faces_dir / "groups/two_people.jpg",
                           "--query", "FaceMatches[].Similarity", "--output", "text")
    assert code == 0
    values = [float(v) for v in out.split()]
    assert len(values) == 1 and values[0] >= 80


def test_detect_faces_default_members(capsys, faces_dir):
    code, out, _ = detect(capsys, faces_dir / "groups/obama_and_biden.jpg")
    assert code == 0
    details = json.loads(out)["FaceDetails"]
    assert len(details) == 3
    areas = [d["BoundingBox"]["Width"] * d["BoundingBox"]["Height"] for d in details]
    assert areas == sorted(areas, reverse=True)
    for detail in details:
        assert list(detail) == ["BoundingBox", "Landmarks", "Pose", "Quality", "Confidence"]
        assert len(detail["Landmarks"]) == 5


def test_detect_faces_all_attributes_are_only_measured_ones(capsys, faces_dir):
    code, out, _ = detect(capsys, faces_dir / "people/obama/obama.jpg", "--attributes", "ALL")
    detail = json.loads(out)["FaceDetails"][0]
    from rekcli.engine import age_gender

    # AgeRange and Gender come from trained networks, with the age-gender extra only
    # (tests/test_age_gender.py).
    estimated = age_gender.available()
    assert list(detail) == ["BoundingBox"] + ["AgeRange"] * estimated + ["Smile"] + \
        ["Gender"] * estimated + ["EyesOpen", "MouthOpen", "Landmarks", "Pose", "Quality",
                                  "Confidence"]
    assert len(detail["Landmarks"]) == 30
    assert detail["Landmarks"][:5] == [l for l in detail["Landmarks"] if l["Type"] in
                                       ("eyeLeft", "eyeRight", "mouthLeft", "mouthRight", "nose")]
    assert isinstance(detail["EyesOpen"]["Value"], bool)
    for never_invented in ("Emotions", "Beard", "Eyeglasses", "Sunglasses", "Mustache"):
        assert never_invented not in detail


def test_detect_faces_named_attribute_adds_only_that(capsys, faces_dir):
    code, out, _ = detect(capsys, faces_dir / "people/obama/obama.jpg", "--attributes", "DEFAULT", "SMILE")
    detail = json.loads(out)["FaceDetails"][0]
    assert "Smile" in detail and "EyesOpen" not in detail and len(detail["Landmarks"]) == 5


def test_detect_faces_without_faces_is_an_empty_list(capsys, faces_dir):
    code, out, _ = detect(capsys, faces_dir / "noface/giraffe.jpg")
    assert code == 0 and json.loads(out) == {"FaceDetails": []}


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_orientation_gives_the_upright_boxes(capsys, faces_dir, orientation):
    _, upright, _ = detect(capsys, faces_dir / "people/obama/obama.jpg")
    _, rotated, _ = detect(capsys, faces_dir / f"edge/obama_exif_orientation_{orientation}.jpg")
    box_a = json.loads(upright)["FaceDetails"][0]["BoundingBox"]
    box_b = json.loads(rotated)["FaceDetails"][0]["BoundingBox"]
    for key in box_a:
        assert abs(box_a[key] - box_b[key]) < 0.03, (key, box_a, box_b)


@pytest.mark.parametrize("name", ["obama_grayscale.jpg", "obama_cmyk.jpg", "obama_progressive.jpg",
                                  "rgba_32bit.png"])
def test_unusual_encodings_are_accepted(capsys, faces_dir, name):
    code, out, err = detect(capsys, faces_dir / "edge" / name)
    assert code == 0, err
    assert "FaceDetails" in json.loads(out)


@pytest.mark.parametrize("name", ["obama.webp", "obama.bmp", "not_an_image.jpg", "obama_truncated.jpg"])
def test_bad_formats_are_invalid_image_format(capsys, faces_dir, name):
    code, _, err = detect(capsys, faces_dir / "edge" / name)
    assert code == 254
    assert err == ("\nrekcli: [ERROR]: An error occurred (InvalidImageFormatException) when calling "
                   "the DetectFaces operation: Request has invalid image format\n")


def test_image_under_80_pixels_is_invalid_parameter(capsys, faces_dir):
    code, _, err = detect(capsys, faces_dir / "edge/obama_tiny_60x75.jpg")
    assert code == 254
    assert "(InvalidParameterException) when calling the DetectFaces operation: Request has invalid parameters" in err


def test_more_than_5mb_of_bytes_is_image_too_large(capsys, tmp_path):
    big = tmp_path / "big.jpg"
    big.write_bytes(b"\xff\xd8\xff\xe0" + b"\0" * (5 * 1024 * 1024))
    code, _, err = detect(capsys, big)
    assert code == 254
    assert "(ImageTooLargeException) when calling the DetectFaces operation: Image size is too large" in err


def _png_claiming(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_tiny_png_claiming_huge_dimensions_is_refused_before_decoding(capsys, tmp_path):
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_png_claiming(60000, 60000))
    code, _, err = detect(capsys, bomb)
    assert code == 254
    assert "ImageTooLargeException" in err


def test_s3_object_resolves_under_the_bucket_root(capsys, faces_dir, monkeypatch):
    monkeypatch.setenv("REKCLI_S3_ROOT", str(faces_dir))
    code, out, err = run_cli(capsys, "detect-faces", "--image", "S3Object={Bucket=people,Name=obama/obama.jpg}")
    assert code == 0, err
    assert len(json.loads(out)["FaceDetails"]) == 1


@pytest.mark.parametrize("s3", ["S3Object={Bucket=people,Name=nobody.jpg}",
                                "S3Object={Bucket=people,Name=../groups/two_people.jpg}",
                                "S3Object={Bucket=people,Name=obama}",
                                '{"S3Object": {"Bucket": "people", "Name": "a\\u0000b"}}'])
def test_missing_or_escaping_s3_objects_are_invalid_s3_object(capsys, faces_dir, monkeypatch, s3):
    monkeypatch.setenv("REKCLI_S3_ROOT", str(faces_dir))
    code, _, err = run_cli(capsys, "detect-faces", "--image", s3)
    assert code == 254
    assert "InvalidS3ObjectException" in err


def test_a_symlink_cannot_lead_out_of_the_bucket(capsys, faces_dir, monkeypatch, tmp_path):
    (tmp_path / "bucket").mkdir()
    (tmp_path / "bucket" / "link.jpg").symlink_to(faces_dir / "people/obama/obama.jpg")
    monkeypatch.setenv("REKCLI_S3_ROOT", str(tmp_path))
    code, _, err = run_cli(capsys, "detect-faces", "--image", "S3Object={Bucket=bucket,Name=link.jpg}")
    assert code == 254 and "InvalidS3ObjectException" in err


def test_bytes_and_s3_object_together_are_invalid(capsys, faces_dir, monkeypatch):
    monkeypatch.setenv("REKCLI_S3_ROOT", str(faces_dir))
    code, _, err = run_cli(capsys, "detect-faces", "--image", "S3Object={Bucket=people,Name=obama/obama.jpg}",
                           "--image-bytes", f"fileb://{faces_dir / 'people/obama/obama.jpg'}")
    assert code == 254 and "InvalidParameterException" in err


def test_failed_stateless_calls_leave_nothing_behind(capsys, faces_dir, tmp_path):
    detect(capsys, faces_dir / "edge/obama_truncated.jpg")
    compare(capsys, faces_dir / "noface/dog.jpg", faces_dir / "groups/two_people.jpg")
    data_dir = tmp_path / "rekcli-data"
    assert not data_dir.exists() or not any(data_dir.rglob("*"))
