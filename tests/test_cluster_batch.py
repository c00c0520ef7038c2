"""The batch commands on a real local Dask cluster (issue 13): a scheduler and two worker
nodes as separate processes on 127.0.0.1. The cluster's output must be the local run's,
byte for byte (FaceIds aside: they are random in both), and worker deaths, a lost
scheduler, a killed driver and Ctrl-C must leave the collection as a local run would."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from cli_helpers import run_subprocess

pytestmark = pytest.mark.e2e
try:
    import distributed  # noqa: F401 - the cluster extra
except ImportError:
    if os.environ.get("CI"):  # CI installs the test extra, which includes it: never a green skip
        raise
    pytest.skip("the cluster extra is not installed: pip install -e '.[cluster]'",
                allow_module_level=True)

from cluster_helpers import POISON, LocalCluster, analyse_or_die  # noqa: E402

PHOTOS = ["people/obama/obama.jpg", "people/biden/biden.jpg", "people/alex_lacamoire/img1.jpg",
          "people/kit_harington/john1.jpeg", "people/rose_leslie/img1.jpg",
          "people/obama/obama2.jpg", "people/biden/biden2.jpg", "people/rose_leslie/img2.jpg",
          "groups/two_people.jpg", "noface/dog.jpg"]
FACE_ID = re.compile(rb'"FaceId": "[0-9a-f-]{36}"')


@pytest.fixture(scope="session")
def cluster():
    """A scheduler and two worker nodes, one thread each, for the whole session."""
    started = LocalCluster(workers=2)
    yield started
    started.close()


@pytest.fixture
def photo_folder(tmp_path, faces_dir):
    """Links to the shared photos (used in place), a truncated JPEG and a file that is no
    image among them."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for number, photo in enumerate(PHOTOS):
        (folder / f"{number:02d}-{os.path.basename(photo)}").symlink_to(faces_dir / photo)
    (folder / "03b-truncated.jpg").symlink_to(faces_dir / "edge/obama_truncated.jpg")
    (folder / "04b-not-an-image.jpg").symlink_to(faces_dir / "edge/not_an_image.jpg")
    return folder


def data_env(tmp_path, name: str) -> dict:
    env = {"REKCLI_DATA_DIR": str(tmp_path / name)}
    assert run_subprocess("create-collection", "--collection-id", "c", env=env).returncode == 0
    return env


def without_face_ids(output: bytes) -> bytes:
    return FACE_ID.sub(b'"FaceId": "-"', output)


def faces_of(env) -> list[dict]:
    return json.loads(run_subprocess("list-faces", "--collection-id", "c", env=env).stdout)["Faces"]


def test_index_search_and_compare_folder_print_what_the_local_run_prints(cluster, photo_folder,
                                                                          tmp_path, faces_dir):
    local, remote = data_env(tmp_path, "local"), data_env(tmp_path, "remote")
    index = ["index-folder", "--collection-id", "c", "--images", str(photo_folder)]
    by_pool = run_subprocess(*index, "--workers", "2", env=local)
    by_cluster = run_subprocess(*index, "--cluster", cluster.address, env=remote)
    assert by_pool.returncode == by_cluster.returncode == 254  # the two bad files
    assert by_cluster.stderr == by_pool.stderr == b""
    assert without_face_ids(by_cluster.stdout) == without_face_ids(by_pool.stdout)
    printed = [json.loads(line) for line in by_cluster.stdout.splitlines()]
    assert [line["Image"] for line in printed] == sorted(str(p) for p in photo_folder.iterdir())
    assert {line["Error"]["Code"] for line in printed if "Error" in line} == {
        "InvalidImageFormatException"}
    # Same faces stored, once each.
    assert sorted(map(without_face_ids, (json.dumps(f).encode() for f in faces_of(remote)))) == \
        sorted(map(without_face_ids, (json.dumps(f).encode() for f in faces_of(local))))

    search = ["search-folder", "--collection-id", "c", "--images", str(photo_folder)]
    assert run_subprocess(*search, "--cluster", cluster.address, env=local).stdout == \
        run_subprocess(*search, "--workers", "2", env=local).stdout

    # compare-folder in text output with a --query, and the address from Dask's variable.
    compare = ["compare-folder", "--source-image-bytes", f"fileb://{faces_dir}/people/obama/obama.jpg",
               "--images", str(photo_folder), "--output", "text", "--query",
               "FaceMatches[].Similarity"]
    by_pool = run_subprocess(*compare, "--workers", "2", env=local)
    by_cluster = run_subprocess(*compare, env=dict(local, DASK_SCHEDULER_ADDRESS=cluster.address))
    assert (by_cluster.returncode, by_cluster.stdout, by_cluster.stderr) == \
        (by_pool.returncode, by_pool.stdout, by_pool.stderr)


def test_an_explicit_workers_runs_locally_whatever_dask_scheduler_address_says(tmp_path,
                                                                                faces_dir):
    """A flag beats the environment: --workers asks for a local run, so a scheduler address
    in the environment (here one nobody listens on) is not used; --cluster still is."""
    folder = tmp_path / "one"
    folder.mkdir()
    (folder / "biden.jpg").write_bytes((faces_dir / "people/biden/biden.jpg").read_bytes())
    env = dict(data_env(tmp_path, "data"), DASK_SCHEDULER_ADDRESS="tcp://127.0.0.1:9")
    compare = ["compare-folder", "--source-image-bytes",
               f"fileb://{faces_dir}/people/biden/biden2.jpg", "--images", str(folder)]
    local = run_subprocess(*compare, "--workers", "1", env=env)
    assert local.returncode == 0, local.stderr
    assert json.loads(local.stdout)["Image"] == str(folder / "biden.jpg")
    assert run_subprocess(*compare, env=env).returncode == 255  # the variable alone: cluster


def test_batch_json_lines_on_the_cluster(cluster, tmp_path, faces_dir):
    env = data_env(tmp_path, "data")
    requests = tmp_path / "requests.jsonl"
    requests.write_text("\n".join(json.dumps(line) for line in [
        {"Image": {"Bytes": f"fileb://{faces_dir}/people/biden/biden.jpg"}},
        {"Image": {"Bytes": f"fileb://{faces_dir}/edge/not_an_image.jpg"}},
        {"Image": {"Bytes": f"fileb://{faces_dir}/groups/two_people.jpg"}, "Attributes": ["ALL"]},
    ]) + "\n")
    batch = ["batch", "detect-faces", "--input-file", str(requests)]
    by_pool = run_subprocess(*batch, "--workers", "2", env=env)
    by_cluster = run_subprocess(*batch, "--cluster", cluster.address, env=env)
    assert (by_cluster.returncode, by_cluster.stdout) == (by_pool.returncode, by_pool.stdout)
    assert by_cluster.returncode == 254


def test_a_worker_killed_mid_job_loses_nothing_and_stores_nothing_twice(cluster, photo_folder,
                                                                        tmp_path):
    local, remote = data_env(tmp_path, "local"), data_env(tmp_path, "remote")
    index = ["index-folder", "--collection-id", "c", "--images", str(photo_folder)]
    process = subprocess.Popen([sys.executable, "-m", "rekcli", *index, "--cluster", cluster.address],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env=dict(os.environ, **remote))
    first = process.stdout.readline()           # the workers are busy...
    os.kill(cluster.worker_pids()[0], signal.SIGKILL)  # ...and one of them dies
    rest, err = process.stdout.read(), process.stderr.read()
    assert process.wait(timeout=300) == 254
    assert err == b""
    by_pool = run_subprocess(*index, "--workers", "2", env=local)
    assert without_face_ids(first + rest) == without_face_ids(by_pool.stdout)
    faces = faces_of(remote)
    assert len(faces) == len(faces_of(local))
    assert len({f["FaceId"] for f in faces}) == len(faces)
    cluster.wait_for_workers(2)  # its nanny starts it again, for the next tests


def test_an_image_that_keeps_killing_workers_becomes_an_error_line(tmp_path):
    """Bounded retries: the scheduler gives the task up after its allowed failures."""
    from rekcli.batch.cluster import run_on_cluster
    from rekcli.batch.worker import Task

    poison = tmp_path / "poison.jpg"
    poison.write_bytes(POISON + bytes(200))
    own = LocalCluster(workers=1, scheduler_env={
        "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1"})
    try:
        tasks = [Task("DetectFaces", {}, "us-east-1", str(tmp_path / "data"),
                      image_files={"Image": str(poison)})]
        results = list(run_on_cluster(tasks, [0], own.address, lambda: False,
                                      analyse=analyse_or_die))
    finally:
        own.close()
    assert len(results) == 1
    index, result = results[0]
    assert index == 0 and result["Error"]["Code"] == "InternalServerError"
    assert "ended every cluster worker" in result["Error"]["Message"]


def test_resume_on_the_cluster_after_the_driver_is_killed(cluster, photo_folder, tmp_path):
    env = data_env(tmp_path, "data")
    index = ["index-folder", "--collection-id", "c", "--images", str(photo_folder),
             "--cluster", cluster.address]
    process = subprocess.Popen([sys.executable, "-m", "rekcli", *index], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=dict(os.environ, **env))
    first = json.loads(process.stdout.readline())
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    kept = {f["FaceId"] for f in faces_of(env)}
    assert {r["Face"]["FaceId"] for r in first["Response"]["FaceRecords"]} <= kept

    resumed = run_subprocess(*index, env=env)
    assert resumed.returncode == 254
    printed = [json.loads(line) for line in resumed.stdout.splitlines()]
    assert len(printed) == len(PHOTOS) + 2
    assert printed[0] == first                   # replayed from the journal
    faces = faces_of(env)
    assert len({(f["ImageId"], f["ExternalImageId"], json.dumps(f["BoundingBox"])) for f in faces}) \
        == len(faces)                            # no face stored twice


def test_ctrl_c_cancels_the_cluster_tasks_and_exits_130(cluster, photo_folder, tmp_path):
    env = data_env(tmp_path, "data")
    process = subprocess.Popen(
        [sys.executable, "-m", "rekcli", "index-folder", "--collection-id", "c", "--images",
         str(photo_folder), "--cluster", cluster.address], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, env=dict(os.environ, **env))
    process.stdout.readline()
    process.send_signal(signal.SIGINT)
    rest, err = process.stdout.read(), process.stderr.read()
    assert process.wait(timeout=60) == 130
    assert b"Traceback" not in err
    assert len(rest.splitlines()) < len(PHOTOS) + 1
    for _ in range(100):  # the scheduler forgets the cancelled tasks
        if cluster.tasks_on_scheduler() == 0:
            break
        time.sleep(0.1)
    assert cluster.tasks_on_scheduler() == 0


def test_a_lost_scheduler_stops_the_job_with_a_resumable_journal(cluster, photo_folder, tmp_path):
    env = data_env(tmp_path, "data")
    doomed = LocalCluster(workers=1)
    try:
        index = ["index-folder", "--collection-id", "c", "--images", str(photo_folder)]
        process = subprocess.Popen([sys.executable, "-m", "rekcli", *index, "--cluster", doomed.address],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   env=dict(os.environ, **env))
        first = process.stdout.readline()
        doomed.stop_scheduler()
        rest, err = process.stdout.read(), process.stderr.read()
        assert process.wait(timeout=120) == 255
    finally:
        doomed.close()
    assert b"Traceback" not in err
    assert f'Lost the connection to the cluster scheduler "{doomed.address}"'.encode() in err
    done = [first] + rest.splitlines()
    resumed = run_subprocess(*index, "--cluster", cluster.address, env=env)
    assert resumed.stdout.splitlines()[:len(done)] == [line.rstrip(b"\n") for line in done]
    assert len(resumed.stdout.splitlines()) == len(PHOTOS) + 2
    faces = faces_of(env)
    assert len({(f["ImageId"], json.dumps(f["BoundingBox"])) for f in faces}) == len(faces)


def test_an_unreachable_cluster_is_a_clean_error(tmp_path, photo_folder):
    from cluster_helpers import free_port

    env = data_env(tmp_path, "data")
    address = f"tcp://127.0.0.1:{free_port()}"
    result = run_subprocess("index-folder", "--collection-id", "c", "--images", str(photo_folder),
                            "--cluster", address, env=env)
    assert result.returncode == 255
    assert f'Could not connect to the cluster scheduler: "{address}"'.encode() in result.stderr
    assert b"Traceback" not in result.stderr


def test_a_local_run_never_imports_the_cluster_engine(tmp_path, faces_dir):
    env = dict(os.environ, **data_env(tmp_path, "data"))
    script = ("import sys\n"
              "from rekcli.cli.main import main\n"
              f"code = main(['index-folder', '--collection-id', 'c', '--images', "
              f"{str(faces_dir / 'people/obama/obama.jpg')!r}, '--workers', '1'])\n"
              "print(code, sorted(m for m in sys.modules if m.split('.')[0] in "
              "('distributed', 'dask', 'tornado', 'ray')), file=sys.stderr)\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, env=env, timeout=120)
    assert result.stderr.decode().strip().splitlines()[-1] == "0 []"


def test_without_the_extra_cluster_says_what_to_install(tmp_path, photo_folder):
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "distributed.py").write_text("raise ImportError('not installed')\n")
    env = data_env(tmp_path, "data")
    result = run_subprocess("index-folder", "--collection-id", "c", "--images", str(photo_folder),
                            "--cluster", "tcp://127.0.0.1:1",
                            env=dict(env, PYTHONPATH=str(blocker)))
    assert result.returncode == 255
    assert b"pip install 'rekcli[cluster]'" in result.stderr


def test_the_driver_reads_no_more_images_ahead_than_the_in_flight_bound(cluster, tmp_path,
                                                                        faces_dir):
    """Backpressure: 2 images per worker thread in flight (2 threads here), whatever the
    number of images; an image is read only when its task is about to be shipped."""
    from rekcli.batch.cluster import run_on_cluster
    from rekcli.batch.worker import Task

    class CountedReads(list):
        reads = 0

        def __getitem__(self, index):
            CountedReads.reads += 1
            return super().__getitem__(index)

    photo = faces_dir / "edge/obama-240p.jpg"
    tasks = CountedReads(Task("DetectFaces", {}, "us-east-1", str(tmp_path / "data"),
                              image_files={"Image": str(photo)}) for _ in range(24))
    ahead = []
    for answered, (_, result) in enumerate(run_on_cluster(tasks, list(range(24)), cluster.address,
                                                          lambda: False), start=1):
        assert "Response" in result
        ahead.append(CountedReads.reads - answered)
    assert len(ahead) == 24
    assert max(ahead) <= 4


def test_batch_search_users_by_image_on_the_cluster(cluster, tmp_path, faces_dir):
    """The third operation split in pixel work and store work: a match, a photo without a
    face, and a group whose smaller face is not searched."""
    env = data_env(tmp_path, "data")
    indexed = json.loads(run_subprocess(
        "index-faces", "--collection-id", "c", "--image-bytes",
        f"fileb://{faces_dir}/people/obama/obama.jpg", env=env).stdout)
    face_id = indexed["FaceRecords"][0]["Face"]["FaceId"]
    assert run_subprocess("create-user", "--collection-id", "c", "--user-id", "obama",
                          env=env).returncode == 0
    assert run_subprocess("associate-faces", "--collection-id", "c", "--user-id", "obama",
                          "--face-ids", face_id, env=env).returncode == 0
    requests = tmp_path / "requests.jsonl"
    requests.write_text("\n".join(json.dumps({"CollectionId": "c", "Image": {"Bytes": f"fileb://{path}"}})
                                  for path in (faces_dir / "people/obama/obama2.jpg",
                                               faces_dir / "noface/dog.jpg",
                                               faces_dir / "groups/obama_and_biden.jpg")) + "\n")
    batch = ["batch", "search-users-by-image", "--input-file", str(requests)]
    by_pool = run_subprocess(*batch, "--workers", "2", env=env)
    by_cluster = run_subprocess(*batch, "--cluster", cluster.address, env=env)
    assert (by_cluster.returncode, by_cluster.stdout) == (by_pool.returncode, by_pool.stdout)
    first = json.loads(by_cluster.stdout.splitlines()[0])
    assert first["UserMatches"][0]["User"]["UserId"] == "obama"


def test_a_worker_with_another_engine_stops_the_job(tmp_path, photo_folder):
    """Its descriptors would not be comparable with the collection's: nothing it computed is
    stored, and the job stops as for a lost scheduler (resumable, exit 255)."""
    env = data_env(tmp_path, "data")
    other = LocalCluster(workers=1, worker_env={"REKCLI_DETECTOR": "cnn"})
    try:
        result = run_subprocess("index-folder", "--collection-id", "c", "--images", str(photo_folder),
                                "--cluster", other.address, env=env)
    finally:
        other.close()
    assert result.returncode == 255
    assert b"analyses faces with another engine than this machine's" in result.stderr
    assert b"detector cnn" in result.stderr
    assert faces_of(env) == []


def test_s3_objects_are_read_by_the_driver_and_shipped_as_bytes(cluster, tmp_path, faces_dir):
    """S3Object images (here a local bucket root, which only this process is given) are read
    here: the workers have neither the files nor the setting."""
    bucket = tmp_path / "s3" / "photos"
    bucket.mkdir(parents=True)
    # a copy in the test's own folder: the bucket root follows no symlink
    (bucket / "obama.jpg").write_bytes((faces_dir / "people/obama/obama.jpg").read_bytes())
    env = dict(data_env(tmp_path, "data"), REKCLI_S3_ROOT=str(tmp_path / "s3"))
    requests = tmp_path / "requests.jsonl"
    requests.write_text("\n".join(json.dumps({"Image": {"S3Object": {"Bucket": "photos", "Name": name}}})
                                  for name in ("obama.jpg", "missing.jpg")) + "\n")
    batch = ["batch", "detect-faces", "--input-file", str(requests)]
    by_pool = run_subprocess(*batch, "--workers", "2", env=env)
    by_cluster = run_subprocess(*batch, "--cluster", cluster.address, env=env)
    assert (by_cluster.returncode, by_cluster.stdout) == (by_pool.returncode, by_pool.stdout)
    first, second = (json.loads(line) for line in by_cluster.stdout.splitlines())
    assert len(first["FaceDetails"]) == 1
    assert second["Error"]["Code"] == "InvalidS3ObjectException"


def test_a_cluster_without_workers_stops_the_job_instead_of_waiting_forever(tmp_path, faces_dir,
                                                                           monkeypatch):
    """A scheduler whose workers are all gone (or never came) runs nothing: a nightly job
    must not wait for them forever, but stop as for a lost scheduler (resumable)."""
    from rekcli.batch import cluster as cluster_module
    from rekcli.batch.cluster import ClusterUnavailable, run_on_cluster
    from rekcli.batch.worker import Task

    monkeypatch.setattr(cluster_module, "NO_WORKERS_SECONDS", 3.0)
    empty = LocalCluster(workers=0)
    try:
        tasks = [Task("DetectFaces", {}, "us-east-1", str(tmp_path / "data"),
                      image_files={"Image": str(faces_dir / "edge/obama-240p.jpg")})]
        with pytest.raises(ClusterUnavailable) as stopped:
            list(run_on_cluster(tasks, [0], empty.address, lambda: False))
    finally:
        empty.close()
    assert f'The cluster at "{empty.address}" has no workers' in stopped.value.message


def test_a_large_s3_image_ships_without_dask_warnings_on_stderr(cluster, tmp_path, faces_dir):
    """An S3Object may be 15 MB: shipping one over Dask's large-graph threshold (10 MB) must
    not print Dask's advice on stderr, which a local run never prints."""
    import cv2

    bucket = tmp_path / "s3" / "photos"
    bucket.mkdir(parents=True)
    photo = cv2.imread(str(faces_dir / "people/obama/obama.jpg"))
    large = cv2.resize(photo, (2200, 1800))
    assert cv2.imwrite(str(bucket / "large.png"), large, [cv2.IMWRITE_PNG_COMPRESSION, 0])
    assert 10 * 2**20 < (bucket / "large.png").stat().st_size < 15 * 2**20
    env = dict(data_env(tmp_path, "data"), REKCLI_S3_ROOT=str(tmp_path / "s3"))
    requests = tmp_path / "requests.jsonl"
    requests.write_text(json.dumps({"Image": {"S3Object": {"Bucket": "photos", "Name": "large.png"}}})
                        + "\n")
    by_cluster = run_subprocess("batch", "detect-faces", "--input-file", str(requests),
                                "--cluster", cluster.address, env=env)
    assert by_cluster.stderr == b""
    assert by_cluster.returncode == 0
    assert len(json.loads(by_cluster.stdout)["FaceDetails"]) == 1


def test_a_test_cluster_ends_with_the_process_that_started_it(tmp_path):
    """A test run killed before its teardown (a CI timeout) leaves no scheduler running."""
    script = ("import os, sys\n"
              f"sys.path.insert(0, {str(os.path.dirname(__file__))!r})\n"
              "from cluster_helpers import LocalCluster\n"
              "started = LocalCluster(workers=0)\n"
              "print(started.scheduler.pid, flush=True)\n"
              "os._exit(0)\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    scheduler = int(result.stdout)
    for _ in range(300):
        try:
            os.kill(scheduler, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        os.kill(scheduler, signal.SIGKILL)
        pytest.fail("the scheduler outlived the process that started it")


def test_a_scheduler_that_stops_answering_does_not_hang_the_driver(tmp_path, faces_dir,
                                                                   monkeypatch):
    """A frozen scheduler (its machine hung, a network that drops packets without closing
    the connection) answers nothing and closes nothing: the job must still stop, resumable."""
    import threading

    from rekcli.batch import cluster as cluster_module
    from rekcli.batch.cluster import ClusterUnavailable, run_on_cluster
    from rekcli.batch.worker import Task

    monkeypatch.setattr(cluster_module, "NO_WORKERS_SECONDS", 3.0)
    own = LocalCluster(workers=1)
    ended = []
    try:
        tasks = [Task("DetectFaces", {}, "us-east-1", str(tmp_path / "data"),
                      image_files={"Image": str(faces_dir / "edge/obama-240p.jpg")})
                 for _ in range(40)]
        results = run_on_cluster(tasks, list(range(40)), own.address, lambda: False)
        assert next(results)[0] == 0
        os.kill(own.scheduler.pid, signal.SIGSTOP)

        def take_the_rest():
            try:
                list(results)
            except ClusterUnavailable as error:
                ended.append(error.message)

        taker = threading.Thread(target=take_the_rest, daemon=True)
        taker.start()
        taker.join(timeout=120)
        assert not taker.is_alive(), "the driver waits for ever for a frozen scheduler"
    finally:
        os.kill(own.scheduler.pid, signal.SIGCONT)
        own.close()
    assert ended and own.address in ended[0]


PAGE_FAULTS_OF_FREED_ARRAYS = """
import resource, sys
import numpy as np
if sys.argv[1] == "fixed":
    from rekcli.batch.cluster import keep_freed_memory
    keep_freed_memory()
np.ones(1 << 18)  # warm
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(200):
    np.ones(1 << 18)  # 2 MB, allocated and freed
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc settings")
def test_a_dask_worker_reuses_freed_arrays_instead_of_mapping_them_again():
    """Dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536, under which every
    large array is mapped and faulted in afresh (about 40% more CPU per photo);
    keep_freed_memory restores malloc's reuse. Counted in page faults, not time."""
    env = dict(os.environ, MALLOC_TRIM_THRESHOLD_="65536")

    def faults(mode: str) -> int:
        result = subprocess.run([sys.executable, "-c", PAGE_FAULTS_OF_FREED_ARRAYS, mode],
                                capture_output=True, text=True, env=env, timeout=120)
        assert result.returncode == 0, result.stderr
        return int(result.stdout)

    assert faults("as-dask-leaves-it") > 200 * 256  # each 2 MB array faulted in again
    assert faults("fixed") < 200 * 16
