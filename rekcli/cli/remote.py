"""`rekcli --endpoint-url URL ...`: send the call to a Rekognition endpoint (`rekcli serve`)
instead of running it here. Stdlib only: the client path never imports numpy, cv2 or dlib, so
a call costs an interpreter start plus one HTTP round trip.

The endpoint is chosen as botocore does: --endpoint-url, AWS_ENDPOINT_URL_REKOGNITION,
AWS_ENDPOINT_URL, the profile's `services` section (`rekognition = endpoint_url = ...`), the
profile's `endpoint_url`; AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true skips all but the flag.
"""

from __future__ import annotations

import base64
import json
import os
import random
import time
from datetime import datetime, timezone
from urllib.parse import urlsplit

from rekcli.cli.errors import GeneralError
from rekcli.service import model

TARGET_PREFIX = "RekognitionService."
# CLI v2's standard retry mode: 3 attempts for throttling and server faults.
MAX_ATTEMPTS = 3
RETRYABLE_STATUS = {500, 502, 503, 504}
THROTTLING_CODES = {"ThrottlingException", "ProvisionedThroughputExceededException",
                    "RequestLimitExceeded", "TooManyRequestsException"}


def configured_endpoint(settings) -> str | None:
    explicit = settings.globals.endpoint_url
    if explicit is not None:
        return explicit
    profile = settings.profile_config or {}
    ignore = (os.environ.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
              or profile.get("ignore_configured_endpoint_urls") or "")
    if ignore.strip().lower() == "true":
        return None
    for name in ("AWS_ENDPOINT_URL_REKOGNITION", "AWS_ENDPOINT_URL"):
        if os.environ.get(name):
            return os.environ[name]
    services = profile.get("services")
    if services:
        from rekcli.cli.settings import _read_ini

        section = _read_ini(_config_path()).get(f"services {services}", {})
        nested = _nested_endpoint(section.get("rekognition", ""))
        if nested:
            return nested
    return profile.get("endpoint_url") or None


def _config_path() -> str:
    return os.environ.get("AWS_CONFIG_FILE") or os.path.join(os.path.expanduser("~"), ".aws",
                                                             "config")


def _nested_endpoint(block: str) -> str | None:
    """`rekognition =\\n  endpoint_url = URL` in a services section."""
    for line in block.splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "endpoint_url" and value.strip():
            return value.strip()
    return None


def call(endpoint: str, operation_name: str, request: dict, settings) -> dict:
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise GeneralError(f"Invalid endpoint: {endpoint}")
    body = json.dumps(_encode(request), separators=(",", ":")).encode()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        status, payload = _post(parts, endpoint, operation_name, body, settings)
        if status < 300:
            response = json.loads(payload or b"{}")
            return _decode(response, model.operation(operation_name)["output"])
        code, message = _error_of(status, payload)
        if attempt < MAX_ATTEMPTS and (status in RETRYABLE_STATUS or code in THROTTLING_CODES):
            time.sleep(random.random() * min(20, 2 ** (attempt - 1)))
            continue
        from rekcli.service.errors import ServiceError

        error = ServiceError(message)
        error.code = code
        raise error
    raise AssertionError("unreachable")


def _post(parts, endpoint: str, operation_name: str, body: bytes, settings):
    import http.client

    port = parts.port or (443 if parts.scheme == "https" else 80)
    connection_class = (http.client.HTTPSConnection if parts.scheme == "https"
                        else http.client.HTTPConnection)
    timeout = float(settings.globals.cli_read_timeout or 60) or None
    host_header = parts.netloc.rpartition("@")[2]
    headers = {"Content-Type": "application/x-amz-json-1.1",
               "X-Amz-Target": TARGET_PREFIX + operation_name, "Host": host_header,
               "User-Agent": "rekcli"}
    _sign(headers, body, settings)
    connection = connection_class(parts.hostname, port, timeout=timeout)
    try:
        connection.request("POST", parts.path or "/", body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException):
        # The aws CLI's wording and exit code (255) for an endpoint it cannot reach.
        raise GeneralError(f'Could not connect to the endpoint URL: "{endpoint}"') from None
    finally:
        connection.close()


def _sign(headers: dict, body: bytes, settings) -> None:
    """Sign when credentials are configured (the region rides in the credential scope);
    otherwise, or with --no-sign-request, send the call unsigned as aws does."""
    if settings.globals.no_sign_request:
        return
    profile = settings.profile_config or {}
    access_key = os.environ.get("AWS_ACCESS_KEY_ID") or profile.get("aws_access_key_id")
    secret = os.environ.get("AWS_SECRET_ACCESS_KEY") or profile.get("aws_secret_access_key")
    if not (access_key and secret):
        return
    from rekcli.server import sigv4

    token = os.environ.get("AWS_SESSION_TOKEN") or profile.get("aws_session_token")
    amz_date = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    sigv4.sign(headers, body, access_key, secret, settings.region, amz_date, token)


def _error_of(status: int, payload: bytes) -> tuple[str, str]:
    """botocore's reading of a JSON 1.1 error: code from __type (after '#', before ':')."""
    try:
        body = json.loads(payload or b"{}")
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    code = str(body.get("__type") or status).rpartition("#")[2].partition(":")[0]
    return code, str(body.get("message") or body.get("Message") or "")


def _encode(value):
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {key: _encode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_encode(item) for item in value]
    return value


def _decode(value, shape: dict):
    """Epoch-second timestamps back to datetimes, as botocore hands them to the aws CLI."""
    kind = shape["type"]
    if kind == "structure" and isinstance(value, dict):
        members = shape["members"]
        return {key: _decode(item, model.shape(members[key])) for key, item in value.items()
                if key in members and item is not None}
    if kind == "list" and isinstance(value, list):
        return [_decode(item, model.shape(shape["member"])) for item in value]
    if kind == "map" and isinstance(value, dict):
        return {key: _decode(item, model.shape(shape["value"])) for key, item in value.items()}
    if kind == "timestamp" and isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, tz=timezone.utc)
    if kind == "blob" and isinstance(value, str):
        return base64.b64decode(value)
    return value
