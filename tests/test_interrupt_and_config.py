"""Ctrl-C stops a run cleanly and prints the resume command; runs from YAML and TOML configs."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys

from conftest import wait_for_rows
from medgauge.store import Store
from test_cli import medgauge


def test_ctrl_c_keeps_what_finished_and_prints_the_resume_command(shared_data, instant_server,
                                                                   tmp_path):
    server = instant_server("--content", "yes", "--delay-ms", "20")
    store = tmp_path / "m.db"
    cmd = [sys.executable, "-m", "medgauge.cli", "run", "-b",
           f"vqa-rad={shared_data / 'vqa_rad'}", "-m", "openai:instant", "--base-url",
           server.url, "--concurrency", "2", "--store", str(store), "-q"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for_rows(store, 30)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "Resume with" in out and "medgauge run" in out and str(store) in out
    assert "Traceback" not in err
    with sqlite3.connect(store) as db:
        assert db.execute("SELECT status FROM runs").fetchone()[0] == "interrupted"
        done = db.execute("SELECT COUNT(*) FROM items").fetchone()[0]
    assert 30 <= done < 451
    resumed = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    with sqlite3.connect(store) as db:
        assert db.execute("SELECT COUNT(*), COUNT(DISTINCT sample_id) FROM items"
                          ).fetchone() == (451, 451)
        assert db.execute("SELECT status FROM runs").fetchone()[0] == "completed"


def test_yaml_and_toml_configs_run_the_same_job(shared_data, tmp_path):
    yaml_cfg = tmp_path / "run.yaml"
    yaml_cfg.write_text(f"""
store: {tmp_path / 'a.db'}
seed: 3
generation: {{temperature: 0, max_tokens: 8}}
benchmarks:
  - name: medqa
    data: {shared_data / 'medqa_usmle'}
    limit: 25
models:
  - spec: baseline:random
    options: {{seed: 2}}
""")
    toml_cfg = tmp_path / "run.toml"
    toml_cfg.write_text(f"""
store = "{tmp_path / 'b.db'}"
seed = 3
[generation]
temperature = 0
max_tokens = 8
[[benchmarks]]
name = "medqa"
data = "{shared_data / 'medqa_usmle'}"
limit = 25
[[models]]
spec = "baseline:random"
options = {{ seed = 2 }}
""")
    rows = []
    for cfg, db in ((yaml_cfg, "a.db"), (toml_cfg, "b.db")):
        res = medgauge("run", "--config", str(cfg))
        assert res.returncode == 0, res.stderr
        store = Store(tmp_path / db)
        [run] = store.runs()
        rows.append(sorted((it.sample_id, it.response, it.correct)
                           for it in store.items(run["run_id"])))
    assert len(rows[0]) == 25 and rows[0] == rows[1]
