"""The store's semantics, the same on every backend: each test runs on a real SQLite file and on
a real PostgreSQL database (a throwaway cluster started for the session; skipped with the
reason when PostgreSQL or psycopg is missing)."""

from __future__ import annotations

import time

import pytest

from medgauge.store import open_store
from medgauge.types import ItemResult, MedgaugeError, Response, Sample, Score


def _sample(sid: str, answer: str = "A") -> Sample:
    return Sample(sid, f"question {sid}?", answer, "mcq", options={"A": "yes", "B": "no"},
                  metadata={"organ": "lung"}, cluster=f"c-{sid}")


def _item(sid: str, reply: str = "A", *, error: str | None = None, value: float | None = 1.0,
          status: str = "ok", variant: str = "clean") -> ItemResult:
    it = ItemResult(sid, variant, request_hash=None, response=reply, error=error,
                    confidence=0.123456789012345, metadata={"k": [1, 2]}, finish_reason="stop")
    it.score = Score(value, reply if error is None else None, status,
                     metrics={"f1": 0.5}) if error is None else Score.failed(error)
    return it


SCORER = ("default", "v1")


def _begin(store, run_id: str = "abc123def456", n: int = 3) -> bool:
    return store.begin_run(run_id, "openai:m", "bench", None, {"seed": 0}, {"python": "3"}, n,
                           SCORER)


def test_runs_begin_end_prefix_and_errors(store):
    assert _begin(store) is False
    assert _begin(store) is True  # exists: marked running again
    _begin(store, "abd000000000")
    store.end_run("abc123def456", "completed")
    runs = {r["run_id"]: r for r in store.runs()}
    assert runs["abc123def456"]["status"] == "completed"
    assert runs["abd000000000"]["status"] == "running"
    assert runs["abc123def456"]["config"] == {"seed": 0}
    assert runs["abc123def456"]["n_total"] == 3
    assert store.run("abc1")["run_id"] == "abc123def456"
    with pytest.raises(MedgaugeError, match="ambiguous"):
        store.run("ab")
    with pytest.raises(MedgaugeError, match="no run 'zz'"):
        store.run("zz")
    # a shard ending before the others never turns a completed run back
    store.end_run("abc123def456", "partial", keep_complete=True)
    assert store.run("abc1")["status"] == "completed"


def test_response_cache_never_replaces_a_success_with_an_error(store):
    assert store.get_response("h1") is None
    store.put_response("h1", "m", "{}", Response(error="HTTP 500"))
    assert store.get_response("h1") is None  # an error is never served: sent again
    store.put_response("h1", "m", "{}", Response(text="yes", finish_reason="stop",
                                                 usage={"prompt_tokens": 3}, latency_s=0.25,
                                                 option_logprobs={"A": -0.1}))
    store.put_response("h1", "m", "{}", Response(error="HTTP 503"))
    got = store.get_response("h1")
    assert got is not None and got.text == "yes" and got.cached
    assert got.usage == {"prompt_tokens": 3} and got.option_logprobs == {"A": -0.1}
    assert got.latency_s == 0.25
    assert store.response_count() == 1


def test_items_scores_resume_sets_and_exact_floats(store):
    _begin(store)
    store.put_items("abc123def456", _sample("s1"), [_item("s1")], 0, "fp1", SCORER)
    store.put_items("abc123def456", _sample("s2"), [_item("s2", "B", value=0.0)], 1, "fp2",
                    SCORER)
    store.put_items("abc123def456", _sample("s3"), [_item("s3", error="HTTP 500")], 2, "fp3",
                    SCORER)
    # a rerun replaces, never duplicates
    store.put_items("abc123def456", _sample("s1"), [_item("s1")], 0, "fp1", SCORER)
    items = list(store.items("abc123def456"))
    assert [(i.sample_id, i.status, i.value) for i in items] == [
        ("s1", "ok", 1.0), ("s2", "ok", 0.0), ("s3", "error", None)]
    assert items[0].confidence == 0.123456789012345  # doubles survive exactly
    assert items[0].metrics == {"f1": 0.5} and items[0].metadata["organ"] == "lung"
    assert items[0].cluster == "c-s1" and items[0].finish_reason == "stop"
    assert store.done_samples("abc123def456") == {"s1": "fp1", "s2": "fp2"}
    assert store.scored_samples("abc123def456", SCORER) == {"s1", "s2"}
    assert store.scored_samples("abc123def456", ("default", "v2")) == set()
    assert store.stored_sample_ids("abc123def456") == {"s1", "s2", "s3"}
    assert store.samples_done() == {"abc123def456": 3}
    rebuilt = list(store.stored_items("abc123def456", {"s2"}))
    assert len(rebuilt) == 1
    target, item = rebuilt[0]
    assert target.id == "s2" and target.options == {"A": "yes", "B": "no"}
    assert item.response == "B" and item.finish_reason == "stop"


def test_a_later_error_never_replaces_a_stored_success(store):
    _begin(store)
    assert store.put_items("abc123def456", _sample("s1"), [_item("s1")], 0, "fp1", SCORER)
    # another process fails on the same sample afterwards: the success stays
    assert not store.put_items("abc123def456", _sample("s1"), [_item("s1", error="timeout")],
                               0, "fp1", SCORER)
    [item] = store.items("abc123def456")
    assert item.status == "ok" and item.error is None
    # a changed sample (other fingerprint) is replaced, error or not
    assert store.put_items("abc123def456", _sample("s1"), [_item("s1", error="timeout")], 0,
                           "fp-new", SCORER)
    # an error is replaced by a success
    assert store.put_items("abc123def456", _sample("s1"), [_item("s1")], 0, "fp-new", SCORER)
    [item] = store.items("abc123def456")
    assert item.status == "ok"
    # scores: an error score (failed grader call) never replaces a stored score
    store.put_scores("abc123def456", [("s1", "clean", Score.failed("grader down"))], SCORER)
    [item] = store.items("abc123def456")
    assert item.status == "ok" and item.value == 1.0
    store.put_scores("abc123def456", [("s1", "clean", Score(0.0, "B"))], SCORER)
    [item] = store.items("abc123def456")
    assert item.value == 0.0 and item.extracted == "B"


def test_rescore_versions_add_rows_and_set_scorer(store):
    _begin(store)
    store.put_items("abc123def456", _sample("s1"), [_item("s1")], 0, "fp1", SCORER)
    store.put_scores("abc123def456", [("s1", "clean", Score(0.0, "B"))], ("default", "v2"))
    assert [i.value for i in store.items("abc123def456")] == [1.0]  # the run's own scorer
    store.set_scorer("abc123def456", "default", "v2")
    assert [(i.value, i.scorer) for i in store.items("abc123def456")] == [(0.0, "default@v2")]
    assert [i.status for i in store.items("abc123def456", ("default", "v9"))] == ["error"]


def test_prune_and_delete_run(store):
    _begin(store)
    for k, sid in enumerate(("s1", "s2", "s3")):
        store.put_items("abc123def456", _sample(sid), [_item(sid)], k, sid, SCORER)
    assert store.prune_items("abc123def456", {"s1", "s3"}) == 1
    assert store.stored_sample_ids("abc123def456") == {"s1", "s3"}
    assert store.prune_items("abc123def456", {"s1", "s3"}) == 0
    assert store.delete_run("abc123def456") == 2
    assert store.runs() == []
    assert store.rows("scores") == []


def test_lease_one_holder_expiry_takeover_and_release(store):
    me, other = "1@a:x", "2@b:y"
    assert store.acquire_lease("r", "", me, 60, 3)[0] == me
    assert store.acquire_lease("r", "", other, 60, 3)[0] == me  # held: refused
    assert store.acquire_lease("r", "1/2", other, 60, 2)[0] == other  # another shard: free
    assert store.renew_lease("r", "", me, 60)
    assert not store.renew_lease("r", "", other, 60)
    # a dead holder named by the caller is taken over at once
    assert store.acquire_lease("r", "", other, 60, 3, stale_owner=me)[0] == other
    # an expired lease is taken over
    store.acquire_lease("r", "0/2", me, -1, 2)
    assert store.acquire_lease("r", "0/2", other, 60, 2)[0] == other
    store.release_lease("r", "0/2", other, "completed")
    shards = {s["shard"]: s for s in store.shards("r")}
    assert shards["0/2"]["owner"] is None and shards["0/2"]["status"] == "completed"
    assert shards["1/2"]["owner"] == other and shards["1/2"]["expires"] > time.time()
    assert store.acquire_lease("r", "0/2", me, 60, 2)[0] == me  # released: free


def test_reopen_keeps_everything_and_readonly_reads(spec):
    s = open_store(spec)
    _begin(s)
    s.put_items("abc123def456", _sample("s1"), [_item("s1")], 0, "fp1", SCORER)
    s.close()
    ro = open_store(spec, readonly=True)
    assert [i.sample_id for i in ro.items("abc123def456")] == ["s1"]
    ro.close()


def test_postgres_store_errors_are_one_line(pg_url, pg_cluster):
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE patients (id int)")
    with pytest.raises(MedgaugeError, match=r"is not a medgauge store .*patients"):
        open_store(pg_url)
    bad = pg_cluster.url("no_such_db")
    with pytest.raises(MedgaugeError, match=r"cannot connect to the store .*no_such_db") as exc:
        open_store(bad)
    assert "\n" not in str(exc.value)
    with pytest.raises(MedgaugeError, match="unknown store URL"):
        open_store("mysql://x/y")


def test_postgres_has_no_schema2_migration(pg_url):
    """Migration applies to SQLite stores of medgauge 0.1 only; a PostgreSQL store starts at
    schema 3, and ``store upgrade`` on it says it is up to date."""
    import subprocess
    import sys

    open_store(pg_url).close()
    done = subprocess.run([sys.executable, "-m", "medgauge.cli", "store", "upgrade", pg_url],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "up to date (schema 3)" in done.stdout


def test_postgres_failure_mid_run_is_one_line_exit_2(pg_url):
    """A PostgreSQL error nobody turned into a MedgaugeError (the server went away mid-run)
    reaches the user as one line with exit 2, never a traceback."""
    import psycopg

    from medgauge.failures import EXIT_INPUT, describe_unexpected

    open_store(pg_url).close()
    s = open_store(pg_url, readonly=True)
    with pytest.raises(psycopg.Error) as exc:
        _begin(s)  # a read-only store refuses writes
    s.close()
    message, code = describe_unexpected(exc.value)
    assert code == EXIT_INPUT and "\n" not in message
    assert message.startswith("cannot use the PostgreSQL store: ") and "read-only" in message
