"""Paired comparisons, McNemar, Holm and the id join."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binomtest

from medgauge.stats import (
    holm,
    holm_reject,
    join_by_id,
    mcnemar_exact,
    outcome,
    paired_bootstrap,
    paired_compare,
    win_tie_loss,
)
from medgauge.types import MedgaugeError


@pytest.mark.parametrize("b,c", [(0, 1), (1, 0), (3, 7), (10, 10), (0, 12), (25, 40), (200, 260)])
def test_mcnemar_matches_scipy_binomtest(b: int, c: int) -> None:
    ref = binomtest(b, b + c, 0.5, alternative="two-sided").pvalue
    assert mcnemar_exact(b, c) == pytest.approx(ref, rel=1e-9)


def test_mcnemar_no_discordant_is_one() -> None:
    assert mcnemar_exact(0, 0) == 1.0
    with pytest.raises(MedgaugeError):
        mcnemar_exact(-1, 2)


def test_identical_runs_difference_zero_p_one() -> None:
    ids = [f"q{i}" for i in range(100)]
    vals = np.random.default_rng(0).integers(0, 2, 100).astype(bool)
    run = dict(zip(ids, vals.tolist(), strict=True))
    res = paired_compare(run, dict(run))
    assert res.diff == 0 and res.lo == 0 and res.hi == 0
    assert res.p_mcnemar == 1.0 and res.outcome == "tie"
    assert (res.a_only, res.b_only, res.n) == (0, 0, 100)


def test_clear_win_and_loss() -> None:
    ids = [f"s{i}" for i in range(200)]
    a = {i: True for i in ids}
    b = {i: (k % 2 == 0) for k, i in enumerate(ids)}
    res = paired_compare(a, b, seed=3)
    assert res.diff == pytest.approx(0.5)
    assert res.lo > 0 and res.outcome == "win"
    assert res.a_only == 100 and res.b_only == 0
    assert res.p_mcnemar == pytest.approx(binomtest(0, 100).pvalue)
    rev = paired_compare(b, a, seed=3)
    assert rev.outcome == "loss" and rev.hi < 0


def test_paired_excludes_errors_and_joins_by_id_not_order() -> None:
    a = [("x", True), ("y", False), ("z", None)]
    b = {"z": True, "y": True, "x": True}  # different order
    res = paired_compare(a, b)
    assert res.n == 2 and res.excluded == 1
    assert res.mean_a == 0.5 and res.mean_b == 1.0 and res.diff == -0.5


def test_join_refuses_different_ids_unless_intersection() -> None:
    a = {"1": 1, "2": 2, "3": 3, "4": 4}
    b = {"2": 20, "3": 30, "9": 90}
    with pytest.raises(MedgaugeError) as exc:
        join_by_id(a, b, names=("gpt", "llava"))
    msg = str(exc.value)
    assert "2 ids only in gpt" in msg and "1 ids only in llava" in msg
    assert "intersection=True" in msg and "\n" not in msg
    j = join_by_id(a, b, intersection=True)
    assert j.ids == ["2", "3"] and j.left == [2, 3] and j.right == [20, 30]
    assert (j.dropped_left, j.dropped_right) == (2, 1)
    with pytest.raises(MedgaugeError, match="appears twice"):
        join_by_id([("a", 1), ("a", 2)], {"a": 1})
    res = paired_compare(
        {k: True for k in a}, {k: False for k in b}, intersection=True
    )
    assert (res.dropped_a, res.dropped_b, res.n) == (2, 1, 2)


def test_paired_clustered_wider_than_item_level() -> None:
    rng = np.random.default_rng(4)
    n_clusters, size = 30, 8
    d_cluster = rng.integers(0, 2, n_clusters)
    a = np.repeat(d_cluster, size).astype(float)
    b = np.zeros_like(a)
    labels = np.repeat(np.arange(n_clusters), size)
    _, lo_n, hi_n = paired_bootstrap(a, b)
    _, lo_c, hi_c = paired_bootstrap(a, b, labels.tolist())
    assert (hi_c - lo_c) > 2 * (hi_n - lo_n)
    ids = [f"i{k}" for k in range(a.size)]
    res = paired_compare(
        dict(zip(ids, a.tolist(), strict=True)),
        dict(zip(ids, b.tolist(), strict=True)),
        clusters=dict(zip(ids, labels.tolist(), strict=True)),
    )
    assert res.n_clusters == n_clusters
    assert res.lo == pytest.approx(lo_c) and res.hi == pytest.approx(hi_c)


def test_paired_single_item_and_non_binary() -> None:
    res = paired_compare({"a": 1.0}, {"a": 0.0})
    assert (res.diff, res.lo, res.hi) == (1.0, 1.0, 1.0) and res.outcome == "win"
    cont = paired_compare({"a": 0.3, "b": 0.9}, {"a": 0.1, "b": 0.2})
    assert cont.p_mcnemar is None and cont.diff == pytest.approx(0.45)


def test_outcome_rule() -> None:
    assert outcome(0.01, 0.2) == "win"
    assert outcome(-0.2, -0.01) == "loss"
    assert outcome(0.0, 0.3) == "tie"
    assert outcome(-0.1, 0.0) == "tie"
    s = win_tie_loss(["win", "tie", "tie", "loss"])
    assert s["win"] == 1 and s["tie_pct"] == 50.0


def test_holm_hand_example() -> None:
    # Holm (1979)-style worked example: p = 0.01, 0.04, 0.03, 0.005 with m = 4
    # sorted 0.005*4=0.02, 0.01*3=0.03, 0.03*2=0.06, 0.04*1=0.04 -> monotone 0.06
    adj = holm([0.01, 0.04, 0.03, 0.005])
    assert adj == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm_reject([0.01, 0.04, 0.03, 0.005], 0.05) == [True, False, False, True]
    assert holm([0.5, 0.9]) == [1.0, 1.0]
    assert holm([]) == []
    with pytest.raises(MedgaugeError):
        holm([0.1, float("nan")])
