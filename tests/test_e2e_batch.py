"""Batch jobs for real (issue 5): order with several workers, a corrupt image mid-batch,
resume after SIGKILL without duplicates, and cheap idempotent re-runs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from cli_helpers import run_subprocess

pytestmark = pytest.mark.e2e

PHOTOS = ["people/obama/obama.jpg", "people/biden/biden.jpg", "people/alex_lacamoire/img1.jpg",
          "people/kit_harington/john1.jpeg", "people/rose_leslie/img1.jpg",
          "people/obama/obama2.jpg", "people/biden/biden2.jpg", "people/rose_leslie/img2.jpg"]


@pytest.fixture
def photo_folder(tmp_path, faces_dir):
    """A folder of links to the shared photos (used in place, never copied), with a corrupt
    one in the middle."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for number, photo in enumerate(PHOTOS):
        (folder / f"{number:02d}-{os.path.basename(photo)}").symlink_to(faces_dir / photo)
    (folder / "03b-truncated.jpg").symlink_to(faces_dir / "edge/obama_truncated.jpg")
    return folder


@pytest.fixture
def face_and_dog(tmp_path, faces_dir):
    """A folder of two links: a portrait (a-obama.jpg) and a photo without a face (b-dog.jpg)."""
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "a-obama.jpg").symlink_to(faces_dir / "people/obama/obama.jpg")
    (folder / "b-dog.jpg").symlink_to(faces_dir / "noface/dog.jpg")
    return folder


@pytest.fixture
def env(tmp_path):
    return {"REKCLI_DATA_DIR": str(tmp_path / "rekcli-data")}


def lines(result) -> list[dict]:
    return [json.loads(line) for line in result.stdout.decode().splitlines()]


def create_collection(env):
    assert run_subprocess("create-collection", "--collection-id", "c", env=env).returncode == 0


def all_faces(env) -> list[dict]:
    result = run_subprocess("list-faces", "--collection-id", "c", env=env)
    return json.loads(result.stdout)["Faces"]


def test_index_folder_keeps_order_and_reports_the_corrupt_image(photo_folder, env):
    create_collection(env)
    result = run_subprocess("index-folder", "--collection-id", "c", "--images", str(photo_folder),
                            "--workers", "2", env=env)
    assert result.returncode == 254  # one item failed
    assert result.stderr == b""      # no progress when stderr is not a terminal
    output = lines(result)
    names = sorted(p.name for p in photo_folder.iterdir())
    assert [os.path.basename(line["Image"]) for line in output] == names
    corrupt = output[names.index("03b-truncated.jpg")]
    assert corrupt["Error"] == {"Code": "InvalidImageFormatException",
                                "Message": "Request has invalid image format"}
    indexed = [line for line in output if "Response" in line]
    assert len(indexed) == len(PHOTOS)
    assert all(len(line["Response"]["FaceRecords"]) == 1 for line in indexed)
    assert indexed[0]["ExternalImageId"] == names[0]


def test_re_running_the_folder_job_skips_what_is_indexed(photo_folder, env):
    create_collection(env)
    run_subprocess("index-folder", "--collection-id", "c", "--images", str(photo_folder),
                   "--workers", "2", env=env)
    again = run_subprocess("index-folder", "--collection-id", "c", "--images", str(photo_folder),
                           "--workers", "2", "--query", "length(Response.FaceRecords)", env=env)
    values = lines(again)  # skipped and error lines are printed whole, never queried
    assert [v.get("Skipped") for v in values].count("ALREADY_INDEXED") == len(PHOTOS)
    assert [v["Error"]["Code"] for v in values if "Error" in v] == ["InvalidImageFormatException"]
    assert again.returncode == 254  # the corrupt image still fails; the skipped ones do not
    assert len(all_faces(env)) == len(PHOTOS)


def test_re_runs_skip_photos_that_had_no_face_to_index_under_the_same_filter(face_and_dog, env):
    create_collection(env)

    def index(*options):
        result = run_subprocess("index-folder", "--collection-id", "c", "--images", str(face_and_dog),
                                *options, env=env)
        assert result.returncode == 0
        return {os.path.basename(line["Image"]): line for line in lines(result)}

    first = index()
    assert first["b-dog.jpg"]["Response"]["FaceRecords"] == []
    again = index()
    assert again["a-obama.jpg"]["Skipped"] == "ALREADY_INDEXED"
    assert again["b-dog.jpg"]["Skipped"] == "ALREADY_ANALYSED_NO_FACES"
    # Another QualityFilter could index what this one filtered: the photo is analysed again.
    unfiltered = index("--quality-filter", "NONE")
    assert unfiltered["b-dog.jpg"]["Response"]["FaceRecords"] == []
    assert unfiltered["a-obama.jpg"]["Skipped"] == "ALREADY_INDEXED"
    assert len(all_faces(env)) == 1


def test_journal_keys_change_with_the_collection(faces_dir, env, monkeypatch):
    """Deleting one face and adding another keeps FaceCount but must not replay search-folder's
    old matches; a collection deleted and made again is a new index-folder job."""
    from rekcli.service import collection_state
    from rekcli.service.context import ServiceContext

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    create_collection(env)
    photo = str(faces_dir / "people/obama/obama.jpg")
    added = run_subprocess("index-faces", "--collection-id", "c", "--image-bytes", f"fileb://{photo}",
                           env=env)
    before = collection_state("c", ServiceContext(region="us-east-1"))
    face_id = json.loads(added.stdout)["FaceRecords"][0]["Face"]["FaceId"]
    run_subprocess("delete-faces", "--collection-id", "c", "--face-ids", face_id, env=env)
    run_subprocess("index-faces", "--collection-id", "c", "--image-bytes",
                   f"fileb://{faces_dir / 'people/biden/biden.jpg'}", env=env)
    after = collection_state("c", ServiceContext(region="us-east-1"))
    assert len(all_faces(env)) == 1
    assert before[0] == after[0]  # the same collection
    assert before[1] != after[1]  # but changed
    run_subprocess("delete-collection", "--collection-id", "c", env=env)
    create_collection(env)
    assert collection_state("c", ServiceContext(region="us-east-1"))[0] != after[0]  # a new collection


def test_resume_after_sigkill_indexes_nothing_twice(photo_folder, env):
    create_collection(env)
    process = subprocess.Popen(
        [sys.executable, "-m", "rekcli", "index-folder", "--collection-id", "c", "--images",
         str(photo_folder), "--workers", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ, **env))
    acknowledged = [json.loads(process.stdout.readline())]  # wait for the first result...
    time.sleep(0.3)
    process.send_signal(signal.SIGKILL)                       # ...then kill it mid-run
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    faces_after_kill = all_faces(env)
    acknowledged_ids = {r["Face"]["FaceId"] for r in acknowledged[0]["Response"]["FaceRecords"]}
    assert acknowledged_ids <= {f["FaceId"] for f in faces_after_kill}
    assert len(faces_after_kill) < len(PHOTOS)

    resumed = run_subprocess("index-folder", "--collection-id", "c", "--images", str(photo_folder),
                             "--workers", "2", env=env)
    assert len(lines(resumed)) == len(PHOTOS) + 1
    faces = all_faces(env)
    assert len(faces) == len(PHOTOS)
    assert len({(f["ImageId"], f["ExternalImageId"]) for f in faces}) == len(PHOTOS)
    described = json.loads(run_subprocess("describe-collection", "--collection-id", "c", env=env).stdout)
    assert described["FaceCount"] == len(PHOTOS)


def test_a_resumed_search_folder_never_replays_matches_of_a_changed_collection(tmp_path, faces_dir, env):
    """Killed mid-run, then one face deleted and another added (FaceCount unchanged): the
    resumed run searches again instead of replaying the journal's stale matches."""
    create_collection(env)

    def index(photo: str, name: str) -> str:
        result = run_subprocess("index-faces", "--collection-id", "c", "--image-bytes",
                                f"fileb://{faces_dir / photo}", "--external-image-id", name, env=env)
        return json.loads(result.stdout)["FaceRecords"][0]["Face"]["FaceId"]

    old_obama = index("people/obama/obama.jpg", "obama")
    index("people/biden/biden.jpg", "biden")
    folder = tmp_path / "probes"
    folder.mkdir()
    for number in range(6):
        (folder / f"{number}-obama2.jpg").symlink_to(faces_dir / "people/obama/obama2.jpg")
    process = subprocess.Popen(
        [sys.executable, "-m", "rekcli", "search-folder", "--collection-id", "c", "--images",
         str(folder), "--workers", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ, **env))
    first = json.loads(process.stdout.readline())
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert first["Response"]["FaceMatches"][0]["Face"]["FaceId"] == old_obama
    assert list((tmp_path / "rekcli-data").rglob("batch-journals/*.jsonl"))  # results were saved

    run_subprocess("delete-faces", "--collection-id", "c", "--face-ids", old_obama, env=env)
    new_obama = index("people/obama/obama3.jpg", "obama-again")
    resumed = run_subprocess("search-folder", "--collection-id", "c", "--images", str(folder),
                             "--workers", "1", env=env)
    best = [line["Response"]["FaceMatches"][0]["Face"]["FaceId"] for line in lines(resumed)]
    assert best == [new_obama] * 6


def test_batch_json_lines_in_order_with_an_error_object(tmp_path, faces_dir, env):
    requests = tmp_path / "requests.jsonl"
    requests.write_text("\n".join(json.dumps(r) for r in [
        {"Image": {"Bytes": f"fileb://{faces_dir / 'groups/obama_and_biden.jpg'}"}},
        {"Image": {"Bytes": f"fileb://{faces_dir / 'edge/obama.webp'}"}},
        {"Image": {"Bytes": f"fileb://{faces_dir / 'people/biden/biden.jpg'}"}, "Attributes": ["ALL"]},
    ]) + "\n")
    result = run_subprocess("batch", "detect-faces", "--input-file", str(requests), "--workers", "2",
                            "--query", "FaceDetails[].length(Landmarks)", env=env)
    assert result.returncode == 254
    assert lines(result) == [[5, 5, 5], {"Line": 2, "Error": {"Code": "InvalidImageFormatException",
                                                   "Message": "Request has invalid image format"}}, [30]]


def test_batch_reads_stdin_and_exits_zero_when_all_succeed(faces_dir, env):
    request = json.dumps({"Image": {"Bytes": f"fileb://{faces_dir / 'people/obama/obama.jpg'}"}})
    result = run_subprocess("batch", "detect-faces", "--query", "length(FaceDetails)",
                            input=((request + "\n") * 3).encode(), env=env)
    assert result.returncode == 0, result.stderr
    assert lines(result) == [1, 1, 1]


def test_a_query_that_does_not_fit_a_line_prints_it_whole(tmp_path, faces_dir, env):
    requests = tmp_path / "requests.jsonl"
    photo = f"fileb://{faces_dir / 'people/obama/obama.jpg'}"
    requests.write_text(json.dumps({"Image": {"Bytes": photo}}) + "\n"
                        + json.dumps({"Image": {"Bytes": photo}, "Attributes": ["ALL"]}) + "\n")
    result = run_subprocess("batch", "detect-faces", "--input-file", str(requests), "--query",
                            "length(FaceDetails[0].EyesOpen)", env=env)
    output = lines(result)
    assert result.returncode == 0  # both requests succeeded
    assert "FaceDetails" in output[0] and output[1] == 2  # the first line, unqueryable, is whole
    assert b"warning: --query does not fit line 1" in result.stderr


def test_compare_folder(photo_folder, faces_dir, env):
    result = run_subprocess("compare-folder", "--source-image-bytes",
                            f"fileb://{faces_dir / 'people/obama/obama3.jpg'}", "--images",
                            str(photo_folder), "--query", "length(Response.FaceMatches || `[]`)", env=env)
    matches = dict(zip(sorted(p.name for p in photo_folder.iterdir()), lines(result)))
    assert matches["00-obama.jpg"] == 1 and matches["05-obama2.jpg"] == 1
    assert matches["01-biden.jpg"] == 0


def test_a_missing_path_and_a_huge_file_are_error_lines_and_the_job_goes_on(tmp_path, faces_dir,
                                                                            env):
    """A typo among the --images is an error line, not silence; a file over the 5 MB limit
    is an ImageTooLargeException line."""
    create_collection(env)
    huge = tmp_path / "huge.jpg"
    with open(huge, "wb") as handle:
        handle.truncate(3 * 1024 ** 3)
    result = run_subprocess("index-folder", "--collection-id", "c", "--images",
                            str(tmp_path / "typo"), str(huge),
                            str(faces_dir / "people/obama/obama.jpg"), env=env)
    assert result.returncode == 254 and result.stderr == b""
    by_name = {os.path.basename(line["Image"]): line for line in lines(result)}
    assert by_name["typo"]["Error"] == {"Code": "FileError", "Message": "No such file or folder"}
    assert by_name["huge.jpg"]["Error"]["Code"] == "ImageTooLargeException"
    assert len(by_name["obama.jpg"]["Response"]["FaceRecords"]) == 1
    only_typo = run_subprocess("index-folder", "--collection-id", "c", "--images",
                               str(tmp_path / "typo"), env=env)
    assert only_typo.returncode == 252  # nothing to do at all: a usage error, up front
    assert b"typo: No such file or folder" in only_typo.stderr


def test_a_worker_never_reads_more_than_the_limit_of_a_file(tmp_path):
    """A 3 GB file named .jpg, or /dev/zero (its size says 0), is refused after 5 MB + 1
    bytes: with 1 GB of address space, reading either whole would fail."""
    huge = tmp_path / "huge.jpg"
    with open(huge, "wb") as handle:
        handle.truncate(3 * 1024 ** 3)
    code = ("import resource, sys\n"
            "resource.setrlimit(resource.RLIMIT_AS, (2 ** 30, 2 ** 30))\n"
            "from pathlib import Path\n"
            "from rekcli.batch.worker import _read_image_file\n"
            "from rekcli.service.errors import ImageTooLargeException\n"
            "for path in sys.argv[1:]:\n"
            "    try:\n"
            "        _read_image_file(Path(path))\n"
            "    except ImageTooLargeException:\n"
            "        print('refused', path)\n")
    result = subprocess.run([sys.executable, "-c", code, str(huge), "/dev/zero"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"refused {huge}", "refused /dev/zero"]


def test_a_batch_input_file_may_start_with_a_byte_order_mark(tmp_path, faces_dir, env):
    requests = tmp_path / "requests.jsonl"
    photo = faces_dir / "people/obama/obama.jpg"
    requests.write_text('\ufeff{"Image": {"Bytes": "fileb://%s"}}\n' % photo, encoding="utf-8")
    result = run_subprocess("batch", "detect-faces", "--input-file", str(requests),
                            "--query", "length(FaceDetails)", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"1\n"


def test_a_file_name_that_is_not_utf8_keeps_the_output_valid_utf8(tmp_path, faces_dir, env):
    folder = tmp_path / "odd"
    folder.mkdir()
    os.symlink(faces_dir / "people/obama/obama.jpg", os.fsencode(folder) + b"/caf\xe9.jpg")
    create_collection(env)
    result = run_subprocess("index-folder", "--collection-id", "c", "--images", str(folder),
                            "--query", "[Image, ExternalImageId]", env=env)
    assert result.returncode == 0, result.stderr
    image, external_image_id = json.loads(result.stdout.decode("utf-8"))
    assert os.fsencode(image) == os.fsencode(folder) + b"/caf\xe9.jpg"   # lossless (issue 18.5)
    assert external_image_id == "caf_.jpg"


def test_progress_can_be_forced_on_stderr(photo_folder, env):
    create_collection(env)
    result = run_subprocess("index-folder", "--collection-id", "c", "--images",
                            str(photo_folder / "00-obama.jpg"), "--progress", env=env)
    assert result.returncode == 0
    assert b"1/1 done" in result.stderr


def test_with_the_bar_on_a_terminal_every_result_still_goes_to_stdout(photo_folder, env):
    """stderr a terminal (the bar shows), stdout a file: rich must not take over stdout and
    print the results on the terminal instead (it did: only the first line reached the file)."""
    import pty

    import threading

    create_collection(env)
    controller, terminal = pty.openpty()
    shown = []

    def drain():  # read the terminal as the bar is drawn, so the child never blocks on it
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # closed, and drained
                return
            if not chunk:
                return
            shown.append(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "rekcli", "index-folder", "--collection-id", "c",
             "--images", str(photo_folder), "--workers", "2"],
            stdout=subprocess.PIPE, stderr=terminal, env=dict(os.environ, **env), timeout=300)
    finally:
        os.close(terminal)
        reader.join(timeout=10)
        os.close(controller)
    shown = b"".join(shown)
    assert result.returncode == 254  # the corrupt image
    names = sorted(p.name for p in photo_folder.iterdir())
    assert [os.path.basename(line["Image"]) for line in lines(result)] == names
    assert b"9/9" in shown                 # the bar was drawn, on the terminal
    assert b'"Image"' not in shown         # and no result went there


def test_ctrl_c_stops_the_workers_keeps_results_and_exits_130(photo_folder, env):
    create_collection(env)
    process = subprocess.Popen(
        [sys.executable, "-m", "rekcli", "index-folder", "--collection-id", "c", "--images",
         str(photo_folder), "--workers", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ, **env))
    first = json.loads(process.stdout.readline())          # one result is out...
    process.send_signal(signal.SIGINT)                      # ...then Ctrl-C
    # Read the rest through the same buffered reader: communicate() reads the pipe itself
    # and would lose what readline() has already buffered of the next line.
    rest, err = process.stdout.read(), process.stderr.read()
    process.wait(timeout=60)
    assert process.returncode == 130
    assert b"Traceback" not in err
    assert b"\n\n" not in rest                             # no blank line in JSON Lines
    printed = [first] + [json.loads(line) for line in rest.decode().splitlines()]
    kept = {f["FaceId"] for f in all_faces(env)}
    for line in printed:                                    # every printed result is in the store
        for record in line.get("Response", {}).get("FaceRecords", []):
            assert record["Face"]["FaceId"] in kept
    assert len(printed) < len(PHOTOS) + 1                   # it really stopped early
    resumed = run_subprocess("index-folder", "--collection-id", "c", "--images", str(photo_folder),
                             "--workers", "2", env=env)
    assert len(lines(resumed)) == len(PHOTOS) + 1
    assert len(all_faces(env)) == len(PHOTOS)


def _children_of(pid: int) -> list[int]:
    """The pids whose parent is `pid` (from /proc)."""
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                children.append(int(entry))
    return children


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _start_index_folder(photo_folder, env):
    process = subprocess.Popen(
        [sys.executable, "-m", "rekcli", "index-folder", "--collection-id", "c", "--images",
         str(photo_folder), "--workers", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ, **env))
    first = process.stdout.readline()  # the workers are up and working
    assert first
    process.first_line = json.loads(first)
    workers = _children_of(process.pid)
    assert len(workers) >= 2
    return process, workers


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc")
@pytest.mark.parametrize("signal_name", ["SIGKILL", "SIGTERM"])
def test_workers_end_when_the_batch_process_is_killed(photo_folder, env, signal_name):
    """kill -9 or kill of the batch's own pid only (the OOM killer, a service manager): the
    workers must not wait for work forever, holding the job's stdout open."""
    create_collection(env)
    process, workers = _start_index_folder(photo_folder, env)
    process.send_signal(getattr(signal, signal_name))
    process.wait(timeout=60)
    deadline = time.monotonic() + 20
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in workers)
    rest, err = process.communicate(timeout=10)  # stdout reaches its end: no worker holds it
    if signal_name == "SIGTERM":
        assert process.returncode == 143 and b"Traceback" not in err
    resumed = run_subprocess("index-folder", "--collection-id", "c", "--images", str(photo_folder),
                             "--workers", "2", env=env)
    assert len(lines(resumed)) == len(PHOTOS) + 1
    assert len(all_faces(env)) == len(PHOTOS)  # nothing indexed twice


def test_a_resumed_job_indexes_again_what_was_deleted_since(photo_folder, env):
    """Interrupted, then a face deleted, then resumed: the journal's line for that image
    names a face that is gone, so the image is indexed again, not replayed."""
    create_collection(env)
    process, _ = _start_index_folder(photo_folder, env)
    process.kill()
    process.communicate(timeout=60)
    (record,) = process.first_line["Response"]["FaceRecords"]  # journaled before printed
    gone = record["Face"]
    assert run_subprocess("delete-faces", "--collection-id", "c", "--face-ids", gone["FaceId"],
                          env=env).returncode == 0
    resumed = run_subprocess("index-folder", "--collection-id", "c", "--images", str(photo_folder),
                             "--workers", "2", env=env)
    printed = {record["Face"]["FaceId"] for line in lines(resumed)
               for record in line.get("Response", {}).get("FaceRecords", [])}
    stored = {face["FaceId"] for face in all_faces(env)}
    assert gone["FaceId"] not in printed
    assert printed <= stored and len(stored) == len(PHOTOS)
    assert any(face["ExternalImageId"] == gone["ExternalImageId"] for face in all_faces(env))


def test_ctrl_c_when_the_reader_died_too_exits_130_quietly(photo_folder, env):
    """`rekcli index-folder ... | tee out.jsonl` and Ctrl-C: tee dies of it as well, so the
    last writes hit a closed pipe. Exit 130, no traceback."""
    create_collection(env)
    process, _ = _start_index_folder(photo_folder, env)
    process.stdout.close()                                 # the reader is gone
    process.send_signal(signal.SIGINT)
    err = process.stderr.read()
    process.wait(timeout=60)
    # 130; or 255 when a result was written between the close and the signal (a broken
    # pipe, as with `| head`): never a traceback, never exit 1 as before
    assert process.returncode in (130, 255)
    assert err == b""


def test_yaml_output_is_one_document_per_line(face_and_dog, env):
    import yaml

    create_collection(env)
    result = run_subprocess("index-folder", "--collection-id", "c", "--images", str(face_and_dog),
                            "--output", "yaml", "--query", "{image: Image, faces: length(Response.FaceRecords)}",
                            env=env)
    assert result.returncode == 0
    documents = list(yaml.safe_load_all(result.stdout.decode()))
    assert documents == [{"image": str(face_and_dog / "a-obama.jpg"), "faces": 1},
                         {"image": str(face_and_dog / "b-dog.jpg"), "faces": 0}]
