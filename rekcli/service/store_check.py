"""CheckStore, rekcli's own operation (no AWS counterpart): check the local store."""

from __future__ import annotations

from rekcli.service.context import ServiceContext


def check_store(ctx: ServiceContext, collection_id: str | None = None) -> dict:
    """The damage report of the region's store (see rekcli/store/check.py)."""
    from rekcli.service.store_errors import open_store
    from rekcli.store.check import check_store as check

    with open_store(ctx) as store:
        return check(store, collection_id)
