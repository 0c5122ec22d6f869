"""The command line, as a user runs it (real subprocesses, real files, real SQLite).

Bad input gets a one-line error naming the thing, a non-zero exit code, and a consistent store.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from medgauge.phantom import generate_phantom


def medgauge(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "medgauge.cli", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "COLUMNS": "200", "HOME": "/tmp",
                               **_pythonpath()})


def _pythonpath() -> dict[str, str]:
    """The checkout's sources first, as in the test process (PYTHONPATH made absolute, since the
    command may run in another folder)."""
    import os

    paths = [str(Path(p).resolve()) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep)
             if p]
    return {"PYTHONPATH": os.pathsep.join(paths)} if paths else {}


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def store_consistent(path: Path) -> None:
    if not path.exists():
        return
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        dup = db.execute("SELECT COUNT(*) - COUNT(DISTINCT run_id || sample_id || variant) "
                         "FROM items").fetchone()[0]
        assert dup == 0
        assert all(s != "running" for (s,) in db.execute("SELECT status FROM runs"))


@pytest.fixture(scope="module")
def phantom_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("phantom")
    generate_phantom(out, n_cases=10, seed=1)
    return out


def test_demo_flow_prints_a_leaderboard_with_intervals(tmp_path, phantom_dir):
    store = tmp_path / "m.db"
    result = medgauge("run", "-b", f"phantom={phantom_dir}", "-m", "baseline:random", "-m",
                      "baseline:constant", "-m", "baseline:prior", "--store", str(store), "-q")
    assert result.returncode == 0, result.stderr
    for name in ("random", "constant", "prior"):
        assert name in result.stdout
    assert "[95% CI]" in result.stdout
    with sqlite3.connect(store) as db:
        n_items = db.execute("SELECT COUNT(*) FROM items").fetchone()[0]
        runs = db.execute("SELECT COUNT(*) FROM runs WHERE status='completed'").fetchone()[0]
    assert runs == 3 and n_items % 3 == 0 and n_items > 0
    # A second identical run is served from the store.
    again = medgauge("run", "-b", f"phantom={phantom_dir}", "-m", "baseline:random",
                     "--store", str(store), "-q")
    assert again.returncode == 0
    with sqlite3.connect(store) as db:
        assert db.execute("SELECT COUNT(*) FROM items").fetchone()[0] == n_items


def test_results_breakdown_and_exports(tmp_path, phantom_dir):
    store = tmp_path / "m.db"
    assert medgauge("run", "-b", f"phantom={phantom_dir}", "-m", "baseline:random", "--store",
                    str(store), "-q").returncode == 0
    shown = medgauge("results", "--store", str(store), "--by", "question_type")
    assert shown.returncode == 0 and "presence_left" in shown.stdout
    counts = {}
    for ext in ("jsonl", "csv", "parquet"):
        out = tmp_path / f"items.{ext}"
        res = medgauge("results", "--store", str(store), "--export", str(out))
        assert res.returncode == 0, res.stderr
        counts[ext] = out
    rows = [json.loads(line) for line in counts["jsonl"].read_text().splitlines()]
    import csv

    import pyarrow.parquet as pq

    with open(counts["csv"], newline="") as fh:
        csv_rows = list(csv.DictReader(fh))
    table = pq.read_table(counts["parquet"])
    assert len(rows) == len(csv_rows) == table.num_rows > 0
    assert {r["sample_id"] for r in rows} == set(table.column("sample_id").to_pylist())
    assert all(r["model"] == "random" for r in rows)


def test_missing_benchmark_folder(tmp_path):
    store = tmp_path / "m.db"
    res = medgauge("run", "-b", f"vqa-rad={tmp_path / 'nope'}", "-m", "baseline:random",
                   "--store", str(store))
    assert res.returncode == 2
    assert str(tmp_path / "nope") in one_line_error(res)
    store_consistent(store)


def test_unknown_backend_name(tmp_path, phantom_dir):
    res = medgauge("run", "-b", f"phantom={phantom_dir}", "-m", "gpt:whatever", "--store",
                   str(tmp_path / "m.db"))
    assert res.returncode == 2
    line = one_line_error(res)
    assert "unknown backend 'gpt'" in line and "openai" in line


def test_malformed_jsonl_line_names_file_and_line(tmp_path, phantom_dir):
    data = tmp_path / "bad"
    shutil.copytree(phantom_dir, data)
    lines = (data / "phantom.jsonl").read_text().splitlines()
    lines[4] = lines[4][:-10]  # truncate line 5
    (data / "phantom.jsonl").write_text("\n".join(lines) + "\n")
    store = tmp_path / "m.db"
    res = medgauge("run", "-b", f"phantom={data}", "-m", "baseline:random", "--store",
                   str(store))
    assert res.returncode == 2
    assert f"{data / 'phantom.jsonl'}:5" in one_line_error(res)
    store_consistent(store)


def test_corrupt_image_stops_with_its_path_and_keeps_what_was_stored(tmp_path, phantom_dir,
                                                                       instant_server):
    data = tmp_path / "corrupt"
    shutil.copytree(phantom_dir, data)
    rows = [json.loads(line) for line in (data / "phantom.jsonl").read_text().splitlines()]
    victim = data / rows[-1]["images"][0]
    victim.write_bytes(b"this is not a PNG")
    server = instant_server("--content", "yes")
    store = tmp_path / "m.db"
    res = medgauge("run", "-b", f"phantom={data}", "-m", "openai:instant", "--base-url",
                   server.url, "--concurrency", "1", "--store", str(store))
    assert res.returncode == 2
    line = one_line_error(res)
    assert "corrupt" in line and victim.name in line
    store_consistent(store)
    with sqlite3.connect(store) as db:
        assert db.execute("SELECT status FROM runs").fetchone()[0] == "failed"
        assert db.execute("SELECT COUNT(*) FROM items").fetchone()[0] > 0


def test_unreachable_server(tmp_path, phantom_dir):
    from conftest import free_port

    url = f"http://127.0.0.1:{free_port()}/v1"
    store = tmp_path / "m.db"
    res = medgauge("run", "-b", f"phantom={phantom_dir}", "-m", "openai:x", "--base-url", url,
                   "--store", str(store))
    assert res.returncode == 2
    line = one_line_error(res)
    assert "cannot reach server" in line and url in line
    store_consistent(store)


def test_bad_config_field_is_named(tmp_path):
    cfg = tmp_path / "run.yaml"
    cfg.write_text("benchmarks: [{name: phantom}]\nmodels: [{spec: baseline:random}]\n"
                   "generation: {temperature: -1}\n")
    res = medgauge("run", "--config", str(cfg))
    assert res.returncode == 2
    assert "generation.temperature" in one_line_error(res)


def test_list_shows_benchmarks_backends_and_scoring():
    res = medgauge("list")
    assert res.returncode == 0, res.stderr
    for name in ("vqa-rad", "phantom", "openai", "baseline", "default"):
        assert name in res.stdout
