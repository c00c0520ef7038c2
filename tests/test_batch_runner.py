"""The ordered parallel runner and its resume journal, with a stand-in for the real work."""

from __future__ import annotations

import os
import random
import time

from rekcli.batch.jobs import external_image_id, find_images
from rekcli.batch.journal import Journal, job_key
from rekcli.batch.runner import run_in_order


def slow_square(task):
    """Finishes out of order on purpose: later items are often faster."""
    time.sleep(random.Random(task).uniform(0, 0.03))
    if task == 7:
        return {"Error": {"Code": "Boom", "Message": "item 7 failed"}}
    return {"Response": task * task}


def test_results_come_back_in_input_order_with_several_workers():
    results = list(run_in_order(list(range(20)), workers=2, work=slow_square))
    assert [index for index, _ in results] == list(range(20))
    assert results[3][1] == {"Response": 9}


def test_a_failed_item_does_not_stop_the_batch():
    results = dict(run_in_order(list(range(10)), workers=2, work=slow_square))
    assert results[7] == {"Error": {"Code": "Boom", "Message": "item 7 failed"}}
    assert results[9] == {"Response": 81}


def test_single_worker_runs_in_process():
    assert list(run_in_order([2, 3], workers=1, work=slow_square)) == [
        (0, {"Response": 4}), (1, {"Response": 9})]


def test_journal_replays_finished_items_without_running_them(tmp_path):
    journal = Journal(tmp_path, job_key("job", [1, 2, 3]))
    journal.record(0, {"Response": "from before"})
    journal.record(2, {"Response": "also from before"})
    journal.close()
    ran = []

    def work(task):
        ran.append(task)
        return {"Response": f"new {task}"}

    results = list(run_in_order(["a", "b", "c"], workers=1, journal=Journal(tmp_path, job_key("job", [1, 2, 3])), work=work))
    assert ran == ["b"]
    assert results == [(0, {"Response": "from before"}), (1, {"Response": "new b"}),
                       (2, {"Response": "also from before"})]


def test_a_torn_last_journal_line_is_ignored(tmp_path):
    journal = Journal(tmp_path, "k")
    journal.record(0, {"Response": 1})
    journal.close()
    with open(journal.path, "a") as handle:
        handle.write('{"Index": 1, "Resu')
    assert Journal(tmp_path, "k").load() == {0: {"Response": 1}}


def test_finish_removes_the_journal(tmp_path):
    journal = Journal(tmp_path, "k")
    journal.record(0, {"Response": 1})
    journal.finish()
    assert not journal.path.exists()


def test_job_key_depends_on_every_part():
    assert job_key("a", [1]) != job_key("a", [2])
    assert job_key("a", {"x": 1, "y": 2}) == job_key("a", {"y": 2, "x": 1})


def test_external_image_id_fits_the_pattern():
    assert external_image_id("2024/beach/anna smith.jpg") == "2024:beach:anna_smith.jpg"
    assert external_image_id("café.png") == "caf_.png"
    long_name = "x" * 300 + ".jpg"
    shortened = external_image_id(long_name)
    assert len(shortened) == 255 and shortened != external_image_id("y" + long_name)


def test_find_images_takes_files_folders_and_globs(tmp_path):
    (tmp_path / "sub").mkdir()
    for name in ("a.jpg", "b.PNG", "notes.txt", "sub/c.jpeg"):
        (tmp_path / name).write_bytes(b"x")
    flat = [found.name for found in find_images([str(tmp_path)], recursive=False)]
    assert flat == ["a.jpg", "b.PNG"]
    deep = [found.name for found in find_images([str(tmp_path)], recursive=True)]
    assert deep == ["a.jpg", "b.PNG", "sub/c.jpeg"]
    globbed = [found.name for found in find_images([str(tmp_path / "*.jpg")], recursive=False)]
    assert globbed == ["a.jpg"]


def test_retryable_failures_are_not_journaled_so_a_resume_retries_them(tmp_path):
    def flaky(task):
        return {"Error": {"Code": "ThrottlingException", "Message": "busy"}} if task == "b" else {"Response": task}

    journal = Journal(tmp_path, "k")
    list(run_in_order(["a", "b"], workers=1, journal=journal, work=flaky))
    journal.close()
    assert Journal(tmp_path, "k").load() == {0: {"Response": "a"}}


def test_find_images_names_what_it_cannot_read_and_goes_on(tmp_path):
    (tmp_path / "a.jpg").write_bytes(b"x")
    missing = tmp_path / "typo"
    found = find_images([str(tmp_path), str(missing), str(tmp_path / "none-*.jpg")],
                        recursive=False)
    assert [(f.name, f.problem) for f in found] == [("a.jpg", ""),
                                                    ("typo", "No such file or folder")]


def test_find_images_survives_paths_longer_than_the_system_allows(tmp_path, monkeypatch):
    (tmp_path / "top.jpg").write_bytes(b"x")
    monkeypatch.chdir(tmp_path)
    for level in range(24):  # 24 folders of 200 characters: past PATH_MAX (4096)
        name = f"{level:02d}" + "d" * 198
        os.mkdir(name)
        os.chdir(name)
    with open("deep.jpg", "wb") as deep:
        deep.write(b"x")
    monkeypatch.chdir(tmp_path)
    found = find_images([str(tmp_path)], recursive=True)
    assert found[-1].name == "top.jpg" and not found[-1].problem
    assert any("too long" in f.problem for f in found)  # reported, not raised


def test_find_images_takes_each_file_once_through_symlinks(tmp_path):
    photos = tmp_path / "photos"
    (photos / "sub").mkdir(parents=True)
    (photos / "a.jpg").write_bytes(b"x")
    (photos / "sub" / "b.jpg").write_bytes(b"x")
    (photos / "sub" / "loop").symlink_to(photos)          # a loop
    (tmp_path / "linked").mkdir()
    (tmp_path / "linked" / "photos_link").symlink_to(photos)  # a symlinked folder
    (photos / "a-copy.jpg").symlink_to(photos / "a.jpg")  # a link with its own name
    deep = [f.name for f in find_images([str(photos)], recursive=True)]
    assert deep == ["a-copy.jpg", "a.jpg", "sub/b.jpg"]
    through_link = [f.name for f in find_images([str(tmp_path / "linked")], recursive=True)]
    assert through_link == ["photos_link/a-copy.jpg", "photos_link/a.jpg", "photos_link/sub/b.jpg"]
    twice = find_images([str(photos), str(photos / "sub" / ".." / "a.jpg"),
                         str(photos / "**" / "*.jpg")], recursive=False)
    assert len(twice) == 3  # a.jpg, a-copy.jpg, sub/b.jpg: the glob's loop paths collapse


def test_plain_progress_lines_say_how_long_is_left(capsys):
    from rekcli.cli.progress import ProgressReporter

    progress = ProgressReporter(4, enabled=True)  # stderr is not a terminal here: plain lines
    progress.advance()
    progress._last_plain = 0.0  # the next line is due
    progress.advance(failed=True)
    progress.advance()
    progress.advance()
    progress.stop()
    printed = capsys.readouterr().err.splitlines()
    assert printed[0].startswith("1/4 done, ") and printed[0].endswith(" left")
    assert " about 0:00:0" in printed[0]
    assert printed[-1].startswith("4/4 done, ") and printed[-1].endswith(", 1 failed")


def test_journals_of_jobs_never_resumed_are_removed_after_30_days(tmp_path):
    old, recent = tmp_path / "old.jsonl", tmp_path / "recent.jsonl"
    old.write_text('{"Index": 0, "Result": {}}\n')
    recent.write_text('{"Index": 0, "Result": {}}\n')
    month_ago = time.time() - 31 * 86400
    os.utime(old, (month_ago, month_ago))
    journal = Journal(tmp_path, "new")
    journal.record(0, {"Response": 1})
    journal.close()
    assert not old.exists() and recent.exists()
    assert Journal(tmp_path, "new").load() == {0: {"Response": 1}}


def test_a_resume_check_that_cannot_ask_the_store_recomputes_everything():
    """ListFaces failing (the collection gone, say) must not fail the resume: every item is
    computed again, and the skip check keeps anything from being indexed twice."""
    from rekcli.batch.folder_jobs import Where, _faces_still_indexed
    from rekcli.service.context import default_data_dir

    recheck = _faces_still_indexed("no-such-collection", Where("us-east-1", str(default_data_dir())))
    journaled = {0: {"Response": {"FaceRecords": [{"Face": {"FaceId": "x"}}]}},
                 1: {"Skipped": "ALREADY_INDEXED"}}
    assert recheck(journaled, {}) == {}
