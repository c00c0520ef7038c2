"""Issue 18.1 and 19.3/19.6: a resumed batch replays only what a fresh run would print; journals
are private, refuse planted symlinks, go with their collection's deletes, and a journal that
cannot be written (a full disk) never stops the job."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import stat
import subprocess
import sys

import pytest

from cli_helpers import run_subprocess
from rekcli.batch.journal import Journal, JournalRefused
from rekcli.store.journals import collection_ref, drop_journals_of, journals_dir


# ---- the journal file ---------------------------------------------------------------------


def test_journals_are_private_whatever_the_umask(tmp_path):
    previous = os.umask(0o022)
    try:
        journal = Journal(tmp_path / "data" / "batch-journals", "k")
        journal.record(0, {"Response": 1})
        journal.close()
    finally:
        os.umask(previous)
    assert stat.S_IMODE(journal.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(journal.path.parent.stat().st_mode) == 0o700


def test_a_symlink_planted_at_a_journal_path_is_refused_and_its_target_untouched(tmp_path):
    target = tmp_path / "precious.txt"
    target.write_text("keep me\n")
    (tmp_path / "j").mkdir()
    journal = Journal(tmp_path / "j", "k")
    journal.path.symlink_to(target)
    with pytest.raises(JournalRefused, match="symbolic link"):
        journal.load()
    with pytest.raises(JournalRefused, match="symbolic link"):
        journal.record(0, {"Response": 1})
    journal.finish()
    assert target.read_text() == "keep me\n"
    assert journal.path.is_symlink()  # left for the user to look at


def test_results_appended_after_a_torn_line_are_kept(tmp_path):
    journal = Journal(tmp_path, "k")
    journal.record(0, {"Response": 0})
    journal.close()
    with open(journal.path, "a") as handle:
        handle.write('{"Index": 1, "Resu')
    resumed = Journal(tmp_path, "k")
    assert resumed.load() == {0: {"Response": 0}}
    resumed.record(1, {"Response": 1})
    resumed.close()
    assert Journal(tmp_path, "k").load() == {0: {"Response": 0}, 1: {"Response": 1}}


def test_facts_are_recorded_with_each_result(tmp_path):
    journal = Journal(tmp_path, "k")
    journal.record(0, {"Response": 0}, {"Files": "abc"})
    journal.close()
    again = Journal(tmp_path, "k")
    assert again.load() == {0: {"Response": 0}}
    assert again.facts == {0: {"Files": "abc"}}


def test_a_delete_faces_drops_only_the_results_that_name_a_deleted_face(tmp_path):
    directory = journals_dir(tmp_path)
    mine = Journal(directory, "mine", [collection_ref("us-east-1", "c")])
    mine.record(0, {"Response": {"FaceRecords": [{"Face": {"FaceId": "gone-1"}}]}})
    mine.record(1, {"Response": {"FaceRecords": [{"Face": {"FaceId": "kept-2"}}]}})
    mine.close()
    os.chmod(mine.path, 0o600)
    drop_journals_of(tmp_path, "us-east-1", "c", ["gone-1"])
    again = Journal(directory, "mine", [collection_ref("us-east-1", "c")])
    assert list(again.load()) == [1]  # the other result is still replayed: never indexed twice
    assert b"gone-1" not in mine.path.read_bytes()
    assert stat.S_IMODE(os.stat(mine.path).st_mode) == 0o600
    assert [p.name for p in directory.iterdir()] == [mine.path.name]  # no leftover


def test_a_fifo_named_like_a_journal_does_not_block_a_delete(tmp_path):
    directory = journals_dir(tmp_path)
    directory.mkdir(parents=True)
    os.mkfifo(directory / "planted.jsonl")
    (directory / "folder.jsonl").mkdir()
    drop_journals_of(tmp_path, "us-east-1", "c", ["x"])
    drop_journals_of(tmp_path, "us-east-1", "c")


def test_a_delete_drops_the_journals_that_reference_its_collection(tmp_path):
    directory = journals_dir(tmp_path)
    mine = Journal(directory, "mine", [collection_ref("us-east-1", "c")])
    other = Journal(directory, "other", [collection_ref("us-east-1", "d")])
    elsewhere = Journal(directory, "elsewhere", [collection_ref("eu-west-1", "c")])
    for journal in (mine, other, elsewhere):
        journal.record(0, {"Response": 1})
        journal.close()
    assert "\"c\"" not in mine.path.read_text()  # the journal does not even keep the name
    drop_journals_of(tmp_path, "us-east-1", "c")
    assert not mine.path.exists()
    assert other.path.exists() and elsewhere.path.exists()


@contextlib.contextmanager
def tmpfs_at(mount_point, size: str):
    """A real small tmpfs (the tests run as root here); skips where mounting is not allowed."""
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs",
                           str(mount_point)], capture_output=True)
    if done.returncode != 0:
        if os.environ.get("CI"):  # as tests/test_store_full_disk.py: CI can, so it must
            pytest.fail(f"cannot mount a tmpfs on CI: {done.stderr.decode().strip()}")
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=True)


@pytest.fixture
def tiny_disk(tmp_path):
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    with tmpfs_at(mount_point, "8k"):
        yield mount_point


def test_a_full_disk_stops_the_journal_not_the_job(tiny_disk):
    journal = Journal(tiny_disk, "k")
    big = {"Response": "x" * 3000}
    recorded = [journal.record(index, big) for index in range(6)]
    assert recorded[0] is True and recorded[-1] is False
    assert journal.failure.errno == errno.ENOSPC
    journal.close()
    kept = Journal(tiny_disk, "k").load()  # what was written stands
    assert set(kept) == set(range(recorded.index(False)))


# ---- resume, for real ----------------------------------------------------------------------

pytest_e2e = pytest.mark.e2e


@pytest.fixture
def env(tmp_path):
    return {"REKCLI_DATA_DIR": str(tmp_path / "data")}


def rekcli_json(*args, env):
    result = run_subprocess(*args, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.strip() else {}


def interrupted_batch(args, env) -> str:
    """Start `rekcli batch ...` with one worker, Ctrl-C it after its first output line, and
    return that line (the rest of the job stays in its journal)."""
    process = subprocess.Popen([sys.executable, "-m", "rekcli", "batch", *args, "--workers", "1"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env=dict(os.environ, **env))
    first = process.stdout.readline().decode()
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=60)
    assert process.returncode == 130
    return first


def saved_journals(env) -> dict:
    return {path: path.read_bytes() for path in journals_dir(env["REKCLI_DATA_DIR"]).glob("*.jsonl")}


def restore(journals: dict) -> None:
    """Put journals back as they were (a way to test the resume checks on their own,
    beside the deletes that remove journals)."""
    for path, data in journals.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        os.chmod(path, 0o600)


def face_ids_in_collection(env) -> set:
    return {face["FaceId"] for face in rekcli_json("list-faces", "--collection-id", "c", env=env)["Faces"]}


@pytest_e2e
@pytest.mark.parametrize("journal_survives", [False, True], ids=["deleted-journal", "kept-journal"])
def test_resume_after_the_collection_was_made_again_prints_only_faces_that_exist(
        tmp_path, faces_dir, env, journal_survives):
    """Issue 18.1's reproduction: index-faces lines, Ctrl-C, delete-collection and
    create-collection, the same batch again: every FaceId printed exists."""
    photos = ["people/obama/obama.jpg", "people/biden/biden.jpg", "people/rose_leslie/img1.jpg",
              "people/kit_harington/john1.jpeg", "people/obama/obama2.jpg", "people/biden/biden2.jpg"]
    requests = tmp_path / "reqs.jsonl"
    requests.write_text("".join(json.dumps({"CollectionId": "c", "Image": {"Bytes": f"fileb://{faces_dir / p}"}})
                                + "\n" for p in photos))
    rekcli_json("create-collection", "--collection-id", "c", env=env)
    args = ["index-faces", "--input-file", str(requests), "--query", "FaceRecords[0].Face.FaceId",
            "--output", "text"]
    first = interrupted_batch(args, env).strip()
    journals = saved_journals(env)
    assert journals and first
    rekcli_json("delete-collection", "--collection-id", "c", env=env)
    assert not saved_journals(env)  # the delete took the journal with it
    rekcli_json("create-collection", "--collection-id", "c", env=env)
    if journal_survives:
        restore(journals)  # e.g. a backup restored: the resume check alone must catch it
    again = run_subprocess("batch", *args, "--workers", "2", env=env)
    assert again.returncode == 0
    printed = again.stdout.decode().split()
    assert len(printed) == len(photos)
    assert set(printed) == face_ids_in_collection(env)
    assert first not in printed


@pytest_e2e
def test_a_resumed_search_never_matches_deleted_faces(tmp_path, faces_dir, env):
    rekcli_json("create-collection", "--collection-id", "c", env=env)
    obama = rekcli_json("index-faces", "--collection-id", "c", "--image-bytes",
                        f"fileb://{faces_dir / 'people/obama/obama.jpg'}", env=env)
    old_face = obama["FaceRecords"][0]["Face"]["FaceId"]
    rekcli_json("index-faces", "--collection-id", "c", "--image-bytes",
                f"fileb://{faces_dir / 'people/obama/obama3.jpg'}", env=env)
    probe = {"CollectionId": "c", "Image": {"Bytes": f"fileb://{faces_dir / 'people/obama/obama2.jpg'}"}}
    requests = tmp_path / "search.jsonl"
    requests.write_text((json.dumps(probe) + "\n") * 6)
    first = json.loads(interrupted_batch(["search-faces-by-image", "--input-file", str(requests)], env))
    assert old_face in {match["Face"]["FaceId"] for match in first["FaceMatches"]}
    journals = saved_journals(env)
    rekcli_json("delete-faces", "--collection-id", "c", "--face-ids", old_face, env=env)
    # a delete-faces drops, from the journals, every result that names a deleted face
    assert journals and not any(old_face.encode() in data for data in saved_journals(env).values())
    restore(journals)
    resumed = run_subprocess("batch", "search-faces-by-image", "--input-file", str(requests),
                             "--workers", "1", env=env)
    assert resumed.returncode == 0
    for line in resumed.stdout.decode().splitlines():
        matched = {match["Face"]["FaceId"] for match in json.loads(line)["FaceMatches"]}
        assert matched and old_face not in matched


@pytest_e2e
def test_a_resumed_detect_faces_answers_for_the_replaced_images(tmp_path, faces_dir, env):
    links = [tmp_path / f"img{number}.jpg" for number in range(5)]
    for link in links:
        link.symlink_to(faces_dir / "people/obama/obama.jpg")
    requests = tmp_path / "detect.jsonl"
    requests.write_text("".join(json.dumps({"Image": {"Bytes": f"fileb://{link}"}}) + "\n" for link in links))
    first = json.loads(interrupted_batch(["detect-faces", "--input-file", str(requests)], env))
    assert len(first["FaceDetails"]) == 1
    assert saved_journals(env)
    for link in links:  # every photo replaced by one without a face
        link.unlink()
        link.symlink_to(faces_dir / "noface/dog.jpg")
    resumed = run_subprocess("batch", "detect-faces", "--input-file", str(requests), "--workers", "1",
                             env=env)
    assert resumed.returncode == 0
    assert [json.loads(line)["FaceDetails"] for line in resumed.stdout.decode().splitlines()] == [[]] * 5


@pytest_e2e
def test_an_unchanged_resume_still_replays(tmp_path, faces_dir, env):
    """The checks must not throw the journal away for nothing: an index-faces batch resumed
    with nothing changed indexes no image twice."""
    photos = ["people/obama/obama.jpg", "people/biden/biden.jpg", "people/rose_leslie/img1.jpg",
              "people/obama/obama2.jpg", "people/biden/biden2.jpg"]
    requests = tmp_path / "reqs.jsonl"
    requests.write_text("".join(json.dumps({"CollectionId": "c", "Image": {"Bytes": f"fileb://{faces_dir / p}"}})
                                + "\n" for p in photos))
    rekcli_json("create-collection", "--collection-id", "c", env=env)
    args = ["index-faces", "--input-file", str(requests), "--query", "FaceRecords[0].Face.FaceId",
            "--output", "text"]
    first = interrupted_batch(args, env).strip()
    again = run_subprocess("batch", *args, "--workers", "1", env=env)
    printed = again.stdout.decode().split()
    assert printed[0] == first
    assert set(printed) == face_ids_in_collection(env)
    assert len(face_ids_in_collection(env)) == len(photos)


@pytest_e2e
def test_a_full_disk_under_the_journal_never_stops_a_folder_job(tmp_path, faces_dir, env):
    """Issue 19.6: the journal's writes hit ENOSPC after the first result or two; every
    image is still indexed and printed, exit 0, one warning on stderr."""
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    rekcli_json("create-collection", "--collection-id", "c", env=env)
    journal_dir = journals_dir(data)
    journal_dir.mkdir(mode=0o700)
    folder = tmp_path / "photos"
    folder.mkdir()
    photos = ["people/obama/obama.jpg", "people/biden/biden.jpg", "people/rose_leslie/img1.jpg",
              "people/obama/obama2.jpg", "people/biden/biden2.jpg"]
    for number, photo in enumerate(photos):
        (folder / f"{number}.jpg").symlink_to(faces_dir / photo)
    with tmpfs_at(journal_dir, "4k"):
        result = run_subprocess("index-folder", "--collection-id", "c", "--images", str(folder),
                                "--workers", "1", "--detection-attributes", "ALL", env=env)
    assert result.returncode == 0, result.stderr
    assert b"No space left on device" in result.stderr and b"the job goes on" in result.stderr
    assert [len(json.loads(line)["Response"]["FaceRecords"])
            for line in result.stdout.decode().splitlines()] == [1] * len(photos)
    assert len(face_ids_in_collection(env)) == len(photos)


# ---- the resume rules, without the engine ---------------------------------------------------


def resume_for(operation, *members_list):
    from rekcli.batch.folder_jobs import Where, _RequestsResume
    from rekcli.batch.worker import Task
    from rekcli.service.context import default_data_dir

    tasks = [Task(operation, members, "us-east-1", "unused") for members in members_list]
    return _RequestsResume(operation, tasks, Where("us-east-1", str(default_data_dir())))


def journaled(resume, results: dict) -> tuple[dict, dict]:
    return results, {index: resume.facts(index, result) for index, result in results.items()}


def test_a_read_is_replayed_only_while_its_collection_is_unchanged():
    rekcli_json("create-collection", "--collection-id", "c", env={})
    resume = resume_for("DescribeCollection", {"CollectionId": "c"}, {"CollectionId": "c"})
    done, facts = journaled(resume, {0: {"Response": {"FaceCount": 0}}})
    assert resume.recheck(done, facts) == done
    rekcli_json("create-user", "--collection-id", "c", "--user-id", "u", env={})
    assert resume_for("DescribeCollection", {"CollectionId": "c"}).recheck(done, facts) == {}


def test_a_result_is_not_replayed_once_its_file_changed(tmp_path):
    image = tmp_path / "a.jpg"
    image.write_bytes(b"not a photo")
    members = {"Image": {"Bytes": f"fileb://{image}"}}
    resume = resume_for("DetectFaces", members)
    done, facts = journaled(resume, {0: {"Error": {"Code": "InvalidImageFormatException",
                                                   "Message": "Request has invalid image format"}}})
    assert resume_for("DetectFaces", members).recheck(done, facts) == done
    stamp = image.stat()
    image.write_bytes(b"not a photo")  # same bytes, same size, same mtime: still another write
    os.utime(image, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    assert resume_for("DetectFaces", members).recheck(done, facts) == {}


def test_tag_and_list_collections_results_are_never_replayed():
    resume = resume_for("ListTagsForResource", {"ResourceArn": "arn:aws:rekognition:us-east-1:1:collection/c"})
    done, facts = journaled(resume, {0: {"Response": {"Tags": {}}}})
    assert resume.recheck(done, facts) == {}
