"""Core v2 acceptance: "A store written by the previous release is migrated or refused with one
line".

``tests/data/store_schema2.sql`` is a real schema-2 store written by the previous release's CLI
(commit a7dc4f8; ``tests/data/make_store_schema2.py`` regenerates it): the custom benchmark
``store_schema2_bench.jsonl`` run as ``data.jsonl`` with ``baseline:constant`` and an
``openai:fixture-model`` answered by a local server.  Here this release opens it (migration in
place, backup kept), shows it, and reruns the same command: the replies come from the store.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from core_v2_support import ChatServer, cli, one_line_error
from medgauge.scoring.base import versions
from medgauge.store import Store
from medgauge.store.sqlite import LEGACY_VERSION
from medgauge.types import MedgaugeError

DATA = Path(__file__).resolve().parent / "data"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _dump(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        return list(db.iterdump())


@pytest.fixture
def old_store(tmp_path: Path) -> Path:
    """The previous release's store, as old.db beside data.jsonl (the paths it was run with)."""
    shutil.copy(DATA / "store_schema2_bench.jsonl", tmp_path / "data.jsonl")
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.executescript((DATA / "store_schema2.sql").read_text(encoding="utf-8"))
    return path


def _old_rows(path: Path) -> tuple[list[tuple], list[tuple], int]:
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT value FROM meta WHERE key='schema'").fetchone() == ("2",)
        runs = db.execute("SELECT run_id, model, benchmark, status FROM runs ORDER BY model"
                          ).fetchall()
        items = db.execute(
            "SELECT r.model, i.sample_id, i.variant, i.request_hash, i.extracted, i.correct "
            "FROM items i JOIN runs r USING (run_id) ORDER BY 1, 2").fetchall()
        responses = db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
    return runs, items, responses


def test_schema2_store_migrates_in_place_then_rerun_rescores_with_no_request(old_store):
    tmp = old_store.parent
    old_runs, old_items, n_responses = _old_rows(old_store)
    assert len(old_runs) == 2 and len(old_items) == 18 and n_responses == 18
    before = _sha(old_store)
    content = _dump(old_store)

    # `results` only reads: it refuses the old store with one line naming the upgrade command,
    # and leaves the file as it was.
    refused = one_line_error(cli("results", "--store", "old.db", cwd=tmp))
    assert "medgauge store upgrade" in refused and "schema 2" in refused
    assert _sha(old_store) == before

    # Opening it for writing migrates it in place after a backup copy.
    store = Store(old_store)
    backup = tmp / "old.db.schema2.bak"
    assert backup.is_file() and _dump(backup) == content  # (WAL mode changes header bytes)
    runs = sorted(store.runs(), key=lambda r: r["model"])
    assert [(r["model"], r["benchmark"], r["status"]) for r in runs] == \
        [(m, b, s) for _, m, b, s in old_runs]
    assert all(r["scorer"] == "default" and r["scorer_version"] == LEGACY_VERSION for r in runs)
    migrated = sorted((r["model"], it.sample_id, it.variant, it.request_hash, it.extracted,
                       it.value) for r in runs for it in store.items(r["run_id"]))
    assert migrated == [(m, s, v, h, e, None if c is None else float(c))
                        for m, s, v, h, e, c in old_items]
    assert all(it.response for r in runs for it in store.items(r["run_id"]))  # replies kept
    assert store.response_count() == n_responses
    assert store.db.execute("SELECT COUNT(*), MIN(version), MAX(version) FROM scores"
                            ).fetchone() == (18, LEGACY_VERSION, LEGACY_VERSION)
    migrated_ids = {r["model"]: r["run_id"] for r in runs}
    store.close()

    # `results` shows the migrated runs with a note that an older version scored them.
    shown = cli("results", "--store", "old.db", cwd=tmp)
    assert shown.returncode == 0, shown.stderr
    assert "fixture-model" in shown.stdout and "constant(A/yes)" in shown.stdout
    assert shown.stdout.count(f"version {LEGACY_VERSION}") == 2, shown.stdout
    assert "medgauge rescore" in shown.stdout

    # Rerunning the previous release's command re-scores from the stored replies: the server
    # (a new one, on another port) is asked nothing, and the runs keep their migrated ids.
    server = ChatServer(lambda body, i: "unexpected")
    try:
        rerun = cli("run", "-b", "custom=data.jsonl", "-m", "baseline:constant", "-m",
                    "openai:fixture-model", "--base-url", server.url, "--store", "old.db", "-q",
                    cwd=tmp)
        assert rerun.returncode == 0, rerun.stderr
        assert server.count == 0
    finally:
        server.close()
    assert "scored by" not in rerun.stdout  # no stale-score note any more
    store = Store(old_store)
    runs = store.runs()
    assert {r["model"]: r["run_id"] for r in runs} == migrated_ids
    assert store.response_count() == n_responses
    current = versions["default"]
    assert all(r["scorer_version"] == current for r in runs)
    rescored = sorted((r["model"], it.sample_id, it.variant, it.request_hash, it.extracted,
                       it.value) for r in runs for it in store.items(r["run_id"]))
    # this release's default rules judge these replies as the previous release did
    assert rescored == migrated
    # the old scores are kept beside the new ones
    assert store.db.execute("SELECT version, COUNT(*) FROM scores GROUP BY version ORDER BY 1"
                            ).fetchall() == sorted([(current, 18), (LEGACY_VERSION, 18)])
    store.close()


def test_store_upgrade_command_migrates_and_says_so(old_store):
    result = cli("store", "upgrade", "old.db", cwd=old_store.parent)
    assert result.returncode == 0, result.stderr
    assert "up to date (schema 3)" in result.stdout
    assert (old_store.parent / "old.db.schema2.bak").is_file()
    again = cli("results", "--store", "old.db", cwd=old_store.parent)
    assert again.returncode == 0 and "fixture-model" in again.stdout, again.stderr


def test_read_only_schema2_store_is_refused_with_one_line(old_store):
    before = _sha(old_store)
    with pytest.raises(MedgaugeError) as err:
        Store(old_store, readonly=True)
    message = str(err.value)
    assert "\n" not in message and "medgauge store upgrade" in message
    assert _sha(old_store) == before and not (old_store.parent / "old.db.schema2.bak").exists()

    if os.geteuid() != 0:  # root writes through chmod: the permission case needs a user
        folder = old_store.parent / "ro"
        folder.mkdir()
        ro = folder / "old.db"
        shutil.copy(old_store, ro)
        ro.chmod(0o444)
        folder.chmod(0o555)
        try:
            line = one_line_error(cli("results", "--store", str(ro)))
            assert "medgauge store upgrade" in line
            line = one_line_error(cli("store", "upgrade", str(ro)))
            assert "backup" in line or "read" in line
        finally:
            folder.chmod(0o755)
        assert _sha(ro) == before


def test_foreign_sqlite_file_is_refused_and_left_untouched(tmp_path):
    foreign = tmp_path / "clinic.db"
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE patients (id INTEGER PRIMARY KEY, name TEXT)")
        db.execute("INSERT INTO patients VALUES (1, 'x')")
    before = _sha(foreign)
    for args in (("results", "--store", str(foreign)),
                 ("run", "-b", f"custom={DATA / 'store_schema2_bench.jsonl'}", "-m",
                  "baseline:constant", "--store", str(foreign), "-q")):
        line = one_line_error(cli(*args))
        assert "not a medgauge store" in line and "patients" in line
    assert _sha(foreign) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clinic.db"]


def test_schema1_store_is_refused_with_one_line(tmp_path):
    old = tmp_path / "v1.db"
    with sqlite3.connect(old) as db:
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        db.execute("INSERT INTO meta VALUES ('schema', '1')")
        db.execute("CREATE TABLE runs (run_id TEXT PRIMARY KEY)")
    before = _sha(old)
    for args in (("results", "--store", str(old)), ("store", "upgrade", str(old))):
        line = one_line_error(cli(*args))
        assert "schema 1" in line
    assert _sha(old) == before
