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
