"""The Metric protocol: the scored items of one group -> an :class:`Estimate` with a 95% interval.

Three kinds (lm-evaluation-harness's aggregation idea, inspect_ai's metric-of-scores shape):

- ``binary``: a 0/1 value per item (accuracy).  Wilson interval, or a cluster bootstrap when
  items share an image or case (never narrower than Wilson's); paired comparison by the exact
  McNemar test plus a paired bootstrap of the difference.
- ``mean``: a float per item (token F1, a grader's grade).  Percentile bootstrap of the mean
  (clusters resampled when present); paired bootstrap of the difference.
- ``corpus``: a function of all (prediction, reference) pairs at once (BLEU, CIDEr, CE F1).  The
  point estimate uses every answered item; the interval is a bootstrap over items that recomputes
  the metric on each resample; the paired comparison resamples the same items for both runs.

Every estimate carries ``n`` (items in the estimate), ``invalid``, ``incomplete`` and ``errors``
(failed requests, excluded) apart, the interval ``method`` and whether higher is better.
Benchmarks declare their metrics (``Benchmark.metrics``; the first is the headline), scorers may
add theirs, and ``--metric NAME`` adds more.  ``grouped(metric, items, field)`` is the one
breakdown mechanism.  Adding a metric is one module in this package that registers an instance.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Literal

import numpy as np

from medgauge.registry import Registry
from medgauge.stats.bootstrap import DEFAULT_RESAMPLES, bootstrap_mean, percentile_interval
from medgauge.stats.clustered import MIN_CLUSTERS  # fewer clusters: item-level intervals
from medgauge.stats.paired import PairedComparison, outcome
from medgauge.types import Item, MedgaugeError

MetricKind = Literal["binary", "mean", "corpus"]
#: resamples of a corpus metric's bootstrap (each recomputes the metric on all items)
CORPUS_RESAMPLES = 1000


@dataclass(frozen=True, slots=True)
class Estimate:
    """A metric's value over a group of items with its 95% interval.

    ``n``: items in the estimate (for binary metrics invalid and incomplete answers are in ``n``,
    scored wrong; for mean metrics items without a value are left out); ``k``: successes of a
    binary metric; ``errors``: failed requests, excluded from ``n``; ``scale``: display factor
    (100 for percentages).
    """

    metric: str
    value: float
    lo: float
    hi: float
    n: int
    invalid: int = 0
    incomplete: int = 0
    errors: int = 0
    method: str = "wilson"
    higher_is_better: bool = True
    k: int | None = None
    scale: float = 100.0

    @property
    def invalid_rate(self) -> float:
        return self.invalid / self.n if self.n else math.nan

    @property
    def estimate(self) -> float:  # the name macro averages and older callers use
        return self.value

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Metric(ABC):
    """A named metric over scored items (see the module docstring for the kinds)."""

    name: str = ""
    kind: ClassVar[MetricKind] = "binary"
    higher_is_better: bool = True
    scale: float = 100.0
    description: str = ""

    def values(self, items: Sequence[Item]) -> list[float | None]:
        """One value per item for per-item metrics (``None``: error or no value: left out)."""
        raise MedgaugeError(f"metric {self.name} is corpus-level: it has no per-item values")

    @abstractmethod
    def estimate(self, items: Sequence[Item], *, clustered: bool = True,
                 seed: int = 0) -> Estimate:
        """The metric over ``items`` with its 95% interval."""

    def counts(self, items: Sequence[Item]) -> dict[str, int]:
        return {"invalid": sum(it.invalid for it in items),
                "incomplete": sum(it.incomplete for it in items),
                "errors": sum(it.errored for it in items)}


class MeanMetric(Metric):
    """The mean of a per-item float read from the score's ``metrics[key]`` (or its value).
    Invalid and incomplete items count as 0 when ``missing_as_zero`` (string-overlap scores of
    an empty answer are 0), else they are left out (a grader's unparseable grade is not a
    grade)."""

    kind = "mean"

    def __init__(self, name: str, key: str | None = None, *, scale: float = 100.0,
                 higher_is_better: bool = True, missing_as_zero: bool = True,
                 description: str = "") -> None:
        self.name = name
        self.key = key
        self.scale = scale
        self.higher_is_better = higher_is_better
        self.missing_as_zero = missing_as_zero
        self.description = description

    def _value(self, it: Item) -> float | None:
        if it.errored:
            return None
        raw = it.value if self.key is None else it.metrics.get(self.key)
        if raw is None or (isinstance(raw, float) and not math.isfinite(raw)):
            return 0.0 if self.missing_as_zero and (it.invalid or it.incomplete) else None
        return float(raw)

    def values(self, items: Sequence[Item]) -> list[float | None]:
        return [self._value(it) for it in as_items(items)]

    def estimate(self, items: Sequence[Item], *, clustered: bool = True,
                 seed: int = 0) -> Estimate:
        items = as_items(items)
        vals = self.values(items)
        keep = [i for i, v in enumerate(vals) if v is not None]
        arr = np.array([vals[i] for i in keep], dtype=float)
        labels = cluster_labels([items[i] for i in keep]) if clustered else None
        ci = bootstrap_mean(arr, labels, n_resamples=DEFAULT_RESAMPLES, seed=seed)
        lo, hi = (ci.lo, ci.hi) if arr.size else (math.nan, math.nan)
        return Estimate(self.name, ci.estimate, lo, hi, int(arr.size),
                        method="bootstrap" if labels is None else "cluster-bootstrap",
                        higher_is_better=self.higher_is_better, scale=self.scale,
                        **self.counts(items))


class CorpusMetric(Metric):
    """A metric computed on all answered items at once; subclasses implement
    :meth:`compute` (items -> float).  Its interval is a percentile bootstrap over items that
    recomputes the metric on each of ``CORPUS_RESAMPLES`` resamples."""

    kind = "corpus"
    resamples: int = CORPUS_RESAMPLES

    @abstractmethod
    def compute(self, items: Sequence[Item]) -> float:
        """The metric over these (answered) items."""

    def estimate(self, items: Sequence[Item], *, clustered: bool = True,
                 seed: int = 0) -> Estimate:
        items = as_items(items)
        answered = [it for it in items if it.answered]
        if not answered:
            return Estimate(self.name, math.nan, math.nan, math.nan, 0, method="bootstrap",
                            higher_is_better=self.higher_is_better, scale=self.scale,
                            **self.counts(items))
        value, lo, hi, method = self.interval(answered, seed)
        return Estimate(self.name, value, lo, hi, len(answered), method=method,
                        higher_is_better=self.higher_is_better, scale=self.scale,
                        **self.counts(items))

    def interval(self, answered: Sequence[Item], seed: int) -> tuple[float, float, float, str]:
        """(value, 95% low, 95% high, method) on the answered items: by default the metric
        recomputed on ``resamples`` resampled item sets (percentile bootstrap)."""
        value = self.compute(answered)
        rng = np.random.default_rng(seed)
        reps = np.array([self.compute([answered[i] for i in idx]) for idx in
                         rng.integers(0, len(answered), size=(self.resamples, len(answered)))])
        lo, hi = percentile_interval(reps, 0.95)
        return float(value), lo, hi, "bootstrap"

    def paired(self, xs: Sequence[Item], ys: Sequence[Item], *, n_resamples: int,
               seed: int) -> PairedComparison:
        """A minus B on aligned, answered items: the metric recomputed for both runs on the same
        ``n_resamples`` resampled item sets (paired percentile bootstrap)."""
        va, vb = self.compute(xs), self.compute(ys)
        rng = np.random.default_rng(seed)
        reps = np.empty(n_resamples)
        for r, idx in enumerate(rng.integers(0, len(xs), size=(n_resamples, len(xs)))):
            reps[r] = self.compute([xs[i] for i in idx]) - self.compute([ys[i] for i in idx])
        lo, hi = percentile_interval(reps, 0.95)
        return PairedComparison(len(xs), float(va), float(vb), float(va - vb), lo, hi,
                                outcome(lo, hi), None, 0, 0, n_resamples=n_resamples, seed=seed)


def as_items(items: Iterable[Any]) -> list[Item]:
    """Typed items; plain dicts (hand-built rows, JSON dumps) are normalised the way the report
    normalises them, so ``correct``/``invalid`` keep their one definition."""
    out = []
    for i, it in enumerate(items):
        if isinstance(it, Item):
            out.append(it)
        else:
            from medgauge.report.data import normalise_item

            out.append(normalise_item({"sample_id": f"item{i}", **dict(it)}, f"item {i}"))
    return out


def cluster_labels(items: Sequence[Item]) -> list[Any] | None:
    """Cluster labels when clustering means something (>= MIN_CLUSTERS clusters, fewer than
    items), else None."""
    clusters = [it.cluster for it in items]
    if not any(c is not None for c in clusters):
        return None
    ids = [c if c is not None else f"\x00item{i}" for i, c in enumerate(clusters)]
    n_clusters = len(set(ids))
    return ids if MIN_CLUSTERS <= n_clusters < len(ids) else None


metrics: Registry[Metric] = Registry("metric")


def register(metric: Metric) -> Metric:
    metrics.register(metric.name)(metric)
    return metric


def get_metric(name: str) -> Metric:
    import medgauge.metrics  # noqa: F401 - registers the built-in metrics

    return metrics.get(name)


# ---- breakdowns --------------------------------------------------------------------------------

def group_values(value: Any) -> list[str]:
    """The groups a metadata value puts an item in: each element of a list, else the value;
    nothing for values that are not scalars."""
    if isinstance(value, (list, tuple, set)):
        return [str(v) for v in value if isinstance(v, (str, int, float, bool))]
    if isinstance(value, (str, int, bool)) or (isinstance(value, float) and math.isfinite(value)):
        return [str(value)]
    return []


NONE_GROUP = "(none)"


def grouped(metric: Metric, items: Sequence[Item], field: str, *, seed: int = 0
            ) -> dict[str, Estimate]:
    """The metric per value of one metadata field: the one breakdown mechanism for every
    benchmark (organ, modality, question type, GMAI-MMBench tree keys ...).  Items whose value
    is a list count once under each of its values; items without the field go to ``(none)``.
    Intervals are the metric's own (clustered where items share images)."""
    groups: dict[str, list[Item]] = defaultdict(list)
    for item in as_items(items):
        values = group_values(item.metadata.get(field))
        for v in values or [NONE_GROUP]:
            groups[v].append(item)
    return {key: metric.estimate(rows, seed=seed) for key, rows in sorted(groups.items())}


def run_metrics(config: Mapping[str, Any] | None, benchmark: str) -> list[Metric]:
    """The metrics a run declares: ``config["metrics"]`` when given, else the benchmark's
    declared ones plus its scorer's; the first is the headline."""
    config = config or {}
    names = list(config.get("metrics") or [])
    if not names:
        from medgauge.benchmarks import benchmarks

        cls = benchmarks.get(benchmark) if benchmark in benchmarks else None
        names = list(getattr(cls, "metrics", ("accuracy",)))
    return [get_metric(n) for n in dict.fromkeys(names)]
