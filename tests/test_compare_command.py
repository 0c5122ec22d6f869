"""`medgauge compare` on stored runs: identical runs, refused mismatched item sets, intersection."""

from __future__ import annotations

import asyncio

import pytest

from medgauge.backends import create_backend
from medgauge.benchmarks import create_benchmark
from medgauge.compare import compare_runs
from medgauge.phantom import generate_phantom
from medgauge.runner.engine import Task, run_tasks
from medgauge.runner.solver import solvers
from medgauge.store import Store
from medgauge.types import MedgaugeError


@pytest.fixture
def store_with_runs(tmp_path):
    generate_phantom(tmp_path / "ph", n_cases=20, seed=2)
    bench = create_benchmark("phantom", tmp_path / "ph")
    store = Store(tmp_path / "s.db")
    tasks = [Task(bench, create_backend("baseline:random", {"seed": 1}), solvers.get("clean")()),
             Task(bench, create_backend("baseline:random", {"seed": 1}), solvers.get("clean")(),
                  seed=5),
             Task(bench, create_backend("baseline:constant"), solvers.get("clean")(), limit=40)]
    outcomes = asyncio.run(run_tasks(tasks, store))
    return store, [o.run_id for o in outcomes]


def test_identical_runs_differ_by_zero_with_p_one(store_with_runs):
    store, (a, b, _) = store_with_runs
    assert a != b  # same answers (same model seed), different run configs
    [c] = compare_runs([store.run_data(a), store.run_data(b)], n_resamples=500)
    assert c.result.diff == 0 and c.result.p_mcnemar == 1.0
    assert c.result.lo == 0 and c.result.hi == 0 and c.result.outcome == "tie"


def test_different_item_sets_are_refused_unless_intersection(store_with_runs):
    store, (a, _, c) = store_with_runs
    with pytest.raises(MedgaugeError, match="--intersection"):
        compare_runs([store.run_data(a), store.run_data(c)], n_resamples=200)
    [comp] = compare_runs([store.run_data(a), store.run_data(c)], intersection=True,
                          n_resamples=200)
    n_a = sum(1 for _ in store.items(a))
    assert comp.result.n == 40 and comp.result.dropped_a == n_a - 40 and comp.result.dropped_b == 0


def test_compare_command_prints_the_table(store_with_runs, tmp_path):
    from test_cli import medgauge

    store, (a, _, c) = store_with_runs
    res = medgauge("compare", a[:8], c[:8], "--store", str(store.path), "--intersection",
                   "--resamples", "500")
    assert res.returncode == 0, res.stderr
    assert "Paired comparison" in res.stdout and "win / tie / loss" in res.stdout
    refused = medgauge("compare", a, c, "--store", str(store.path))
    assert refused.returncode == 2 and "--intersection" in refused.stderr
