"""Faces in stored video: start-/get-face-detection and start-/get-face-search (issue 15).

Clips are made here from the shared photos with cv2.VideoWriter (mp4v: the wheel has no
H.264 encoder), 640x360 at 10 fps: 3 s of obama2.jpg then 3 s of biden.jpg, with obama.jpg
indexed in the collection. Jobs run in their real detached worker processes; the two
analysed jobs are module fixtures so the frame work is done once.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import time
from pathlib import Path

import pytest

from rekcli.service import invoke
from rekcli.service.context import ServiceContext
from rekcli.service.errors import ServiceError
from tests.cli_helpers import run_cli, run_subprocess

FPS = 10
SIZE = (640, 360)
OBAMA_UNTIL_MS = 3000
CLIP = {"S3Object": {"Bucket": "clips", "Name": "door.mp4"}}
EMPTY_CLIP = {"S3Object": {"Bucket": "clips", "Name": "empty.mp4"}}


def frame_of(photo: Path | None, size=SIZE):
    """The photo letterboxed into a black frame of `size` (BGR, as VideoWriter wants)."""
    import cv2
    import numpy as np

    width, height = size
    frame = np.zeros((height, width, 3), np.uint8)
    if photo is not None:
        image = cv2.imread(str(photo))
        scale = min(width / image.shape[1], height / image.shape[0])
        image = cv2.resize(image, (int(image.shape[1] * scale), int(image.shape[0] * scale)))
        top, left = (height - image.shape[0]) // 2, (width - image.shape[1]) // 2
        frame[top:top + image.shape[0], left:left + image.shape[1]] = image
    return frame


def make_clip(path: Path, segments, fps: float = FPS, size=SIZE) -> Path:
    """A clip of (photo or None, seconds) segments."""
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    for photo, seconds in segments:
        frame = frame_of(photo, size)
        for _ in range(int(round(seconds * fps))):
            writer.write(frame)
    writer.release()
    return path


@pytest.fixture(scope="module")
def world(tmp_path_factory, faces_dir):
    """A data dir with the collection `family` (obama.jpg) and a bucket folder of clips."""
    root = tmp_path_factory.mktemp("video")
    bucket = root / "s3" / "clips"
    bucket.mkdir(parents=True)
    people = faces_dir / "people"
    make_clip(bucket / "door.mp4", [(people / "obama" / "obama2.jpg", 3),
                                    (people / "biden" / "biden.jpg", 3)])
    make_clip(bucket / "empty.mp4", [(None, 1)], size=(160, 96))
    make_clip(bucket / "return.mp4", [(people / "obama" / "obama2.jpg", 1),
                                      (people / "biden" / "biden.jpg", 1),
                                      (faces_dir / "groups" / "obama_and_biden.jpg", 1),
                                      (people / "obama" / "obama3.jpg", 1)])
    ctx = ServiceContext(data_dir=root / "data", s3_root=root / "s3")
    invoke("CreateCollection", {"CollectionId": "family"}, ctx)
    invoke("IndexFaces", {"CollectionId": "family", "ExternalImageId": "obama.jpg",
                          "Image": {"Bytes": (people / "obama" / "obama.jpg").read_bytes()}}, ctx)
    return ctx


def context(world, notices=None) -> ServiceContext:
    return ServiceContext(data_dir=world.data_dir, s3_root=world.s3_root,
                          notify=(notices.append if notices is not None else lambda m: None))


def wait_for(ctx, operation: str, job_id: str, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        response = invoke(operation, {"JobId": job_id}, ctx)
        if response["JobStatus"] != "IN_PROGRESS" or time.monotonic() > deadline:
            return response
        time.sleep(0.2)


@pytest.fixture(scope="module")
def detection(world):
    job_id = invoke("StartFaceDetection", {"Video": CLIP, "JobTag": "door"}, world)["JobId"]
    return wait_for(world, "GetFaceDetection", job_id)


@pytest.fixture(scope="module")
def search(world):
    job_id = invoke("StartFaceSearch", {"Video": CLIP, "CollectionId": "family"},
                    world)["JobId"]
    return wait_for(world, "GetFaceSearch", job_id)


def error_of(call) -> ServiceError:
    with pytest.raises(ServiceError) as info:
        call()
    return info.value


# ---- detection ------------------------------------------------------------------------------


def test_detection_samples_every_500_ms_and_finds_the_one_face(detection):
    assert detection["JobStatus"] == "SUCCEEDED", detection.get("StatusMessage")
    assert [f["Timestamp"] for f in detection["Faces"]] == list(range(0, 6000, 500))
    assert detection["VideoMetadata"] == {
        "Codec": "mpeg4", "DurationMillis": 6000, "Format": "QuickTime / MOV",
        "FrameRate": 10.0, "FrameHeight": 360, "FrameWidth": 640}
    assert detection["JobTag"] == "door" and detection["Video"] == CLIP


def test_detection_boxes_are_those_of_the_photo_in_the_frame(detection, world, faces_dir):
    """The face of each segment is where detect-faces finds it in that segment's frame."""
    import cv2

    people = faces_dir / "people"
    for photo, timestamps in ((people / "obama" / "obama2.jpg", range(0, 3000, 500)),
                              (people / "biden" / "biden.jpg", range(3000, 6000, 500))):
        png = cv2.imencode(".png", frame_of(photo))[1].tobytes()
        expected = invoke("DetectFaces", {"Image": {"Bytes": png}}, world)["FaceDetails"][0]
        for face in (f["Face"] for f in detection["Faces"] if f["Timestamp"] in timestamps):
            for key, value in expected["BoundingBox"].items():
                assert face["BoundingBox"][key] == pytest.approx(value, abs=0.02)


# ---- search ---------------------------------------------------------------------------------


def test_search_finds_the_indexed_person_in_his_segment_only(search):
    assert search["JobStatus"] == "SUCCEEDED", search.get("StatusMessage")
    persons = search["Persons"]
    assert [p["Timestamp"] for p in persons] == list(range(0, 6000, 500))
    for person in persons:
        names = [m["Face"]["ExternalImageId"] for m in person["FaceMatches"]]
        if person["Timestamp"] < OBAMA_UNTIL_MS:
            assert names == ["obama.jpg"]
            assert person["FaceMatches"][0]["Similarity"] >= 80
        else:
            assert names == []  # biden is nobody in this collection


def test_person_index_is_stable_through_each_segment(search):
    obama = {p["Person"]["Index"] for p in search["Persons"] if p["Timestamp"] < OBAMA_UNTIL_MS}
    biden = {p["Person"]["Index"] for p in search["Persons"] if p["Timestamp"] >= OBAMA_UNTIL_MS}
    assert obama == {0} and biden == {1}


def test_a_person_keeps_his_index_when_he_comes_back_and_in_a_group(world):
    """obama2, biden, the two of them (and a third face) in one photo, then obama3."""
    video = {"S3Object": {"Bucket": "clips", "Name": "return.mp4"}}
    job_id = invoke("StartFaceSearch", {"Video": video, "CollectionId": "family"},
                    world)["JobId"]
    persons = wait_for(world, "GetFaceSearch", job_id)["Persons"]
    by_second = {}
    for person in persons:
        matched = [m["Face"]["ExternalImageId"] for m in person["FaceMatches"]]
        by_second.setdefault(person["Timestamp"] // 1000, set()).add(
            (person["Person"]["Index"], tuple(matched)))
    obama, biden = (0, ("obama.jpg",)), (1, ())
    assert by_second[0] == {obama} and by_second[1] == {biden} and by_second[3] == {obama}
    assert {obama, biden} < by_second[2]  # with a third face, a new person


def test_a_frame_matches_as_search_faces_by_image_matches_it(search, world):
    """The decoded frame at 0 ms, saved losslessly, gives search-faces-by-image's numbers."""
    import cv2

    capture = cv2.VideoCapture(str(world.s3_root / "clips" / "door.mp4"))
    ok, frame = capture.read()
    capture.release()
    assert ok
    png = cv2.imencode(".png", frame)[1].tobytes()
    expected = invoke("SearchFacesByImage", {"CollectionId": "family",
                                             "Image": {"Bytes": png}}, world)
    first = search["Persons"][0]
    assert first["FaceMatches"] == expected["FaceMatches"]
    assert first["Person"]["BoundingBox"] == expected["SearchedFaceBoundingBox"]


def test_sort_by_index_orders_by_person_then_time(search, world):
    response = invoke("GetFaceSearch", {"JobId": search["JobId"], "SortBy": "INDEX"}, world)
    keys = [(p["Person"]["Index"], p["Timestamp"]) for p in response["Persons"]]
    assert keys == sorted(keys) and len(keys) == len(search["Persons"])


# ---- pagination -----------------------------------------------------------------------------


def test_pages_of_max_results_add_up_to_the_whole(detection, world):
    pages, token = [], None
    while True:
        request = {"JobId": detection["JobId"], "MaxResults": 5}
        if token:
            request["NextToken"] = token
        page = invoke("GetFaceDetection", request, world)
        pages.append(page["Faces"])
        token = page.get("NextToken")
        assert page["VideoMetadata"] == detection["VideoMetadata"]  # on every page
        if not token:
            break
    assert [len(p) for p in pages] == [5, 5, 2]
    assert [f for p in pages for f in p] == detection["Faces"]


def test_a_forged_or_foreign_token_is_refused(detection, search, world):
    page = invoke("GetFaceDetection", {"JobId": detection["JobId"], "MaxResults": 5}, world)
    token = page["NextToken"]
    for job, operation, bad in ((detection, "GetFaceDetection", token[:-2] + "AA"),
                                (search, "GetFaceSearch", token)):
        error = error_of(lambda: invoke(operation, {"JobId": job["JobId"], "NextToken": bad},
                                        world))
        assert error.code == "InvalidPaginationTokenException"


def test_the_cli_fetches_every_page(detection, world, capsys, monkeypatch):
    monkeypatch.setenv("REKCLI_DATA_DIR", str(world.data_dir))
    code, out, _ = run_cli(capsys, "get-face-detection", "--job-id", detection["JobId"],
                           "--page-size", "5")
    assert code == 0
    assert json.loads(out)["Faces"] == detection["Faces"]
    code, out, _ = run_cli(capsys, "get-face-detection", "--job-id", detection["JobId"],
                           "--max-items", "3")
    printed = json.loads(out)
    assert len(printed["Faces"]) == 3 and "NextToken" in printed


# ---- jobs -----------------------------------------------------------------------------------


def test_same_token_same_job_and_a_different_request_is_refused(world):
    request = {"Video": EMPTY_CLIP, "ClientRequestToken": "door-1"}
    first = invoke("StartFaceDetection", request, world)["JobId"]
    assert invoke("StartFaceDetection", request, world)["JobId"] == first
    error = error_of(lambda: invoke("StartFaceDetection", {**request, "JobTag": "other"}, world))
    assert error.code == "IdempotentParameterMismatchException"
    assert wait_for(world, "GetFaceDetection", first)["JobStatus"] == "SUCCEEDED"


def test_notification_channel_is_accepted_with_one_notice(world):
    notices = []
    channel = {"SNSTopicArn": "arn:aws:sns:us-east-1:123456789012:AmazonRekognitionDoor",
               "RoleArn": "arn:aws:iam::123456789012:role/Rekognition"}
    job_id = invoke("StartFaceDetection", {"Video": EMPTY_CLIP, "NotificationChannel": channel},
                    context(world, notices))["JobId"]
    assert len(notices) == 1 and "nothing is published" in notices[0]
    assert wait_for(world, "GetFaceDetection", job_id)["Faces"] == []


def _worker_pid(world, job_id: str, timeout: float = 60) -> int:
    state_file = world.region_dir / "video-jobs" / f"{job_id}.state.json"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid = json.loads(state_file.read_text()).get("Worker")
        if pid:
            return pid
        time.sleep(0.05)
    raise AssertionError("the worker never started")


def test_jobs_beyond_the_bound_wait_and_a_killed_job_is_failed(world, monkeypatch, capsys):
    """With one slot, taken here, the job waits IN_PROGRESS; kill -9 makes it FAILED."""
    monkeypatch.setenv("REKCLI_VIDEO_JOBS", "1")
    monkeypatch.setenv("REKCLI_DATA_DIR", str(world.data_dir))
    jobs_dir = world.region_dir / "video-jobs"
    jobs_dir.mkdir(parents=True, exist_ok=True)
    slot = os.open(jobs_dir / "slot-0.lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(slot, fcntl.LOCK_EX)
    try:
        job_id = invoke("StartFaceDetection", {"Video": EMPTY_CLIP}, world)["JobId"]
        pid = _worker_pid(world, job_id)
        time.sleep(0.5)
        assert invoke("GetFaceDetection", {"JobId": job_id}, world)["JobStatus"] == "IN_PROGRESS"
        code, _, err = run_cli(capsys, "wait-video-job", "--job-id", job_id, "--timeout", "0.3",
                               "--interval", "0.1")
        assert code == 255 and "still IN_PROGRESS" in err
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while (response := invoke("GetFaceDetection", {"JobId": job_id}, world))[
                "JobStatus"] == "IN_PROGRESS" and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        os.close(slot)
    assert response["JobStatus"] == "FAILED"
    assert "stopped before it finished" in response["StatusMessage"]
    assert "Faces" not in response
    code, _, err = run_cli(capsys, "wait-video-job", "--job-id", job_id)
    assert code == 255 and "stopped before it finished" in err


def test_wait_video_job_has_help(capsys):
    for args in (("help", "wait-video-job"), ("wait-video-job", "help"),
                 ("wait-video-job", "--help")):
        code, out, _ = run_cli(capsys, *args)
        assert code == 0 and "--job-id" in out and "--timeout" in out


def test_wait_video_job_returns_when_the_job_succeeded(search, world, capsys, monkeypatch):
    monkeypatch.setenv("REKCLI_DATA_DIR", str(world.data_dir))
    assert run_cli(capsys, "wait-video-job", "--job-id", search["JobId"]) == (0, "", "")
    code, _, err = run_cli(capsys, "wait-video-job", "--job-id", "a" * 64)
    assert code == 254 and "ResourceNotFoundException" in err


def test_the_job_outlives_the_cli_that_started_it(world):
    env = {"REKCLI_DATA_DIR": str(world.data_dir), "REKCLI_S3_ROOT": str(world.s3_root)}
    started = run_subprocess("start-face-detection", "--video",
                             "S3Object={Bucket=clips,Name=empty.mp4}", "--output", "text",
                             env=env)
    assert started.returncode == 0, started.stderr
    job_id = started.stdout.decode().strip()
    assert wait_for(world, "GetFaceDetection", job_id)["JobStatus"] == "SUCCEEDED"


# ---- errors ---------------------------------------------------------------------------------


def _bad_video(world, name: str, content: bytes | None = None) -> dict:
    path = world.s3_root / "clips" / name
    if content is not None:
        path.write_bytes(content)
    return {"S3Object": {"Bucket": "clips", "Name": name}}


def test_bad_videos_are_aws_errors(world, faces_dir):
    door = (world.s3_root / "clips" / "door.mp4").read_bytes()
    cases = {
        "InvalidParameterException": [
            _bad_video(world, "photo.mp4", (faces_dir / "people/obama/obama.jpg").read_bytes()),
            _bad_video(world, "truncated.mp4", door[: len(door) // 2]),
            _bad_video(world, "empty-file.mp4", b""),
        ],
        "InvalidS3ObjectException": [_bad_video(world, "missing.mp4"),
                                     {"S3Object": {"Bucket": "nobucket", "Name": "door.mp4"}}],
    }
    for code, videos in cases.items():
        for video in videos:
            for operation, extra in (("StartFaceDetection", {}),
                                     ("StartFaceSearch", {"CollectionId": "family"})):
                error = error_of(lambda: invoke(operation, {"Video": video, **extra}, world))
                assert error.code == code, (video, operation)


def test_over_10_gb_or_6_hours_is_video_too_large(world):
    huge = world.s3_root / "clips" / "huge.mp4"
    with open(huge, "wb") as file:  # sparse: no disk is used
        file.truncate(10 * 1024 ** 3 + 1)
    long = make_clip(world.s3_root / "clips" / "long.mp4", [(None, 22000)], fps=0.01,
                     size=(160, 96))  # 220 frames, one every 100 s: 6 h 6 min
    for name in (huge.name, long.name):
        error = error_of(lambda: invoke("StartFaceDetection",
                                        {"Video": _bad_video(world, name)}, world))
        assert error.code == "VideoTooLargeException"


def test_unknown_collection_and_unknown_job(world):
    error = error_of(lambda: invoke("StartFaceSearch", {"Video": CLIP, "CollectionId": "nope"},
                                    world))
    assert error.code == "ResourceNotFoundException"
    for operation in ("GetFaceDetection", "GetFaceSearch"):
        error = error_of(lambda: invoke(operation, {"JobId": "a" * 64}, world))
        assert error.code == "ResourceNotFoundException"


# ---- videos in S3 (moto's server, as tests/test_s3_objects.py) ------------------------------


@pytest.fixture(scope="module")
def s3_videos(world, faces_dir, s3_api_url):
    import boto3

    from tests.test_s3_objects import SECRET

    client = boto3.client("s3", endpoint_url=s3_api_url, region_name="us-east-1",
                          aws_access_key_id="k", aws_secret_access_key=SECRET)
    client.create_bucket(Bucket="doorcam")
    client.put_object(Bucket="doorcam", Key="door.mp4",
                      Body=(world.s3_root / "clips" / "door.mp4").read_bytes())
    client.put_object(Bucket="doorcam", Key="photo.mp4",
                      Body=(faces_dir / "people/obama/obama.jpg").read_bytes())
    return {"AWS_ENDPOINT_URL_S3": s3_api_url, "AWS_ACCESS_KEY_ID": "k",
            "AWS_SECRET_ACCESS_KEY": SECRET}


def test_a_video_in_s3_is_downloaded_by_its_job(s3_videos, world, detection, monkeypatch):
    for name, value in s3_videos.items():
        monkeypatch.setenv(name, value)  # the worker inherits them
    ctx = ServiceContext(data_dir=world.data_dir, s3_root=None)

    def start(name):
        return invoke("StartFaceDetection",
                      {"Video": {"S3Object": {"Bucket": "doorcam", "Name": name}}}, ctx)["JobId"]

    assert error_of(lambda: start("missing.mp4")).code == "InvalidS3ObjectException"
    done = wait_for(ctx, "GetFaceDetection", start("door.mp4"))
    assert done["JobStatus"] == "SUCCEEDED", done.get("StatusMessage")
    assert done["Faces"] == detection["Faces"]
    failed = wait_for(ctx, "GetFaceDetection", start("photo.mp4"))
    assert (failed["JobStatus"], failed["StatusMessage"]) == ("FAILED", "Unsupported codec/format.")
    assert not list((world.region_dir / "video-jobs").glob("*.video"))  # scratch removed


# ---- sampling -------------------------------------------------------------------------------


def test_samples_are_the_first_frames_at_or_after_each_interval(tmp_path):
    """At 7 fps frames fall at 0, 143, 286 ... ms: the 500 ms samples are 0, 571, 1000, 1571."""
    from rekcli.engine.video import probe, sample_frames

    clip = make_clip(tmp_path / "seven.mp4", [(None, 2)], fps=7, size=(96, 64))
    assert probe(clip).duration_ms == 2000
    samples = list(sample_frames(clip, 500))
    assert [t for t, _ in samples] == [0, 571, 1000, 1571]
    assert all((image.width, image.height) == (96, 64) for _, image in samples)
    assert [t for t, _ in sample_frames(clip, 1000)] == [0, 1000]


def test_the_sampling_interval_comes_from_the_environment(monkeypatch):
    from rekcli.service.video_analysis import DEFAULT_SAMPLE_MS, sample_interval_ms

    assert sample_interval_ms() == DEFAULT_SAMPLE_MS == 500
    monkeypatch.setenv("REKCLI_VIDEO_SAMPLE_MS", "200")
    assert sample_interval_ms() == 200
    monkeypatch.setenv("REKCLI_VIDEO_SAMPLE_MS", "fast")
    assert sample_interval_ms() == 500


def test_more_than_20_unfinished_jobs_is_limit_exceeded(tmp_path, world):
    ctx = ServiceContext(data_dir=tmp_path / "data", s3_root=world.s3_root)
    jobs_dir = ctx.region_dir / "video-jobs"
    jobs_dir.mkdir(parents=True)
    held = []
    try:
        for n in range(20):  # twenty jobs whose workers are alive: their locks are held
            fd = os.open(jobs_dir / f"job{n}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)
            held.append(fd)
        error = error_of(lambda: invoke("StartFaceDetection", {"Video": EMPTY_CLIP}, ctx))
        assert error.code == "LimitExceededException"
    finally:
        for fd in held:
            os.close(fd)
    job_id = invoke("StartFaceDetection", {"Video": EMPTY_CLIP}, ctx)["JobId"]
    assert wait_for(ctx, "GetFaceDetection", job_id)["JobStatus"] == "SUCCEEDED"


def test_job_files_are_private_whatever_the_umask(tmp_path, world):
    ctx = ServiceContext(data_dir=tmp_path / "data", s3_root=world.s3_root)
    old = os.umask(0)
    try:
        job_id = invoke("StartFaceDetection", {"Video": EMPTY_CLIP}, ctx)["JobId"]
    finally:
        os.umask(old)
    wait_for(ctx, "GetFaceDetection", job_id)
    jobs_dir = ctx.region_dir / "video-jobs"
    assert jobs_dir.stat().st_mode & 0o777 == 0o700
    files = list(jobs_dir.iterdir())
    assert {f.name for f in files} >= {f"{job_id}.json", f"{job_id}.state.json",
                                       f"{job_id}.lock"}
    assert all(f.stat().st_mode & 0o777 == 0o600 for f in files)


def test_prefetched_frames_keep_order_errors_and_stop_early():
    from rekcli.engine.video import prefetched

    assert list(prefetched(iter(range(10)))) == list(range(10))

    def failing():
        yield 1
        raise ValueError("truncated")

    with pytest.raises(ValueError, match="truncated"):
        list(prefetched(failing()))
    endless = prefetched(iter(int, 1))  # never ends on its own
    assert next(endless) == 0
    endless.close()  # returns: the decoding thread has stopped
