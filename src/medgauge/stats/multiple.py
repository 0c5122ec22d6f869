"""Multiple-comparison correction.

Holm, S. (1979). "A simple sequentially rejective multiple test procedure."
Scandinavian Journal of Statistics 6(2): 65-70.  Controls the family-wise error rate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from medgauge.types import MedgaugeError


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm-adjusted p-values, in the input order.

    Sort ascending; ``adj_(i) = max_{j<=i} min(1, (m - j + 1) * p_(j))`` (1-based ``j``).
    Reject hypothesis ``i`` at level alpha iff ``adj_i <= alpha``.
    """
    ps = [float(p) for p in pvalues]
    for i, p in enumerate(ps):
        if math.isnan(p) or not 0.0 <= p <= 1.0:
            raise MedgaugeError(f"holm: p-value {i} is {p}, expected a number in [0, 1]")
    m = len(ps)
    order = sorted(range(m), key=lambda i: ps[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * ps[i]))
        adjusted[i] = running
    return adjusted


def holm_reject(pvalues: Sequence[float], alpha: float = 0.05) -> list[bool]:
    """Which hypotheses Holm's procedure rejects at family-wise level ``alpha``."""
    return [p <= alpha for p in holm(pvalues)]
