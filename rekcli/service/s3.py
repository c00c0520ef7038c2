"""S3Object images read from S3, or from any S3-compatible store, with botocore.

Used when `REKCLI_S3_ROOT` is not set (with it, buckets are local folders: images.py). The
object is read with the caller's own credentials, region and endpoint, resolved by botocore
exactly as the aws CLI resolves them: environment, profiles, SSO and assume-role, and the
endpoint settings `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL` and a profile's `services`
section, so MinIO or Ceph need no rekcli setting. botocore is the optional extra `rekcli[s3]`,
imported only here, only when an S3Object is read.

Rekognition's contract: `Version` selects the object version; an object over 15 MB is
ImageTooLargeException, decided on the response's Content-Length before its body is read; a
missing key or bucket or a refused access is InvalidS3ObjectException with AWS's message, and
so is a bucket in another region: Rekognition reads only buckets of its own region, so the
redirect S3 answers with (301 PermanentRedirect, or 400 AuthorizationHeaderMalformed naming
the bucket's region), which botocore would follow, is refused (`_refuse_other_regions`). That
rule is AWS's, so it holds on AWS's own endpoints; an S3-compatible store at an endpoint of
your own (MinIO, Ceph: `AWS_ENDPOINT_URL_S3`...) keeps its own region rules and is read as
botocore reads it, whatever region it names. `REKCLI_S3_REGION_CHECK` changes that: `aws`
(the default, as just said), `always` (a custom endpoint that is AWS: a VPC or FIPS endpoint),
`never` (follow every redirect, as the aws CLI's own `s3` commands do). botocore retries transient errors
as it does for the aws CLI. Nothing here logs or echoes a credential: botocore's own loggers
are not enabled by `--debug`.
"""

from __future__ import annotations

import logging
import os
import threading
from contextlib import contextmanager

from rekcli.service.errors import (IMAGE_TOO_LARGE_MESSAGE, S3_OBJECT_MESSAGE,
                                   ImageTooLargeException, InvalidParameterException,
                                   InvalidS3ObjectException)
from rekcli.service.images import MAX_S3_BYTES

_log = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'rekcli[s3]'"
NO_CREDENTIALS_MESSAGE = (
    "Unable to get object metadata from S3: no AWS credentials were found. Configure them as "
    "for the aws CLI (aws configure, AWS_PROFILE, AWS_ACCESS_KEY_ID), or set REKCLI_S3_ROOT "
    "to read buckets from local folders.")

class BucketInAnotherRegion(Exception):
    """S3 says the bucket is in `bucket_region`, not the region rekcli (Rekognition) is in."""

    def __init__(self, bucket_region: str, region: str):
        super().__init__(f"the bucket is in {bucket_region}, not in {region}")
        self.bucket_region = bucket_region
        self.region = region


# One client per (profile, region) per process: creating one costs ~50 ms, and a batch
# worker or a server worker reads many objects.
_clients: dict = {}
_clients_lock = threading.Lock()


def read_object(s3_object: dict, region: str, profile: str | None = None) -> bytes:
    """The bytes of `s3_object` ({Bucket, Name, Version?}); every failure is an AWS error."""
    arguments = _object_arguments(s3_object)
    with _s3_errors():
        client = _client(region, profile)
        _log.debug("Reading s3://%s/%s (version %s) from %s", arguments["Bucket"],
                   arguments["Key"], arguments.get("VersionId", "latest"),
                   client.meta.endpoint_url)
        return _bounded_body(client.get_object(**arguments))


def list_objects(bucket: str, prefix: str, recursive: bool, region: str,
                 profile: str | None = None):
    """(key, ETag, size) of each object under `prefix` ('' or ending in '/'), in key order;
    with `recursive` under its sub-prefixes too, else only the prefix's own objects (as a
    folder lists its own files). Pages of 1,000 are fetched as they are consumed, so a
    prefix of a million keys is never held whole. Failures as read_object's: AWS's errors."""
    botocore_exceptions = _botocore_exceptions()
    arguments = {"Bucket": bucket, "Prefix": prefix}
    if not recursive:
        arguments["Delimiter"] = "/"
    try:
        pages = _client(region, profile).get_paginator("list_objects_v2").paginate(**arguments)
        for page in pages:
            for item in page.get("Contents", []):
                yield item["Key"], item.get("ETag", ""), item.get("Size", 0)
    except botocore_exceptions.ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        raise InvalidS3ObjectException(f"Unable to list s3://{bucket}/{prefix}: {code or error}") \
            from None
    except BucketInAnotherRegion as error:
        raise InvalidS3ObjectException(f"Unable to list s3://{bucket}/{prefix}: {error}") \
            from None
    except botocore_exceptions.NoCredentialsError:
        raise InvalidS3ObjectException(NO_CREDENTIALS_MESSAGE) from None
    except botocore_exceptions.BotoCoreError as error:
        raise InvalidS3ObjectException(f"Unable to list s3://{bucket}/{prefix}: {error}") from None


def _bounded_body(response: dict) -> bytes:
    body = response["Body"]
    try:
        if response.get("ContentLength", 0) > MAX_S3_BYTES:
            raise ImageTooLargeException(IMAGE_TOO_LARGE_MESSAGE)
        data = body.read(MAX_S3_BYTES + 1)  # a Content-Length that lied cannot cost more
        if len(data) > MAX_S3_BYTES:
            raise ImageTooLargeException(IMAGE_TOO_LARGE_MESSAGE)
        return data
    finally:
        body.close()


def _client(region: str, profile: str | None):
    with _clients_lock:
        client = _clients.get((profile, region))
        if client is None:
            import botocore.session

            session = botocore.session.Session(profile=profile)
            client = session.create_client("s3", region_name=region)
            if _checks_regions(client.meta.endpoint_url):
                client.meta.events.register("before-sign.s3", _refuse_other_regions)
            _clients[(profile, region)] = client
        return client


REGION_CHECK_ENV = "REKCLI_S3_REGION_CHECK"
REGION_CHECKS = ("aws", "always", "never")


def region_check_setting() -> str:
    """$REKCLI_S3_REGION_CHECK: `aws` (unset), `always` or `never`; InvalidParameterException
    for another value (the CLI checks it before any work, as configuration: exit 253)."""
    setting = os.environ.get(REGION_CHECK_ENV, "").strip().lower() or "aws"
    if setting not in REGION_CHECKS:
        raise InvalidParameterException(
            f"{REGION_CHECK_ENV}={os.environ.get(REGION_CHECK_ENV)!r} is not one of: "
            f"{', '.join(REGION_CHECKS)}")
    return setting


def _checks_regions(endpoint_url: str) -> bool:
    """Whether a bucket of another region is refused at this endpoint ($REKCLI_S3_REGION_CHECK:
    `aws`, the default, refuses on AWS's own endpoints only)."""
    from urllib.parse import urlsplit

    setting = region_check_setting()
    if setting != "aws":
        return setting == "always"
    host = (urlsplit(endpoint_url).hostname or "").lower()
    return host.endswith((".amazonaws.com", ".amazonaws.com.cn"))


def _refuse_other_regions(request, **kwargs) -> None:
    """Stop a request about to be signed for another region than the client's.

    That is botocore following S3's answer for a bucket of another region (a 301
    PermanentRedirect or a 400 AuthorizationHeaderMalformed, naming the region in the
    x-amz-bucket-region header or the error's Region), or going straight there for a bucket
    it was redirected for before. Rekognition refuses such a bucket, so rekcli does. A
    request in the client's own region (us-east-1 through the global endpoint included) and
    a store that names no region (MinIO, Ceph: nothing to follow) are untouched.
    """
    region = kwargs["request_signer"].region_name
    signing_region = request.context.get("signing", {}).get("region")
    if signing_region and region and signing_region != region:
        bucket = request.context.get("s3_redirect", {}).get("bucket")
        _log.debug("s3://%s is in %s, not in %s: refused, as Rekognition refuses a bucket of "
                   "another region", bucket, signing_region, region)
        raise BucketInAnotherRegion(signing_region, region)


def _botocore_exceptions():
    try:
        import botocore.exceptions
    except ImportError:
        raise InvalidS3ObjectException(
            "Unable to get object metadata from S3: reading S3 needs botocore, which is not "
            f"installed ({INSTALL_HINT}); or set REKCLI_S3_ROOT to read buckets from local "
            "folders.") from None
    return botocore.exceptions


# ---- large objects (stored video): sized first, then streamed to a file -------------------

_CHUNK_BYTES = 1 << 20


def object_size(s3_object: dict, region: str, profile: str | None = None) -> int:
    """The object's size from a HEAD request; every failure is InvalidS3ObjectException."""
    with _s3_errors():
        response = _client(region, profile).head_object(**_object_arguments(s3_object))
        return int(response.get("ContentLength", 0))


def download_object(s3_object: dict, region: str, profile: str | None, file) -> None:
    """Stream the object into the open binary `file`, a megabyte at a time."""
    with _s3_errors():
        body = _client(region, profile).get_object(**_object_arguments(s3_object))["Body"]
        try:
            for chunk in iter(lambda: body.read(_CHUNK_BYTES), b""):
                file.write(chunk)
        finally:
            body.close()


def _object_arguments(s3_object: dict) -> dict:
    bucket, key = s3_object.get("Bucket") or "", s3_object.get("Name") or ""
    if not bucket or not key:
        raise InvalidS3ObjectException(S3_OBJECT_MESSAGE)
    arguments = {"Bucket": bucket, "Key": key}
    if s3_object.get("Version"):
        arguments["VersionId"] = s3_object["Version"]
    return arguments


@contextmanager
def _s3_errors():
    """botocore's failures as AWS's InvalidS3ObjectException."""
    botocore_exceptions = _botocore_exceptions()
    try:
        yield
    except botocore_exceptions.ClientError:
        # NoSuchKey, NoSuchBucket, AccessDenied, a redirect to another region, ...: AWS
        # answers all of them with this one message.
        raise InvalidS3ObjectException(S3_OBJECT_MESSAGE) from None
    except BucketInAnotherRegion:
        raise InvalidS3ObjectException(S3_OBJECT_MESSAGE) from None
    except botocore_exceptions.NoCredentialsError:
        raise InvalidS3ObjectException(NO_CREDENTIALS_MESSAGE) from None
    except botocore_exceptions.BotoCoreError as error:
        raise InvalidS3ObjectException(f"Unable to get object metadata from S3: {error}") \
            from None
