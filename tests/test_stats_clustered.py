"""Clustered accuracy intervals are never narrower than Wilson's (issue 14, kind 16)."""

from __future__ import annotations

import random

import pytest

from medgauge.metrics.accuracy import accuracy
from medgauge.stats import bootstrap_proportion, clustered_proportion, design_effect, wilson


def _rows(outcomes: list[bool], clusters: list[str | None]) -> list[dict]:
    return [{"error": None, "extracted": "x", "correct": c, "cluster": g}
            for c, g in zip(outcomes, clusters, strict=True)]


def test_two_right_answers_about_one_image_are_not_certain() -> None:
    # the bootstrap alone says [1, 1]
    boot = bootstrap_proportion([True, True], ["img1", "img1"])
    assert (boot.lo, boot.hi) == (1.0, 1.0)
    got = accuracy(_rows([True, True], ["img1", "img1"]))
    assert got.value == 1.0 and got.hi == 1.0 and got.method == "wilson-deff"
    # one image is one effective observation: Wilson(1, 1), wider than Wilson(2, 2)
    assert got.lo == pytest.approx(wilson(1, 1)[0], abs=1e-3)
    assert got.lo < wilson(2, 2)[0]


@pytest.mark.parametrize("value", [True, False])
def test_all_right_or_all_wrong_with_many_clusters(value: bool) -> None:
    clusters = [f"img{i // 3}" for i in range(60)]  # 20 images, 3 questions each
    got = clustered_proportion([value] * 60, clusters)
    w_lo, w_hi = wilson(60 if value else 0, 60)
    assert got.lo <= w_lo and got.hi >= w_hi and got.hi - got.lo > 0
    assert got.method == "wilson-deff"


def test_interval_contains_wilson_on_random_clustered_data() -> None:
    rng = random.Random(3)
    for trial in range(30):
        n_img = rng.randint(1, 30)
        clusters, outcomes = [], []
        for img in range(n_img):
            p = rng.random()
            for _ in range(rng.randint(1, 5)):
                clusters.append(f"i{img}")
                outcomes.append(rng.random() < p)
        got = clustered_proportion(outcomes, clusters, seed=trial)
        lo, hi = wilson(sum(outcomes), len(outcomes))
        assert got.lo <= lo + 1e-12 and got.hi >= hi - 1e-12, (trial, got, lo, hi)
        assert got.lo <= got.value <= got.hi


def test_design_effect_values() -> None:
    # identical outcomes inside each cluster: deff = cluster size
    values = [1.0, 1.0, 0.0, 0.0] * 10
    clusters = [i // 2 for i in range(40)]
    assert design_effect(values, clusters) == pytest.approx(40 / 19)  # 2 x G/(G-1)
    # every item its own cluster: no inflation
    assert design_effect([1.0, 0.0, 1.0, 0.0], [0, 1, 2, 3]) == pytest.approx(4 / 3)
    assert design_effect([1.0, 1.0, 1.0], ["a", "a", "b"]) == 1.5  # p = 1: n / G


def test_many_clusters_uses_the_bootstrap_widened() -> None:
    rng = random.Random(0)
    clusters = [f"img{i // 2}" for i in range(200)]
    outcomes = [rng.random() < 0.7 for _ in clusters]
    got = accuracy(_rows(outcomes, clusters))
    boot = bootstrap_proportion(outcomes, clusters)
    assert got.method == "cluster-bootstrap"
    assert got.lo <= boot.lo and got.hi >= boot.hi


def test_unclustered_items_keep_wilson() -> None:
    got = accuracy(_rows([True, False, True], [None, None, None]))
    assert got.method == "wilson" and (got.lo, got.hi) == wilson(2, 3)
