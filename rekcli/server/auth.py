"""`rekcli serve --auth-keys FILE`: verify SigV4 signatures against the operator's keys, with
the errors AWS's front door gives (400, lower-case "message", none of them retried)."""

from __future__ import annotations

import hmac
import time
from calendar import timegm
from pathlib import Path

from rekcli.server import sigv4
from rekcli.server.protocol import FrontDoorError

# Rekognition's clock window (its "Signature expired ... - 5 min." messages).
WINDOW_SECONDS = 5 * 60
_MISMATCH = ("The request signature we calculated does not match the signature you provided. "
             "Check your AWS Secret Access Key and signing method. Consult the service "
             "documentation for details.")


def _fail(code: str, message: str) -> FrontDoorError:
    error = FrontDoorError(code, message)
    error.lower = True  # AWS's front door writes "message", not "Message"
    return error


def read_keys(path: str) -> dict[str, str]:
    """One `ACCESS_KEY_ID SECRET_ACCESS_KEY` pair per line; blank lines and # comments."""
    keys = {}
    for number, line in enumerate(Path(path).read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 2:
            raise ValueError(f"{path}:{number}: expected ACCESS_KEY_ID SECRET_ACCESS_KEY")
        keys[parts[0]] = parts[1]
    if not keys:
        raise ValueError(f"{path}: no keys")
    return keys


class SignatureVerifier:
    def __init__(self, keys: dict[str, str], clock=time.time):
        self.keys = keys
        self.clock = clock

    def check(self, method: str, path: str, headers, body: bytes) -> None:
        header = headers.get("Authorization")
        if not header:
            raise _fail("MissingAuthenticationTokenException", "Missing Authentication Token")
        parsed = sigv4.parse_authorization(header)
        amz_date = headers.get("X-Amz-Date") or ""
        if parsed is None or len(amz_date) != 16:
            raise _fail("IncompleteSignatureException",
                        "Authorization header requires 'Credential', 'Signature', "
                        "'SignedHeaders' and 'X-Amz-Date' parameters.")
        signed = parsed["signed"].split(";")
        if "host" not in signed or "x-amz-date" not in signed \
                or parsed["date"] != amz_date[:8] or parsed["service"] != sigv4.SERVICE:
            raise _fail("IncompleteSignatureException", "Credential scope or signed headers "
                        "are not valid for this service.")
        secret = self.keys.get(parsed["akid"])
        if secret is None:
            raise _fail("UnrecognizedClientException",
                        "The security token included in the request is invalid.")
        self._check_clock(amz_date)
        expected = sigv4.signature(secret, amz_date, parsed["region"], signed,
                                   lambda name: headers.get(name), body, path.split("?")[0])
        if not hmac.compare_digest(expected, parsed["signature"]):
            raise _fail("InvalidSignatureException", _MISMATCH)

    def _check_clock(self, amz_date: str) -> None:
        try:
            signed_at = timegm(time.strptime(amz_date, "%Y%m%dT%H%M%SZ"))
        except ValueError:
            raise _fail("IncompleteSignatureException", "Invalid X-Amz-Date.") from None
        now = self.clock()
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
        if signed_at < now - WINDOW_SECONDS:
            early = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now - WINDOW_SECONDS))
            raise _fail("InvalidSignatureException", f"Signature expired: {amz_date} is now "
                        f"earlier than {early} ({stamp} - 5 min.)")
        if signed_at > now + WINDOW_SECONDS:
            late = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now + WINDOW_SECONDS))
            raise _fail("InvalidSignatureException", f"Signature not yet current: {amz_date} "
                        f"is still later than {late} ({stamp} + 5 min.)")
