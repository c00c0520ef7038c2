"""The private-file primitives: modes independent of the umask, no symlink followed."""

import os
import stat

import pytest

from rekcli.store.files import create_private_file, make_private_dir, open_private


@pytest.fixture
def loose_umask():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_new_directories_are_0700_whatever_the_umask(tmp_path, loose_umask):
    target = tmp_path / "a" / "b" / "c"
    make_private_dir(target)
    for directory in (tmp_path / "a", tmp_path / "a" / "b", target):
        assert _mode(directory) == 0o700


def test_an_existing_directory_is_left_alone(tmp_path, loose_umask):
    existing = tmp_path / "kept"
    existing.mkdir(mode=0o755)
    os.chmod(existing, 0o755)
    make_private_dir(existing / "new")
    assert _mode(existing) == 0o755
    assert _mode(existing / "new") == 0o700


def test_new_files_are_0600_whatever_the_umask(tmp_path, loose_umask):
    create_private_file(tmp_path / "db")
    assert _mode(tmp_path / "db") == 0o600


def test_a_symlink_at_the_path_is_refused_and_its_target_untouched(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious")
    (tmp_path / "journal").symlink_to(victim)
    with pytest.raises(OSError):
        os.close(open_private(tmp_path / "journal", os.O_WRONLY | os.O_APPEND | os.O_CREAT))
    assert victim.read_text() == "precious"


def test_tightening_never_follows_or_changes_a_symlink(tmp_path):
    from rekcli.store.files import tighten_tree

    outside = tmp_path / "outside"
    outside.write_text("x")
    os.chmod(outside, 0o644)
    store = tmp_path / "store"
    store.mkdir()
    os.chmod(store, 0o755)
    (store / "link").symlink_to(outside)
    (store / "db").write_text("y")
    os.chmod(store / "db", 0o644)
    changed = tighten_tree(store)
    assert sorted(p.name for p in changed) == ["db", "store"]
    assert _mode(outside) == 0o644 and _mode(store / "db") == 0o600 and _mode(store) == 0o700


def test_a_link_to_a_foreign_folder_is_untrusted(tmp_path):
    from rekcli.store.files import untrusted_reason

    foreign = tmp_path / "foreign"
    foreign.mkdir(mode=0o700)
    os.chown(foreign, 4242, 4242)
    (tmp_path / "link").symlink_to(foreign)
    assert "4242" in untrusted_reason(tmp_path / "link")
    assert untrusted_reason(tmp_path / "missing") is None
