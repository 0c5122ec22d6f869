"""Head-to-head comparison of runs on the same items (Jeong et al., "The limited impact of medical
adaptation", PROTOCOLS.md section 6): paired bootstrap CI of the accuracy difference, exact
McNemar test, win/tie/loss per benchmark, and Holm correction across benchmarks for each model
pair.  One mechanism for ``medgauge compare`` and the HTML report."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from medgauge.stats import DEFAULT_RESAMPLES, PairedComparison, holm, paired_compare
from medgauge.types import MedgaugeError


@dataclass(frozen=True)
class Comparison:
    benchmark: str
    model_a: str
    model_b: str
    result: PairedComparison
    p_holm: float | None  # McNemar p, Holm-adjusted across benchmarks for this model pair
    run_a: str = ""
    run_b: str = ""


def _clean(run: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [it for it in run["items"] if it["variant"] == "clean"]


def compare_runs(runs: Sequence[Mapping[str, Any]], *, intersection: bool = False,
                 n_resamples: int = DEFAULT_RESAMPLES, seed: int = 0,
                 clustered: bool = True) -> list[Comparison]:
    """Every pair of models within each benchmark, in the order the runs are given (the
    earlier-listed model is A).  Runs are dicts with ``run_id, model, benchmark, probe, items``
    (``Store.run_data`` or the report's RunData)."""
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
                clusters = ({it["sample_id"]: it["cluster"] or it["sample_id"] for it in ia}
                            if clustered and any(it.get("cluster") for it in ia) else None)
                try:
                    result = paired_compare(
                        {it["sample_id"]: None if it["error"] else bool(it["correct"])
                         for it in ia},
                        {it["sample_id"]: None if it["error"] else bool(it["correct"])
                         for it in ib},
                        clusters, intersection=intersection, names=(a["model"], b["model"]),
                        n_resamples=n_resamples, seed=seed)
                except MedgaugeError as exc:
                    raise MedgaugeError(f"{bench}: {exc} (--intersection compares the shared "
                                        "items)") from None
                raw.append(Comparison(bench, a["model"], b["model"], result, None,
                                      a["run_id"], b["run_id"]))
    by_pair: dict[tuple[str, str], list[int]] = defaultdict(list)
    for index, c in enumerate(raw):
        if c.result.p_mcnemar is not None:
            by_pair[(c.model_a, c.model_b)].append(index)
    adjusted: dict[int, float] = {}
    for indexes in by_pair.values():
        pvalues = [float(raw[i].result.p_mcnemar) for i in indexes]  # type: ignore[arg-type]
        adjusted.update(zip(indexes, holm(pvalues), strict=True))
    return [Comparison(c.benchmark, c.model_a, c.model_b, c.result, adjusted.get(i), c.run_a,
                       c.run_b) for i, c in enumerate(raw)]
