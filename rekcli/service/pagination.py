"""Opaque, tamper-evident NextTokens for ListCollections, ListFaces and ListUsers.

A token is urlsafe base64 (no padding) of

    version (1 byte) | position (bytes, meaning chosen by the operation) | tag (12 bytes)

where tag = HMAC-SHA256(secret, version | operation | scope | position)[:12]. The secret is
32 random bytes created with the region's catalog; `scope` binds a token to where it was
issued (the region for ListCollections; the collection's incarnation - its random directory
name - for ListFaces/ListUsers, so a token outlives neither a delete-and-recreate nor a trip
to another collection or operation). A forged, altered, truncated or foreign token fails the
tag check and raises InvalidPaginationTokenException. Tokens stay within the 255-character
input limit: the longest (ListUsers, a 128-character UserId) is 188 characters.

Page sizes when MaxResults is absent (AWS does not document them, reference §1.7 / §6):
ListCollections 1000, ListFaces 1000, ListUsers 500 (its maximum). MaxResults=0, which the
model accepts for ListCollections/ListFaces, is treated like an absent MaxResults, and an
empty NextToken like an absent one (the first page).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from rekcli.service.errors import InvalidPaginationTokenException

DEFAULT_LIST_COLLECTIONS_PAGE = 1000
DEFAULT_LIST_FACES_PAGE = 1000
DEFAULT_LIST_USERS_PAGE = 500

TOKEN_VERSION = 1
_TAG_BYTES = 12
INVALID_TOKEN_MESSAGE = "Invalid Token"


def page_size(max_results: int | None, default: int) -> int:
    """MaxResults as given, or the default when absent or 0."""
    if not max_results:
        return default
    return int(max_results)


def _tag(secret: bytes, operation: str, scope: str, body: bytes) -> bytes:
    message = b"|".join([operation.encode(), scope.encode(), body])
    return hmac.new(secret, message, hashlib.sha256).digest()[:_TAG_BYTES]


def encode_token(secret: bytes, operation: str, scope: str, position: bytes) -> str:
    body = bytes([TOKEN_VERSION]) + position
    raw = body + _tag(secret, operation, scope, body)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_token(secret: bytes | None, operation: str, scope: str, token: str) -> bytes:
    """The position carried by `token`; InvalidPaginationTokenException unless it is
    exactly a token this data dir issued for this operation and scope."""
    if secret is None or not isinstance(token, str) or not token.isascii():
        raise InvalidPaginationTokenException(INVALID_TOKEN_MESSAGE)
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise InvalidPaginationTokenException(INVALID_TOKEN_MESSAGE) from None
    if len(raw) < 1 + _TAG_BYTES or raw[0] != TOKEN_VERSION:
        raise InvalidPaginationTokenException(INVALID_TOKEN_MESSAGE)
    body, tag = raw[:-_TAG_BYTES], raw[-_TAG_BYTES:]
    if not hmac.compare_digest(tag, _tag(secret, operation, scope, body)):
        raise InvalidPaginationTokenException(INVALID_TOKEN_MESSAGE)
    # Reject non-canonical spellings of the same bytes (e.g. altered padding bits).
    if encode_token(secret, operation, scope, body[1:]) != token:
        raise InvalidPaginationTokenException(INVALID_TOKEN_MESSAGE)
    return body[1:]


# -- positions of the three list operations --------------------------------------------------


def collections_token(secret: bytes, region: str, after_pk: int, offset: int) -> str:
    position = after_pk.to_bytes(8, "big") + offset.to_bytes(8, "big")
    return encode_token(secret, "ListCollections", region, position)


def read_collections_token(secret: bytes | None, region: str, token: str) -> tuple[int, int]:
    position = decode_token(secret, "ListCollections", region, token)
    if len(position) != 16:
        raise InvalidPaginationTokenException(INVALID_TOKEN_MESSAGE)
    return int.from_bytes(position[:8], "big"), int.from_bytes(position[8:], "big")


def faces_token(secret: bytes, scope: str, last_face_id: str) -> str:
    return encode_token(secret, "ListFaces", scope, last_face_id.encode("ascii"))


def read_faces_token(secret: bytes | None, scope: str, token: str) -> str:
    return decode_token(secret, "ListFaces", scope, token).decode("ascii", "replace")


def users_token(secret: bytes, scope: str, last_user_id: str) -> str:
    return encode_token(secret, "ListUsers", scope, last_user_id.encode("utf-8"))


def read_users_token(secret: bytes | None, scope: str, token: str) -> str:
    return decode_token(secret, "ListUsers", scope, token).decode("utf-8", "replace")


def collection_page_start(store, collection, token: str | None, read_token):
    """(secret, scope, position the page starts after) for a list within `collection`.

    `read_token` is read_faces_token or read_users_token; an empty token means the first page.
    """
    secret = store.pagination_secret()
    scope = collection.info.dir_name
    after = read_token(secret, scope, token) if token else None
    return secret, scope, after
