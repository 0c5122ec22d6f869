"""Guards found in review: SIGTERM, symlinked image folders, intervals with few clusters,
atomic per-sample writes, unknown scoring modes and stray probe options."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys

import pytest

from conftest import wait_for_rows
from medgauge.benchmarks.io import image_ref
from medgauge.metrics import accuracy
from medgauge.stats import wilson
from medgauge.store import Store
from medgauge.types import ItemResult, MedgaugeError, Sample
from test_cli import medgauge


def test_sigterm_stops_cleanly_like_ctrl_c(shared_data, instant_server, tmp_path):
    server = instant_server("--content", "yes", "--delay-ms", "20")
    store = tmp_path / "m.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "medgauge.cli", "run", "-b", f"vqa-rad={shared_data / 'vqa_rad'}",
         "-m", "openai:instant", "--base-url", server.url, "--concurrency", "2", "--store",
         str(store), "-q"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for_rows(store, 10)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGTERM and "Resume with" in out, err
    with sqlite3.connect(store) as db:
        assert db.execute("SELECT status FROM runs").fetchone()[0] == "interrupted"


def test_symlinked_image_folders_are_inside_the_root_but_dotdot_is_not(tmp_path):
    shared = tmp_path / "shared_storage"
    shared.mkdir()
    (shared / "x.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    root = tmp_path / "dataset"
    root.mkdir()
    (root / "images").symlink_to(shared)
    ref = image_ref(root, "images/x.png", "data.jsonl:1")
    assert ref.read_bytes().startswith(b"\x89PNG")
    with pytest.raises(MedgaugeError, match="escapes the dataset root"):
        image_ref(root, "../shared_storage/x.png", "data.jsonl:2")


def test_few_clusters_fall_back_to_design_effect_wilson():
    rows = [{"correct": c, "error": None, "extracted": "x", "cluster": "case1"}
            for c in (True, False, True)]
    acc = accuracy(rows)
    # one case: a design-effect Wilson interval, never narrower than Wilson for n = 3
    lo, hi = wilson(2, 3)
    assert acc.method == "wilson-deff" and acc.lo <= lo < acc.value < hi <= acc.hi


def test_a_sample_is_stored_whole_or_not_at_all(tmp_path):
    store = Store(tmp_path / "s.db")
    sample = Sample("x", "q?", "yes", "yesno")
    bad = ItemResult("x", "v2", metadata={"m": object()})  # not JSON: the write fails
    with pytest.raises(TypeError):
        store.put_items("run", sample, [ItemResult("x", "v1"), bad], 0, "h")
    assert store.done_samples("run") == {}
    assert store.db.execute("SELECT COUNT(*) FROM items").fetchone()[0] == 0


def test_unknown_scoring_mode_and_stray_probe_options_fail_before_running(tmp_path):
    store = tmp_path / "m.db"
    res = medgauge("run", "-b", "phantom", "-m", "baseline:random", "--scoring", "nosuch",
                   "--store", str(store))
    assert res.returncode == 2 and "unknown scoring mode 'nosuch'" in res.stderr
    assert not store.exists() or sqlite3.connect(store).execute(
        "SELECT COUNT(*) FROM runs").fetchone()[0] == 0
    res = medgauge("run", "-b", "phantom", "-m", "baseline:random", "--probe-opt",
                   "blnd.text_run=x", "--store", str(store))
    assert res.returncode == 2 and "not selected" in res.stderr


def test_progress_prints_plain_lines_when_not_a_terminal(monkeypatch):
    import io

    from rich.console import Console

    import medgauge.runner.progress as progress

    monkeypatch.setattr(progress, "LOG_EVERY_S", 0.0)
    buf = io.StringIO()
    p = progress.Progress(console=Console(file=buf, force_terminal=False))
    t = p.task("vqa-rad | m | clean", 2)
    t.advance(errors=1)
    t.advance(invalid=1)
    t.finish()
    lines = buf.getvalue().splitlines()
    assert lines[-1].startswith("vqa-rad | m | clean: 2/2 done")
    assert "1 errors, 1 invalid" in lines[-1]
    assert progress.Progress.quiet().log_lines is False
