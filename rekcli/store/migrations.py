"""Schemas as named migrations. A migration that has shipped is never edited: add a new one.

Two databases:
- the region catalog (`catalog.sqlite`): which collections exist and where they live;
- each collection's `meta.sqlite`: faces, users, idempotency tokens, and how many rows of
  `vectors.f32` are committed.
"""

from __future__ import annotations

import sqlite3


def m001_catalog(conn: sqlite3.Connection) -> None:
    conn.execute("""
        CREATE TABLE collections (
            id INTEGER PRIMARY KEY AUTOINCREMENT,   -- never reused: pagination positions
            collection_id TEXT NOT NULL UNIQUE,     -- user's id; BINARY collation = case-sensitive
            dir_name TEXT NOT NULL UNIQUE,          -- random hex; the directory under collections/
            face_model_version TEXT NOT NULL,
            created_at REAL NOT NULL
        )""")
    conn.execute("""
        CREATE TABLE tags (
            collection_pk INTEGER NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (collection_pk, key)
        ) WITHOUT ROWID""")
    # Secrets local to this data dir: the key that signs pagination tokens.
    conn.execute("CREATE TABLE secrets (name TEXT PRIMARY KEY, value BLOB NOT NULL)")
    conn.execute("INSERT INTO secrets (name, value) VALUES ('pagination', randomblob(32))")


def m001_collection(conn: sqlite3.Connection) -> None:
    # One row. committed_rows is the number of rows of vectors.f32 that belong to committed
    # requests (live or tombstoned); anything past it is debris of an interrupted write.
    conn.execute("""
        CREATE TABLE info (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            collection_id TEXT NOT NULL,
            face_model_version TEXT NOT NULL,
            created_at REAL NOT NULL,
            row_floats INTEGER NOT NULL,
            committed_rows INTEGER NOT NULL,
            face_count INTEGER NOT NULL,
            user_count INTEGER NOT NULL
        )""")
    conn.execute("""
        CREATE TABLE faces (
            row INTEGER PRIMARY KEY,            -- row of this face's vector in vectors.f32
            face_id TEXT NOT NULL UNIQUE,
            image_id TEXT NOT NULL,
            external_image_id TEXT,
            bbox_width REAL NOT NULL,
            bbox_height REAL NOT NULL,
            bbox_left REAL NOT NULL,
            bbox_top REAL NOT NULL,
            confidence REAL NOT NULL,
            model_version TEXT NOT NULL,
            user_id TEXT
        )""")
    conn.execute("CREATE INDEX faces_by_image ON faces (image_id, external_image_id)")
    conn.execute("CREATE INDEX faces_by_user ON faces (user_id, face_id) "
                 "WHERE user_id IS NOT NULL")
    conn.execute("""
        CREATE TABLE users (
            user_id TEXT PRIMARY KEY,
            face_count INTEGER NOT NULL DEFAULT 0,
            created_at REAL NOT NULL
        ) WITHOUT ROWID""")
    # Rows whose face was deleted but whose vector may not carry its +inf tombstone yet
    # (written right after the commit; redone by the next writer after a crash).
    conn.execute("CREATE TABLE pending_tombstones (row INTEGER PRIMARY KEY)")
    conn.execute("""
        CREATE TABLE request_tokens (
            token TEXT PRIMARY KEY,
            operation TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            response TEXT NOT NULL,
            created_at REAL NOT NULL
        )""")
    conn.execute("CREATE INDEX request_tokens_by_age ON request_tokens (created_at)")


def m002_collection(conn: sqlite3.Connection) -> None:
    # generation: bumped by every committed change to faces or users, so a job that saved
    # results against the collection (search-folder's journal) can tell it has changed.
    conn.execute("ALTER TABLE info ADD COLUMN generation INTEGER NOT NULL DEFAULT 0")
    # Images IndexFaces analysed and stored no face of (none found, or all filtered) with a
    # QualityFilter, and what analysed them (`analysed_by`, the engine's fingerprint; a newer
    # analysis replaces the row): a nightly index-folder skips them while both still hold.
    conn.execute("""
        CREATE TABLE images_without_faces (
            image_id TEXT NOT NULL,
            external_image_id TEXT NOT NULL,
            quality_filter TEXT NOT NULL,
            analysed_by TEXT NOT NULL,
            created_at REAL NOT NULL,
            PRIMARY KEY (image_id, external_image_id, quality_filter)
        ) WITHOUT ROWID""")


def m003_collection(conn: sqlite3.Connection) -> None:
    # vector_format: the row format of the vector file (constants.py). Collections from
    # before checksums are format 0; their next write rewrites the file in the current
    # format (a compaction), crash-safely. vector_generation names the current file
    # (vectors.f32 for 0, vectors-<n>.f32 after compactions).
    conn.execute("ALTER TABLE info ADD COLUMN vector_format INTEGER NOT NULL DEFAULT 0")
    conn.execute("ALTER TABLE info ADD COLUMN vector_generation INTEGER NOT NULL DEFAULT 0")


CATALOG_MIGRATIONS = [m001_catalog]
COLLECTION_MIGRATIONS = [m001_collection, m002_collection, m003_collection]

CATALOG_SCHEMA_VERSION = len(CATALOG_MIGRATIONS)
COLLECTION_SCHEMA_VERSION = len(COLLECTION_MIGRATIONS)
