"""Group commit (``BaseStore.buffered``): what the runner queues is served at once, committed
together, equals what one-by-one writes store, and a failed commit stops the run with the
store's error.  Each test runs on a real SQLite file and a real PostgreSQL database."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from medgauge.store import open_store
from medgauge.types import ItemResult, Response
from test_store_backends import SCORER, _begin, _item, _sample


def _rows(s, run_id="abc123def456"):
    items = sorted((i.sample_id, i.variant, i.response, i.extracted, i.value, i.status,
                    i.confidence, tuple(sorted(i.metadata))) for i in s.items(run_id))
    return items, s.response_count()


def _probe_items(sid: str) -> list[ItemResult]:
    """Two variants, one with a stored reply hash and one inline."""
    a = _item(sid, "A")
    b = _item(sid, "B", value=0.0, variant="blind")
    b.request_hash = f"h-{sid}"
    return [a, b]


def test_a_batch_of_many_samples_equals_one_by_one_writes(spec, tmp_path):
    """300 samples of two variants (more rows than one multi-row statement holds) and their
    responses, committed at once, give exactly the rows of 300 single-sample transactions."""
    n = 300
    one = open_store(spec)
    _begin(one, n=n)
    for k in range(n):
        one.put_response(f"h-s{k}", "m", "{}", Response(text="B", finish_reason="stop"))
        one.put_items("abc123def456", _sample(f"s{k}"), _probe_items(f"s{k}"), k, f"fp{k}",
                      SCORER)
    expected = _rows(one)
    one.close()

    other = open_store(tmp_path / "other.db") if "://" in str(spec) else None
    batched = other or open_store(tmp_path / "batched.db")
    _begin(batched, n=n)

    async def write():
        async with batched.buffered():
            for k in range(n):
                await batched.save_response(f"h-s{k}", "m", "{}",
                                            Response(text="B", finish_reason="stop"))
                await batched.save_items("abc123def456", _sample(f"s{k}"),
                                         _probe_items(f"s{k}"), k, f"fp{k}", SCORER)
    asyncio.run(write())
    assert _rows(batched) == expected
    assert len(expected[0]) == 2 * n and expected[1] == n
    batched.close()


def test_queued_response_is_served_before_its_commit_and_an_error_never(store):
    async def go():
        async with store.buffered():
            await store.save_response("h1", "m", "{}", Response(text="yes", finish_reason="stop",
                                                                 usage={"prompt_tokens": 3}))
            await store.save_response("h2", "m", "{}", Response(error="HTTP 500"))
            # a success queued once is never replaced by a later failure of the same request
            await store.save_response("h1", "m", "{}", Response(error="HTTP 503"))
            got = await store.cached_response("h1")
            assert got is not None and got.cached and got.text == "yes"
            assert got.usage == {"prompt_tokens": 3}
            assert await store.cached_response("h2") is None  # an error is sent again
            assert await store.cached_response("nope") is None
        # committed on leaving, and read back the same from the store
        stored = await store.cached_response("h1")
        assert stored == got
    asyncio.run(go())
    assert store.get_response("h1").text == "yes"
    assert store.get_response("h2") is None and store.response_count() == 2


def test_a_failed_group_commit_raises_the_stores_error_and_keeps_what_was_committed(tmp_path):
    path = tmp_path / "s.db"
    s = open_store(path)
    _begin(s)

    async def go():
        async with s.buffered():
            await s.save_items("abc123def456", _sample("s1"), [_item("s1")], 0, "fp1", SCORER)
            await s.flush()  # s1 committed
            # another process breaks the store: the next commit fails
            with sqlite3.connect(path) as other:
                other.execute("DROP TABLE scores")
            await s.save_items("abc123def456", _sample("s2"), [_item("s2")], 1, "fp2", SCORER)
            await asyncio.sleep(0.05)  # the group commit runs and fails
            with pytest.raises(sqlite3.OperationalError, match="scores"):
                await s.save_items("abc123def456", _sample("s3"), [_item("s3")], 2, "fp3",
                                   SCORER)

    asyncio.run(go())
    assert s.stored_sample_ids("abc123def456") == {"s1"}  # s2's transaction rolled back whole
    s.close()
