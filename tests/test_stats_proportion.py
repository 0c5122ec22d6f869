"""Wilson intervals and Proportion records, checked against scipy."""

from __future__ import annotations

import math

import pytest
from scipy.stats import binomtest

from medgauge.stats import Proportion, proportion, proportion_of, wilson
from medgauge.types import MedgaugeError


@pytest.mark.parametrize("k,n", [(0, 1), (1, 1), (0, 10), (10, 10), (3, 10), (57, 100), (1, 451)])
def test_wilson_matches_scipy(k: int, n: int) -> None:
    z = 1.959963984540054
    ref = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    lo, hi = wilson(k, n, z)
    assert lo == pytest.approx(ref.low, abs=1e-12)
    assert hi == pytest.approx(ref.high, abs=1e-12)


def test_wilson_edges() -> None:
    assert wilson(0, 0) == (0.0, 1.0)
    lo, hi = wilson(0, 20)
    assert lo == 0.0 and 0 < hi < 0.2
    lo, hi = wilson(20, 20)
    assert hi == 1.0 and 0.8 < lo < 1
    # hand value: k=5, n=10, z=1.96 -> 0.5 +/- 0.2366 (Newcombe 1998 table)
    lo, hi = wilson(5, 10)
    assert lo == pytest.approx(0.2366, abs=1e-4) and hi == pytest.approx(0.7634, abs=1e-4)
    with pytest.raises(MedgaugeError):
        wilson(3, 2)
    with pytest.raises(MedgaugeError):
        wilson(1, 2, z=0)


def test_proportion_of_counts_errors_apart() -> None:
    correct = [True, False, None, True, False, None]
    invalid = [False, True, False, False, False, False]
    p = proportion_of(correct, invalid)
    assert isinstance(p, Proportion)
    assert (p.k, p.n, p.invalid, p.errors) == (2, 4, 1, 2)
    assert p.value == 0.5
    assert (p.lo, p.hi) == wilson(2, 4)
    assert p.invalid_rate == 0.25


def test_proportion_empty_and_bad_flags() -> None:
    p = proportion_of([None, None])
    assert math.isnan(p.value) and (p.lo, p.hi) == (0.0, 1.0) and p.errors == 2
    with pytest.raises(MedgaugeError, match="flagged invalid but correct"):
        proportion_of([True], [True])
    with pytest.raises(MedgaugeError, match="invalid flags"):
        proportion_of([True, False], [False])
    with pytest.raises(MedgaugeError):
        proportion(2, 4, invalid=3)
