"""Calibration of stated confidence against correctness.

- ECE: 10 equal-width bins on [0, 1]; bin 0 is [0, 0.1] (closed), the others (l, u]
  (Prompt4Trust, xingbpshen/prompt4trust, PROTOCOLS.md section 5; Guo et al. 2017,
  "On Calibration of Modern Neural Networks", ICML).  ``ECE = sum_b |b|/N * |conf_b - acc_b|``.
- Brier score: ``mean((conf - correct)^2)`` (Brier 1950, Monthly Weather Review 78:1-3).
- AUROC of confidence for correctness via the Mann-Whitney statistic with midranks for ties
  (Hanley & McNeil 1982, Radiology 143:29-36); ``nan`` when only one class is present.
- Overconfidence rate: ``P(conf >= 0.8 | wrong)`` (PROTOCOLS.md section 5, an extension).

Callers decide which items enter (e.g. invalid answers as wrong with confidence 0, or the
valid-only subset); request errors must be left out.  Empty input gives ``nan``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from medgauge.types import MedgaugeError


def _arrays(
    conf: Sequence[float] | np.ndarray, correct: Sequence[bool] | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    c = np.asarray(conf, dtype=float)
    y = np.asarray(correct, dtype=float)
    if c.ndim != 1 or y.ndim != 1 or c.size != y.size:
        raise MedgaugeError(
            f"calibration: need two 1-D sequences of equal length, got {c.shape} and {y.shape}"
        )
    bad = ~np.isfinite(c) | (c < 0) | (c > 1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise MedgaugeError(f"calibration: confidence of item {i} is {c[i]}, expected [0, 1]")
    if not np.all((y == 0) | (y == 1)):
        i = int(np.flatnonzero((y != 0) & (y != 1))[0])
        raise MedgaugeError(f"calibration: correctness of item {i} is {y[i]}, expected 0/1")
    return c, y


def bin_index(conf: np.ndarray, n_bins: int = 10) -> np.ndarray:
    """Bin of each confidence: bin 0 = [0, 1/n], bin b = (b/n, (b+1)/n]."""
    if n_bins < 1:
        raise MedgaugeError(f"calibration: n_bins must be >= 1, got {n_bins}")
    edges = np.arange(n_bins + 1) / n_bins  # k/n: the same doubles as parsed "30/100" etc.
    idx = np.searchsorted(edges, conf, side="left") - 1
    return np.clip(idx, 0, n_bins - 1)


@dataclass(frozen=True, slots=True)
class ReliabilityBin:
    lo: float
    hi: float
    count: int
    mean_conf: float  # nan when empty
    accuracy: float  # nan when empty


def reliability(
    conf: Sequence[float] | np.ndarray, correct: Sequence[bool] | np.ndarray, n_bins: int = 10
) -> list[ReliabilityBin]:
    """Reliability-diagram data: per bin count, mean confidence and accuracy."""
    c, y = _arrays(conf, correct)
    idx = bin_index(c, n_bins)
    counts = np.bincount(idx, minlength=n_bins)
    conf_sum = np.bincount(idx, weights=c, minlength=n_bins)
    acc_sum = np.bincount(idx, weights=y, minlength=n_bins)
    out = []
    for b in range(n_bins):
        n = int(counts[b])
        out.append(
            ReliabilityBin(
                lo=b / n_bins,
                hi=(b + 1) / n_bins,
                count=n,
                mean_conf=float(conf_sum[b] / n) if n else math.nan,
                accuracy=float(acc_sum[b] / n) if n else math.nan,
            )
        )
    return out


def ece(
    conf: Sequence[float] | np.ndarray, correct: Sequence[bool] | np.ndarray, n_bins: int = 10
) -> float:
    """Expected calibration error with equal-width bins (see module docstring)."""
    bins = reliability(conf, correct, n_bins)
    total = sum(b.count for b in bins)
    if total == 0:
        return math.nan
    return float(
        sum(b.count / total * abs(b.mean_conf - b.accuracy) for b in bins if b.count)
    )


def brier(conf: Sequence[float] | np.ndarray, correct: Sequence[bool] | np.ndarray) -> float:
    c, y = _arrays(conf, correct)
    return float(np.mean((c - y) ** 2)) if c.size else math.nan


def midranks(x: np.ndarray) -> np.ndarray:
    """1-based ranks of ``x`` with tied values given the mean of their ranks."""
    order = np.argsort(x, kind="mergesort")
    sx = x[order]
    ranks = np.empty(x.size)
    # boundaries of tie groups in sorted order
    starts = np.flatnonzero(np.r_[True, sx[1:] != sx[:-1]])
    ends = np.r_[starts[1:], sx.size]
    avg = (starts + ends + 1) / 2.0  # mean of ranks start+1 .. end
    ranks[order] = np.repeat(avg, ends - starts)
    return ranks


def auroc(conf: Sequence[float] | np.ndarray, correct: Sequence[bool] | np.ndarray) -> float:
    """P(conf of a correct item > conf of a wrong item) + 0.5 P(tie); nan if a class is absent."""
    c, y = _arrays(conf, correct)
    n_pos = int(y.sum())
    n_neg = int(y.size - n_pos)
    if n_pos == 0 or n_neg == 0:
        return math.nan
    r = midranks(c)
    u = r[y == 1].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def overconfidence_rate(
    conf: Sequence[float] | np.ndarray,
    correct: Sequence[bool] | np.ndarray,
    threshold: float = 0.8,
) -> float:
    """``P(conf >= threshold | wrong)``; nan when no item is wrong."""
    c, y = _arrays(conf, correct)
    wrong = y == 0
    if not wrong.any():
        return math.nan
    return float(np.mean(c[wrong] >= threshold))
