"""Ray or Dask for issue 13? Both measured on the shape of rekcli's batch work: start-up of a
head and two one-CPU workers on 127.0.0.1, and the overhead per task of ~0.1 s of CPU carrying
100 KB-5 MB of image bytes, against the same tasks on a local process pool of two. Prints
JSON lines. Each engine runs from its own virtualenv (neither is a dependency of rekcli's
plain install):

    python3 -m venv /tmp/dask-venv && /tmp/dask-venv/bin/pip install distributed
    python3 -m venv /tmp/ray-venv && /tmp/ray-venv/bin/pip install ray
    /tmp/dask-venv/bin/python benchmarks/cluster_engines.py dask
    /tmp/ray-venv/bin/python benchmarks/cluster_engines.py ray
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor

TASKS = 40
SIZES = (100_000, 1_000_000, 5_000_000)
CPU_SECONDS = 0.1


def work(data: bytes, seconds: float) -> int:
    """~`seconds` of CPU, as a face analysis is, and a small answer."""
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass
    return len(data)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_dask():
    from distributed import Client

    tools = os.path.dirname(sys.executable)
    port = free_port()
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    processes = [subprocess.Popen([f"{tools}/dask", "scheduler", "--host", "127.0.0.1", "--port",
                                   str(port), "--no-dashboard"], **quiet)]
    processes += [subprocess.Popen([f"{tools}/dask", "worker", f"tcp://127.0.0.1:{port}",
                                    "--nthreads", "1", "--host", "127.0.0.1", "--no-dashboard"], **quiet)
                  for _ in range(2)]
    client = Client(f"tcp://127.0.0.1:{port}", timeout=60)
    client.wait_for_workers(2, timeout=120)

    def run(data: list, seconds: float) -> None:
        client.gather([client.submit(work, data[i % len(data)], seconds, pure=False)
                       for i in range(TASKS)])

    def stop() -> None:
        client.close()
        for process in processes:
            process.terminate()
            process.wait()

    return run, stop


def start_ray():
    import ray

    tools = os.path.dirname(sys.executable)
    port = free_port()
    subprocess.run([f"{tools}/ray", "start", "--head", "--port", str(port), "--num-cpus", "1",
                    "--include-dashboard", "false", "--disable-usage-stats"], check=True,
                   capture_output=True)
    subprocess.run([f"{tools}/ray", "start", "--address", f"127.0.0.1:{port}", "--num-cpus", "1",
                    "--disable-usage-stats"], check=True, capture_output=True)
    ray.init(address=f"127.0.0.1:{port}", logging_level="ERROR")
    while ray.cluster_resources().get("CPU", 0) < 2:
        time.sleep(0.1)
    remote = ray.remote(num_cpus=1, max_retries=3)(work)

    def run(data: list, seconds: float) -> None:
        ray.get([remote.remote(data[i % len(data)], seconds) for i in range(TASKS)])

    def stop() -> None:
        ray.shutdown()
        subprocess.run([f"{tools}/ray", "stop", "--force"], capture_output=True)

    return run, stop


def local_pool_seconds(pool: ProcessPoolExecutor, data: list, seconds: float) -> float:
    started = time.perf_counter()
    list(pool.map(work, [data[i % len(data)] for i in range(TASKS)], [seconds] * TASKS))
    return time.perf_counter() - started


def main() -> None:
    engine = sys.argv[1]
    started = time.perf_counter()
    run, stop = start_dask() if engine == "dask" else start_ray()
    print(json.dumps({"engine": engine, "startup_s": round(time.perf_counter() - started, 2)}),
          flush=True)
    try:
        run([b"warm"], 0.01)
        with ProcessPoolExecutor(2) as pool:
            local_pool_seconds(pool, [b"warm"], 0.01)
            for size in SIZES:
                data = [os.urandom(size) for _ in range(4)]
                local = local_pool_seconds(pool, data, CPU_SECONDS)
                begun = time.perf_counter()
                run(data, CPU_SECONDS)
                remote = time.perf_counter() - begun
                print(json.dumps({
                    "engine": engine, "tasks": TASKS, "cpu_s_per_task": CPU_SECONDS,
                    "mb_per_task": size / 1e6, "local_pool_2_s": round(local, 2),
                    "cluster_2_s": round(remote, 2),
                    "overhead_ms_per_task": round(1000 * (remote - local) * 2 / TASKS, 1),
                }), flush=True)
    finally:
        stop()


if __name__ == "__main__":
    main()
