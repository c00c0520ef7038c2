"""The store raises its own errors; the service answers them as AWS's codes and wording
(service/store_errors.py). One test per mapping, then the same through real store files."""

from __future__ import annotations

from pathlib import Path

import pytest

from rekcli.service import collections as svc
from rekcli.service.context import ServiceContext
from rekcli.service.errors import (
    InternalServerError,
    ResourceAlreadyExistsException,
    ResourceNotFoundException,
    ServiceError,
    ServiceQuotaExceededException,
    ThrottlingException,
)
from rekcli.service.store_errors import aws_error, open_store
from rekcli.store.errors import (
    DISK_FULL_MESSAGE,
    CollectionExists,
    CollectionFull,
    CollectionNotFound,
    DiskFull,
    NewerFormat,
    StoreBusy,
    StoreDamaged,
    StoreError,
    StoreFailure,
    TooManyTags,
)


@pytest.fixture
def ctx(tmp_path):
    return ServiceContext(data_dir=tmp_path / "data", region="us-west-2",
                          account_id="123456789012")


def test_collection_not_found_is_resource_not_found():
    error = aws_error(CollectionNotFound("family"))
    assert type(error) is ResourceNotFoundException
    assert error.message == "The collection id: family does not exist"


def test_collection_exists_is_resource_already_exists():
    error = aws_error(CollectionExists("family"))
    assert type(error) is ResourceAlreadyExistsException
    assert error.message == "The collection id: family already exists."


def test_too_many_tags_is_service_quota_exceeded():
    error = aws_error(TooManyTags(50))
    assert type(error) is ServiceQuotaExceededException
    assert error.message == "A resource can have at most 50 tags."


def test_collection_full_is_service_quota_exceeded():
    error = aws_error(CollectionFull("family", 20_000_000))
    assert type(error) is ServiceQuotaExceededException
    assert error.message == ("The collection id: family would exceed the limit of 20000000 "
                             "faces per collection.")


def test_busy_is_throttling_in_the_store_words():
    error = aws_error(StoreBusy("Timed out waiting for another writer of this collection; "
                                "try again."))
    assert type(error) is ThrottlingException
    assert error.message == ("Timed out waiting for another writer of this collection; "
                             "try again.")


def test_disk_full_is_internal_server_error():
    error = aws_error(DiskFull())
    assert type(error) is InternalServerError
    assert error.message == DISK_FULL_MESSAGE


def test_damage_is_internal_server_error_naming_the_file():
    error = aws_error(StoreDamaged(Path("/data/x/catalog.sqlite"), "the file is empty"))
    assert type(error) is InternalServerError
    assert error.message == (
        "The store file /data/x/catalog.sqlite is damaged (the file is empty). Nothing was "
        "changed. Restore the file from a backup, or delete the collection and index its "
        "faces again.")


def test_newer_format_is_internal_server_error():
    error = aws_error(NewerFormat("family", 99))
    assert type(error) is InternalServerError
    assert error.message == ("The collection id: family was written by a newer rekcli "
                             "(schema 99); upgrade rekcli to use it.")


def test_any_other_store_failure_is_internal_server_error():
    assert type(aws_error(StoreFailure("Local storage error: x"))) is InternalServerError
    assert aws_error(StoreError("something new")).message == "something new"


def test_the_store_errors_are_not_aws_errors():
    """The store no longer speaks AWS: none of its errors is a ServiceError."""
    from rekcli.store.vectors import VectorsMissing

    for cls in (CollectionNotFound, StoreBusy, StoreDamaged, VectorsMissing, DiskFull):
        assert not issubclass(cls, ServiceError)


# ---- through real store files ----------------------------------------------------------------


def test_open_store_answers_a_missing_collection_as_aws(ctx):
    with pytest.raises(ResourceNotFoundException) as raised:
        with open_store(ctx) as store:
            store.open_collection("nope")
    assert raised.value.message == "The collection id: nope does not exist"
    assert isinstance(raised.value.__cause__, CollectionNotFound)


def test_a_damaged_catalog_is_internal_server_error_through_the_service(ctx):
    svc.create_collection(ctx, {"CollectionId": "family"})
    catalog = ctx.data_dir / "us-west-2" / "catalog.sqlite"
    catalog.write_bytes(b"not a database" * 20)
    with pytest.raises(InternalServerError) as raised:
        svc.describe_collection(ctx, {"CollectionId": "family"})
    assert raised.value.message.startswith(f"The store file {catalog} is damaged (")
    assert isinstance(raised.value.__cause__, StoreDamaged)


def test_collection_state_answers_aws_errors(ctx):
    """rekcli's own entry point (the batch jobs call it directly) maps too."""
    with pytest.raises(ResourceNotFoundException):
        svc.collection_state(ctx, "nope")
