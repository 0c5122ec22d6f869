"""An accuracy interval for clustered items that is never narrower than Wilson's.

A percentile cluster bootstrap collapses to zero width when every item is right (or wrong) or
when there are few clusters (two right answers about one image give [100, 100]).  The rule
here, for items grouped by ``clusters``:

- the design effect is Kish's ``deff = Var_cluster / Var_srs`` (Kish 1965, *Survey
  Sampling*, §8.2), with the cluster-robust (ratio-estimator) variance
  ``Var_cluster = G / (G - 1) * sum_g (y_g - p * m_g)^2 / n^2`` over ``G`` clusters of ``m_g``
  items with ``y_g`` right, and ``Var_srs = p (1 - p) / n``; ``deff`` is at least 1.  When
  ``p`` is 0 or 1 the variance ratio is undefined and the conservative ``deff = n / G`` (all
  items of a cluster alike) is used;
- the *design-effect Wilson* interval is Wilson's with the effective sample size
  ``n / deff`` and ``p`` unchanged (Korn & Graubard 1998, "Confidence intervals for
  proportions with small expected number of positive counts estimated from survey data");
- with fewer than ``min_clusters`` clusters or an estimate of 0 or 1 that interval is the
  answer; otherwise the cluster bootstrap, widened to contain the design-effect Wilson
  interval.  Either way the result contains the plain Wilson interval for the same n.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from medgauge.stats.bootstrap import bootstrap_proportion, cluster_codes
from medgauge.stats.proportion import Z95, Proportion, proportion_of

#: fewer clusters than this and the bootstrap is not used
MIN_CLUSTERS = 10


def wilson_interval(p: float, n_eff: float, z: float = Z95) -> tuple[float, float]:
    """Wilson's score interval for an estimate ``p`` on a (possibly fractional) effective
    sample size ``n_eff`` > 0 (Wilson 1927); bounds clipped to [0, 1]."""
    z2 = z * z
    denom = 1.0 + z2 / n_eff
    centre = (p + z2 / (2 * n_eff)) / denom
    half = (z / denom) * math.sqrt(p * (1 - p) / n_eff + z2 / (4 * n_eff * n_eff))
    lo = 0.0 if p <= 0 else max(0.0, centre - half)
    hi = 1.0 if p >= 1 else min(1.0, centre + half)
    return lo, hi


def design_effect(values: Sequence[float], clusters: Sequence[Any]) -> float:
    """Kish's design effect of the mean of 0/1 ``values`` grouped by ``clusters`` (>= 1; see
    the module rule for p in {0, 1})."""
    n = len(values)
    if n == 0:
        return 1.0
    codes = cluster_codes(clusters, n)
    g = int(codes.max()) + 1
    if g <= 1:
        return float(n)
    p = sum(values) / n
    if p <= 0 or p >= 1:
        return max(1.0, n / g)
    sums = [0.0] * g
    sizes = [0] * g
    for v, c in zip(values, codes, strict=True):
        sums[c] += v
        sizes[c] += 1
    var_c = g / (g - 1) * sum((y - p * m) ** 2 for y, m in zip(sums, sizes, strict=True)) / n**2
    var_srs = p * (1 - p) / n
    return max(1.0, var_c / var_srs)


def clustered_proportion(
    correct: Sequence[bool | None],
    clusters: Sequence[Any],
    *,
    invalid: Sequence[bool] | None = None,
    seed: int = 0,
    min_clusters: int = MIN_CLUSTERS,
) -> Proportion:
    """Accuracy of clustered items with the interval of the module rule.

    ``correct``: True/False answered, ``None`` request error (dropped); ``clusters``: one label
    per item, ``None`` = its own cluster.  ``method`` is ``cluster-bootstrap`` or
    ``wilson-deff``.  The interval always contains the plain Wilson interval."""
    base = proportion_of(correct, invalid)
    keep = [i for i, c in enumerate(correct) if c is not None]
    labels = list(clusters)
    if base.n == 0:
        return base
    ids = [labels[i] if labels[i] is not None else ("\0item", i) for i in keep]
    values = [1.0 if correct[i] else 0.0 for i in keep]
    deff = design_effect(values, ids)
    lo, hi = wilson_interval(base.value, base.n / deff)
    n_clusters = len(set(ids))
    method = "wilson-deff"
    if n_clusters >= min_clusters and 0 < base.k < base.n:
        boot = bootstrap_proportion(correct, labels, invalid=invalid, seed=seed)
        lo, hi, method = min(lo, boot.lo), max(hi, boot.hi), "cluster-bootstrap"
    lo, hi = min(lo, base.lo), max(hi, base.hi)  # never narrower than Wilson
    return Proportion(base.value, base.n, base.k, base.invalid, base.errors, lo, hi, method)
