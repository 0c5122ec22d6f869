"""Bootstrap intervals: naive, clustered, proportions and macro averages."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import bootstrap as scipy_bootstrap

from medgauge.stats import bootstrap_mean, bootstrap_proportion, macro_average, wilson
from medgauge.types import MedgaugeError


def test_bootstrap_close_to_scipy_percentile() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(0.3, 1.0, size=300)
    ours = bootstrap_mean(x, seed=7)
    ref = scipy_bootstrap(
        (x,), np.mean, n_resamples=10_000, method="percentile", random_state=3
    ).confidence_interval
    assert ours.estimate == pytest.approx(x.mean())
    assert ours.lo == pytest.approx(ref.low, abs=0.02)
    assert ours.hi == pytest.approx(ref.high, abs=0.02)
    assert ours.lo < ours.estimate < ours.hi
    assert ours.method == "bootstrap" and ours.n == 300


def test_bootstrap_seeded_and_reproducible() -> None:
    x = np.random.default_rng(9).random(50)
    a = bootstrap_mean(x, seed=5)
    b = bootstrap_mean(x, seed=5)
    c = bootstrap_mean(x, seed=6)
    assert (a.lo, a.hi) == (b.lo, b.hi)
    assert (a.lo, a.hi) != (c.lo, c.hi)


def test_bootstrap_degenerate_inputs() -> None:
    one = bootstrap_mean([0.7])
    assert (one.estimate, one.lo, one.hi) == (0.7, 0.7, 0.7)
    empty = bootstrap_mean([])
    assert math.isnan(empty.estimate) and math.isnan(empty.lo) and empty.n == 0
    all_right = bootstrap_mean([1.0] * 40)
    assert (all_right.lo, all_right.hi) == (1.0, 1.0)
    all_wrong = bootstrap_mean([0.0] * 40)
    assert (all_wrong.lo, all_wrong.hi) == (0.0, 0.0)
    with pytest.raises(MedgaugeError, match="not a finite number"):
        bootstrap_mean([1.0, float("nan")])
    with pytest.raises(MedgaugeError, match="labels for"):
        bootstrap_mean([1.0, 0.0], clusters=["a"])


def test_clustered_wider_than_naive_when_clusters_perfectly_correlated() -> None:
    # 40 clusters of 10 identical outcomes: effectively n = 40, not 400.
    cluster_vals = np.random.default_rng(0).integers(0, 2, size=40)
    values = np.repeat(cluster_vals, 10).astype(float)
    labels = np.repeat(np.arange(40), 10).tolist()
    naive = bootstrap_mean(values)
    clustered = bootstrap_mean(values, clusters=labels)
    assert clustered.n_clusters == 40 and clustered.method == "cluster-bootstrap"
    assert clustered.estimate == naive.estimate
    ratio = (clustered.hi - clustered.lo) / (naive.hi - naive.lo)
    assert ratio > 2.5  # ~sqrt(10) = 3.16 in theory


def test_clustered_singletons_equal_naive_distribution() -> None:
    x = np.random.default_rng(2).integers(0, 2, size=200).astype(float)
    naive = bootstrap_mean(x, seed=1)
    single = bootstrap_mean(x, clusters=[None] * 200, seed=1)
    assert single.n_clusters == 200
    assert single.lo == pytest.approx(naive.lo, abs=1e-12)
    assert single.hi == pytest.approx(naive.hi, abs=1e-12)


def test_bootstrap_proportion_excludes_errors_and_is_near_wilson() -> None:
    correct: list[bool | None] = [True] * 120 + [False] * 80 + [None] * 5
    p = bootstrap_proportion(correct)
    assert (p.k, p.n, p.errors) == (120, 200, 5) and p.method == "bootstrap"
    wl, wh = wilson(120, 200)
    assert p.lo == pytest.approx(wl, abs=0.02) and p.hi == pytest.approx(wh, abs=0.02)
    clusters = [f"img{i // 4}" for i in range(205)]
    pc = bootstrap_proportion(correct, clusters)
    assert pc.method == "cluster-bootstrap" and pc.value == p.value


def test_macro_average_keeps_per_benchmark_and_narrows() -> None:
    rng = np.random.default_rng(3)
    data = {
        "a": rng.integers(0, 2, 300).astype(float),
        "b": (rng.random(300) < 0.8).astype(float),
        "c": (rng.random(100) < 0.3).astype(float),
    }
    m = macro_average(data, seed=11)
    assert set(m.per_benchmark) == {"a", "b", "c"}
    assert m.estimate == pytest.approx(np.mean([v.mean() for v in data.values()]))
    assert m.lo < m.estimate < m.hi
    widest_single = max(ci.hi - ci.lo for ci in m.per_benchmark.values())
    assert m.hi - m.lo < widest_single
    # per-benchmark estimate is the benchmark mean
    assert m.per_benchmark["c"].estimate == pytest.approx(data["c"].mean())
    again = macro_average(data, seed=11)
    assert (again.lo, again.hi) == (m.lo, m.hi)
    with pytest.raises(MedgaugeError, match="no items"):
        macro_average({"x": []})
    with pytest.raises(MedgaugeError):
        macro_average({})
