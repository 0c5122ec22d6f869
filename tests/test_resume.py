"""Kill a run with SIGKILL midway, rerun it, and check the store equals an uninterrupted run's:
same items, no duplicate rows, and no request sent again for a response already stored.
Real CLI process, real HTTP server, real VQA-RAD images, real SQLite files."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from conftest import count_rows, wait_for_rows
from medgauge.store import Store

COLUMNS = ("sample_id", "variant", "request_hash", "response", "extracted", "correct", "error",
           "question", "answer")


def _cli(store: Path, data: Path, url: str) -> list[str]:
    return [sys.executable, "-m", "medgauge.cli", "run", "--benchmark",
            f"vqa-rad={data / 'vqa_rad'}", "--model", "openai:instant", "--base-url", url,
            "--concurrency", "4", "--store", str(store), "--quiet"]


def _items(store: Path) -> list[tuple]:
    s = Store(store)
    rows = sorted(tuple(getattr(it, c) for c in COLUMNS)
                  for run in s.runs() for it in s.items(run["run_id"]))
    s.close()
    return rows


def test_sigkill_midway_then_resume_equals_uninterrupted_run(shared_data, instant_server,
                                                             tmp_path):
    server = instant_server("--content", "yes", "--delay-ms", "15")
    killed, clean = tmp_path / "killed.db", tmp_path / "clean.db"

    proc = subprocess.Popen(_cli(killed, shared_data, server.url), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    wait_for_rows(killed, 120, timeout=60)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    stored_responses = count_rows(killed, "responses")
    stored_items = count_rows(killed, "items")
    assert 120 <= stored_items < 451, "the run must be killed midway"

    before = server.chat_requests()
    rerun = subprocess.run(_cli(killed, shared_data, server.url), capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    # Only what was not stored is asked again: no request for a stored response.
    assert server.chat_requests() - before == 451 - stored_responses

    full = subprocess.run(_cli(clean, shared_data, server.url), capture_output=True, text=True)
    assert full.returncode == 0, full.stderr

    resumed_rows, clean_rows = _items(killed), _items(clean)
    assert len(resumed_rows) == 451 == len({r[:2] for r in resumed_rows})
    assert resumed_rows == clean_rows
    with sqlite3.connect(killed) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("SELECT COUNT(*), COUNT(DISTINCT request_hash) FROM responses"
                          ).fetchone() == (451, 451)
        assert db.execute("SELECT status FROM runs").fetchall() == [("completed",)]


def test_rerun_after_editing_the_data_rescores_changed_and_drops_removed_samples(tmp_path):
    import json

    from test_cli import medgauge

    data = tmp_path / "data.jsonl"

    def write(rows):
        data.write_text("".join(json.dumps({"id": i, "question": f"Is there finding {i}?",
                                            "answer": a, "answer_type": "yesno"}) + "\n"
                                for i, a in rows))

    write([("a", "yes"), ("b", "yes"), ("c", "yes")])
    store = tmp_path / "m.db"
    args = ("run", "-b", f"custom={data}", "-m", "baseline:constant", "--store", str(store), "-q")
    assert medgauge(*args).returncode == 0
    write([("a", "no"), ("b", "no")])  # golds corrected, one item removed
    assert medgauge(*args).returncode == 0
    s = Store(store)
    [run] = s.runs()
    rows = sorted((it.sample_id, it.answer, it.correct) for it in s.items(run["run_id"]))
    # the constant "yes" answers came from the cache: no model call was needed to rescore
    assert s.response_count() == 3
    assert rows == [("a", "no", False), ("b", "no", False)]
