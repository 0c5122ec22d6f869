"""Core v2: the tasks of one backend (clean + a probe, two benchmarks) run concurrently under
that backend's one concurrency budget, and each benchmark is read once per task list.

In-process (``workflow.build_tasks`` + ``engine.run_tasks``) so that a Benchmark subclass
registered here can count its reads; a local server records how many requests it holds at
once."""

from __future__ import annotations

import asyncio
import json
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

from core_v2_support import ChatServer, user_text
from medgauge.benchmarks.base import Benchmark, benchmarks
from medgauge.benchmarks.canonical import read_canonical_jsonl
from medgauge.config import parse_config
from medgauge.runner.engine import run_tasks
from medgauge.store import Store
from medgauge.types import Sample
from medgauge.workflow import build_tasks

READS: Counter[str] = Counter()
NAME = "core-v2-counting"


class CountingBenchmark(Benchmark):
    """A canonical JSONL file that counts how often its samples are read."""

    name = NAME
    layout = "test only: a canonical JSONL file"

    def samples(self) -> Iterator[Sample]:
        READS[str(self.root)] += 1
        yield from read_canonical_jsonl(self.root)


if NAME not in benchmarks:
    benchmarks.register(NAME)(CountingBenchmark)

OPTIONS = {"A": "alpha", "B": "beta", "C": "gamma"}


def _write(path: Path, tag: str, n: int) -> Path:
    path.write_text("".join(json.dumps({"id": f"{tag}{i}", "question": f"{tag} question {i}?",
                                        "answer": "A", "answer_type": "mcq",
                                        "options": OPTIONS}) + "\n" for i in range(n)))
    return path


def _task_of(body: dict) -> tuple[str, str]:
    text = user_text(body)
    bench = "one" if text.startswith("one") else "two"
    return bench, "clean" if "A. alpha" in text else "permute"


def test_tasks_of_one_backend_share_its_budget_and_read_each_benchmark_once(tmp_path):
    one, two = _write(tmp_path / "one.jsonl", "one", 6), _write(tmp_path / "two.jsonl", "two", 6)
    server = ChatServer(lambda body, i: "A", delay=0.04)
    cfg = parse_config({
        "store": str(tmp_path / "s.db"),
        "benchmarks": [{"name": NAME, "data": str(one)}, {"name": NAME, "data": str(two)}],
        "models": [{"spec": "openai:m", "options": {"base_url": server.url, "concurrency": 3}}],
        "probes": ["permute"]}, "test")
    READS.clear()
    store = Store(cfg.store)
    try:
        tasks = build_tasks(cfg)
        assert [(t.benchmark.root.name, t.solver.name) for t in tasks] == [
            ("one.jsonl", "clean"), ("one.jsonl", "permute"), ("two.jsonl", "clean"),
            ("two.jsonl", "permute")]
        assert len({id(t.backend) for t in tasks}) == 1
        outcomes = asyncio.run(run_tasks(tasks, store))
    finally:
        store.close()
        server.close()
    assert [o.status for o in outcomes] == ["completed"] * 4
    # each benchmark file was read once for the four tasks
    assert READS == {str(one): 1, str(two): 1}
    # never more requests in flight than the backend's concurrency, and the budget was used
    assert server.max_in_flight == 3
    # the four tasks overlapped in time: each had started before any of them ended
    spans: dict[tuple[str, str], list[int]] = defaultdict(list)
    for index, body in enumerate(server.bodies):
        spans[_task_of(body)].append(index)
    assert set(spans) == {(b, s) for b in ("one", "two") for s in ("clean", "permute")}
    assert max(min(v) for v in spans.values()) < min(max(v) for v in spans.values())
    # identical requests of two tasks (a permutation that is the original order) went once
    assert sum(o.sent for o in outcomes) == server.count


def test_baselines_that_learn_from_the_benchmark_do_not_read_it_again(tmp_path):
    # baseline:prior (most frequent test answer when there is no reference split) and
    # baseline:random (the answer vocabulary) learn from the samples the engine already read
    one = _write(tmp_path / "one.jsonl", "one", 4)
    cfg = parse_config({
        "store": str(tmp_path / "s.db"), "benchmarks": [{"name": NAME, "data": str(one)}],
        "models": [{"spec": "baseline:prior"}, {"spec": "baseline:random"}],
        "probes": ["permute"]}, "test")
    READS.clear()
    store = Store(cfg.store)
    try:
        outcomes = asyncio.run(run_tasks(build_tasks(cfg), store))
        assert [o.status for o in outcomes] == ["completed"] * 4
        prior = next(r for r in store.runs() if r["model"] == "prior-oracle" and not r["probe"])
        assert {it.extracted for it in store.items(prior["run_id"])} == {"A"}  # learnt: all A
    finally:
        store.close()
    assert READS == {str(one): 1}
