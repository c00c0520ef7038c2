"""AWS Signature Version 4 for `POST /` JSON requests: the client signs with it
(`rekcli --endpoint-url`), `rekcli serve --auth` recomputes it. Stdlib only: botocore would
cost ~0.35 s of import on every client call."""

from __future__ import annotations

import hashlib
import hmac
import re

ALGORITHM = "AWS4-HMAC-SHA256"
SERVICE = "rekognition"
_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<akid>[^/,\s]+)/(?P<date>\d{8})/(?P<region>[^/,\s]+)/"
    r"(?P<service>[^/,\s]+)/aws4_request,\s*SignedHeaders=(?P<signed>[a-z0-9;\-]+),\s*"
    r"Signature=(?P<signature>[0-9a-f]{64})$")


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def signing_key(secret: str, date: str, region: str, service: str = SERVICE) -> bytes:
    key = _hmac(("AWS4" + secret).encode(), date)
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    return key


def _canonical_value(value: str) -> str:
    return " ".join(value.split())


def signature(secret: str, amz_date: str, region: str, signed_headers: list[str],
              header_value, body: bytes, path: str = "/", service: str = SERVICE) -> str:
    """`header_value(name)` gives each signed header's value (lower-case name)."""
    canonical = "\n".join([
        "POST", path, "",
        *(f"{name}:{_canonical_value(header_value(name) or '')}" for name in signed_headers),
        "", ";".join(signed_headers), hashlib.sha256(body).hexdigest()])
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    to_sign = "\n".join([ALGORITHM, amz_date, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = signing_key(secret, amz_date[:8], region, service)
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def sign(headers: dict, body: bytes, access_key: str, secret: str, region: str, amz_date: str,
         session_token: str | None = None) -> None:
    """Add X-Amz-Date and Authorization (and the token) to `headers`, as botocore does."""
    headers["X-Amz-Date"] = amz_date
    if session_token:
        headers["X-Amz-Security-Token"] = session_token
    lower = {name.lower(): value for name, value in headers.items()}
    signed = sorted(name for name in lower
                    if name in ("content-type", "host", "x-amz-date", "x-amz-target",
                                "x-amz-security-token"))
    value = signature(secret, amz_date, region, signed, lower.get, body)
    headers["Authorization"] = (f"{ALGORITHM} Credential={access_key}/{amz_date[:8]}/{region}/"
                                f"{SERVICE}/aws4_request, SignedHeaders={';'.join(signed)}, "
                                f"Signature={value}")


def parse_authorization(header: str) -> dict | None:
    match = _AUTHORIZATION.match(header.strip())
    return match.groupdict() if match else None
