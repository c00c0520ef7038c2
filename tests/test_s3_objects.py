"""S3Object images read from a real S3 API (moto's standalone server on a free port) through
real botocore, as they are read from AWS or MinIO when REKCLI_S3_ROOT is not set."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

REKCLI = [sys.executable, "-m", "rekcli"]
SECRET = "s3-test-secret-never-printed"
AWS_MESSAGE = ("Unable to get object metadata from S3. Check object key, region and/or access "
               "permissions.")


@pytest.fixture(scope="module")
def s3_url(s3_api_url):
    return s3_api_url


def s3_env(s3_url: str, data_dir: Path, **extra) -> dict:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("AWS_", "REKCLI_S3"))}
    env.update(REKCLI_DATA_DIR=str(data_dir), AWS_ACCESS_KEY_ID="s3-test-key",
               AWS_SECRET_ACCESS_KEY=SECRET, AWS_DEFAULT_REGION="us-east-1",
               AWS_ENDPOINT_URL_S3=s3_url, AWS_EC2_METADATA_DISABLED="true",
               AWS_CONFIG_FILE=str(data_dir / "no-config"),
               AWS_SHARED_CREDENTIALS_FILE=str(data_dir / "no-credentials"), **extra)
    return env


@pytest.fixture(scope="module")
def bucket(s3_url, faces_dir, tmp_path_factory):
    """A versioned bucket: people/obama.jpg (its first version obama.jpg, its second a photo
    without a face), a 16 MB object, and the biden photos."""
    import boto3

    client = boto3.client("s3", endpoint_url=s3_url, region_name="us-east-1",
                          aws_access_key_id="s3-test-key", aws_secret_access_key=SECRET)
    client.create_bucket(Bucket="photos")
    client.put_bucket_versioning(Bucket="photos",
                                 VersioningConfiguration={"Status": "Enabled"})
    first = client.put_object(Bucket="photos", Key="door/obama.jpg",
                              Body=(faces_dir / "people/obama/obama.jpg").read_bytes())
    client.put_object(Bucket="photos", Key="door/obama.jpg",
                      Body=(faces_dir / "noface/dog.jpg").read_bytes())
    client.put_object(Bucket="photos", Key="people/biden.jpg",
                      Body=(faces_dir / "people/biden/biden.jpg").read_bytes())
    client.put_object(Bucket="photos", Key="huge.jpg", Body=b"\xff\xd8" + b"\0" * (16 << 20))
    return {"first_version": first["VersionId"],
            "data_dir": tmp_path_factory.mktemp("s3-data")}


def rekcli(env: dict, *args: str):
    return subprocess.run(REKCLI + list(args), capture_output=True, text=True, env=env)


def s3_image(name: str, version: str | None = None) -> str:
    image = {"S3Object": {"Bucket": "photos", "Name": name}}
    if version:
        image["S3Object"]["Version"] = version
    return json.dumps(image)


def test_an_s3_object_gives_what_its_bytes_give(s3_url, bucket, faces_dir):
    env = s3_env(s3_url, bucket["data_dir"])
    from_s3 = rekcli(env, "detect-faces", "--image", s3_image("people/biden.jpg"))
    from_file = rekcli(env, "detect-faces", "--image-bytes",
                       f"fileb://{faces_dir / 'people/biden/biden.jpg'}")
    assert from_s3.returncode == 0, from_s3.stderr
    assert json.loads(from_s3.stdout) == json.loads(from_file.stdout)
    assert len(json.loads(from_s3.stdout)["FaceDetails"]) == 1


def test_version_selects_the_object_version(s3_url, bucket):
    env = s3_env(s3_url, bucket["data_dir"])
    latest = rekcli(env, "detect-faces", "--image", s3_image("door/obama.jpg"))
    first = rekcli(env, "detect-faces", "--image",
                   s3_image("door/obama.jpg", bucket["first_version"]))
    assert json.loads(latest.stdout)["FaceDetails"] == []  # the dog
    assert len(json.loads(first.stdout)["FaceDetails"]) == 1, first.stderr


def test_compare_faces_and_index_faces_read_s3(s3_url, bucket):
    env = s3_env(s3_url, bucket["data_dir"])
    compared = rekcli(env, "compare-faces", "--source-image", s3_image("people/biden.jpg"),
                      "--target-image", s3_image("door/obama.jpg", bucket["first_version"]))
    assert compared.returncode == 0, compared.stderr
    assert json.loads(compared.stdout)["FaceMatches"] == []  # biden is not obama
    assert rekcli(env, "create-collection", "--collection-id", "door").returncode == 0
    indexed = rekcli(env, "index-faces", "--collection-id", "door", "--image",
                     s3_image("people/biden.jpg"))
    assert len(json.loads(indexed.stdout)["FaceRecords"]) == 1, indexed.stderr


@pytest.mark.parametrize("name, bucket_name", [("nobody.jpg", "photos"),
                                               ("people/biden.jpg", "no-such-bucket")])
def test_missing_key_or_bucket_is_aws_s3_error(s3_url, bucket, name, bucket_name):
    image = json.dumps({"S3Object": {"Bucket": bucket_name, "Name": name}})
    result = rekcli(s3_env(s3_url, bucket["data_dir"]), "detect-faces", "--image", image)
    assert result.returncode == 254
    assert ("An error occurred (InvalidS3ObjectException) when calling the DetectFaces "
            f"operation: {AWS_MESSAGE}") in result.stderr


def test_missing_version_is_aws_s3_error(s3_url, bucket):
    result = rekcli(s3_env(s3_url, bucket["data_dir"]), "detect-faces", "--image",
                    s3_image("door/obama.jpg", "no-such-version"))
    assert result.returncode == 254 and AWS_MESSAGE in result.stderr


def test_an_object_over_15_mb_is_too_large(s3_url, bucket):
    result = rekcli(s3_env(s3_url, bucket["data_dir"]), "detect-faces", "--image",
                    s3_image("huge.jpg"))
    assert result.returncode == 254
    assert "ImageTooLargeException" in result.stderr


def test_no_credentials_says_so(s3_url, bucket):
    env = s3_env(s3_url, bucket["data_dir"])
    del env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
    result = rekcli(env, "detect-faces", "--image", s3_image("people/biden.jpg"))
    assert result.returncode == 254
    assert "InvalidS3ObjectException" in result.stderr
    assert "no AWS credentials were found" in result.stderr


def test_credentials_never_printed_even_with_debug(s3_url, bucket):
    result = rekcli(s3_env(s3_url, bucket["data_dir"]), "--debug", "detect-faces", "--image",
                    s3_image("people/biden.jpg"))
    assert result.returncode == 0
    assert "s3://photos/people/biden.jpg" in result.stderr  # the debug log is on
    assert SECRET not in result.stdout + result.stderr


def env_with_only_a_profile(s3_url, data_dir, tmp_path) -> dict:
    """Credentials only in the profile `door` of a credentials file, none in the env."""
    env = s3_env(s3_url, data_dir)
    del env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
    credentials = tmp_path / "credentials"
    credentials.write_text(f"[door]\naws_access_key_id = s3-test-key\n"
                           f"aws_secret_access_key = {SECRET}\n")
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(credentials)
    return env


def test_profile_credentials_are_used(s3_url, bucket, tmp_path):
    env = env_with_only_a_profile(s3_url, bucket["data_dir"], tmp_path)
    result = rekcli(env, "--profile", "door", "detect-faces", "--image",
                    s3_image("people/biden.jpg"))
    assert result.returncode == 0, result.stderr


def test_without_the_extra_the_error_says_how_to_install_it(s3_url, bucket):
    probe = ("import sys\nsys.modules['botocore'] = None\n"
             "from rekcli.cli.main import main\n"
             f"sys.exit(main(['detect-faces', '--image', {s3_image('people/biden.jpg')!r}]))\n")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            env=s3_env(s3_url, bucket["data_dir"]))
    assert result.returncode == 254
    assert "pip install 'rekcli[s3]'" in result.stderr


def test_local_bucket_root_still_wins(s3_url, bucket, faces_dir):
    env = s3_env(s3_url, bucket["data_dir"], REKCLI_S3_ROOT=str(faces_dir))
    result = rekcli(env, "detect-faces", "--image",
                    json.dumps({"S3Object": {"Bucket": "people", "Name": "obama/obama.jpg"}}))
    assert result.returncode == 0 and len(json.loads(result.stdout)["FaceDetails"]) == 1


def test_batch_reads_s3_with_the_profile_given(s3_url, bucket, tmp_path):
    env = env_with_only_a_profile(s3_url, bucket["data_dir"], tmp_path)
    requests = tmp_path / "requests.jsonl"
    requests.write_text(json.dumps({"Image": json.loads(s3_image("people/biden.jpg"))}) + "\n")
    result = rekcli(env, "--profile", "door", "batch", "detect-faces", "--input-file",
                    str(requests))
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(json.loads(result.stdout)["FaceDetails"]) == 1


# ---- folder jobs over an S3 prefix ---------------------------------------------------------

@pytest.fixture(scope="module")
def album(s3_url, faces_dir, tmp_path_factory):
    """The same three photos in a bucket (album/2024/..., album/2025/...) and in a local
    folder laid out alike, and a non-image object that the jobs must pass over."""
    import boto3

    client = boto3.client("s3", endpoint_url=s3_url, region_name="us-east-1",
                          aws_access_key_id="s3-test-key", aws_secret_access_key=SECRET)
    client.create_bucket(Bucket="album")
    local = tmp_path_factory.mktemp("album")
    layout = {"2024/obama.jpg": "people/obama/obama.jpg", "2024/biden.jpg": "people/biden/biden.jpg",
              "2025/obama2.jpg": "people/obama/obama2.jpg"}
    for key, photo_path in layout.items():
        data = (faces_dir / photo_path).read_bytes()
        client.put_object(Bucket="album", Key=key, Body=data)
        (local / key).parent.mkdir(parents=True, exist_ok=True)
        (local / key).write_bytes(data)
    client.put_object(Bucket="album", Key="2024/notes.txt", Body=b"not a photo")
    return {"client": client, "local": local}


def lines_of(result) -> list[dict]:
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_index_folder_over_a_prefix_gives_what_the_same_local_folder_gives(s3_url, album,
                                                                           tmp_path):
    env = s3_env(s3_url, tmp_path / "data")
    for collection in ("from-s3", "from-disk"):
        assert rekcli(env, "create-collection", "--collection-id", collection).returncode == 0
    from_s3 = lines_of(rekcli(env, "index-folder", "--collection-id", "from-s3", "--images",
                              "s3://album/", "--recursive"))
    from_disk = lines_of(rekcli(env, "index-folder", "--collection-id", "from-disk", "--images",
                                str(album["local"]), "--recursive"))
    assert [line["Image"] for line in from_s3] == ["s3://album/2024/biden.jpg",
                                                  "s3://album/2024/obama.jpg",
                                                  "s3://album/2025/obama2.jpg"]
    assert [line["ExternalImageId"] for line in from_s3] == \
        [line["ExternalImageId"] for line in from_disk] == \
        ["2024:biden.jpg", "2024:obama.jpg", "2025:obama2.jpg"]
    assert [len(line["Response"]["FaceRecords"]) for line in from_s3] == \
        [len(line["Response"]["FaceRecords"]) for line in from_disk] == [1, 1, 1]
    again = lines_of(rekcli(env, "index-folder", "--collection-id", "from-s3", "--images",
                            "s3://album/", "--recursive"))
    assert [line.get("Skipped") for line in again] == ["ALREADY_INDEXED"] * 3
    one_level = lines_of(rekcli(env, "search-folder", "--collection-id", "from-s3", "--images",
                                "s3://album/2025"))
    assert [line["Image"] for line in one_level] == ["s3://album/2025/obama2.jpg"]
    assert one_level[0]["Response"]["FaceMatches"][0]["Face"]["ExternalImageId"] in \
        ("2024:obama.jpg", "2025:obama2.jpg")


def test_a_prefix_that_cannot_be_listed_is_an_error_line(s3_url, album, tmp_path):
    env = s3_env(s3_url, tmp_path / "data")
    rekcli(env, "create-collection", "--collection-id", "c")
    result = rekcli(env, "search-folder", "--collection-id", "c", "--images", "s3://no-bucket/x/",
                    "s3://album/2025/")
    assert result.returncode == 254
    lines = {line["Image"]: line for line in map(json.loads, result.stdout.splitlines())}
    assert "NoSuchBucket" in lines["s3://no-bucket/x/"]["Error"]["Message"]
    assert "Response" in lines["s3://album/2025/obama2.jpg"]


def test_listing_pages_past_1000_keys_and_etags_tell_versions_apart(s3_url, album,
                                                                     monkeypatch):
    from rekcli.batch.jobs import find_images
    from rekcli.service import s3

    client = album["client"]
    client.create_bucket(Bucket="big")
    for number in range(1003):
        client.put_object(Bucket="big", Key=f"many/{number:04d}.jpg", Body=b"x")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "s3-test-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setattr(s3, "_clients", {})  # a client made with this test's settings

    def listing(bucket, prefix, recursive):
        return s3.list_objects(bucket, prefix, recursive, "us-east-1")

    found = find_images(["s3://big/many/"], True, listing)
    assert len(found) == 1003 and found[-1].name == "1002.jpg"
    before = found[1].path.etag
    client.put_object(Bucket="big", Key="many/0001.jpg", Body=b"y")
    assert find_images(["s3://big/many/"], False, listing)[1].path.etag != before
