"""A bucket in another region: Rekognition reads only buckets of its own region, so rekcli
refuses one (InvalidS3ObjectException, AWS's message, exit 254) where botocore would follow
S3's redirect and read it.

moto's server does not redirect, so a small local server answers as S3 does for a bucket
of another region, over real HTTP to real botocore: 301 PermanentRedirect with the
x-amz-bucket-region header (no body for HEAD), or 400 AuthorizationHeaderMalformed naming the
Region in its body. Requests signed for the bucket's own region are served, so without the
refusal botocore's redirect would read the object.

The server stands at a custom endpoint, which by default is treated as an S3-compatible store
with its own region rules; REKCLI_S3_REGION_CHECK=always makes rekcli treat it as AWS (as for a
VPC endpoint), so most tests set it, and the last ones check the default and `never`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cli_helpers import import_test_extra

import_test_extra("botocore")

REKCLI = [sys.executable, "-m", "rekcli"]
AWS_MESSAGE = ("Unable to get object metadata from S3. Check object key, region and/or access "
               "permissions.")

# bucket -> (its region, how S3 answers a request signed for another one). None: a store
# that names no region (MinIO, Ceph) and serves every request.
BUCKETS = {
    "far-photos": ("eu-west-1", 301),
    "far-signed": ("eu-west-1", 400),
    "home-photos": ("us-east-1", 301),
    "minio-photos": (None, None),
}
KEY = "door/biden.jpg"

PERMANENT_REDIRECT = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PermanentRedirect</Code><Message>The '
    "bucket you are attempting to access must be addressed using the specified endpoint. Please "
    "send all future requests to this endpoint.</Message><Endpoint>{bucket}.s3.{region}."
    "amazonaws.com</Endpoint><Bucket>{bucket}</Bucket><RequestId>R1</RequestId><HostId>H1"
    "</HostId></Error>")
HEADER_MALFORMED = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AuthorizationHeaderMalformed</Code>'
    "<Message>The authorization header is malformed; the region '{signed}' is wrong; "
    "expecting '{region}'</Message><Region>{region}</Region><RequestId>R2</RequestId><HostId>H2"
    "</HostId></Error>")
LISTING = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/'
    'doc/2006-03-01/"><Name>{bucket}</Name><Prefix>door/</Prefix><KeyCount>1</KeyCount>'
    "<MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated><Contents><Key>" + KEY + "</Key>"
    "<LastModified>2026-12-04T08:00:00.000Z</LastModified><ETag>&quot;e1&quot;</ETag>"
    "<Size>{size}</Size><StorageClass>STANDARD</StorageClass></Contents></ListBucketResult>")


class RegionalS3(BaseHTTPRequestHandler):
    photo = b""
    seen: list = []  # (method, bucket, the region the request was signed for)

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):
        self._answer(head=False)

    def do_HEAD(self):
        self._answer(head=True)

    def _answer(self, head: bool):
        path, _, query = self.path.partition("?")
        bucket, _, key = path.lstrip("/").partition("/")
        scope = re.search(r"Credential=[^/]+/\d{8}/([^/]+)/s3/",
                          self.headers.get("Authorization", ""))
        signed = scope.group(1) if scope else None
        self.seen.append((self.command, bucket, signed))
        region, refusal = BUCKETS.get(bucket, (None, None))
        if region is not None and signed != region:
            template = PERMANENT_REDIRECT if refusal == 301 else HEADER_MALFORMED
            body = template.format(bucket=bucket, region=region, signed=signed).encode()
            self._send(refusal, body, head, {"x-amz-bucket-region": region,
                                             "Content-Type": "application/xml"})
        elif key:
            self._send(200, self.photo, head, {"Content-Type": "image/jpeg", "ETag": '"e1"'})
        else:
            body = LISTING.format(bucket=bucket, size=len(self.photo)).encode()
            self._send(200, body, head, {"Content-Type": "application/xml"})

    def _send(self, status: int, body: bytes, head: bool, headers: dict):
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)


@pytest.fixture(scope="module")
def s3_url(faces_dir):
    RegionalS3.photo = (faces_dir / "people/biden/biden.jpg").read_bytes()
    server = ThreadingHTTPServer(("127.0.0.1", 0), RegionalS3)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def aws_env(s3_url: str, tmp_path) -> dict:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("AWS_", "REKCLI_S3"))}
    env.update(AWS_ACCESS_KEY_ID="region-test-key", AWS_SECRET_ACCESS_KEY="region-test-secret",
               AWS_ENDPOINT_URL_S3=s3_url, AWS_EC2_METADATA_DISABLED="true",
               AWS_CONFIG_FILE=str(tmp_path / "no-config"),
               AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-credentials"),
               REKCLI_DATA_DIR=str(tmp_path / "data"), REKCLI_S3_REGION_CHECK="always")
    return env


@pytest.fixture
def s3(s3_url, tmp_path, monkeypatch):
    """rekcli.service.s3 reading from the server, with fresh clients and a fresh log."""
    from rekcli.service import s3 as s3_module

    for key in [key for key in os.environ if key.startswith(("AWS_", "REKCLI_S3"))]:
        monkeypatch.delenv(key)
    for key, value in aws_env(s3_url, tmp_path).items():
        if key.startswith(("AWS_", "REKCLI_S3")):
            monkeypatch.setenv(key, value)
    monkeypatch.setattr(s3_module, "_clients", {})
    RegionalS3.seen = []
    return s3_module


def photo(bucket: str) -> dict:
    return {"Bucket": bucket, "Name": KEY}


@pytest.mark.parametrize("bucket", ["far-photos", "far-signed"])
def test_a_bucket_in_another_region_is_refused_as_aws_refuses_it(s3, bucket):
    from rekcli.service.errors import InvalidS3ObjectException

    for _ in range(2):  # again, once botocore remembers where the bucket is
        with pytest.raises(InvalidS3ObjectException) as raised:
            s3.read_object(photo(bucket), "us-east-1")
        assert raised.value.message == AWS_MESSAGE
    # The redirect was never followed: no request signed for eu-west-1 left rekcli.
    assert RegionalS3.seen and all(signed == "us-east-1" for _, _, signed in RegionalS3.seen)


def test_a_head_request_of_another_region_is_refused(s3):
    """The size of a stored video is read with HEAD: a 301 without a body."""
    from rekcli.service.errors import InvalidS3ObjectException

    with pytest.raises(InvalidS3ObjectException, match=re.escape(AWS_MESSAGE)):
        s3.object_size(photo("far-photos"), "us-east-1")
    assert {signed for _, _, signed in RegionalS3.seen} == {"us-east-1"}


def test_a_bucket_is_read_in_its_own_region(s3):
    assert s3.read_object(photo("far-photos"), "eu-west-1") == RegionalS3.photo
    assert s3.read_object(photo("far-signed"), "eu-west-1") == RegionalS3.photo


def test_us_east_1_reads_its_own_buckets(s3):
    assert s3.read_object(photo("home-photos"), "us-east-1") == RegionalS3.photo


def test_a_store_that_names_no_region_is_read_from_any_region(s3):
    assert s3.read_object(photo("minio-photos"), "eu-central-1") == RegionalS3.photo
    assert s3.read_object(photo("minio-photos"), "us-east-1") == RegionalS3.photo


def test_listing_a_prefix_in_another_region_is_refused(s3):
    from rekcli.service.errors import InvalidS3ObjectException

    with pytest.raises(InvalidS3ObjectException) as raised:
        list(s3.list_objects("far-photos", "door/", False, "us-east-1"))
    assert raised.value.message == ("Unable to list s3://far-photos/door/: the bucket is in "
                                    "eu-west-1, not in us-east-1")
    assert list(s3.list_objects("far-photos", "door/", False, "eu-west-1")) == \
        [(KEY, '"e1"', len(RegionalS3.photo))]


# ---- at the CLI --------------------------------------------------------------------------


def rekcli(env: dict, *args: str):
    return subprocess.run(REKCLI + list(args), capture_output=True, text=True, env=env,
                          timeout=300)


def test_the_cli_answers_invalid_s3_object_with_exit_254(s3_url, tmp_path):
    image = json.dumps({"S3Object": photo("far-photos")})
    result = rekcli(aws_env(s3_url, tmp_path), "--region", "us-east-1", "detect-faces",
                    "--image", image)
    assert result.returncode == 254
    assert result.stdout == ""
    assert ("An error occurred (InvalidS3ObjectException) when calling the DetectFaces "
            f"operation: {AWS_MESSAGE}") in result.stderr


def test_a_folder_job_over_a_prefix_in_another_region_is_an_error_line(s3_url, tmp_path):
    env = aws_env(s3_url, tmp_path)
    assert rekcli(env, "--region", "us-east-1", "create-collection",
                  "--collection-id", "c").returncode == 0
    result = rekcli(env, "--region", "us-east-1", "search-folder", "--collection-id", "c",
                    "--images", "s3://far-photos/door/", "s3://home-photos/door/")
    assert result.returncode == 254, result.stderr
    lines = {line["Image"]: line for line in map(json.loads, result.stdout.splitlines())}
    refused = lines["s3://far-photos/door/"]["Error"]
    assert refused["Code"] == "FileError"  # as for any source that cannot be listed
    assert refused["Message"] == ("Unable to list s3://far-photos/door/: the bucket is in "
                                  "eu-west-1, not in us-east-1")
    assert "Response" in lines["s3://home-photos/door/biden.jpg"]


# ---- which endpoints the rule applies to --------------------------------------------------


def test_a_custom_endpoint_keeps_its_own_region_rules_by_default(s3, monkeypatch):
    """An S3-compatible store that names a region (MinIO set to eu-west-1, say) is read from
    any rekcli region, as botocore reads it: Rekognition's rule is AWS's."""
    monkeypatch.delenv("REKCLI_S3_REGION_CHECK")
    assert s3.read_object(photo("far-signed"), "us-east-1") == RegionalS3.photo
    assert s3.read_object(photo("far-photos"), "us-east-1") == RegionalS3.photo


def test_never_follows_every_redirect_and_an_unknown_value_is_an_error(s3, monkeypatch):
    from rekcli.service.errors import InvalidParameterException

    monkeypatch.setenv("REKCLI_S3_REGION_CHECK", "never")
    assert s3.read_object(photo("far-photos"), "us-east-1") == RegionalS3.photo
    monkeypatch.setattr(s3, "_clients", {})
    monkeypatch.setenv("REKCLI_S3_REGION_CHECK", "sometimes")
    with pytest.raises(InvalidParameterException, match="REKCLI_S3_REGION_CHECK='sometimes'"):
        s3.read_object(photo("far-photos"), "us-east-1")


def test_aws_endpoints_are_checked_by_default():
    from rekcli.service import s3

    assert s3._checks_regions("https://s3.amazonaws.com")
    assert s3._checks_regions("https://s3.eu-west-1.amazonaws.com")
    assert s3._checks_regions("https://s3.cn-north-1.amazonaws.com.cn")
    assert not s3._checks_regions("http://127.0.0.1:9000")
    assert not s3._checks_regions("https://minio.example.com")


def test_an_unknown_region_check_value_is_a_configuration_error_before_any_work(tmp_path):
    """As an unknown REKCLI_FACE_MODEL: exit 253 at once, not InvalidParameterException
    (exit 254) for each S3 image."""
    from cli_helpers import run_subprocess

    result = run_subprocess("detect-faces", "--image",
                            '{"S3Object": {"Bucket": "photos", "Name": "x.jpg"}}',
                            env={"REKCLI_S3_REGION_CHECK": "sometimes",
                                 "REKCLI_DATA_DIR": str(tmp_path / "data"),
                                 "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y"})
    assert result.returncode == 253, result.stderr
    assert b"REKCLI_S3_REGION_CHECK='sometimes' is not one of: aws, always, never" in result.stderr
