"""The store fills up mid-run (SQLite's own "database or disk is full", produced for real by
capping the file's page count): the run stops with the one-line disk-full message (exit 2),
every sample stored before is whole, the file is intact, and the same run resumes once there is
room, ending with the rows of an uninterrupted run and asking only what was not stored.
Real VQA-RAD images, a real HTTP server, real SQLite files, the real runner."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from medgauge.backends import create_backend
from medgauge.benchmarks import create_benchmark
from medgauge.failures import EXIT_INPUT, describe_unexpected
from medgauge.runner.engine import Task, run_tasks
from medgauge.runner.solver import solvers
from medgauge.store import Store


def _task(shared_data, url):
    bench = create_benchmark("vqa-rad", shared_data / "vqa_rad")
    return Task(bench, create_backend("openai:instant", {"base_url": url, "concurrency": 8}),
                solvers.get("clean")())


def _rows(store: Store) -> list[tuple]:
    return sorted((it.sample_id, it.variant, it.request_hash, it.response, it.extracted,
                   it.value, it.status)
                  for run in store.runs() for it in store.items(run["run_id"]))


def test_disk_full_mid_run_stops_cleanly_and_the_rerun_completes(shared_data, instant_server,
                                                                  tmp_path):
    server = instant_server("--content", "yes")
    full_path = tmp_path / "full.db"
    store = Store(full_path)
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    store.db.execute(f"PRAGMA max_page_count={pages + 12}")  # room for a few dozen samples
    with pytest.raises(sqlite3.OperationalError, match="full") as caught:
        asyncio.run(run_tasks([_task(shared_data, server.url)], store))
    message, code = describe_unexpected(caught.value)
    assert code == EXIT_INPUT and message.startswith("disk full: nothing more was written")
    store.close()

    with sqlite3.connect(full_path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored_items = db.execute("SELECT COUNT(*) FROM items").fetchone()[0]
        stored_responses = db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
        # a sample's rows are never split: every stored item has its score
        assert db.execute("SELECT COUNT(*) FROM items i LEFT JOIN scores s ON "
                          "s.run_id=i.run_id AND s.sample_id=i.sample_id AND "
                          "s.variant=i.variant WHERE s.status IS NULL").fetchone()[0] == 0
    assert 0 < stored_items < 451, "the store must fill up midway"

    # room again: the same run resumes and asks only what was not stored
    before = server.chat_requests()
    resumed = Store(full_path)
    [outcome] = asyncio.run(run_tasks([_task(shared_data, server.url)], resumed))
    assert outcome.status == "completed" and outcome.sent == 451 - stored_responses
    assert server.chat_requests() - before == 451 - stored_responses

    clean = Store(tmp_path / "clean.db")
    asyncio.run(run_tasks([_task(shared_data, server.url)], clean))
    assert _rows(resumed) == _rows(clean) and len(_rows(clean)) == 451
    resumed.close()
    clean.close()


def test_a_full_store_reports_disk_full_not_a_failed_rollback(tmp_path):
    """SQLite rolls a transaction back itself on SQLITE_FULL; the store must then not issue a
    ROLLBACK of its own, whose "cannot rollback - no transaction is active" used to replace the
    disk-full error (and its one-line advice)."""
    from medgauge.types import ItemResult, Sample, Score

    store = Store(tmp_path / "s.db")
    store.begin_run("r", "m", "b", None, {}, {}, 1000, ("default", "2"))
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    store.db.execute(f"PRAGMA max_page_count={pages + 4}")
    with pytest.raises(sqlite3.OperationalError) as caught:
        for i in range(1000):
            item = ItemResult(str(i), "clean", response="x" * 400)
            item.score = Score(1.0, "A", "ok")
            store.put_items("r", Sample(str(i), "q" * 300, "A", "mcq", options={"A": "yes"}),
                            [item], i, "h", ("default", "2"))
    assert str(caught.value) == "database or disk is full"
    assert describe_unexpected(caught.value)[1] == EXIT_INPUT
    assert not store.db.in_transaction  # the store is usable again once there is room
    stored = store.stored_sample_ids("r")
    assert stored == {str(i) for i in range(len(stored))}  # whole samples, in order
    store.close()
