"""Help words for the stored-video commands, merged into rekcli/cli/examples.py's tables.

Numbers are as rekcli printed them for a 6-second clip made from the shared photos (3 s of
obama2.jpg, then 3 s of biden.jpg, 640x360, 10 fps, mp4v), with obama.jpg indexed.
"""

from __future__ import annotations

_JOB_ID = "873bb3317bad5a1cac7935bd2dd8eba22fbe24399eebfe08a78aa529a1e8ed82"
_DETECTION_JOB_ID = "3f1d888a17d24919164adc036714baf8938e1826e2b35902cd0607790032f975"
_VIDEO = "S3Object={Bucket=doorcam,Name=monday.mp4}"

MEMBER_DOCS = {
    "Video.S3Object": "The video: an object in S3, or with REKCLI_S3_ROOT set the file "
                      "$REKCLI_S3_ROOT/<Bucket>/<Name>.",
    "JobId": "ID of the video job, for the get- command.",
    "JobStatus": "IN_PROGRESS, SUCCEEDED or FAILED (then StatusMessage says why).",
    "StatusMessage": "Why the job failed.",
    "VideoMetadata": "What the video is: codec, length, container, frame rate and size.",
    "Video": "The video the job analysed.",
    "JobTag": "The --job-tag given when the job was started.",
    "Codec": "Video codec, as FFmpeg names it (h264, hevc, mpeg4, vp9 ...).",
    "DurationMillis": "Length of the video in milliseconds.",
    "Format": "Container format (QuickTime / MOV for MP4 and MOV files, AVI, Matroska / WebM).",
    "FrameRate": "Frames per second of the video.",
    "FrameHeight": "Height of a frame in pixels.",
    "FrameWidth": "Width of a frame in pixels.",
    "ColorRange": "FULL or LIMITED; not returned (OpenCV does not report it).",
    "Timestamp": "Time of the sampled frame, in milliseconds from the start of the video.",
    "FaceDetection.Face": "The face found in the frame.",
    "GetFaceDetection.Faces": "Faces found in the sampled frames, by time.",
    "Persons": "Each face found in the sampled frames, with the person it belongs to and its "
               "matches in the collection.",
    "Person": "The person the face belongs to.",
    "Index": "Number of the person, the same for one person all through the video.",
    "PersonDetail.BoundingBox": "Where the person's face is in the frame.",
    "PersonDetail.Face": "What was detected about the face.",
    "PersonMatch.FaceMatches": "Faces of the collection matching this face at or above the "
                               "threshold, most similar first; empty for a stranger.",
    "NotificationChannel.SNSTopicArn": "ARN of the SNS topic (accepted, never published to).",
    "NotificationChannel.RoleArn": "ARN of the IAM role (accepted, never used).",
}

_JOBS = (
    "The command answers with a JobId at once; a background process, which outlives the "
    "command, decodes the video (MP4, MOV, AVI or Matroska through OpenCV's FFmpeg) and "
    "analyses one frame every 500 ms of video time ($REKCLI_VIDEO_SAMPLE_MS changes it). "
    "Jobs are files in the data directory; at most $REKCLI_VIDEO_JOBS run at once (default: "
    "one per core), the others wait IN_PROGRESS.")
_SAME_TOKEN = (
    "The same --client-request-token with the same request returns the same JobId; with a "
    "different request it is an IdempotentParameterMismatchException. A NotificationChannel "
    "is accepted, but there is no SNS to publish to: poll the get- command, or run "
    "`rekcli wait-video-job --job-id ID`.")
_GET = (
    "JobStatus is IN_PROGRESS until the job ends, then SUCCEEDED with the results, or FAILED "
    "with a StatusMessage (a job whose process was killed is FAILED, never IN_PROGRESS "
    "forever). Pages hold at most 1000 items; every page is fetched unless --max-items or "
    "--no-paginate says otherwise.")

DESCRIPTIONS = {
    "StartFaceDetection": [_JOBS, _SAME_TOKEN],
    "GetFaceDetection": [_GET],
    "StartFaceSearch": [
        _JOBS + " Each face of each sampled frame is searched for in the collection as "
                "search-faces-by-image would search for it.",
        _SAME_TOKEN],
    "GetFaceSearch": [
        _GET + " Every face found is listed, with FaceMatches empty for a stranger; "
               "Person.Index names one person all through the video (faces are tracked by "
               "their descriptors and boxes from frame to frame)."],
}


def _examples():
    from rekcli.cli.examples import Example

    # run=False: tools/example_runs.py does not run video jobs yet, so these are shown
    # without an output rather than with one that nothing checks (the README's "Faces in
    # video" section shows real ones).
    return {
        "StartFaceDetection": [
            Example("To find the faces in a stored video",
                    "With REKCLI_S3_ROOT set, the video is the file doorcam/monday.mp4 under it.",
                    f"rekcli start-face-detection --video '{_VIDEO}'", run=False),
        ],
        "GetFaceDetection": [
            Example("To list when faces appear",
                    "Timestamps are milliseconds from the start of the video.",
                    f"rekcli get-face-detection --job-id {_DETECTION_JOB_ID} "
                    "--query 'Faces[].Timestamp' --output text", run=False),
        ],
        "StartFaceSearch": [
            Example("To search a collection for the people in a stored video",
                    "",
                    f"rekcli start-face-search --collection-id family --video '{_VIDEO}' "
                    "--job-tag door-monday", run=False),
        ],
        "GetFaceSearch": [
            Example("To see who appears when",
                    "Obama (indexed as obama.jpg) is person 0 for the first three seconds; "
                    "person 1, in the last three, matches nobody in the collection.",
                    f"rekcli get-face-search --job-id {_JOB_ID} --query "
                    "'Persons[?Timestamp==`0` || Timestamp==`3000`].[Timestamp, Person.Index, "
                    "FaceMatches[0].Face.ExternalImageId]' --output text", run=False),
            Example("To read the job's status and video",
                    "",
                    f"rekcli get-face-search --job-id {_JOB_ID} --query "
                    "'{JobStatus: JobStatus, VideoMetadata: VideoMetadata, JobTag: JobTag}'",
                    run=False),
        ],
    }


def add_video_examples(member_docs: dict, descriptions: dict, examples: dict) -> None:
    for key, text in MEMBER_DOCS.items():
        member_docs.setdefault(key, text)
    descriptions.update(DESCRIPTIONS)
    examples.update(_examples())
