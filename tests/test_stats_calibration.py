"""ECE, Brier, AUROC, overconfidence and reliability bins."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import mannwhitneyu

from medgauge.stats import auroc, brier, ece, overconfidence_rate, reliability
from medgauge.stats.calibration import bin_index
from medgauge.types import MedgaugeError


def test_bin_edges_closed_first_bin_then_left_open() -> None:
    conf = np.array([0.0, 0.05, 0.1, 0.1000001, 0.2, 0.3, 30 / 100, 0.95, 1.0])
    assert bin_index(conf).tolist() == [0, 0, 0, 1, 1, 2, 2, 9, 9]


def test_ece_hand_value() -> None:
    conf = [0.9, 0.9, 0.9, 0.9, 0.3, 0.3]
    correct = [1, 1, 1, 0, 0, 1]
    # bin 8 (0.8,0.9]: conf .9 acc .75 ; bin 2 (0.2,0.3]: conf .3 acc .5
    expected = 4 / 6 * 0.15 + 2 / 6 * 0.2
    assert ece(conf, correct) == pytest.approx(expected)
    bins = reliability(conf, correct)
    assert len(bins) == 10
    assert bins[8].count == 4 and bins[8].accuracy == 0.75
    assert bins[2].count == 2 and bins[2].mean_conf == pytest.approx(0.3)
    assert bins[0].count == 0 and math.isnan(bins[0].accuracy)
    assert sum(b.count for b in bins) == 6


def test_perfect_calibration_and_brier() -> None:
    assert ece([1.0, 1.0, 0.0], [1, 1, 0]) == 0.0
    assert brier([1.0, 0.0], [1, 0]) == 0.0
    assert brier([0.8, 0.6], [1, 0]) == pytest.approx((0.04 + 0.36) / 2)
    assert math.isnan(ece([], []))


def test_auroc_matches_mannwhitney_with_ties() -> None:
    rng = np.random.default_rng(0)
    conf = rng.integers(0, 11, 300) / 10  # many ties
    correct = rng.random(300) < conf * 0.8 + 0.1
    u = mannwhitneyu(conf[correct], conf[~correct]).statistic
    expected = u / (correct.sum() * (~correct).sum())
    assert auroc(conf, correct) == pytest.approx(expected, rel=1e-12)
    assert auroc([0.9, 0.1], [1, 0]) == 1.0
    assert auroc([0.5, 0.5], [1, 0]) == 0.5
    assert math.isnan(auroc([0.2, 0.9], [1, 1]))  # one class absent


def test_overconfidence_rate() -> None:
    assert overconfidence_rate([0.9, 0.8, 0.5, 0.99], [0, 0, 0, 1]) == pytest.approx(2 / 3)
    assert math.isnan(overconfidence_rate([0.9], [1]))


def test_calibration_input_errors() -> None:
    with pytest.raises(MedgaugeError, match="expected \\[0, 1\\]"):
        ece([1.2], [1])
    with pytest.raises(MedgaugeError, match="equal length"):
        brier([0.3, 0.4], [1])
    with pytest.raises(MedgaugeError, match="0/1"):
        auroc([0.3], [2])
