"""Paired comparison of two runs on the same items.

- Difference of means with a paired percentile bootstrap CI (resample items, or clusters, and
  recompute ``mean(a - b)``); 10,000 resamples by default, seeded.
- Exact McNemar test: two-sided binomial test with p = 0.5 on the discordant pairs
  (McNemar 1947, Psychometrika 12:153-157; exact form as in Fagerland, Lydersen & Laake 2013,
  BMC Med Res Methodol 13:91).  ``p = 1`` when there are no discordant pairs.
- Win / tie / loss from the CI as in Jeong et al. (2024), "The Limited Impact of Medical
  Adaptation of Large Language and Vision-Language Models" (PROTOCOLS.md section 6):
  win if the CI's lower bound > 0, loss if its upper bound < 0, tie otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from medgauge.stats.bootstrap import (
    DEFAULT_RESAMPLES,
    as_float_array,
    cluster_codes,
    percentile_interval,
    resample_means,
)
from medgauge.stats.join import join_by_id
from medgauge.types import MedgaugeError

Outcome = Literal["win", "tie", "loss"]


def mcnemar_exact(a_only: int, b_only: int) -> float:
    """Exact two-sided McNemar p-value from the two discordant counts.

    ``a_only``: pairs where only A is correct; ``b_only``: only B correct.  Computed with exact
    integer arithmetic: ``min(1, 2 * P(X <= min(a_only, b_only)))`` with ``X ~ Bin(a+b, 1/2)``.
    """
    if a_only < 0 or b_only < 0:
        raise MedgaugeError(f"mcnemar_exact: counts must be >= 0, got {a_only}, {b_only}")
    n = a_only + b_only
    if n == 0:
        return 1.0
    k = min(a_only, b_only)
    tail = sum(math.comb(n, i) for i in range(k + 1))
    return min(1.0, 2 * tail / 2**n)


def outcome(lo: float, hi: float) -> Outcome:
    """``win`` if ``lo > 0``, ``loss`` if ``hi < 0``, else ``tie`` (nan bounds give a tie)."""
    if lo > 0:
        return "win"
    if hi < 0:
        return "loss"
    return "tie"


@dataclass(frozen=True, slots=True)
class PairedComparison:
    """A minus B on paired items.  ``diff > 0`` means A scores higher."""

    n: int  # pairs used
    mean_a: float
    mean_b: float
    diff: float
    lo: float
    hi: float
    outcome: Outcome
    p_mcnemar: float | None  # None unless both runs' values are all 0/1
    a_only: int  # discordant pairs where only A is correct (binary values only)
    b_only: int
    n_clusters: int | None = None
    dropped_a: int = 0  # ids only in A (dropped with intersection=True)
    dropped_b: int = 0
    excluded: int = 0  # shared ids dropped because either side had no value (request error)
    n_resamples: int = DEFAULT_RESAMPLES
    seed: int = 0
    level: float = 0.95


def paired_bootstrap(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    clusters: Sequence[object] | None = None,
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float, float]:
    """``(mean(a - b), lo, hi)`` with a paired (optionally clustered) percentile bootstrap.

    ``a`` and ``b`` must already be aligned item by item (see :func:`join_by_id`).
    """
    x, y = as_float_array(a, "a"), as_float_array(b, "b")
    if x.size != y.size:
        raise MedgaugeError(f"paired_bootstrap: {x.size} values in a but {y.size} in b")
    if n_resamples < 1 or not 0 < level < 1:
        raise MedgaugeError("paired_bootstrap: need n_resamples >= 1 and 0 < level < 1")
    if x.size == 0:
        return (math.nan, math.nan, math.nan)
    d = x - y
    codes = None if clusters is None else cluster_codes(clusters, d.size)
    reps = resample_means(d, n_resamples, np.random.default_rng(seed), codes)
    lo, hi = percentile_interval(reps, level)
    return (float(d.mean()), lo, hi)


def _is_binary(arr: np.ndarray) -> bool:
    return bool(np.all((arr == 0) | (arr == 1)))


def paired_compare(
    a: Mapping[str, float | bool | None] | Iterable[tuple[str, float | bool | None]],
    b: Mapping[str, float | bool | None] | Iterable[tuple[str, float | bool | None]],
    clusters: Mapping[str, object] | None = None,
    *,
    intersection: bool = False,
    names: tuple[str, str] = ("A", "B"),
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    level: float = 0.95,
) -> PairedComparison:
    """Compare two runs keyed by sample id (``None`` values = request errors, excluded).

    ``clusters`` maps sample id -> cluster label; when given the bootstrap resamples clusters.
    McNemar's test is computed when every value is 0/1 (booleans count).
    """
    joined = join_by_id(a, b, intersection=intersection, names=names)
    pairs = zip(joined.left, joined.right, strict=True)
    keep = [i for i, (x, y) in enumerate(pairs) if x is not None and y is not None]
    excluded = len(joined.ids) - len(keep)
    x = np.array([float(joined.left[i]) for i in keep])  # type: ignore[arg-type]
    y = np.array([float(joined.right[i]) for i in keep])  # type: ignore[arg-type]
    labels = None
    if clusters is not None:
        labels = [clusters.get(joined.ids[i]) for i in keep]
    diff, lo, hi = paired_bootstrap(
        x, y, labels, n_resamples=n_resamples, seed=seed, level=level
    )
    p = None
    a_only = b_only = 0
    if x.size and _is_binary(x) and _is_binary(y):
        a_only = int(np.sum((x == 1) & (y == 0)))
        b_only = int(np.sum((x == 0) & (y == 1)))
        p = mcnemar_exact(a_only, b_only)
    n_clusters = None
    if labels is not None:
        n_clusters = int(cluster_codes(labels, len(labels)).max()) + 1 if labels else 0
    return PairedComparison(
        n=int(x.size),
        mean_a=float(x.mean()) if x.size else math.nan,
        mean_b=float(y.mean()) if y.size else math.nan,
        diff=diff,
        lo=lo,
        hi=hi,
        outcome=outcome(lo, hi),
        p_mcnemar=p,
        a_only=a_only,
        b_only=b_only,
        n_clusters=n_clusters,
        dropped_a=joined.dropped_left,
        dropped_b=joined.dropped_right,
        excluded=excluded,
        n_resamples=n_resamples,
        seed=seed,
        level=level,
    )


def win_tie_loss(outcomes: Iterable[Outcome]) -> dict[str, float]:
    """Counts and percentages of win / tie / loss (as in Jeong et al.'s summary figures)."""
    items = list(outcomes)
    total = len(items)
    out: dict[str, float] = {"n": float(total)}
    for key in ("win", "tie", "loss"):
        c = sum(1 for o in items if o == key)
        out[key] = float(c)
        out[f"{key}_pct"] = 100.0 * c / total if total else math.nan
    return out
