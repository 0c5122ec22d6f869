"""Agreement between raters (graders, people) on categorical judgements, with 95% intervals.

- Cohen's kappa for two raters, ``kappa = (p_o - p_e) / (1 - p_e)`` with ``p_o`` the observed
  agreement and ``p_e`` the chance agreement from each rater's marginals (Cohen 1960), computed
  by scikit-learn's ``cohen_kappa_score``.
- Fleiss' kappa for ``m >= 2`` raters who each rate every item: ``P_i = (sum_j n_ij^2 - m) /
  (m (m - 1))``, ``P_bar = mean_i P_i``, ``p_j = sum_i n_ij / (N m)``, ``P_e = sum_j p_j^2``,
  ``kappa = (P_bar - P_e) / (1 - P_e)`` (Fleiss 1971).  Written here because the library that has
  it (statsmodels) is a large dependency for ten lines of arithmetic.
- Intervals: percentile bootstrap over items (``n_resamples`` resamples, seeded); a resample
  whose kappa is undefined (every rating the same category: ``p_e = 1``) is skipped.  Kappa of a
  sample without variation is ``nan`` (shown as "-"), never 1 or 0.
- Accuracy of a rater against a reference rater (a grader against people): the share of equal
  judgements with a Wilson interval.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from medgauge.stats.bootstrap import percentile_interval
from medgauge.stats.proportion import wilson
from medgauge.types import MedgaugeError


@dataclass(frozen=True)
class Kappa:
    method: str  # "cohen" or "fleiss"
    value: float
    lo: float
    hi: float
    n: int  # items rated by every rater
    raters: int


def _cohen(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) == 0 or (len(set(a.tolist()) | set(b.tolist())) < 2):
        return math.nan
    from sklearn.metrics import cohen_kappa_score

    with np.errstate(all="ignore"):
        value = float(cohen_kappa_score(a, b))
    return value if math.isfinite(value) else math.nan


def _fleiss(ratings: np.ndarray) -> float:
    """ratings: items x raters of category codes."""
    n_items, m = ratings.shape
    if n_items == 0 or m < 2:
        return math.nan
    categories = np.unique(ratings)
    counts = np.stack([(ratings == c).sum(axis=1) for c in categories], axis=1)  # items x cats
    p_i = ((counts ** 2).sum(axis=1) - m) / (m * (m - 1))
    p_bar = p_i.mean()
    p_j = counts.sum(axis=0) / (n_items * m)
    p_e = float((p_j ** 2).sum())
    if p_e >= 1.0:
        return math.nan
    return float((p_bar - p_e) / (1.0 - p_e))


def kappa(ratings: Sequence[Sequence[Any]], *, n_resamples: int = 1000, seed: int = 0) -> Kappa:
    """Kappa of ``ratings`` (items x raters, any hashable categories; items with a missing
    rating must be left out by the caller): Cohen's for two raters, Fleiss' for more, with a
    percentile bootstrap interval over items.  Raises MedgaugeError on ragged rows."""
    rows = [list(r) for r in ratings]
    if any(len(r) != len(rows[0]) for r in rows):
        raise MedgaugeError("kappa: every item needs one rating per rater")
    raters = len(rows[0]) if rows else 0
    if rows and raters < 2:
        raise MedgaugeError("kappa: needs at least two raters")
    codes = {v: i for i, v in enumerate(sorted({v for r in rows for v in r}, key=str))}
    arr = np.array([[codes[v] for v in r] for r in rows], dtype=int).reshape(len(rows), raters)
    method = "cohen" if raters == 2 else "fleiss"

    def stat(x: np.ndarray) -> float:
        return _cohen(x[:, 0], x[:, 1]) if method == "cohen" else _fleiss(x)

    value = stat(arr) if len(rows) else math.nan
    lo = hi = math.nan
    if len(rows) >= 2 and math.isfinite(value):
        rng = np.random.default_rng(seed)
        reps = [stat(arr[idx]) for idx in rng.integers(0, len(rows), (n_resamples, len(rows)))]
        finite = np.array([r for r in reps if math.isfinite(r)])
        if len(finite):
            lo, hi = percentile_interval(finite, 0.95)
    return Kappa(method, value, lo, hi, len(rows), raters)


@dataclass(frozen=True)
class Agreement:
    """A rater against a reference rater on the items both judged."""

    n: int
    accuracy: float
    lo: float
    hi: float
    kappa: Kappa


def agreement(rater: dict[str, Any], reference: dict[str, Any], *, n_resamples: int = 1000,
              seed: int = 0) -> Agreement:
    """Accuracy (Wilson interval) and Cohen's kappa (bootstrap interval) of ``rater`` against
    ``reference`` (both ``item id -> judgement``), on the ids present in both."""
    ids = [i for i in reference if i in rater]
    same = sum(rater[i] == reference[i] for i in ids)
    lo, hi = wilson(same, len(ids)) if ids else (math.nan, math.nan)
    acc = same / len(ids) if ids else math.nan
    k = kappa([(rater[i], reference[i]) for i in ids], n_resamples=n_resamples, seed=seed)
    return Agreement(len(ids), acc, lo, hi, k)
