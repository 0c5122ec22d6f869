"""Macro average across benchmarks with its own bootstrap interval.

Each benchmark is resampled independently (items, or clusters when given) with its own seeded
stream; replicate ``r`` of the macro average is the unweighted mean over benchmarks of their
replicate ``r``.  The interval is the percentile interval of those macro replicates.  This
treats benchmarks as fixed (the interval reflects item sampling only, not the choice of
benchmarks).  Per-benchmark estimates and intervals are kept on the result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from medgauge.stats.bootstrap import (
    DEFAULT_RESAMPLES,
    BootstrapCI,
    as_float_array,
    cluster_codes,
    percentile_interval,
    resample_means,
)
from medgauge.types import MedgaugeError


@dataclass(frozen=True, slots=True)
class MacroAverage:
    estimate: float
    lo: float
    hi: float
    per_benchmark: dict[str, BootstrapCI] = field(default_factory=dict)
    n_resamples: int = DEFAULT_RESAMPLES
    seed: int = 0
    level: float = 0.95


def macro_average(
    per_benchmark: Mapping[str, Sequence[float] | np.ndarray],
    clusters: Mapping[str, Sequence[Any] | None] | None = None,
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    level: float = 0.95,
) -> MacroAverage:
    """Unweighted mean over benchmarks of each benchmark's mean per-item metric, with CI."""
    if not per_benchmark:
        raise MedgaugeError("macro_average: no benchmarks given")
    if n_resamples < 1 or not 0 < level < 1:
        raise MedgaugeError("macro_average: need n_resamples >= 1 and 0 < level < 1")
    names = sorted(per_benchmark)
    streams = np.random.SeedSequence(seed).spawn(len(names))
    total = np.zeros(n_resamples)
    per: dict[str, BootstrapCI] = {}
    for name, stream in zip(names, streams, strict=True):
        arr = as_float_array(per_benchmark[name], f"macro_average[{name}]")
        if arr.size == 0:
            raise MedgaugeError(f"macro_average: benchmark {name!r} has no items")
        labels = None if clusters is None else clusters.get(name)
        codes = None if labels is None else cluster_codes(labels, arr.size)
        reps = resample_means(arr, n_resamples, np.random.default_rng(stream), codes)
        lo, hi = percentile_interval(reps, level)
        n_clusters = None if codes is None else int(codes.max()) + 1
        per[name] = BootstrapCI(
            float(arr.mean()), lo, hi, int(arr.size), n_clusters, n_resamples, seed, level
        )
        total += reps
    reps_macro = total / len(names)
    lo, hi = percentile_interval(reps_macro, level)
    estimate = float(np.mean([per[n].estimate for n in names]))
    return MacroAverage(estimate, lo, hi, per, n_resamples, seed, level)
