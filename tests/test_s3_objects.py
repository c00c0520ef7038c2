"""S3Object images read from a real S3 API (moto's standalone server on a free port) through
real botocore, as they are read from AWS or MinIO when REKCLI_S3_ROOT is not set."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

REKCLI = [sys.executable, "-m", "rekcli"]
MOTO_SERVER = Path(sys.executable).with_name("moto_server")
SECRET = "s3-test-secret-never-printed"
AWS_MESSAGE = ("Unable to get object metadata from S3. Check object key, region and/or access "
               "permissions.")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def s3_url():
    if not MOTO_SERVER.exists():
        if os.environ.get("CI"):
            pytest.fail(f"moto's server (test extra) is not installed at {MOTO_SERVER}")
        pytest.skip("moto's server (test extra) is not installed")
    port = _free_port()
    server = subprocess.Popen([str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)


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


def test_profile_credentials_are_used(s3_url, bucket, tmp_path):
    env = s3_env(s3_url, bucket["data_dir"])
    del env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
    credentials = tmp_path / "credentials"
    credentials.write_text(f"[door]\naws_access_key_id = s3-test-key\n"
                           f"aws_secret_access_key = {SECRET}\n")
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(credentials)
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
    env = s3_env(s3_url, bucket["data_dir"])
    del env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
    credentials = tmp_path / "credentials"
    credentials.write_text(f"[door]\naws_access_key_id = s3-test-key\n"
                           f"aws_secret_access_key = {SECRET}\n")
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(credentials)
    requests = tmp_path / "requests.jsonl"
    requests.write_text(json.dumps({"Image": json.loads(s3_image("people/biden.jpg"))}) + "\n")
    result = rekcli(env, "--profile", "door", "batch", "detect-faces", "--input-file",
                    str(requests))
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(json.loads(result.stdout)["FaceDetails"]) == 1
