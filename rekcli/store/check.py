"""`rekcli check-store`: check a region's store and report every damage found, by file.

Checks the catalog (SQLite integrity_check, every listed collection has its folder) and, for
each collection, its database (integrity_check), its vector file (present, a regular file,
long enough), every row's checksum, that deleted faces' rows hold no descriptor, and that
the counts agree (Collection.verify). Reads only: nothing is repaired or re-created, so the
evidence stays as it was found.
"""

from __future__ import annotations

from rekcli.store.catalog import CATALOG_DB, Store
from rekcli.store.errors import CollectionNotFound, StoreError


def check_store(store: Store, collection_id: str | None = None) -> dict:
    """A report: {"Region", "DataDirectory", "Healthy", "Catalog", "Collections"}."""
    catalog = {"File": str(store.region_dir / CATALOG_DB), "Problems": []}
    report = {"Region": store.ctx.region, "DataDirectory": str(store.region_dir.parent),
              "Healthy": True, "Catalog": catalog, "Collections": []}
    try:
        infos = _catalog_problems(store, catalog["Problems"])
    except StoreError as exc:
        catalog["Problems"].append(str(exc))
        infos = []
    if collection_id is not None:
        infos = _the_collection(store, collection_id, catalog["Problems"])
    for info in infos:
        report["Collections"].append(_check_collection(store, info))
    report["Healthy"] = not catalog["Problems"] and not any(
        entry["Problems"] for entry in report["Collections"])
    return report


def _the_collection(store: Store, collection_id: str, problems: list) -> list:
    """[its info]; [] with the problem noted when a damaged catalog cannot say (the report
    is still printed). A collection the catalog does not list is CollectionNotFound."""
    try:
        return [store.collection_info(collection_id)]
    except CollectionNotFound:
        raise
    except StoreError as exc:
        if str(exc) not in problems:
            problems.append(str(exc))
        return []


def _catalog_problems(store: Store, problems: list) -> list:
    with store._read() as conn:
        if conn is None:
            return []  # no store yet: nothing to check
        result = [row[0] for row in conn.execute("PRAGMA integrity_check")]
        if result != ["ok"]:
            problems.append(f"{store.region_dir / CATALOG_DB}: " + "; ".join(result[:5]))
    infos, after = [], None
    while True:
        page, more = store.list_collections(1000, after_pk=after)
        infos.extend(info for _, info in page)
        if not more:
            return infos
        after = page[-1][0]


def _check_collection(store: Store, info) -> dict:
    path = store.collections_dir / info.dir_name
    entry = {"CollectionId": info.collection_id, "Directory": str(path), "Problems": []}
    if not path.is_dir():
        entry["Problems"].append(f"{path}: the collection's folder is missing or not a folder")
        return entry
    collection = None
    try:
        collection = store.open_collection(info.collection_id)
        result = collection.verify()
    except StoreError as exc:
        entry["Problems"].append(str(exc))
        return entry
    finally:
        if collection is not None:
            collection.close()
    problems = entry.pop("Problems")
    if "face_count" in result:
        entry.update({"VectorFile": result["vector_file"],
                      "VectorFormat": result["vector_format"],
                      "FaceCount": result["face_count"], "UserCount": result["user_count"],
                      "Rows": result["committed_rows"],
                      "DeletedRows": result["committed_rows"] - result["faces"],
                      "SearchIndex": result["search_index"]})
    else:
        entry["VectorFile"] = result.get("vector_file")
    entry["Problems"] = problems + result["problems"]
    return entry
