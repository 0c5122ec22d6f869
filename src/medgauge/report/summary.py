"""Numbers behind the report: leaderboard, breakdowns, comparisons, probes, calibration.

Everything here is plain data (dicts, dataclasses from :mod:`medgauge.stats`); rendering lives
in ``html.py`` / ``tables.py`` / ``terminal.py``.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from medgauge.compare import Comparison, compare_runs
from medgauge.metrics import Estimate, Metric, accuracy, grouped, run_metrics
from medgauge.metrics.base import group_values
from medgauge.metrics.fields import metadata_fields
from medgauge.report.data import ItemData, RunData, variant_items, variants
from medgauge.stats import (
    DEFAULT_RESAMPLES,
    MacroAverage,
    PairedComparison,
    ReliabilityBin,
    auroc,
    brier,
    ece,
    macro_average,
    overconfidence_rate,
    paired_compare,
    reliability,
)

MAX_GROUPS = 30
#: metadata keys that hold image paths: never grouped on, shown only with include_images
IMAGE_KEYS: tuple[str, ...] = ("images", "image_paths", "image_path", "image")


def has_clusters(items: Sequence[ItemData]) -> bool:
    return any(it.cluster is not None for it in items)


def clean_runs(runs: Sequence[RunData]) -> dict[tuple[str, str], RunData]:
    """The clean run per (benchmark, model); the latest ``started`` wins when repeated."""
    out: dict[tuple[str, str], RunData] = {}
    for run in sorted(runs, key=lambda r: (r["started"], r["run_id"])):
        if run["probe"] is None:
            out[(run["benchmark"], run["model"])] = run
    return out


def declared(run: RunData) -> list[Metric]:
    """The run's declared metrics (the first is the headline)."""
    return run_metrics(run.get("config"), run["benchmark"])


def _sort_value(est: Estimate) -> float:
    if est.n == 0 or math.isnan(est.value):
        return math.inf
    return -est.value if est.higher_is_better else est.value


def leaderboard(runs: Sequence[RunData]) -> list[dict[str, Any]]:
    """Rows ``{benchmark, model, run_id, metric, est: Estimate, headline}``: one per declared
    metric of each clean run, sorted by benchmark, metric order, then value (best first).

    The same row shape as ``report.terminal.leaderboard_table`` expects.
    """
    return sort_rows([row for run in clean_runs(runs).values() for row in metric_rows(run)])


def metric_rows(run: RunData) -> list[dict[str, Any]]:
    """One leaderboard row per declared metric of one run (its clean items)."""
    items = variant_items(run)
    return [{"benchmark": run["benchmark"], "model": run["model"], "run_id": run["run_id"],
             "metric": metric.name, "order": order, "headline": order == 0,
             "est": metric.estimate(items), "status": run.get("status") or "completed",
             "n_total": run.get("n_total")}
            for order, metric in enumerate(declared(run))]


def sort_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """By benchmark, metric order, then value (best first), then model."""
    return sorted(rows, key=lambda r: (r["benchmark"], r["order"], r["metric"],
                                       _sort_value(r["est"]), r["model"]))


def macro_by_model(runs: Sequence[RunData], metric: str = "accuracy"
                   ) -> dict[str, MacroAverage]:
    """Macro average of a per-item metric per model over its benchmarks (only models with 2+
    benchmarks that declare the metric)."""
    per_model: dict[str, dict[str, list[float]]] = defaultdict(dict)
    clusters: dict[str, dict[str, list[Any] | None]] = defaultdict(dict)
    for (bench, model), run in clean_runs(runs).items():
        found = [m for m in declared(run) if m.name == metric and m.kind != "corpus"]
        if not found:
            continue
        items = variant_items(run)
        values = found[0].values(items)
        keep = [(v, it) for v, it in zip(values, items, strict=True) if v is not None]
        if not keep:
            continue
        per_model[model][bench] = [v for v, _ in keep]
        clusters[model][bench] = ([it.cluster for _, it in keep]
                                  if has_clusters([it for _, it in keep]) else None)
    return {
        model: macro_average(data, clusters[model])
        for model, data in sorted(per_model.items())
        if len(data) >= 2
    }


def macro_metrics(runs: Sequence[RunData]) -> list[str]:
    """Per-item metrics declared by clean runs, in first-seen order (for macro averages)."""
    names: dict[str, None] = {}
    for run in clean_runs(runs).values():
        for m in declared(run):
            if m.kind != "corpus":
                names.setdefault(m.name, None)
    return list(names)


# ---- breakdowns -------------------------------------------------------------------------------

def group_fields(items: Sequence[ItemData], max_groups: int = MAX_GROUPS) -> list[str]:
    """Metadata fields worth a breakdown: present on half the items, 2..max_groups values,
    and not identifier-like (fewer distinct values than half the items)."""
    n = len(items)
    if n == 0:
        return []
    present: Counter[str] = Counter()
    distinct: dict[str, set[str]] = defaultdict(set)
    for it in items:
        for key, value in it.metadata.items():
            if key in IMAGE_KEYS:
                continue
            vals = group_values(value)
            if vals:
                present[key] += 1
                if len(distinct[key]) <= max_groups:
                    distinct[key].update(vals)
    return sorted(
        k for k, c in present.items()
        if c * 2 >= n and 2 <= len(distinct[k]) <= max_groups and len(distinct[k]) * 2 <= n
    )


@dataclass(frozen=True, slots=True)
class Breakdown:
    benchmark: str
    field: str
    metric: str
    models: list[str]
    groups: list[str]
    cells: dict[tuple[str, str], Estimate]  # (group, model) -> estimate


def breakdowns(runs: Sequence[RunData], group_by: Sequence[str] | None = None) -> list[Breakdown]:
    """The headline metric of each benchmark per metadata group (``metrics.grouped``)."""
    by_bench: dict[str, dict[str, RunData]] = defaultdict(dict)
    for (bench, model), run in clean_runs(runs).items():
        by_bench[bench][model] = run
    out = []
    for bench in sorted(by_bench):
        models = sorted(by_bench[bench])
        items_by_model = {m: variant_items(by_bench[bench][m]) for m in models}
        metric = declared(by_bench[bench][models[0]])[0]
        all_items = [it for its in items_by_model.values() for it in its]
        present = metadata_fields(all_items)
        fields = group_fields(all_items) if group_by is None else [
            f for f in group_by if f in present
        ]
        for field in fields:
            cells: dict[tuple[str, str], Estimate] = {}
            counts: Counter[str] = Counter()
            for m in models:
                for g, est in grouped(metric, items_by_model[m], field).items():
                    cells[(g, m)] = est
                    counts[g] += est.n + est.errors
            groups = sorted(counts, key=lambda g: (-counts[g], g))[:MAX_GROUPS]
            if groups:
                out.append(Breakdown(bench, field, metric.name, models, groups, cells))
    return out


# ---- paired comparisons -----------------------------------------------------------------------

def comparisons(
    runs: Sequence[RunData], n_resamples: int = DEFAULT_RESAMPLES, seed: int = 0
) -> list[Comparison]:
    """Every pair of models on every shared benchmark and declared metric (clean variant,
    paired by sample id, on the items both runs have)."""
    latest = clean_runs(runs)
    ordered = [latest[key] for key in sorted(latest)]
    return compare_runs(ordered, intersection=True, n_resamples=n_resamples, seed=seed)


# ---- probes -----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ProbeRow:
    run_id: str
    model: str
    benchmark: str
    probe: str
    variant: str
    acc: Estimate
    delta: PairedComparison | None  # variant minus clean, paired by sample id
    metrics: dict[str, tuple[float, int]]  # metric name -> (mean, n)


def _metric_means(items: Sequence[ItemData]) -> dict[str, tuple[float, int]]:
    sums: dict[str, float] = defaultdict(float)
    counts: Counter[str] = Counter()
    for it in items:
        for k, v in it.metrics.items():
            if isinstance(v, (int, float)) and math.isfinite(v):
                sums[k] += float(v)
                counts[k] += 1
    return {k: (sums[k] / counts[k], counts[k]) for k in sorted(counts)}


def trust_profile(
    runs: Sequence[RunData], n_resamples: int = DEFAULT_RESAMPLES, seed: int = 0
) -> list[ProbeRow]:
    """One row per (probe run, variant): accuracy, paired change vs clean, mean item metrics.

    The clean reference is the run's own ``clean`` variant when present, else the clean run of
    the same model and benchmark.
    """
    clean = clean_runs(runs)
    rows = []
    for run in sorted(runs, key=lambda r: (r["benchmark"], r["model"], r["probe"] or "")):
        if run["probe"] is None:
            continue
        ref_items = variant_items(run)
        if not ref_items and (run["benchmark"], run["model"]) in clean:
            ref_items = variant_items(clean[(run["benchmark"], run["model"])])
        ref = {it.sample_id: it.correct for it in ref_items}
        for var in variants(run):
            items = variant_items(run, var)
            delta = None
            if var != "clean" and ref:
                cur = {it.sample_id: it.correct for it in items}
                if set(cur) & set(ref):
                    delta = paired_compare(
                        cur, ref, intersection=True, n_resamples=n_resamples, seed=seed
                    )
            rows.append(ProbeRow(run["run_id"], run["model"], run["benchmark"], run["probe"] or "",
                                 var, accuracy(items, clustered=False), delta,
                                 _metric_means(items)))
    return rows


# ---- calibration ------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Calibration:
    run_id: str
    model: str
    benchmark: str
    probe: str | None
    n: int
    ece: float
    brier: float
    auroc: float
    overconfidence: float
    bins: list[ReliabilityBin]


def calibrations(runs: Sequence[RunData]) -> list[Calibration]:
    """Per run, over answered items that state a confidence (all variants)."""
    out = []
    for run in runs:
        pts = [(it.confidence, bool(it.correct)) for it in run["items"]
               if it.confidence is not None and it.correct is not None]
        if not pts:
            continue
        conf = [c for c, _ in pts]
        ok = [y for _, y in pts]
        out.append(Calibration(run["run_id"], run["model"], run["benchmark"], run["probe"],
                               len(pts), ece(conf, ok), brier(conf, ok), auroc(conf, ok),
                               overconfidence_rate(conf, ok), reliability(conf, ok)))
    return out


# ---- phantom: accuracy vs lesion size ----------------------------------------------------------

@dataclass(frozen=True, slots=True)
class SizeCurve:
    benchmark: str
    bins: list[tuple[float, float]]  # (lo, hi] radius ranges (first closed)
    per_model: dict[str, list[Estimate]]


def _radius(it: ItemData) -> float | None:
    v = it.metadata.get("nodule_radius")
    if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
        return float(v)
    return None


def size_curves(runs: Sequence[RunData], n_bins: int = 6) -> list[SizeCurve]:
    """Accuracy by ``nodule_radius`` bins (equal width over the observed range) per model."""
    by_bench: dict[str, dict[str, list[ItemData]]] = defaultdict(dict)
    for (bench, model), run in clean_runs(runs).items():
        items = [it for it in variant_items(run) if _radius(it) is not None]
        if items:
            by_bench[bench][model] = items
    out = []
    for bench in sorted(by_bench):
        radii = [_radius(it) for its in by_bench[bench].values() for it in its]
        lo, hi = min(radii), max(radii)  # type: ignore[type-var]
        k = 1 if hi == lo else n_bins
        width = (hi - lo) / k if k > 1 else 1.0  # type: ignore[operator]
        edges = [lo + width * i for i in range(k)] + [hi]  # type: ignore[operator]
        bins = [(edges[i], edges[i + 1]) for i in range(k)]

        def which(r: float, edges: list[float] = edges, k: int = k) -> int:
            for i in range(k):
                if r <= edges[i + 1]:
                    return i
            return k - 1

        per_model = {}
        for model, items in sorted(by_bench[bench].items()):
            groups: list[list[ItemData]] = [[] for _ in range(k)]
            for it in items:
                groups[which(_radius(it))].append(it)  # type: ignore[arg-type]
            per_model[model] = [accuracy(g, clustered=False) for g in groups]
        out.append(SizeCurve(bench, bins, per_model))
    return out
