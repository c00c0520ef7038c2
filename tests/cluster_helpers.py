"""A real local Dask cluster for the cluster tests and benchmarks: a scheduler and worker
nodes as separate processes on 127.0.0.1, each worker with one thread (the machine has two
cores), and a stand-in analysis that ends its worker on a chosen image."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

TESTS_DIR = Path(__file__).resolve().parent
DASK = Path(sys.executable).with_name("dask")
POISON = b"poison: this image ends the worker that analyses it"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Runs `dask ...` so that it ends when the process that started it does (Linux: the
# parent-death signal survives exec): a test run killed by a CI timeout, or ended before
# its fixtures' teardown, must not leave a scheduler behind (it never ends by itself).
_ENDS_WITH_PARENT = (
    "import ctypes, os, signal, sys\n"
    "parent = int(sys.argv[1])\n"
    "if sys.platform.startswith('linux'):\n"
    "    ctypes.CDLL(None).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG\n"
    "if os.getppid() != parent:\n"
    "    sys.exit(1)\n"
    "os.execv(sys.argv[2], sys.argv[2:])\n")


def dask_command(*arguments: str) -> list[str]:
    """The command line of `dask ARGUMENTS...`, ended with this process."""
    return [sys.executable, "-c", _ENDS_WITH_PARENT, str(os.getpid()), str(DASK), *arguments]


class LocalCluster:
    """`dask scheduler` and `workers` x `dask worker --nthreads 1`, started and waited for."""

    def __init__(self, workers: int = 2, scheduler_env: dict | None = None,
                 worker_env: dict | None = None) -> None:
        self.address = f"tcp://127.0.0.1:{free_port()}"
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            [str(TESTS_DIR)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
        self.scheduler = subprocess.Popen(
            dask_command("scheduler", "--host", "127.0.0.1", "--port",
                         self.address.rsplit(":", 1)[1], "--no-dashboard"), env=dict(env, **(scheduler_env or {})),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        # As the README says to start them: without Dask's sampling profiler, which costs
        # a worker ~40% of its throughput on this work (benchmarks/bench_batch.py --cluster).
        worker_env = {"DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED": "False", **(worker_env or {})}
        self.workers = []
        try:
            self.workers += [self._start_worker(dict(env, **worker_env)) for _ in range(workers)]
            self.wait_for_workers(workers)
        except BaseException:  # a start-up that timed out must not leave its processes behind
            self.close()
            raise

    def _start_worker(self, env: dict) -> subprocess.Popen:
        return subprocess.Popen(
            dask_command("worker", self.address, "--nthreads", "1", "--nworkers", "1",
                         "--host", "127.0.0.1", "--no-dashboard", "--death-timeout", "30"),
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def client(self):
        from distributed import Client

        return Client(self.address, timeout=30, set_as_default=False)

    def wait_for_workers(self, count: int, timeout: float = 120) -> None:
        with self.client() as client:  # connecting waits for the scheduler
            if count:
                client.wait_for_workers(count, timeout=timeout)

    def worker_pids(self) -> list[int]:
        """The pids of the worker processes (the nannies' children, which run the tasks)."""
        with self.client() as client:
            return sorted(client.run(os.getpid).values())

    def tasks_on_scheduler(self) -> int:
        with self.client() as client:
            return client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks))

    def stop_scheduler(self) -> None:
        self.scheduler.kill()
        self.scheduler.wait(timeout=30)

    def close(self) -> None:
        for process in self.workers + [self.scheduler]:
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + 20
        for process in self.workers + [self.scheduler]:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)
                process.wait()


def analyse_or_die(operation: str, request: dict, images: dict) -> dict:
    """The workers' analysis, except that an image whose bytes start with POISON ends the
    worker process at once, as a decoder crash or the OOM killer would."""
    from rekcli.batch.cluster import analyse_on_worker

    image = request.get("Image") or {}
    if bytes(image.get("Bytes") or b"").startswith(POISON):
        os._exit(1)
    return analyse_on_worker(operation, request, images)
