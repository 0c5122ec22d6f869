"""Head-to-head comparison of runs on the same items (Jeong et al., "The limited impact of medical
adaptation", PROTOCOLS.md section 6), for every metric the runs declare: the paired bootstrap CI
of the difference (binary and mean metrics: items or clusters resampled; corpus metrics: the same
resampled items recompute the metric for both runs), the exact McNemar test for binary metrics,
win/tie/loss per benchmark, and Holm correction across benchmarks and metrics for each model
pair.  One mechanism for ``medgauge compare`` and the HTML report."""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from medgauge.metrics import Metric, run_metrics
from medgauge.stats import DEFAULT_RESAMPLES, PairedComparison, holm, paired_compare
from medgauge.stats.join import join_by_id
from medgauge.types import Item, MedgaugeError


@dataclass(frozen=True)
class Comparison:
    benchmark: str
    model_a: str
    model_b: str
    result: PairedComparison
    p_holm: float | None  # McNemar p, Holm-adjusted across benchmarks and metrics per model pair
    run_a: str = ""
    run_b: str = ""
    metric: str = "accuracy"
    scale: float = 100.0


def _clean(run: Mapping[str, Any]) -> list[Item]:
    return [it for it in run["items"] if it.variant == "clean"]


def _metrics_of(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[Metric]:
    """The metrics both runs declare, in A's order."""
    mb = {m.name for m in run_metrics(b.get("config"), b["benchmark"])}
    return [m for m in run_metrics(a.get("config"), a["benchmark"]) if m.name in mb]


def compare_pair(metric: Metric, ia: list[Item], ib: list[Item], *, names: tuple[str, str],
                 intersection: bool, clustered: bool, n_resamples: int,
                 seed: int) -> PairedComparison:
    """A minus B on one metric, paired by sample id."""
    if metric.kind == "corpus":
        return _paired_corpus(metric, ia, ib, names=names, intersection=intersection,
                              n_resamples=min(n_resamples, metric.resamples), seed=seed)  # type: ignore[attr-defined]
    clusters = ({it.sample_id: it.cluster or it.sample_id for it in ia}
                if clustered and any(it.cluster for it in ia) else None)
    va = dict(zip((it.sample_id for it in ia), metric.values(ia), strict=True))
    vb = dict(zip((it.sample_id for it in ib), metric.values(ib), strict=True))
    return paired_compare(va, vb, clusters, intersection=intersection, names=names,
                          n_resamples=n_resamples, seed=seed)


def _paired_corpus(metric: Any, ia: list[Item], ib: list[Item], *, names: tuple[str, str],
                   intersection: bool, n_resamples: int, seed: int) -> PairedComparison:
    joined = join_by_id({it.sample_id: it for it in ia}, {it.sample_id: it for it in ib},
                        intersection=intersection, names=names)
    pairs = [(x, y) for x, y in zip(joined.left, joined.right, strict=True)
             if x.answered and y.answered]
    excluded = len(joined.ids) - len(pairs)
    if not pairs:
        nan = math.nan
        return PairedComparison(0, nan, nan, nan, nan, nan, "tie", None, 0, 0,
                                dropped_a=joined.dropped_left, dropped_b=joined.dropped_right,
                                excluded=excluded, n_resamples=n_resamples, seed=seed)
    xs = [x for x, _ in pairs]
    ys = [y for _, y in pairs]
    r = metric.paired(xs, ys, n_resamples=n_resamples, seed=seed)
    return dataclasses.replace(r, dropped_a=joined.dropped_left, dropped_b=joined.dropped_right,
                               excluded=excluded)


def compare_runs(runs: Sequence[Mapping[str, Any]], *, intersection: bool = False,
                 n_resamples: int = DEFAULT_RESAMPLES, seed: int = 0,
                 clustered: bool = True) -> list[Comparison]:
    """Every pair of models within each benchmark, for every metric both declare, in the order
    the runs are given (the earlier-listed model is A).  Runs are dicts with ``run_id, model,
    benchmark, probe, config, items`` (``Store.run_data`` or the report's RunData)."""
    by_bench: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for run in runs:
        if run["probe"] is not None:
            raise MedgaugeError(f"run {run['run_id']} is a probe run ({run['probe']}); compare "
                                "clean runs")
        by_bench[run["benchmark"]].append(run)
    raw: list[Comparison] = []
    for bench, bench_runs in by_bench.items():
        for i, a in enumerate(bench_runs):
            for b in bench_runs[i + 1:]:
                ia, ib = _clean(a), _clean(b)
                for metric in _metrics_of(a, b):
                    try:
                        result = compare_pair(metric, ia, ib, names=(a["model"], b["model"]),
                                              intersection=intersection, clustered=clustered,
                                              n_resamples=n_resamples, seed=seed)
                    except MedgaugeError as exc:
                        raise MedgaugeError(f"{bench}: {exc} (--intersection compares the "
                                            "shared items)") from None
                    raw.append(Comparison(bench, a["model"], b["model"], result, None,
                                          a["run_id"], b["run_id"], metric.name, metric.scale))
    by_pair: dict[tuple[str, str], list[int]] = defaultdict(list)
    for index, c in enumerate(raw):
        if c.result.p_mcnemar is not None:
            by_pair[(c.model_a, c.model_b)].append(index)
    adjusted: dict[int, float] = {}
    for indexes in by_pair.values():
        pvalues = [float(raw[i].result.p_mcnemar) for i in indexes]  # type: ignore[arg-type]
        adjusted.update(zip(indexes, holm(pvalues), strict=True))
    return [Comparison(c.benchmark, c.model_a, c.model_b, c.result, adjusted.get(i), c.run_a,
                       c.run_b, c.metric, c.scale) for i, c in enumerate(raw)]
