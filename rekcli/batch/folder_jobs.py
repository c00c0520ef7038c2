"""The batch jobs as the service sees them: for each batch command, the tasks its workers
run, the labels of its output lines, the key of its resume journal, and how a resumed job
decides which journaled results it may replay. rekcli/cli/batch_commands.py reads the
command line and prints; everything here reaches the service through its public entry points
(rekcli.service: invoke, collection_state, reason_to_skip_indexing ...).

A job's key must stay what it was for the same input, or an interrupted job of an older
rekcli would not be continued: the parts of each key are listed where the job is built.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from typing import Callable

from rekcli.batch.jobs import S3Location, external_image_ids
from rekcli.batch.journal import file_identity
from rekcli.batch.worker import Task, image_bytes_of


@dataclass(frozen=True)
class Where:
    """Where a job's requests run: the region, the data directory, whose S3 credentials."""

    region: str
    data_dir: str
    profile: str | None = None
    binary_format: str = "base64"

    def context(self):
        from pathlib import Path

        from rekcli.service.context import ServiceContext

        return ServiceContext(region=self.region, data_dir=Path(self.data_dir))

    def task(self, operation: str, members: dict, **fields) -> Task:
        return Task(operation, members, self.region, self.data_dir, profile=self.profile, **fields)


@dataclass
class Job:
    """What run_in_order runs and the CLI prints, one line per task."""

    operation: str                     # the API operation (table titles, error lines)
    tasks: list
    labels: list | None                # folder jobs: {"Image": ...} per line; None for `batch`
    key_parts: tuple                   # what identifies the job (its journal)
    collections: list = field(default_factory=list)   # a delete in any removes its journal
    recheck_journaled: Callable | None = None
    facts_of: Callable | None = None
    line_numbers: list | None = None   # `batch`: each request's line in the input file


# ---- index-folder, search-folder, compare-folder ---------------------------------------------


def index_folder_job(where: Where, collection_id: str, images: list, passed: dict) -> Job:
    """Index each image under the ExternalImageId its path gives; the skip check runs in
    the worker, before any face analysis. ResourceNotFoundException, before any image work,
    when the collection does not exist."""
    from rekcli.service import collection_state

    created, _ = collection_state(collection_id, where.context())
    ext_ids = external_image_ids(images, _indexed_under(collection_id, where))
    tasks, labels = [], []
    for (path, _, problem), ext_id in zip(images, ext_ids):
        members = {"CollectionId": collection_id, "ExternalImageId": ext_id, **passed}
        tasks.append(where.task("IndexFaces", members, image_files={"Image": str(path)},
                                skip_if_indexed=True, problem=problem))
        labels.append({"Image": os.fspath(path), "ExternalImageId": ext_id})
    return Job("IndexFaces", tasks, labels,
               ("index-folder", collection_id, created, passed, fingerprint(images),
                where.region, where.data_dir, ext_ids),
               collections=[collection_id],
               recheck_journaled=_faces_still_indexed(collection_id, where))


def search_folder_job(where: Where, collection_id: str, images: list, passed: dict) -> Job:
    """Search the collection with each image. Results depend on the collection's content:
    any change to it is a new job."""
    from rekcli.service import collection_state

    state = collection_state(collection_id, where.context())
    members = {"CollectionId": collection_id, **passed}
    tasks = [where.task("SearchFacesByImage", members, image_files={"Image": str(path)},
                        problem=problem) for path, _, problem in images]
    return Job("SearchFacesByImage", tasks, _image_labels(images),
               ("search-folder", members, fingerprint(images), where.region, where.data_dir,
                state), collections=[collection_id])


def compare_folder_job(where: Where, source: bytes, images: list, passed: dict) -> Job:
    """Compare the source's largest face with each image's faces. RequestError or the
    service's exception, naming nothing, when the source cannot be used (check_source)."""
    members = {"SourceImage": {"Bytes": source}, **passed}
    check_source(members, where)
    tasks = [where.task("CompareFaces", members, image_files={"TargetImage": str(path)},
                        problem=problem) for path, _, problem in images]
    return Job("CompareFaces", tasks, _image_labels(images),
               ("compare-folder", hashlib.sha256(source).hexdigest(), passed, fingerprint(images)))


def check_source(members: dict, where: Where) -> None:
    """Fail at once when the reference photo cannot be read or has no usable face: every
    comparison would fail the same way, each after a target's work. The source stands in for
    the target too: the request is validated whole, as each item's will be, so a bad option
    also fails here rather than once per image."""
    from rekcli.service import require_source_face
    from rekcli.service.requests import build_request_from_input

    request = build_request_from_input(
        "CompareFaces", dict(members, TargetImage=members["SourceImage"]), where.binary_format)
    require_source_face(request, where.context())


def _image_labels(images: list) -> list[dict]:
    """A byte of a file name that is not valid UTF-8 stays a lone surrogate here (0xe9 is
    U+DCE9, as Python decodes names); the CLI writes it back as the byte, or as \\udce9."""
    return [{"Image": os.fspath(path)} for path, _, _ in images]


def fingerprint(images) -> list:
    """Identify the job's files by path and file_identity (cheap, no reading)."""
    out = []
    for path, _, problem in images:
        if isinstance(path, S3Location):  # its listing's ETag tells its versions apart
            out.append((str(path), "s3", path.etag, path.size))
            continue
        try:
            out.append((str(path), *file_identity(path)))
        except OSError as error:
            out.append((str(path), problem or str(error)))
    return out


def _indexed_under(collection_id: str, where: Where):
    """For external_image_ids: which of the files that would share an ExternalImageId the
    collection already holds under it (same image bytes), so that it keeps that name. Asked
    only when names meet, which is rare: the collection is listed once, on the first ask."""
    from rekcli.service import image_id, invoke
    from rekcli.service.errors import ServiceError

    listed: list[dict] = []  # ExternalImageId -> its ImageIds, once listed

    def image_ids_by_name() -> dict:
        if listed:
            return listed[0]
        by_name: dict = {}
        context = where.context()
        request = {"CollectionId": collection_id, "MaxResults": 4096}
        while True:
            page = invoke("ListFaces", request, context)
            for face in page["Faces"]:
                by_name.setdefault(face.get("ExternalImageId"), set()).add(face["ImageId"])
            if not page.get("NextToken"):
                listed.append(by_name)
                return by_name
            request["NextToken"] = page["NextToken"]

    def indexed_under(name: str, paths: list) -> int | None:
        owners = image_ids_by_name().get(name)
        for position, path in enumerate(paths if owners else ()):
            try:
                data = image_bytes_of(str(path), where.region, where.profile)
                if image_id(data) in owners:
                    return position
            except (OSError, ServiceError):
                continue  # unreadable or too large: it cannot have been indexed
        return None

    return indexed_under


def _faces_still_indexed(collection_id: str, where: Where):
    """For a resumed index-folder: keep the journaled results whose faces are all still in
    the collection; the others are computed again, as a fresh run would: an image whose
    faces were all deleted since the interruption is indexed again, one that kept some is
    ALREADY_INDEXED, and no line names a FaceId that no longer exists."""
    from rekcli.service.errors import ServiceError

    def recheck_journaled(done: dict, facts: dict) -> dict:
        wanted = set().union(*(_face_ids(result) for result in done.values()))
        try:
            present = _existing_face_ids(collection_id, wanted, where)
        except ServiceError:
            return {}  # compute every item again: the skip check indexes nothing twice
        return {index: result for index, result in done.items() if _face_ids(result) <= present}

    return recheck_journaled


def _face_ids(result: dict) -> set:
    return {record["Face"]["FaceId"] for record in result.get("Response", {}).get("FaceRecords", [])}


def _existing_face_ids(collection_id: str, wanted: set, where: Where) -> set:
    """Which of `wanted` are faces of the collection now (ServiceError if it cannot say)."""
    from rekcli.service import invoke

    wanted = sorted(wanted)
    present: set = set()
    context = where.context()
    for start in range(0, len(wanted), 4096):  # ListFaces takes up to 4096 ids
        request = {"CollectionId": collection_id, "FaceIds": wanted[start:start + 4096],
                   "MaxResults": 4096}
        present.update(face["FaceId"] for face in invoke("ListFaces", request, context)["Faces"])
    return present


# ---- batch: requests of one operation ---------------------------------------------------------


def requests_job(where: Where, operation: str, numbered: list[tuple[int, str, dict]]) -> Job:
    """One task per request: (line number, line, members) each, from the input file."""
    tasks = [Task(operation, members, where.region, where.data_dir, where.binary_format,
                  profile=where.profile) for _, _, members in numbered]
    resume = _RequestsResume(operation, tasks, where)
    return Job(operation, tasks, None,
               ("batch", operation, [line for _, line, _ in numbered], where.region,
                where.data_dir, where.binary_format),
               collections=sorted(set(resume.collection_of.values())),
               recheck_journaled=resume.recheck, facts_of=resume.facts,
               line_numbers=[number for number, _, _ in numbered])


class _RequestsResume:
    """When a resumed `batch` may replay a journaled result: only when a fresh run would
    print the same. Each result is recorded with what its answer depended on, its facts: the
    identity of every file the request reads (fileb:// images, S3Object files), taken when
    the job starts, and the state of the collection it names (creation time, generation),
    taken after it finished. On resume a result is replayed when its files are the same, its
    collection is the same one (not deleted and made again), and either
      - IndexFaces: every face it indexed is still in the collection (a fresh run would find
        them there; indexing again would duplicate them), or
      - anything else: the collection has not changed since the interrupted run's last
        result (searches would match other faces; a write's answer may differ).
    Everything else is computed again, and so is every result of an operation whose answer
    depends on store state that no CollectionId names (tags, the list of collections)."""

    # Operations that never change a collection: its state is read once, at the first result
    # (~3 ms a read). Recorded early, a state can only be older than the answer, and on
    # resume that makes a result computed again, never replayed wrongly.
    READ_ONLY = {"SearchFaces", "SearchFacesByImage", "SearchUsers", "SearchUsersByImage",
                 "ListFaces", "ListUsers", "DescribeCollection"}
    NEVER_REPLAYED = {"ListCollections", "ListTagsForResource", "TagResource", "UntagResource"}

    def __init__(self, operation: str, tasks: list, where: Where) -> None:
        self.operation = operation
        self.where = where
        self.context = where.context()
        self.files = [_digest(self._file_identities(task.members)) for task in tasks]
        self.collection_of = {index: task.members["CollectionId"] for index, task in enumerate(tasks)
                              if isinstance(task.members.get("CollectionId"), str)}
        self._read_once: dict[str, object] = {}

    def _file_identities(self, members: dict) -> list:
        from rekcli.service import local_s3_object_file

        identities = []
        for member in ("Image", "SourceImage", "TargetImage"):
            image = members.get(member)
            if not isinstance(image, dict):
                continue
            try:
                if isinstance(image.get("Bytes"), str) and image["Bytes"].startswith("fileb://"):
                    identities.append(file_identity(os.path.expanduser(image["Bytes"][len("fileb://"):])))
                elif isinstance(image.get("S3Object"), dict):
                    local = local_s3_object_file(image["S3Object"], self.context)
                    # An object in S3 has no identity without asking S3 for it: an identity
                    # that never matches makes a resumed run compute it again.
                    identities.append(["s3", os.urandom(8).hex()] if local is None
                                      else file_identity(local))
            except Exception as error:  # noqa: BLE001 - the item reports it; here it is a fact
                identities.append(type(error).__name__)
        return identities

    def _state(self, collection_id: str):
        from rekcli.service import collection_state
        from rekcli.service.errors import ServiceError

        try:
            return list(collection_state(collection_id, self.context))
        except ServiceError:
            return None

    def facts(self, index: int, result: dict) -> dict:
        facts: dict = {"Files": self.files[index]}
        if index in self.collection_of:
            name = self.collection_of[index]
            if self.operation not in self.READ_ONLY:
                facts["Collection"] = self._state(name)
            else:
                if name not in self._read_once:
                    self._read_once[name] = self._state(name)
                facts["Collection"] = self._read_once[name]
        return facts

    def recheck(self, done: dict, facts: dict) -> dict:
        from rekcli.service.errors import ServiceError

        if self.operation in self.NEVER_REPLAYED:
            return {}
        now = {name: self._state(name) for name in set(self.collection_of.values())}
        last_generation: dict[str, int] = {}
        for index in done:
            recorded = (facts.get(index) or {}).get("Collection")
            if index in self.collection_of and recorded:
                name = self.collection_of[index]
                last_generation[name] = max(last_generation.get(name, recorded[1]), recorded[1])
        kept = {}
        for index, result in done.items():
            recorded = facts.get(index)
            if not isinstance(recorded, dict) or recorded.get("Files") != self.files[index]:
                continue
            if index in self.collection_of:
                name = self.collection_of[index]
                state, then = now[name], recorded.get("Collection")
                if (state is None) != (then is None) or (state and state[0] != then[0]):
                    continue  # deleted, or deleted and made again
                if state and not (self.operation == "IndexFaces" and "Response" in result) \
                        and state[1] != last_generation.get(name):
                    continue  # changed since the interruption
            kept[index] = result
        indexed = {index: result for index, result in kept.items()
                   if self.operation == "IndexFaces" and "Response" in result}
        for name in {self.collection_of[index] for index in indexed}:
            mine = {index: result for index, result in indexed.items()
                    if self.collection_of[index] == name}
            try:
                present = _existing_face_ids(name, set().union(*map(_face_ids, mine.values())),
                                             self.where)
            except ServiceError:
                present = set()
            for index, result in mine.items():
                if not _face_ids(result) <= present:
                    del kept[index]
        return kept



def _digest(value) -> str:
    return hashlib.sha256(json.dumps(value).encode("utf-8")).hexdigest()[:32]
