"""S3Object reads stay beneath the real REKCLI_S3_ROOT (issue 19 item 8).

No symlink is followed anywhere below the root (bucket, folders, the file), the checks are
made on the opened file, and a folder swapped for a symlink while reads run never lets a read
return bytes from outside. Every failure is InvalidS3ObjectException (exit 254).
"""

from __future__ import annotations

import os
import sys
import threading

import pytest

from cli_helpers import run_subprocess
from rekcli.service.context import ServiceContext
from rekcli.service.errors import ImageTooLargeException, InvalidS3ObjectException
from rekcli.service.images import MAX_S3_BYTES, image_bytes

INSIDE, OUTSIDE = b"inside bytes", b"OUTSIDE SECRET"


@pytest.fixture
def layout(tmp_path):
    """root/bucket/folder/x.jpg inside; outside/x.jpg and outside/folder/x.jpg beyond it."""
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "bucket" / "folder").mkdir(parents=True)
    (root / "bucket" / "folder" / "x.jpg").write_bytes(INSIDE)
    (outside / "folder").mkdir(parents=True)
    (outside / "x.jpg").write_bytes(OUTSIDE)
    (outside / "folder" / "x.jpg").write_bytes(OUTSIDE)
    return root, outside


def read(root, bucket: str, name: str) -> bytes:
    ctx = ServiceContext(s3_root=root)
    return image_bytes(ctx, {"S3Object": {"Bucket": bucket, "Name": name}})


def test_an_object_inside_the_bucket_is_read(layout):
    root, _ = layout
    assert read(root, "bucket", "folder/x.jpg") == INSIDE
    assert read(root, "bucket", "folder//./x.jpg") == INSIDE


def test_a_bucket_that_is_a_symlink_out_of_the_root_is_refused(layout):
    root, outside = layout
    (root / "linked").symlink_to(outside)
    with pytest.raises(InvalidS3ObjectException):
        read(root, "linked", "x.jpg")


@pytest.mark.parametrize("make", ["folder", "file", "dotdot"])
def test_no_symlink_or_dotdot_below_the_root_is_followed(layout, make):
    root, outside = layout
    bucket = root / "bucket"
    if make == "folder":
        (bucket / "elsewhere").symlink_to(outside / "folder")
        name = "elsewhere/x.jpg"
    elif make == "file":
        (bucket / "link.jpg").symlink_to(outside / "x.jpg")
        name = "link.jpg"
    else:
        name = "folder/../../../outside/x.jpg"
    with pytest.raises(InvalidS3ObjectException):
        read(root, "bucket", name)


def test_a_root_that_is_a_symlink_is_resolved_once(layout, tmp_path):
    root, _ = layout
    (tmp_path / "root-link").symlink_to(root)
    assert read(tmp_path / "root-link", "bucket", "folder/x.jpg") == INSIDE


@pytest.mark.parametrize("name", ["folder", "missing.jpg", "folder/x.jpg/more", "fifo"])
def test_directories_missing_files_and_fifos_are_invalid_s3_object(layout, name):
    root, _ = layout
    os.mkfifo(root / "bucket" / "fifo")
    with pytest.raises(InvalidS3ObjectException):
        read(root, "bucket", name)


def test_an_unreadable_object_is_invalid_s3_object(layout):
    root, _ = layout
    target = root / "bucket" / "folder" / "x.jpg"
    target.chmod(0)
    if os.access(target, os.R_OK):  # root reads anything
        pytest.skip("running as a user that ignores file modes")
    with pytest.raises(InvalidS3ObjectException):
        read(root, "bucket", "folder/x.jpg")


def test_a_missing_root_is_invalid_s3_object(tmp_path):
    with pytest.raises(InvalidS3ObjectException):
        read(tmp_path / "no-such-root", "bucket", "x.jpg")


def test_an_object_over_15_mb_is_image_too_large(layout):
    root, _ = layout
    with open(root / "bucket" / "big.jpg", "wb") as handle:
        handle.truncate(MAX_S3_BYTES + 1)
    with pytest.raises(ImageTooLargeException):
        read(root, "bucket", "big.jpg")


def test_a_folder_swapped_for_a_symlink_while_reading_never_leaks_outside_bytes(layout):
    root, outside = layout
    bucket = root / "bucket"
    stop = threading.Event()

    def swap():
        while not stop.is_set():
            os.rename(bucket / "folder", bucket / "saved")
            os.symlink(outside / "folder", bucket / "folder")
            os.unlink(bucket / "folder")
            os.rename(bucket / "saved", bucket / "folder")

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # let the threads interleave as finely as they can
    swapper = threading.Thread(target=swap)
    swapper.start()
    seen = {"inside": 0, "refused": 0}
    try:
        for _ in range(5000):
            try:
                data = read(root, "bucket", "folder/x.jpg")
            except InvalidS3ObjectException:
                seen["refused"] += 1
                continue
            assert data == INSIDE
            seen["inside"] += 1
    finally:
        stop.set()
        swapper.join()
        sys.setswitchinterval(interval)
    # How many reads landed between swaps depends on the scheduler (on a loaded machine it
    # can be none): what matters is that no read returned outside bytes, and that the
    # object reads normally once the swapping stops.
    assert read(root, "bucket", "folder/x.jpg") == INSIDE


def test_cli_answers_invalid_s3_object_for_a_symlinked_bucket(layout):
    root, outside = layout
    (root / "linked").symlink_to(outside)
    done = run_subprocess("detect-faces", "--image", "S3Object={Bucket=linked,Name=x.jpg}",
                          env={"REKCLI_S3_ROOT": str(root)})
    assert done.returncode == 254
    assert (b"InvalidS3ObjectException) when calling the DetectFaces operation: Unable to get "
            b"object metadata from S3. Check object key, region and/or access permissions."
            in done.stderr)
