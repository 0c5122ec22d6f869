"""Baselines are real backends on the real path; check their answers and labels."""

from __future__ import annotations

import asyncio
from collections import Counter

from medgauge.backends import create_backend
from medgauge.benchmarks import create_benchmark
from medgauge.metrics import accuracy
from medgauge.phantom import generate_phantom
from medgauge.runner.engine import Task, run_tasks
from medgauge.runner.solver import solvers
from medgauge.store import Store


def _run(bench, spec, tmp_path, **options):
    store = Store(tmp_path / f"{spec.replace(':', '_')}.db")
    task = Task(bench, create_backend(spec, options), solvers.get("clean")())
    [outcome] = asyncio.run(run_tasks([task], store))
    return store, outcome, list(store.items(outcome.run_id))


def test_random_is_seeded_and_uniform_over_options(shared_data, tmp_path):
    bench = create_benchmark("medqa", shared_data / "medqa_usmle")
    _, _, first = _run(bench, "baseline:random", tmp_path, seed=7)
    again = Store(tmp_path / "again.db")
    task = Task(bench, create_backend("baseline:random", {"seed": 7}), solvers.get("clean")())
    [o] = asyncio.run(run_tasks([task], again))
    assert [i["response"] for i in first] == [i["response"] for i in again.items(o.run_id)]
    counts = Counter(i["response"] for i in first)
    assert set(counts) == {"A", "B", "C", "D"}
    assert all(abs(c / len(first) - 0.25) < 0.05 for c in counts.values())  # 1,273 draws
    acc = accuracy(first)
    assert abs(acc.value - 0.25) < 0.05 and acc.invalid == 0  # 4 sd of 1,273 fair draws


def test_constant_answers_yes_and_a(shared_data, tmp_path):
    bench = create_benchmark("vqa-rad", shared_data / "vqa_rad")
    _, _, items = _run(bench, "baseline:constant", tmp_path)
    closed = [i for i in items if i["metadata"]["answer_type_group"] == "closed"
              and i["answer"] in ("yes", "no")]
    assert closed and all(i["response"] == "yes" for i in closed)
    assert sum(i["correct"] for i in closed) == sum(i["answer"] == "yes" for i in closed)


def test_prior_is_labelled_oracle_without_a_reference_split(tmp_path):
    generate_phantom(tmp_path / "ph", n_cases=15, seed=3)
    with_root = create_benchmark("phantom", tmp_path / "ph")
    backend = create_backend("baseline:prior")
    backend.prepare(with_root)
    assert backend.display_name() == "prior-oracle"
    # The embedded phantom has a separately generated reference split: not an oracle.
    import os

    os.environ["MEDGAUGE_CACHE"] = str(tmp_path / "cache")
    try:
        embedded = create_benchmark("phantom", None, n_cases=15, seed=3)
        backend.prepare(embedded)
        assert backend.display_name() == "prior"
    finally:
        del os.environ["MEDGAUGE_CACHE"]
    # The oracle prior answers the most frequent test answer of each question kind.
    _, _, items = _run(with_root, "baseline:prior", tmp_path)
    yesno = [i for i in items if i["answer"] in ("yes", "no") and "presence" in
             i["metadata"]["question_type"]]
    top = Counter(i["answer"] for i in yesno).most_common()
    expected = min((a for a, c in top if c == top[0][1]))
    assert {i["response"] for i in yesno} == {expected}


def test_a_cache_hit_never_calls_the_backend(tmp_path):
    generate_phantom(tmp_path / "ph", n_cases=8, seed=4)
    bench = create_benchmark("phantom", tmp_path / "ph")
    calls = []
    backend = create_backend("baseline:random")
    original = backend.generate

    async def counting(request):
        calls.append(request)
        return await original(request)

    backend.generate = counting
    store = Store(tmp_path / "s.db")
    # Two different runs (different probe-free configs) that ask identical requests.
    t1 = Task(bench, backend, solvers.get("clean")(), scoring="default")
    t2 = Task(bench, backend, solvers.get("clean")(), scoring="mediconfusion")
    asyncio.run(run_tasks([t1], store))
    n = len(calls)
    assert n > 0
    asyncio.run(run_tasks([t2], store))
    assert len(calls) == n  # all served from the response cache
