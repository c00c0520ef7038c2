"""SearchIndex, rekcli's own operation (no AWS counterpart): inspect, update or rebuild the
search index of a large collection (see rekcli/store/search_index.py)."""

from __future__ import annotations

import time

from rekcli.service.context import ServiceContext


class SearchIndexUnavailable(Exception):
    """A build was asked for where faiss (the `search-index` extra) is not installed."""


def search_index(ctx: ServiceContext, collection_id: str, rebuild: bool = False,
                 full: bool = False) -> dict:
    """The index's state ({"CollectionId", "State", ...}); with `rebuild`, built first:
    the rows added since the last build appended to it, or, with `full` or when it cannot
    be extended, trained and built anew ("Rebuilt": false when another builder was
    already at it)."""
    from rekcli.service.store_errors import open_store
    from rekcli.store import search_index as index

    with open_store(ctx) as store:
        collection = store.open_collection(collection_id)
        try:
            result: dict = {"CollectionId": collection_id}
            if rebuild:
                start = time.perf_counter()
                try:
                    built = index.build(collection, full=full)
                except index.IndexUnavailable as exc:
                    raise SearchIndexUnavailable(str(exc)) from None
                result["Rebuilt"] = built is not None
                if built is not None:
                    result["BuildSeconds"] = round(time.perf_counter() - start, 3)
                    result["Build"] = built["Kind"]
            return {**result, **index.status(collection)}
        finally:
            collection.close()
