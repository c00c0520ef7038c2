"""Collections on disk: faces, users, vectors, locking, atomicity, search over vectors.

Importing this package is cheap (no numpy); vector code imports numpy inside functions.

    from rekcli.store import Store, NewFace, face_record, FACE_MODEL_VERSION
    with Store(ctx) as store:
        collection = store.open_collection("family")      # CollectionNotFound
        stored = collection.add_faces(image_id, "photo.jpg", [NewFace(box, 99.9, vec)])
        matches = collection.nearest_faces(vec, k=10, max_distance=0.6)

See catalog.py (region layout, create/delete atomicity), collection.py (per-collection
layout, crash safety, locking) and vectors.py (the vector file and search).
"""

from rekcli.store.catalog import Store
from rekcli.store.collection import Collection, CollectionTransaction
from rekcli.store.constants import FACE_MODEL_VERSION
from rekcli.store.records import (
    CollectionInfo,
    NewFace,
    StoredFace,
    UserRecord,
    face_record,
)

__all__ = [
    "FACE_MODEL_VERSION",
    "Collection",
    "CollectionInfo",
    "CollectionTransaction",
    "NewFace",
    "Store",
    "StoredFace",
    "UserRecord",
    "face_record",
]
