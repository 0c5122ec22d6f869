"""Beyond one machine, with real processes: shards of one run written by concurrent processes
into one store (SQLite and PostgreSQL), ``kill -9`` of one writer, the per-run lease (a second
process refuses or waits), ``merge`` of stores run apart, ``store copy`` between SQLite and
PostgreSQL, and the read commands on a PostgreSQL store.  Real CLI processes, the shared
yardstick HTTP server, real VQA-RAD questions and images."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from medgauge.store import open_store

N_VQA = 451  # VQA-RAD test questions in ../shared/data/vqa_rad


@pytest.fixture(params=["sqlite", "postgresql"])
def spec(request, tmp_path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "shared.db")
    return request.getfixturevalue("pg_url")


def _run(store: str, data: Path, url: str, *extra: str, limit: int | None = None) -> list[str]:
    return [sys.executable, "-m", "medgauge.cli", "run", "--benchmark",
            f"vqa-rad={data / 'vqa_rad'}", "--model", "openai:instant", "--base-url", url,
            "--concurrency", "4", "--store", store, "--quiet",
            *(["--limit", str(limit)] if limit else []), *extra]


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "medgauge.cli", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=300)


def _items(spec: str) -> dict[str, list]:
    """run id -> the run's items in stored order (every field of every item)."""
    s = open_store(spec, readonly=True)
    try:
        return {r["run_id"]: list(s.items(r["run_id"])) for r in s.runs()}
    finally:
        s.close()


def _statuses(spec: str) -> list[str]:
    s = open_store(spec, readonly=True)
    try:
        return [r["status"] for r in s.runs()]
    finally:
        s.close()


def _count(spec: str, table: str = "items") -> int:
    try:
        s = open_store(spec, readonly=True)
    except Exception:
        return 0
    try:
        return len(s.rows(table))
    finally:
        s.close()


def _wait_rows(spec: str, n: int, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while _count(spec) < n and time.time() < deadline:
        time.sleep(0.05)


@pytest.fixture
def clean_run(shared_data, instant_server, tmp_path):
    """An unsharded, uninterrupted run of VQA-RAD into its own SQLite store."""
    server = instant_server("--content", "yes", "--delay-ms", "5")
    clean = str(tmp_path / "clean.db")
    done = subprocess.run(_run(clean, shared_data, server.url), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return server, clean


def test_three_shards_into_one_store_equal_one_unsharded_run(spec, shared_data, clean_run):
    server, clean = clean_run
    first = subprocess.run(_run(spec, shared_data, server.url, "--shard", "0/3"),
                           capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    assert _statuses(spec) == ["partial"]  # two shards still to run
    shown = _cli("results", "--store", spec)
    assert shown.returncode == 0, shown.stderr
    line = next(x for x in shown.stdout.splitlines() if "shards:" in x)
    stored = _count(spec)
    assert f"{stored}/{N_VQA} samples stored" in line
    assert f"0/3 completed {stored}/{stored}" in line and "1/3 not started (0 stored)" in line
    # the other two shards at once: two concurrent writers of one store
    procs = [subprocess.Popen(_run(spec, shared_data, server.url, "--shard", s),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for s in ("1/3", "2/3")]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    sharded, unsharded = _items(spec), _items(clean)
    assert list(sharded) == list(unsharded)  # one run id: the shard is not part of it
    [items] = sharded.values()
    assert len(items) == N_VQA and items == next(iter(unsharded.values()))
    assert _statuses(spec) == ["completed"]
    runs = _cli("runs", "--store", spec)
    assert f"{N_VQA}/{N_VQA}" in runs.stdout


def _shard_items(spec: str, shard: int, n: int) -> int:
    from medgauge.benchmarks.select import shard_of

    try:
        s = open_store(spec, readonly=True)
    except Exception:
        return 0
    try:
        return sum(shard_of(row[1], n) == shard for row in s.rows("items"))
    finally:
        s.close()


def test_kill9_of_one_of_two_concurrent_postgres_writers_then_resume(pg_url, shared_data,
                                                                     clean_run):
    server, clean = clean_run
    a = subprocess.Popen(_run(pg_url, shared_data, server.url, "--shard", "0/2",
                              "--concurrency", "1"),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    b = subprocess.Popen(_run(pg_url, shared_data, server.url, "--shard", "1/2"),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while _shard_items(pg_url, 0, 2) < 20 and time.time() < deadline:
        time.sleep(0.02)
    os.kill(a.pid, signal.SIGKILL)
    a.wait()
    _, err = b.communicate(timeout=300)
    assert b.returncode == 0, err
    from medgauge.benchmarks.select import shard_of

    size0 = sum(shard_of(sid, 2) == 0 for sid in
                {it.sample_id for items in _items(clean).values() for it in items})
    assert 20 <= _shard_items(pg_url, 0, 2) < size0, "the writer must be killed midway"
    assert _statuses(pg_url) == ["partial"]
    stored = _count(pg_url, "responses")
    before = server.chat_requests()
    # the killed process's lease (a dead pid of this machine) is taken over at once
    rerun = subprocess.run(_run(pg_url, shared_data, server.url, "--shard", "0/2"),
                           capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert server.chat_requests() - before == N_VQA - stored  # nothing stored is asked again
    assert _items(pg_url) == _items(clean)
    assert _statuses(pg_url) == ["completed"]
    hashes = [r[0] for r in open_store(pg_url, readonly=True).rows("responses")]
    assert len(hashes) == len(set(hashes)) == N_VQA


def test_second_process_on_the_same_run_refuses_or_waits(spec, shared_data, instant_server):
    """Fault 11: two processes on one run would double the traffic; the second refuses with one
    line naming the first, or with --wait waits for it and then sends nothing."""
    server = instant_server("--content", "yes", "--delay-ms", "200")
    first = subprocess.Popen(_run(spec, shared_data, server.url, "--concurrency", "2",
                                  limit=60), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    _wait_rows(spec, 4)
    second = subprocess.run(_run(spec, shared_data, server.url, limit=60), capture_output=True,
                            text=True, timeout=120)
    assert second.returncode == 2
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1, second.stderr
    assert f"is being run by pid {first.pid} on " in lines[0] and "--wait" in lines[0]
    assert first.poll() is None, "the first process must still be running"
    waiter = subprocess.run(_run(spec, shared_data, server.url, "--wait", limit=60),
                            capture_output=True, text=True, timeout=300)
    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert waiter.returncode == 0, waiter.stderr
    assert "waiting for run" in waiter.stderr
    assert server.chat_requests() == 60  # the waiter found everything stored: no request
    [items] = _items(spec).values()
    assert len(items) == 60 and all(it.status != "error" for it in items)


def test_merge_of_two_stores_run_apart_equals_one_store(shared_data, clean_run, tmp_path,
                                                        instant_server):
    server, clean = clean_run
    parts = []
    for k in (0, 1):
        part = str(tmp_path / f"shard{k}.db")
        done = subprocess.run(_run(part, shared_data, server.url, "--shard", f"{k}/2"),
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        parts.append(part)
    merged = tmp_path / "all.db"
    out = _cli("merge", *parts, "-o", str(merged))
    assert out.returncode == 0, out.stderr
    assert _items(str(merged)) == _items(clean)
    assert _statuses(str(merged)) == ["completed"]
    again = _cli("merge", *parts, "-o", str(merged))  # identical rows: fine, nothing changes
    assert again.returncode == 0, again.stderr
    assert _items(str(merged)) == _items(clean)

    # a store whose requests failed: merged with a success, the success is kept either way
    failing = instant_server("--fail-rate", "1", "--fail-kinds", "500")
    errors = str(tmp_path / "errors.db")
    subprocess.run(_run(errors, shared_data, failing.url, "--model-opt", "max_retries=0",
                        limit=30), capture_output=True, text=True, timeout=300)
    assert _count(errors) > 0 and all(it.status == "error"
                                      for its in _items(errors).values() for it in its)
    kept = _cli("merge", errors, str(merged), "-o", str(tmp_path / "kept.db"))
    assert kept.returncode == 0, kept.stderr
    # the errors' run has another run id (limit 30): both runs are there, the clean one intact
    both = _items(str(tmp_path / "kept.db"))
    assert both[next(iter(_items(clean)))] == next(iter(_items(clean).values()))

    # two different successes: refused with one line, nothing written
    other = instant_server("--content", "no")
    differs = str(tmp_path / "differs.db")
    done = subprocess.run(_run(differs, shared_data, other.url, "--shard", "0/2"),
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    target = tmp_path / "refused.db"
    refused = _cli("merge", parts[0], differs, "-o", str(target))
    assert refused.returncode == 2
    assert len(refused.stderr.strip().splitlines()) == 1
    assert "two different stored replies" in refused.stderr
    assert _items(str(target)) == _items(parts[0])  # the refused copy wrote nothing


def test_postgres_store_read_commands_and_copy_both_ways(pg_url, pg_cluster, tmp_path):
    data = Path(__file__).resolve().parents[1] / "examples" / "medqa-usmle"
    done = _cli("run", "--benchmark", f"medqa={data}", "--model", "baseline:random",
                "--model", "baseline:constant", "--store", pg_url, "--quiet")
    assert done.returncode == 0, done.stderr
    assert "constant" in done.stdout and "random" in done.stdout
    runs = list(_items(pg_url))
    shown = _cli("results", "--store", pg_url)
    assert shown.returncode == 0, shown.stderr
    assert "accuracy" in shown.stdout.lower()
    compared = _cli("compare", *runs, "--store", pg_url)
    assert compared.returncode == 0, compared.stderr
    assert "win / tie / loss" in compared.stdout
    report = _cli("report", "--store", pg_url, "--out", str(tmp_path / "r.html"))
    assert report.returncode == 0, report.stderr
    assert "constant" in (tmp_path / "r.html").read_text(encoding="utf-8")
    listed = _cli("runs", "--store", pg_url)
    assert listed.returncode == 0 and runs[0] in listed.stdout

    local = tmp_path / "copy.db"
    copied = _cli("store", "copy", pg_url, str(local))
    assert copied.returncode == 0, copied.stderr
    assert "copied 2 run(s)" in copied.stdout
    assert _items(str(local)) == _items(pg_url)
    # the same numbers from either store
    assert _cli("compare", *runs, "--store", str(local)).stdout == compared.stdout
    assert _cli("results", "--store", str(local)).stdout == shown.stdout
    back = pg_cluster.create_db("copy_back")
    again = _cli("store", "copy", str(local), back, "--run", runs[0])
    assert again.returncode == 0, again.stderr
    assert _items(back) == {runs[0]: _items(pg_url)[runs[0]]}
    # a password never reaches the output
    secret = pg_url.replace("postgres@", "postgres:hunter2@")
    hidden = _cli("runs", "--store", secret)
    assert "hunter2" not in hidden.stdout + hidden.stderr
