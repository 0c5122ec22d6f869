"""Percentile bootstrap intervals for the mean of a per-item metric, naive or clustered.

Efron & Tibshirani (1993), *An Introduction to the Bootstrap*, ch. 13 (percentile interval).
Clustered (block) bootstrap: resample whole clusters with replacement and recompute the pooled
mean ``sum(values in drawn clusters) / count(items in drawn clusters)`` (Field & Welsh 2007,
"Bootstrapping clustered data", JRSS-B 69(3)).  Items that share an image or a case are not
independent; resampling items as if they were gives intervals that are too narrow.

All resampling is vectorised in chunks (at most ~4M indices in memory at once) and seeded with
``numpy.random.default_rng(seed)`` so the same inputs and seed always give the same interval.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from medgauge.stats.proportion import Proportion, proportion_of
from medgauge.types import MedgaugeError

DEFAULT_RESAMPLES = 10_000
_CHUNK_ELEMS = 4_000_000


@dataclass(frozen=True, slots=True)
class BootstrapCI:
    """A point estimate with a percentile bootstrap interval."""

    estimate: float
    lo: float
    hi: float
    n: int
    n_clusters: int | None = None  # None for the naive (item) bootstrap
    n_resamples: int = DEFAULT_RESAMPLES
    seed: int = 0
    level: float = 0.95

    @property
    def method(self) -> str:
        return "bootstrap" if self.n_clusters is None else "cluster-bootstrap"


def as_float_array(values: Sequence[float] | np.ndarray, what: str = "values") -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1:
        raise MedgaugeError(f"{what}: expected a 1-D sequence, got shape {arr.shape}")
    if arr.size and not np.all(np.isfinite(arr)):
        bad = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise MedgaugeError(f"{what}: item {bad} is not a finite number ({arr[bad]})")
    return arr


def cluster_codes(clusters: Sequence[Any], n: int) -> np.ndarray:
    """Integer codes 0..G-1 for cluster labels; ``None`` labels become singleton clusters."""
    labels = list(clusters)
    if len(labels) != n:
        raise MedgaugeError(f"clusters: {len(labels)} labels for {n} items")
    codes: dict[Any, int] = {}
    out = np.empty(n, dtype=np.int64)
    for i, lab in enumerate(labels):
        key: Any = ("\0singleton", i) if lab is None else lab
        out[i] = codes.setdefault(key, len(codes))
    return out


def resample_means(
    values: np.ndarray,
    n_resamples: int,
    rng: np.random.Generator,
    codes: np.ndarray | None = None,
) -> np.ndarray:
    """``n_resamples`` bootstrap replicates of the mean (clustered when ``codes`` is given)."""
    if codes is None:
        sums, counts = values, None
    else:
        n_groups = int(codes.max()) + 1
        sums = np.bincount(codes, weights=values, minlength=n_groups)
        counts = np.bincount(codes, minlength=n_groups).astype(float)
    g = sums.size
    out = np.empty(n_resamples)
    step = max(1, _CHUNK_ELEMS // max(g, 1))
    for start in range(0, n_resamples, step):
        m = min(step, n_resamples - start)
        idx = rng.integers(0, g, size=(m, g))
        if counts is None:
            out[start : start + m] = sums[idx].mean(axis=1)
        else:
            out[start : start + m] = sums[idx].sum(axis=1) / counts[idx].sum(axis=1)
    return out


def percentile_interval(replicates: np.ndarray, level: float) -> tuple[float, float]:
    alpha = 1.0 - level
    lo, hi = np.quantile(replicates, [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi)


def _check(n_resamples: int, level: float) -> None:
    if n_resamples < 1:
        raise MedgaugeError(f"bootstrap: n_resamples must be >= 1, got {n_resamples}")
    if not 0 < level < 1:
        raise MedgaugeError(f"bootstrap: level must be in (0, 1), got {level}")


def bootstrap_mean(
    values: Sequence[float] | np.ndarray,
    clusters: Sequence[Any] | None = None,
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    level: float = 0.95,
) -> BootstrapCI:
    """Percentile bootstrap CI of ``mean(values)``.

    With ``clusters`` (one label per item; ``None`` = its own cluster) whole clusters are
    resampled.  Empty input gives ``nan`` everywhere; a single item (or cluster) gives a
    zero-width interval at its value.
    """
    _check(n_resamples, level)
    arr = as_float_array(values)
    codes = None if clusters is None else cluster_codes(clusters, arr.size)
    n_clusters = None if codes is None else (int(codes.max()) + 1 if arr.size else 0)
    if arr.size == 0:
        return BootstrapCI(math.nan, math.nan, math.nan, 0, n_clusters, n_resamples, seed, level)
    rng = np.random.default_rng(seed)
    reps = resample_means(arr, n_resamples, rng, codes)
    lo, hi = percentile_interval(reps, level)
    est = float(arr.mean())
    return BootstrapCI(est, lo, hi, int(arr.size), n_clusters, n_resamples, seed, level)


def bootstrap_proportion(
    correct: Sequence[bool | None],
    clusters: Sequence[Any] | None = None,
    *,
    invalid: Sequence[bool] | None = None,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    level: float = 0.95,
) -> Proportion:
    """A :class:`~medgauge.stats.proportion.Proportion` whose interval is a (clustered)
    bootstrap instead of Wilson; request errors (``None``) are dropped before resampling."""
    outcomes = list(correct)
    base = proportion_of(outcomes, invalid)
    keep = [i for i, c in enumerate(outcomes) if c is not None]
    vals = np.array([1.0 if outcomes[i] else 0.0 for i in keep])
    labs = None
    if clusters is not None:
        all_labs = list(clusters)
        if len(all_labs) != len(outcomes):
            raise MedgaugeError(f"clusters: {len(all_labs)} labels for {len(outcomes)} items")
        labs = [all_labs[i] for i in keep]
    ci = bootstrap_mean(vals, labs, n_resamples=n_resamples, seed=seed, level=level)
    lo, hi = (0.0, 1.0) if base.n == 0 else (ci.lo, ci.hi)
    method = "cluster-bootstrap" if clusters is not None else "bootstrap"
    return Proportion(base.value, base.n, base.k, base.invalid, base.errors, lo, hi, method)
