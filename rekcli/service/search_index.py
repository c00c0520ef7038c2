"""SearchIndex, rekcli's own operation (no AWS counterpart): inspect or rebuild the search
index of a large collection (see rekcli/store/search_index.py)."""

from __future__ import annotations

import time

from rekcli.service.context import ServiceContext


def search_index(ctx: ServiceContext, collection_id: str, rebuild: bool = False) -> dict:
    """The index's state ({"CollectionId", "State", ...}); with `rebuild`, built anew
    first ("Rebuilt": false when another builder was already at it)."""
    from rekcli.service.store_errors import open_store
    from rekcli.store import search_index as index

    with open_store(ctx) as store:
        collection = store.open_collection(collection_id)
        try:
            result: dict = {"CollectionId": collection_id}
            if rebuild:
                start = time.perf_counter()
                built = index.build(collection)
                result["Rebuilt"] = built is not None
                if built is not None:
                    result["BuildSeconds"] = round(time.perf_counter() - start, 3)
            return {**result, **index.status(collection)}
        finally:
            collection.close()
