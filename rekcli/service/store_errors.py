"""The store's errors in Rekognition's terms: one table from the store's own exceptions
(rekcli/store/errors.py) to the AWS error code and AWS's wording.

The service reaches the store through `open_store`, so every store error leaves the service
as the ServiceError the CLI and the endpoint report (code, message, exit 254).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Callable, Iterator

from rekcli.service import errors as aws
from rekcli.service.context import ServiceContext
from rekcli.store import errors as store

if TYPE_CHECKING:  # pragma: no cover
    from rekcli.store import Store

# Store error class -> (AWS error class, its message). The first class on the error's MRO
# that is listed wins, so a subclass the table does not name gets its parent's mapping.
_AWS_ERRORS: dict[type, tuple[type, Callable]] = {
    store.CollectionNotFound: (
        aws.ResourceNotFoundException,
        lambda e: f"The collection id: {e.collection_id} does not exist"),
    store.CollectionExists: (
        aws.ResourceAlreadyExistsException,
        lambda e: f"The collection id: {e.collection_id} already exists."),
    store.TooManyTags: (
        aws.ServiceQuotaExceededException,
        lambda e: f"A resource can have at most {e.limit} tags."),
    store.CollectionFull: (
        aws.ServiceQuotaExceededException,
        lambda e: f"The collection id: {e.collection_id} would exceed the limit of "
                  f"{e.limit} faces per collection."),
    # Busy is retryable, as AWS's throttling is; the store says who held it.
    store.StoreBusy: (aws.ThrottlingException, str),
    # Damage, a full disk, an I/O error: a server-side fault, in the store's own words
    # (they name the local file, which only the store knows).
    store.StoreFailure: (aws.InternalServerError, str),
    store.StoreError: (aws.InternalServerError, str),
}


def aws_error(error: store.StoreError) -> aws.ServiceError:
    """The ServiceError the service answers for a store error."""
    for cls in type(error).__mro__:
        if cls in _AWS_ERRORS:
            error_class, message = _AWS_ERRORS[cls]
            return error_class(message(error))
    raise TypeError(f"not a store error: {error!r}")


@contextmanager
def aws_errors() -> Iterator[None]:
    """Store errors raised inside leave as the service's AWS errors."""
    try:
        yield
    except store.StoreError as error:
        raise aws_error(error) from error


@contextmanager
def open_store(ctx: ServiceContext) -> Iterator["Store"]:
    """The region's store, open for the length of the block; any store error raised in the
    block (or while closing) leaves as its AWS error."""
    from rekcli.store import Store

    with aws_errors(), Store(ctx) as store_:
        yield store_
