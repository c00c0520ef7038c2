"""The ordered parallel runner and its resume journal, with a stand-in for the real work."""

from __future__ import annotations

import json
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
    flat = [rel for _, rel in find_images([str(tmp_path)], recursive=False)]
    assert flat == ["a.jpg", "b.PNG"]
    deep = [rel for _, rel in find_images([str(tmp_path)], recursive=True)]
    assert deep == ["a.jpg", "b.PNG", "sub/c.jpeg"]
    globbed = [rel for _, rel in find_images([str(tmp_path / "*.jpg")], recursive=False)]
    assert globbed == ["a.jpg"]


def test_retryable_failures_are_not_journaled_so_a_resume_retries_them(tmp_path):
    def flaky(task):
        return {"Error": {"Code": "ThrottlingException", "Message": "busy"}} if task == "b" else {"Response": task}

    journal = Journal(tmp_path, "k")
    list(run_in_order(["a", "b"], workers=1, journal=journal, work=flaky))
    journal.close()
    assert Journal(tmp_path, "k").load() == {0: {"Response": "a"}}
