"""Proportions with Wilson score intervals.

Wilson, E. B. (1927). "Probable inference, the law of succession, and statistical inference."
JASA 22(158): 209-212.  The interval is the set of p whose score test is not rejected:
``(p̂ + z²/2n ± z·sqrt(p̂(1-p̂)/n + z²/4n²)) / (1 + z²/n)``.

Conventions (see docs/statistics.md):
- ``n`` counts answered items (request errors are excluded); invalid (unparseable) answers are
  answered items scored wrong, so they are in ``n`` and not in ``k``.
- ``n == 0`` gives ``value = nan`` and the uninformative interval ``(0.0, 1.0)``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from medgauge.types import MedgaugeError

Z95 = 1.959963984540054  # two-sided 95% normal quantile


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for ``k`` successes in ``n`` trials.

    ``n == 0`` returns ``(0.0, 1.0)`` (no information).  ``k == 0`` has lower bound exactly 0 and
    ``k == n`` upper bound exactly 1.
    """
    if n < 0 or k < 0 or k > n:
        raise MedgaugeError(f"wilson: need 0 <= k <= n, got k={k}, n={n}")
    if z <= 0 or not math.isfinite(z):
        raise MedgaugeError(f"wilson: z must be a positive finite number, got {z}")
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = (z / denom) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    lo = 0.0 if k == 0 else max(0.0, centre - half)
    hi = 1.0 if k == n else min(1.0, centre + half)
    return (lo, hi)


@dataclass(frozen=True, slots=True)
class Proportion:
    """An accuracy-like proportion with its count details and a 95% interval.

    ``value = k / n`` where ``n`` counts answered items (``invalid`` ones included, scored wrong)
    and ``errors`` counts failed requests that are reported apart and excluded from ``n``.
    ``method`` names how ``lo``/``hi`` were computed (``wilson``, ``cluster-bootstrap`` or
    ``wilson-deff``; see stats/clustered.py).
    """

    value: float
    n: int
    k: int
    invalid: int
    errors: int
    lo: float
    hi: float
    method: str = "wilson"

    @property
    def invalid_rate(self) -> float:
        return self.invalid / self.n if self.n else math.nan

    def as_dict(self) -> dict[str, float | int | str]:
        return {
            "value": self.value, "n": self.n, "k": self.k, "invalid": self.invalid,
            "errors": self.errors, "lo": self.lo, "hi": self.hi, "method": self.method,
        }


def proportion(k: int, n: int, invalid: int = 0, errors: int = 0, z: float = 1.96) -> Proportion:
    """A :class:`Proportion` with a Wilson interval."""
    if invalid < 0 or errors < 0 or invalid > n - k:
        raise MedgaugeError(
            f"proportion: invalid ({invalid}) must be within the n - k = {n - k} wrong answers "
            f"and errors ({errors}) non-negative"
        )
    lo, hi = wilson(k, n, z)
    return Proportion(k / n if n else math.nan, n, k, invalid, errors, lo, hi)


def proportion_of(
    correct: Iterable[bool | None], invalid: Iterable[bool] | None = None, z: float = 1.96
) -> Proportion:
    """Proportion from per-item outcomes: ``True``/``False`` answered, ``None`` = request error.

    ``invalid`` (same length, optional) flags answered items whose answer could not be parsed;
    they must be scored ``False``.
    """
    outcomes = list(correct)
    flags = [False] * len(outcomes) if invalid is None else [bool(f) for f in invalid]
    if len(flags) != len(outcomes):
        raise MedgaugeError(
            f"proportion_of: {len(outcomes)} outcomes but {len(flags)} invalid flags"
        )
    k = n = errors = n_invalid = 0
    for i, (c, bad) in enumerate(zip(outcomes, flags, strict=True)):
        if c is None:
            errors += 1
            continue
        n += 1
        if bad:
            if c:
                raise MedgaugeError(f"proportion_of: item {i} is flagged invalid but correct")
            n_invalid += 1
        k += bool(c)
    return proportion(k, n, n_invalid, errors, z)
