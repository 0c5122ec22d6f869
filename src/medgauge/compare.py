"""Head-to-head comparison of stored runs on the same items (Jeong et al., "The limited impact of
medical adaptation", PROTOCOLS.md section 6): paired bootstrap CI of the accuracy difference,
exact McNemar test, win/tie/loss per benchmark, Holm correction across benchmarks, and a macro
average across benchmarks with its own interval."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from medgauge.stats import (
    DEFAULT_RESAMPLES,
    MacroAverage,
    PairedComparison,
    holm,
    macro_average,
    paired_compare,
    win_tie_loss,
)
from medgauge.store import Store
from medgauge.types import MedgaugeError


@dataclass
class Comparison:
    benchmark: str
    model_a: str
    model_b: str
    run_a: str
    run_b: str
    result: PairedComparison
    p_holm: float | None = None


def _values(store: Store, run_id: str) -> tuple[dict[str, float | None], dict[str, Any]]:
    values: dict[str, float | None] = {}
    clusters: dict[str, Any] = {}
    for item in store.items(run_id):
        if item["variant"] != "clean":
            continue
        values[item["sample_id"]] = None if item["error"] else float(bool(item["correct"]))
        clusters[item["sample_id"]] = item["cluster"] or item["sample_id"]
    return values, clusters


def compare_runs(store: Store, run_ids: list[str], *, intersection: bool = False,
                 n_resamples: int = DEFAULT_RESAMPLES, seed: int = 0,
                 clustered: bool = True) -> tuple[list[Comparison], dict[str, MacroAverage]]:
    """Compare every pair of models within each benchmark (the first-listed model as A)."""
    runs = [store.run(r) for r in run_ids]
    if len(runs) < 2:
        raise MedgaugeError("compare needs at least two runs")
    by_bench: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for run in runs:
        if run["probe"] is not None:
            raise MedgaugeError(f"run {run['run_id']} is a probe run ({run['probe']}); compare "
                                "clean runs")
        by_bench[run["benchmark"]].append(run)
    comparisons: list[Comparison] = []
    per_model: dict[str, dict[str, list[float]]] = defaultdict(dict)
    per_model_clusters: dict[str, dict[str, list[Any]]] = defaultdict(dict)
    for bench, bench_runs in by_bench.items():
        data = {r["run_id"]: _values(store, r["run_id"]) for r in bench_runs}
        for r in bench_runs:
            values, clusters = data[r["run_id"]]
            kept = [(k, v) for k, v in values.items() if v is not None]
            per_model[r["model"]][bench] = [v for _, v in kept]
            per_model_clusters[r["model"]][bench] = [clusters[k] for k, _ in kept]
        for i, a in enumerate(bench_runs):
            for b in bench_runs[i + 1:]:
                (va, ca), (vb, _) = data[a["run_id"]], data[b["run_id"]]
                try:
                    result = paired_compare(
                        va, vb, ca if clustered else None, intersection=intersection,
                        names=(a["model"], b["model"]), n_resamples=n_resamples, seed=seed)
                except MedgaugeError as exc:
                    raise MedgaugeError(f"{bench}: {exc} (use --intersection to compare the "
                                        "shared items)") from None
                comparisons.append(Comparison(bench, a["model"], b["model"], a["run_id"],
                                              b["run_id"], result))
    pvalues = [c.result.p_mcnemar for c in comparisons]
    if all(p is not None for p in pvalues) and pvalues:
        for c, p in zip(comparisons, holm([float(p) for p in pvalues]), strict=True):
            c.p_holm = p
    macros = {}
    for model, benches in per_model.items():
        if len(benches) > 1:
            macros[model] = macro_average(benches, per_model_clusters[model] if clustered
                                          else None, n_resamples=n_resamples, seed=seed)
    return comparisons, macros


def summary(comparisons: list[Comparison]) -> dict[str, float]:
    return win_tie_loss(c.result.outcome for c in comparisons)
