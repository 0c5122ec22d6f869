"""Throughput of medgauge's OpenAI-compatible path against the yardstick client, in one run.

    python benchmarks/throughput.py [--shared ../shared] [--n 2000] [--n-big 20000]
                                    [--concurrency 32]

Uses ../shared/bench: make_workload.py (N yes/no VQA-RAD requests with real JPEGs),
instant_server.py (answers at once) and yardstick_client.py (the least a client must do).
Prints medgauge's requests/s, the yardstick's requests/s, medgauge's CPU seconds and peak RSS
(each measured in its own child process), the peak RSS over the big workload, and the time of a
rerun served entirely from the store.  Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# The child: runs medgauge on the workload through the real runner, backend and store, and
# reports its own wall time, CPU seconds and peak RSS.
CHILD = r"""
import asyncio, json, resource, sys, time
from medgauge.benchmarks.base import Benchmark
from medgauge.backends import create_backend
from medgauge.benchmarks.io import read_jsonl
from medgauge.runner.engine import Task, run_tasks
from medgauge.runner.solver import solvers
from medgauge.store import open_store
from medgauge.types import ImageRef, Sample

workload, store_path, url, concurrency = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

class Workload(Benchmark):
    name = "throughput-workload"
    def samples(self):
        for _, row in read_jsonl(self.root):
            yield Sample(row["id"], row["question"], row["target"], "mcq",
                         options={"A": "yes", "B": "no"}, images=(ImageRef(row["image"]),))

task = Task(Workload(workload), create_backend("openai:instant",
            {"base_url": url, "concurrency": concurrency, "max_retries": 2}),
            solvers.get("clean")(), prompt="{question}")
store = open_store(store_path)
t0, c0 = time.perf_counter(), time.process_time()
[outcome] = asyncio.run(run_tasks([task], store))
wall = time.perf_counter() - t0
ru = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"n": outcome.total, "sent": outcome.sent, "errors": outcome.errors,
                  "wall_s": wall, "cpu_s": ru.ru_utime + ru.ru_stime,
                  "peak_rss_mb": ru.ru_maxrss / 1024}))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port: int) -> None:
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"server on port {port} did not start")


def child(workload: Path, store: Path | str, url: str, concurrency: int) -> dict:
    """One medgauge run in a child process (``store``: a SQLite file or a postgresql:// URL)."""
    out = subprocess.run([sys.executable, "-c", CHILD, str(workload), str(store), url,
                          str(concurrency)], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"medgauge child failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", type=Path, default=HERE.parent.parent / "shared")
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--n-big", type=int, default=20000)
    ap.add_argument("--concurrency", type=int, default=32)
    args = ap.parse_args()
    bench = args.shared / "bench"
    if not (bench / "instant_server.py").is_file():
        raise SystemExit(f"needs {bench} (the shared yardsticks)")
    port = free_port()
    url = f"http://127.0.0.1:{port}/v1"
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        small, big = tmpdir / "workload.jsonl", tmpdir / "workload_big.jsonl"
        for path, n in ((small, args.n), (big, args.n_big)):
            subprocess.run([sys.executable, str(bench / "make_workload.py"), "--data",
                            str(args.shared / "data" / "vqa_rad"), "--n", str(n), "--out",
                            str(path)], check=True, capture_output=True)
        server = subprocess.Popen([sys.executable, str(bench / "instant_server.py"), "--port",
                                   str(port)], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        try:
            wait_for(port)
            yard = json.loads(subprocess.run(
                [sys.executable, str(bench / "yardstick_client.py"), str(small), "--url",
                 url + "/chat/completions", "--concurrency", str(args.concurrency)],
                capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1])
            first = child(small, tmpdir / "a.db", url, args.concurrency)
            t0 = time.perf_counter()
            rerun = child(small, tmpdir / "a.db", url, args.concurrency)
            rerun_s = time.perf_counter() - t0
            large = child(big, tmpdir / "b.db", url, args.concurrency)
        finally:
            server.terminate()
            server.wait(timeout=10)
    medgauge_rps = first["n"] / first["wall_s"]
    print(f"yardstick ({yard['client']}): {yard['rps']:.0f} requests/s over {yard['n']}")
    print(f"medgauge: {medgauge_rps:.0f} requests/s over {first['n']} "
          f"({first['errors']} errors), cpu {first['cpu_s']:.1f} s, "
          f"peak RSS {first['peak_rss_mb']:.0f} MB")
    print(f"medgauge over {large['n']}: {large['n'] / large['wall_s']:.0f} requests/s, "
          f"peak RSS {large['peak_rss_mb']:.0f} MB")
    print(f"rerun from the store: {rerun_s:.2f} s for {rerun['n']} samples "
          f"({rerun['sent']} requests sent)")
    print(json.dumps({
        "medgauge_rps": round(medgauge_rps, 1),
        "yardstick_rps": yard["rps"],
        "ratio": round(medgauge_rps / yard["rps"], 3),
        "cpu_s": round(first["cpu_s"], 2),
        "peak_rss_mb": round(first["peak_rss_mb"], 1),
        "peak_rss_mb_20k": round(large["peak_rss_mb"], 1),
        "rerun_s": round(rerun_s, 2),
    }))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
