"""The detached worker of one stored-video job: `python -m rekcli.service.video_job DIR ID FD`.

Started by service/video.py with the job's lock already taken and passed down as FD; the
lock lives exactly as long as this process. The worker waits for a concurrency slot, runs
the analysis and writes SUCCEEDED with the results, or FAILED with a StatusMessage. A
kill -9 writes nothing: the next Get* sees the lock free and reports FAILED.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def run_job(jobs_dir: Path, job_id: str) -> None:
    from rekcli.service.context import ServiceContext
    from rekcli.service.errors import ServiceError
    from rekcli.service.video import concurrent_jobs
    from rekcli.service.video_analysis import analyse
    from rekcli.store.jobs import FAILED, SUCCEEDED, JobStore

    jobs = JobStore(jobs_dir.parent)
    record = jobs.record(job_id)
    settings = record["Settings"]
    ctx = ServiceContext(region=settings["Region"], data_dir=Path(settings["DataDir"]),
                         s3_root=Path(settings["S3Root"]) if settings["S3Root"] else None,
                         aws_profile=settings["Profile"], notify=lambda message: None)
    # The pid is for people and tests (`kill`); liveness is the lock, never the pid.
    jobs.write_state(job_id, {"JobStatus": "IN_PROGRESS", "Worker": os.getpid()})
    slot = jobs.acquire_slot(concurrent_jobs())
    try:
        metadata, results = analyse(ctx, record["Operation"], record["Request"],
                                    jobs_dir / f"{job_id}.video", on_metadata=lambda m: jobs.write_state(
                                        job_id, {"JobStatus": "IN_PROGRESS", "VideoMetadata": m}))
        jobs.write_state(job_id, {"JobStatus": SUCCEEDED, "VideoMetadata": metadata,
                                  "Results": results})
    except ServiceError as error:
        jobs.write_state(job_id, {"JobStatus": FAILED, "StatusMessage": error.message})
    except Exception as error:  # noqa: BLE001 - whatever happened, the job must end FAILED
        jobs.write_state(job_id, {"JobStatus": FAILED,
                                  "StatusMessage": f"Internal error: {type(error).__name__}: {error}"})
    finally:
        os.close(slot)


def main(argv: list[str]) -> int:
    jobs_dir, job_id, lock_fd = Path(argv[0]), argv[1], int(argv[2])
    try:
        run_job(jobs_dir, job_id)
    finally:
        os.close(lock_fd)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
