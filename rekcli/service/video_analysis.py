"""The frame work of a stored-video job: sampled frames -> FaceDetections or PersonMatches.

Sampling: one frame every `sample_interval_ms()` of video time (default 500 ms, i.e. 2
frames per second; `$REKCLI_VIDEO_SAMPLE_MS` changes it). Chosen by measurement so that a
1080p 30 fps clip is analysed faster than twice real time on two cores (README, "Faces in
video"; benchmarks/bench_video.py).

Every sampled frame goes through the same engine calls as the image operations
(engine.analyze_faces), and a search matches each face against the collection with the
same function as search-faces-by-image (faces_admin.match_faces), so a face in a frame
finds what that frame, saved as a photo, would find.

Tracking (`PersonTracker`): a face joins the person whose last descriptor is nearest, when
that distance is under SAME_PERSON_DISTANCE, or, for a person seen in the previous sample,
whose box overlaps it (IoU >= SAME_PLACE_IOU) with a distance under LOOSE_DISTANCE. Pairs
are taken greedily, best first, one face per person per frame; a face that joins no one is
a new person with the next Index.
"""

from __future__ import annotations

import os
from pathlib import Path

from rekcli.service import face_details
from rekcli.service.context import ServiceContext

DEFAULT_SAMPLE_MS = 500
SAMPLE_ENV = "REKCLI_VIDEO_SAMPLE_MS"
MAX_FACES_PER_FRAME = 100
# dlib's descriptors: same person below ~0.6. Stricter alone, looser when the box agrees.
SAME_PERSON_DISTANCE = 0.5
LOOSE_DISTANCE = 0.65
SAME_PLACE_IOU = 0.3


def sample_interval_ms() -> int:
    raw = os.environ.get(SAMPLE_ENV, "")
    if raw.strip().isdigit() and int(raw) > 0:
        return int(raw)
    return DEFAULT_SAMPLE_MS


def analyse(ctx: ServiceContext, operation: str, request: dict, scratch: Path,
            on_metadata=lambda m: None):
    """(VideoMetadata, results) of a job: FaceDetection items or PersonMatch items.
    `scratch` is where a video from real S3 is downloaded to for the job's length."""
    from rekcli.engine.video import prefetched, sample_frames
    from rekcli.service.video import check_video, video_file, video_metadata

    with video_file(ctx, request["Video"], scratch) as path:
        metadata = video_metadata(check_video(path))
        on_metadata(metadata)
        frames = prefetched(sample_frames(path, sample_interval_ms()))
        if operation == "StartFaceDetection":
            return metadata, detect_in_frames(frames, request.get("FaceAttributes"))
        return metadata, search_in_frames(ctx, frames, request["CollectionId"],
                                          request.get("FaceMatchThreshold"))


def detect_in_frames(frames, face_attributes: str | None) -> list[dict]:
    from rekcli import engine

    wanted = face_details.AttributeRequest(["ALL"] if face_attributes == "ALL" else None)
    results = []
    for timestamp, image in frames:
        faces = engine.analyze_faces(image, max_faces=MAX_FACES_PER_FRAME,
                                     detailed=wanted.needs_detail, descriptors=False)
        if wanted.needs_age_gender:
            engine.estimate_age_and_gender(image, faces)
        results.extend({"Timestamp": timestamp,
                        "Face": face_details.face_detail(f, image.width, image.height, wanted)}
                       for f in faces)
    return results


def search_in_frames(ctx: ServiceContext, frames, collection_id: str,
                     threshold: float | None) -> list[dict]:
    from rekcli import engine
    from rekcli.service.faces_admin import match_faces
    from rekcli.service.store_errors import open_store

    wanted = face_details.AttributeRequest(None)
    tracker = PersonTracker()
    results = []
    with open_store(ctx) as store:
        collection = store.open_collection(collection_id)
        for timestamp, image in frames:
            faces = engine.analyze_faces(image, max_faces=MAX_FACES_PER_FRAME, descriptors=True)
            for face, index in zip(faces, tracker.assign(faces, timestamp)):
                detail = face_details.face_detail(face, image.width, image.height, wanted)
                results.append({
                    "Timestamp": timestamp,
                    "Person": {"Index": index, "BoundingBox": detail["BoundingBox"],
                               "Face": detail},
                    "FaceMatches": match_faces(collection, face.descriptor, None, threshold),
                })
    return results


class PersonTracker:
    """Gives each face of each sampled frame a person Index, stable through the clip."""

    def __init__(self):
        self.people: list[dict] = []  # index = position: {"descriptor", "box", "frame"}
        self.frame = -1

    def assign(self, faces, timestamp: int) -> list[int]:
        from rekcli import engine

        self.frame += 1
        pairs = []
        for f, face in enumerate(faces):
            for p, person in enumerate(self.people):
                distance = engine.descriptor_distance(face.descriptor, person["descriptor"])
                recent = person["frame"] == self.frame - 1
                if distance < SAME_PERSON_DISTANCE or (
                        recent and distance < LOOSE_DISTANCE
                        and box_iou(face.box, person["box"]) >= SAME_PLACE_IOU):
                    pairs.append((distance, f, p))
        indices: list[int | None] = [None] * len(faces)
        taken = set()
        for distance, f, p in sorted(pairs):
            if indices[f] is None and p not in taken:
                indices[f] = p
                taken.add(p)
        for f, face in enumerate(faces):
            if indices[f] is None:
                self.people.append({})
                indices[f] = len(self.people) - 1
            self.people[indices[f]] = {"descriptor": face.descriptor, "box": face.box,
                                       "frame": self.frame}
        return indices


def box_iou(a, b) -> float:
    """Intersection over union of two (left, top, width, height) boxes."""
    left, top = max(a[0], b[0]), max(a[1], b[1])
    right, bottom = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0.0, right - left) * max(0.0, bottom - top)
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0
