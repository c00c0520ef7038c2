"""The celebrity gallery: the people a user adds for RecognizeCelebrities, kept like a collection.

rekcli knows no celebrities. The gallery holds only the people the user added (their team,
their family, a watch list), under the region folder:

    celebrities/catalog.sqlite          a store of its own (catalog.py) holding one collection,
    celebrities/collections/<32 hex>/   GALLERY_COLLECTION: each face's ExternalImageId is the
                                        Id of the celebrity it shows
    celebrities/people.sqlite           who is who: Id, Name, Urls, KnownGender

So the gallery's faces get everything a collection has (private files, the write lock, crash
safety, CRCs, deletion that overwrites the descriptors), and user CollectionIds can never
reach it. Adding and deleting a celebrity both run under the collection's write lock: adding
records the person, then their faces; deleting removes the faces, then the person. A crash
between the two steps leaves at worst a person without faces (never matched, listed with
FaceCount 0, deletable), never a face of nobody.
"""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from rekcli.store.catalog import Store
from rekcli.store.collection import Collection
from rekcli.store.errors import CollectionExists, CollectionNotFound
from rekcli.store.files import make_private_dir
from rekcli.store.records import NewFace
from rekcli.store.sqlite import apply_migrations, connect, storage_errors, transaction

GALLERY_DIR = "celebrities"
PEOPLE_DB = "people.sqlite"
GALLERY_COLLECTION = "celebrities"
ID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
ID_LENGTH = 8  # like AWS's celebrity ids ("1SK7cR8M"): 62^8 ≈ 2e14 values


def m001_people(conn: sqlite3.Connection) -> None:
    conn.execute("""
        CREATE TABLE people (
            id TEXT PRIMARY KEY,          -- the celebrity Id: 8 letters and digits
            name TEXT NOT NULL,
            urls TEXT NOT NULL,           -- JSON list of strings
            known_gender TEXT,            -- Male, Female, Nonbinary, Unlisted or NULL
            created_at REAL NOT NULL
        )""")


PEOPLE_MIGRATIONS = [m001_people]


@dataclass(frozen=True)
class Celebrity:
    celebrity_id: str
    name: str
    urls: list[str]
    known_gender: str | None
    created_at: float
    face_count: int = 0


def new_celebrity_id() -> str:
    """8 random letters and digits (from uuid4, so the docs' seeded runs are repeatable)."""
    number = uuid.uuid4().int
    chars = []
    for _ in range(ID_LENGTH):
        number, digit = divmod(number, len(ID_ALPHABET))
        chars.append(ID_ALPHABET[digit])
    return "".join(chars)


class _GalleryPlace:
    """What a Store needs of its context, pointed at the gallery's own folder."""

    def __init__(self, ctx):
        self.region = ctx.region
        self.data_dir = ctx.data_dir
        self.region_dir = Path(ctx.region_dir) / GALLERY_DIR
        self.clock = ctx.clock
        self.notify = ctx.notify


class Gallery:
    """The gallery of one region. `Gallery(ctx)`; opening it touches nothing on disk.

    face_model_version: recorded when the first celebrity is added (the gallery's faces are
    descriptors like a collection's, and the same FaceModelVersion rule applies to them)."""

    def __init__(self, ctx, face_model_version: str | None = None):
        self.place = _GalleryPlace(ctx)
        self.new_face_model_version = face_model_version
        self.folder = self.place.region_dir
        self.store = Store(self.place)
        self._people: sqlite3.Connection | None = None
        self._faces: Collection | None = None

    def close(self) -> None:
        self.store.close()  # closes the gallery's collection too
        self._faces = None
        if self._people is not None:
            self._people.close()
            self._people = None

    def __enter__(self) -> "Gallery":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- plumbing -------------------------------------------------------------------------

    def _collection(self, create: bool) -> Collection | None:
        """The gallery's collection (opened once); None when nothing was ever added and not
        `create`."""
        if self._faces is None:
            try:
                self._faces = self.store.open_collection(GALLERY_COLLECTION)
            except CollectionNotFound:
                if not create:
                    return None
                try:
                    self.store.create_collection(
                        GALLERY_COLLECTION, face_model_version=self.new_face_model_version)
                except CollectionExists:
                    pass  # another process made it first
                self._faces = self.store.open_collection(GALLERY_COLLECTION)
        return self._faces

    def _people_db(self, create: bool) -> sqlite3.Connection | None:
        if self._people is None:
            path = self.folder / PEOPLE_DB
            with storage_errors(path):
                if create:  # joins a file another writer is creating, never replaces it
                    make_private_dir(self.folder)
                    conn = connect(path, create=True)
                elif not _has_bytes(path):
                    return None  # no gallery yet (or its first writer is not done)
                else:
                    conn = connect(path, allow_no_schema=True)
                try:
                    apply_migrations(conn, PEOPLE_MIGRATIONS, self.place.clock)
                except BaseException:
                    conn.close()
                    raise
            self._people = conn
        return self._people

    def _rows(self, sql: str, args=()) -> list[tuple]:
        conn = self._people_db(create=False)
        if conn is None:
            return []
        with storage_errors(self.folder / PEOPLE_DB), transaction(conn, write=False):
            return conn.execute(sql, args).fetchall()

    @staticmethod
    def _celebrity(row, face_count: int = 0) -> Celebrity:
        celebrity_id, name, urls, known_gender, created_at = row
        return Celebrity(celebrity_id, name, json.loads(urls), known_gender, created_at,
                         face_count)

    # -- reading --------------------------------------------------------------------------

    def find(self, celebrity_id: str) -> Celebrity | None:
        rows = self._rows("SELECT id, name, urls, known_gender, created_at FROM people "
                          "WHERE id = ?", (celebrity_id,))
        return self._celebrity(rows[0]) if rows else None

    def people(self) -> list[Celebrity]:
        """Everyone in the gallery, by name then Id, with their number of faces."""
        rows = self._rows("SELECT id, name, urls, known_gender, created_at FROM people "
                          "ORDER BY name, id")
        counts: dict[str, int] = {}
        collection = self._collection(create=False) if rows else None
        if collection is not None:
            with collection.read() as tx:
                counts = dict(tx.conn.execute(
                    "SELECT external_image_id, count(*) FROM faces GROUP BY external_image_id"))
        return [self._celebrity(row, counts.get(row[0], 0)) for row in rows]

    def faces(self) -> Collection | None:
        """The collection of the gallery's faces, None before the first celebrity."""
        return self._collection(create=False)

    def face_count(self) -> int:
        collection = self._collection(create=False)
        return 0 if collection is None else collection.counts()[0]

    def nearest(self, descriptor, max_distance: float) -> tuple[Celebrity, float] | None:
        """The celebrity whose gallery face is nearest `descriptor` within `max_distance`."""
        collection = self._collection(create=False)
        if collection is None:
            return None
        nearest = collection.nearest_faces(descriptor, 1, max_distance)
        if not nearest:
            return None
        face, distance = nearest[0]
        celebrity = self.find(face.external_image_id)
        return None if celebrity is None else (celebrity, distance)

    # -- writing --------------------------------------------------------------------------

    def add(self, name: str, urls: Sequence[str], known_gender: str | None,
            images: Sequence[tuple[str, Sequence[NewFace]]]) -> Celebrity:
        """A new celebrity with the faces of `images` ([(ImageId, faces)]); returns them."""
        from rekcli.store.vectors import augmented_rows

        faces = [(image_id, face) for image_id, image_faces in images for face in image_faces]
        rows = augmented_rows([face.descriptor for _, face in faces])
        people = self._people_db(create=True)
        collection = self._collection(create=True)
        with collection.write() as tx:
            celebrity = self._insert_person(people, name, list(urls), known_gender)
            entries = [(str(uuid.uuid4()), image_id, celebrity.celebrity_id, face)
                       for image_id, face in faces]
            tx.append_faces(entries, rows, return_faces=False)
        return Celebrity(celebrity.celebrity_id, name, list(urls), known_gender,
                         celebrity.created_at, len(faces))

    def add_faces(self, celebrity_id: str,
                  images: Sequence[tuple[str, Sequence[NewFace]]]) -> Celebrity | None:
        """More faces of an existing celebrity; None when there is no such celebrity. The
        person is looked up under the write lock, so a concurrent delete cannot leave the
        new faces to nobody."""
        from rekcli.store.vectors import augmented_rows

        faces = [(image_id, face) for image_id, image_faces in images for face in image_faces]
        rows = augmented_rows([face.descriptor for _, face in faces])
        if self.find(celebrity_id) is None:
            return None
        collection = self._collection(create=True)
        with collection.write() as tx:
            if self.find(celebrity_id) is None:
                return None
            entries = [(str(uuid.uuid4()), image_id, celebrity_id, face)
                       for image_id, face in faces]
            tx.append_faces(entries, rows, return_faces=False)
        # As listed, with the new FaceCount (None if deleted since: it is gone either way).
        return next((c for c in self.people() if c.celebrity_id == celebrity_id), None)

    def _insert_person(self, conn, name, urls, known_gender) -> Celebrity:
        created_at = round(self.place.clock(), 3)
        with storage_errors(self.folder / PEOPLE_DB):
            while True:
                celebrity_id = new_celebrity_id()
                try:
                    with transaction(conn):
                        conn.execute("INSERT INTO people (id, name, urls, known_gender, "
                                     "created_at) VALUES (?, ?, ?, ?, ?)",
                                     (celebrity_id, name, json.dumps(urls), known_gender,
                                      created_at))
                except sqlite3.IntegrityError:
                    continue  # the Id is taken (one chance in 1e14): draw another
                return Celebrity(celebrity_id, name, urls, known_gender, created_at)

    def delete(self, celebrity_id: str) -> int | None:
        """Delete a celebrity and their faces (descriptors overwritten, as DeleteFaces does);
        the number of faces deleted, or None when there is no such celebrity."""
        if self.find(celebrity_id) is None:
            return None
        collection = self._collection(create=False)
        deleted = 0
        if collection is not None:
            with collection.write() as tx:
                face_ids = [row[0] for row in tx.conn.execute(
                    "SELECT face_id FROM faces WHERE external_image_id = ?", (celebrity_id,))]
                deleted = len(tx.delete_faces(face_ids))
                self._delete_person(celebrity_id)
        else:
            self._delete_person(celebrity_id)
        return deleted

    def _delete_person(self, celebrity_id: str) -> None:
        conn = self._people_db(create=False)
        with storage_errors(self.folder / PEOPLE_DB), transaction(conn):
            conn.execute("DELETE FROM people WHERE id = ?", (celebrity_id,))


def _has_bytes(path: Path) -> bool:
    try:
        return os.stat(path, follow_symlinks=False).st_size > 0
    except FileNotFoundError:
        return False

