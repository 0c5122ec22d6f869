"""Throughput of the PostgreSQL store against the SQLite store on the 2,000-request workload
(the workload, server and child process of ``throughput.py``; target: PostgreSQL at least 80%
of SQLite's rate).

    python benchmarks/store_throughput.py [--shared ../shared] [--n 2000] [--concurrency 32]
                                          [--repeats 3] [--pg postgresql://user@host/db]

Without ``--pg`` a throwaway PostgreSQL cluster is started on a unix socket in a temporary
folder (``tests/pg_server.py``; needs the PostgreSQL server binaries and psycopg).  Each repeat
runs the workload once into a new SQLite file and once into a new PostgreSQL database
(alternating, so machine load hits both alike); the best rate of each is compared.  Ends with
one JSON line.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from throughput import child, free_port, wait_for  # noqa: E402


def _fresh_db(base_url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    head, sep, query = base_url.partition("?")
    return head.rsplit("/", 1)[0] + f"/{name}" + sep + query


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", type=Path, default=HERE.parent.parent / "shared")
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--pg", default=None, help="a PostgreSQL server's URL (a database the "
                    "user may create databases from); default: a throwaway cluster")
    args = ap.parse_args()
    bench = args.shared / "bench"
    if not (bench / "instant_server.py").is_file():
        raise SystemExit(f"needs {bench} (the shared yardsticks)")
    cluster = None
    if args.pg is None:
        from pg_server import Cluster, find_bin_dir

        bin_dir = find_bin_dir()
        if bin_dir is None:
            raise SystemExit("PostgreSQL server binaries not found; give --pg URL")
        cluster = Cluster(bin_dir)
        cluster.start()
    base = args.pg or cluster.url()
    port = free_port()
    url = f"http://127.0.0.1:{port}/v1"
    rates: dict[str, list[float]] = {"sqlite": [], "postgresql": []}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            tmpdir = Path(tmp)
            workload = tmpdir / "workload.jsonl"
            subprocess.run([sys.executable, str(bench / "make_workload.py"), "--data",
                            str(args.shared / "data" / "vqa_rad"), "--n", str(args.n), "--out",
                            str(workload)], check=True, capture_output=True)
            server = subprocess.Popen([sys.executable, str(bench / "instant_server.py"),
                                       "--port", str(port)], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)
            try:
                wait_for(port)
                for k in range(args.repeats):
                    for kind in ("sqlite", "postgresql"):
                        store = (str(tmpdir / f"s{k}.db") if kind == "sqlite"
                                 else _fresh_db(base, f"medgauge_bench_{k}"))
                        out = child(workload, store, url, args.concurrency)
                        if out["errors"]:
                            raise SystemExit(f"{kind}: {out['errors']} errors")
                        rates[kind].append(out["n"] / out["wall_s"])
                        print(f"{kind}: {rates[kind][-1]:.0f} requests/s over {out['n']}",
                              flush=True)
            finally:
                server.terminate()
                server.wait(timeout=10)
    finally:
        if cluster is not None:
            cluster.stop()
    best = {k: max(v) for k, v in rates.items()}
    ratio = best["postgresql"] / best["sqlite"]
    pairs = sorted(p / s for s, p in zip(rates["sqlite"], rates["postgresql"], strict=True))
    median = pairs[len(pairs) // 2]
    print(f"PostgreSQL / SQLite: {ratio:.2f} best of {args.repeats}, median of the paired "
          f"ratios {median:.2f} (target >= 0.80)")
    print(json.dumps({"sqlite_rps": round(best["sqlite"], 1),
                      "postgresql_rps": round(best["postgresql"], 1),
                      "ratio": round(ratio, 3), "median_paired_ratio": round(median, 3),
                      "n": args.n, "concurrency": args.concurrency}))


if __name__ == "__main__":
    main()
