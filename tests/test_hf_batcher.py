"""The async batcher behind the ``hf:`` backend (plain asyncio, no torch)."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from medgauge.backends.hf_batcher import Batcher
from medgauge.types import MedgaugeError


class Recorder:
    def __init__(self, delay: float = 0.0) -> None:
        self.batches: list[list[tuple[str, int]]] = []
        self.threads: set[str] = set()
        self.delay = delay

    def __call__(self, payloads: list[tuple[str, int]]) -> list[object]:
        self.threads.add(threading.current_thread().name)
        self.batches.append(list(payloads))
        time.sleep(self.delay)
        out: list[object] = []
        for key, value in payloads:
            out.append(MedgaugeError(f"bad {value}") if value < 0 else f"{key}:{value * 10}")
        return out


def _run(rec: Recorder, jobs: list[tuple[str, int]], batch_size: int, wait_s: float = 0.05
         ) -> list[object]:
    async def go() -> list[object]:
        with ThreadPoolExecutor(1, thread_name_prefix="worker") as pool:
            batcher: Batcher[tuple[str, int], str] = Batcher(rec, pool, batch_size=batch_size,
                                                            wait_s=wait_s)
            try:
                return await asyncio.gather(*(batcher.submit(j, j[0]) for j in jobs),
                                            return_exceptions=True)
            finally:
                await batcher.close()
    return asyncio.run(go())


def test_results_return_to_their_callers_in_batches_of_one_key() -> None:
    rec = Recorder(delay=0.01)
    jobs = [("a", i) if i % 3 else ("b", i) for i in range(20)]
    out = _run(rec, jobs, batch_size=4)
    assert out == [f"{k}:{v * 10}" for k, v in jobs]
    assert all(len(b) <= 4 and len({k for k, _ in b}) == 1 for b in rec.batches)
    assert sum(len(b) for b in rec.batches) == 20
    assert max(len(b) for b in rec.batches) == 4
    assert all(name.startswith("worker") for name in rec.threads)  # never on the event loop


def test_an_exception_reaches_only_its_own_caller() -> None:
    rec = Recorder()
    out = _run(rec, [("a", 1), ("a", -2), ("a", 3)], batch_size=8)
    assert out[0] == "a:10" and out[2] == "a:30"
    assert isinstance(out[1], MedgaugeError) and str(out[1]) == "bad -2"
    assert len(rec.batches) == 1


def test_a_crashing_batch_fails_every_caller_in_it() -> None:
    def boom(payloads: list[int]) -> list[object]:
        raise RuntimeError("device lost")

    async def go() -> list[object]:
        with ThreadPoolExecutor(1) as pool:
            batcher: Batcher[int, str] = Batcher(boom, pool, batch_size=2, wait_s=0.01)
            return await asyncio.gather(*(batcher.submit(i, "k") for i in range(3)),
                                        return_exceptions=True)
    out = asyncio.run(go())
    assert all(isinstance(e, RuntimeError) and str(e) == "device lost" for e in out)


def test_idle_worker_waits_briefly_then_runs_a_partial_batch() -> None:
    rec = Recorder()
    t0 = time.perf_counter()
    assert _run(rec, [("a", 1)], batch_size=16, wait_s=0.05) == ["a:10"]
    assert 0.04 < time.perf_counter() - t0 < 2.0
    assert rec.batches == [[("a", 1)]]


def test_works_again_in_a_new_event_loop() -> None:
    rec = Recorder()

    async def one(batcher: Batcher[tuple[str, int], str], v: int) -> str:
        return await batcher.submit(("a", v), "a")

    with ThreadPoolExecutor(1) as pool:
        batcher: Batcher[tuple[str, int], str] = Batcher(rec, pool, batch_size=2, wait_s=0.0)
        assert asyncio.run(one(batcher, 1)) == "a:10"
        assert asyncio.run(one(batcher, 2)) == "a:20"


def test_batch_size_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Batcher(Recorder(), ThreadPoolExecutor(1), batch_size=0)
