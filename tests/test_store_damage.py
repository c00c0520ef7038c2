"""Issue 19.5 and 18.12: a damaged store is reported by name, never answered around."""

from __future__ import annotations

import os

import numpy as np
import pytest

from cli_helpers import run_subprocess
from rekcli.service.context import ServiceContext
from rekcli.store import NewFace, Store

BOX = {"Width": 0.25, "Height": 0.5, "Left": 0.1, "Top": 0.125}


@pytest.fixture
def data_dir(tmp_path):
    data_dir = tmp_path / "data"
    vectors = np.random.default_rng(3).standard_normal((40, 128)).astype(np.float32)
    with Store(ServiceContext(data_dir=data_dir, notify=lambda m: None)) as store:
        store.create_collection("c")
        collection = store.open_collection("c")
        collection.add_faces("img", "photo.jpg", [NewFace(dict(BOX), 99.0, v) for v in vectors])
    return data_dir


def _collection_dir(data_dir):
    [path] = (data_dir / "us-east-1" / "collections").iterdir()
    return path


def _cli(data_dir, *args):
    return run_subprocess(*args, env={"REKCLI_DATA_DIR": str(data_dir)})


def _assert_reported(result, path):
    assert result.returncode == 254, result.stderr
    assert b"InternalServerError" in result.stderr
    assert str(path).encode() in result.stderr
    assert b"backup" in result.stderr
    assert b"NoneType" not in result.stderr and result.stdout == b""


def _empty(path):
    os.truncate(path, 0)


def _truncate_half(path):
    os.truncate(path, os.path.getsize(path) // 2)


def _scribble(path):
    with open(path, "r+b") as f:
        f.write(b"this is not a database at all" * 4)


def _scribble_pages(path):
    """Header page intact, every later page garbage: found only when a query reads them."""
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        f.seek(4096)
        f.write(np.random.default_rng(5).integers(0, 256, size - 4096, np.uint8).tobytes())


def _remove(path):
    os.unlink(path)


def _symlink(path):
    """A link planted at a database's name is refused, not followed."""
    elsewhere = path.with_name(path.name + ".elsewhere")
    os.rename(path, elsewhere)
    os.symlink(elsewhere, path)


DAMAGE = {"empty": _empty, "truncated": _truncate_half, "corrupt": _scribble,
          "pages": _scribble_pages, "missing": _remove, "symlink": _symlink}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_meta_database_is_reported_by_name(data_dir, damage):
    meta = _collection_dir(data_dir) / "meta.sqlite"
    DAMAGE[damage](meta)
    size_after_damage = os.lstat(meta).st_size if os.path.lexists(meta) else None
    for args in (("list-faces", "--collection-id", "c"),
                 ("describe-collection", "--collection-id", "c"),
                 ("delete-faces", "--collection-id", "c", "--face-ids",
                  "11111111-1111-4111-8111-111111111111")):
        _assert_reported(_cli(data_dir, *args), meta)
    # The evidence is left as it was: nothing re-initialised over it.
    assert (os.lstat(meta).st_size if os.path.lexists(meta) else None) == size_after_damage


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_catalog_is_reported_and_nothing_is_set_aside(data_dir, damage):
    catalog = data_dir / "us-east-1" / "catalog.sqlite"
    DAMAGE[damage](catalog)
    collection_dir = _collection_dir(data_dir)
    _assert_reported(_cli(data_dir, "list-collections"), catalog)
    _assert_reported(_cli(data_dir, "create-collection", "--collection-id", "other"), catalog)
    assert [p.name for p in (data_dir / "us-east-1" / "collections").iterdir()] == \
        [collection_dir.name]


def test_a_region_folder_that_is_a_file_is_an_error_not_an_empty_list(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    (data_dir / "us-east-1").write_bytes(b"")
    result = _cli(data_dir, "list-collections")
    assert result.returncode == 254 and b"us-east-1" in result.stderr
    assert b"not a folder" in result.stderr and result.stdout == b""


def test_an_empty_catalog_left_by_a_first_create_that_died_is_started_afresh(tmp_path):
    """No collection depends on it, so it is not damage: the next create proceeds."""
    region = tmp_path / "data" / "us-east-1"
    (region / "collections").mkdir(parents=True, mode=0o700)
    (region / "catalog.sqlite").write_bytes(b"")
    result = _cli(tmp_path / "data", "create-collection", "--collection-id", "fresh")
    assert result.returncode == 0, result.stderr
