"""Report-generation corpus metrics in the metric protocol: BLEU-1..4, METEOR, ROUGE-L, CIDEr
(pycocoevalcap after R2Gen's cleaning, ``metrics/nlg.py``) and CheXpert clinical efficacy
(``metrics/clinical.py``), each over all generated reports of a group with a bootstrap over
reports (``metrics/report_gen.py``), and paired bootstrap differences for ``compare``.

The generated report is the item's reply, the reference its gold (``Item.answer``); the cleaning
rule is the benchmark's (``metadata["cleaning"]``).  All metrics of one group are computed in one
pass and cached, so declaring eleven of them costs one computation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from medgauge.metrics.base import CorpusMetric, register
from medgauge.stats import PairedComparison
from medgauge.stats.paired import outcome
from medgauge.types import Item

_CACHE: dict[tuple[Any, ...], dict[str, Any]] = {}
#: the last paired computation (compare asks each declared metric in turn for the same runs)
_PAIRED: dict[tuple[Any, ...], Any] = {}


def _key(items: Sequence[Item], seed: int) -> tuple[Any, ...]:
    mode = items[0].metadata.get("r2gen_reference_mode") if items else None
    return (seed, mode, *((it.sample_id, it.variant, it.response, it.answer) for it in items))


def _cleaning(items: Sequence[Item]) -> str:
    return str(items[0].metadata.get("cleaning", "iu_xray")) if items else "iu_xray"


def _references(items: Sequence[Item], *others: Sequence[Item]) -> dict[str, Any]:
    """The references of the text metrics and how to read them (docs/benchmarks.md, "which
    references"): R2Gen-decoded ones (``metadata["r2gen_reference"]``, scored as given) when the
    loader's ``r2gen_reference`` option is ``true``, or ``auto`` and every generated report
    looks like R2Gen-family decoder output (``is_r2gen_output``; for a paired comparison, those
    of ``others`` too); else the reference reports, cleaned like the generated ones.  CE always
    labels the original reference reports."""
    from medgauge.benchmarks.r2gen import R2GEN_DECODING
    from medgauge.metrics.nlg import is_r2gen_output

    answers = [it.answer for it in items]
    decoded = [it.metadata.get("r2gen_reference") for it in items]
    mode = str(items[0].metadata.get("r2gen_reference_mode", "false")) if items else "false"
    limit = R2GEN_DECODING.get(_cleaning(items), (0, 59))[1] + 1
    use = mode == "true" or (mode == "auto" and all(
        is_r2gen_output([it.response for it in group], _cleaning(items), limit)
        for group in (items, *others)))
    if use and all(isinstance(d, str) for d in decoded):
        return {"references": [[d] for d in decoded], "references_cleaned": True,
                "ce_references": answers}
    return {"references": [[a] for a in answers]}


class ReportMetric(CorpusMetric):
    """One report-generation metric (its name as in published tables)."""

    def __init__(self, name: str, scale: float = 100.0) -> None:
        self.name = name
        self.scale = scale
        self.description = f"{name} of generated reports (corpus level, R2Gen cleaning)"

    def _all(self, items: Sequence[Item], seed: int) -> dict[str, Any]:
        key = _key(items, seed)
        if key not in _CACHE:
            from medgauge.metrics.report_gen import report_metrics

            _CACHE.clear()  # one group at a time: bounded memory
            _CACHE[key] = report_metrics([it.response for it in items],
                                         cleaning=_cleaning(items), seed=seed,
                                         **_references(items))
        return _CACHE[key]

    def compute(self, items: Sequence[Item]) -> float:
        return self._all(items, 0)[self.name].value

    def interval(self, answered: Sequence[Item], seed: int) -> tuple[float, float, float, str]:
        """Every report metric of the group in one pass (``report_gen.report_metrics``:
        pycocoevalcap and CE F1, one bootstrap over reports shared by all of them)."""
        est = self._all(answered, seed)[self.name]
        return est.value, est.lo, est.hi, est.method

    def paired(self, xs: Sequence[Item], ys: Sequence[Item], *, n_resamples: int,
               seed: int) -> PairedComparison:
        """A minus B on the same studies (aligned lists), paired bootstrap over reports."""
        from medgauge.metrics.report_gen import paired_report_values

        n_resamples = min(n_resamples, 1000)
        key = (n_resamples, _key(xs, seed), _key(ys, seed))
        if key not in _PAIRED:  # every metric of one pair of runs in one pass
            _PAIRED.clear()
            _PAIRED[key] = paired_report_values(
                [x.response for x in xs], [y.response for y in ys],
                cleaning=_cleaning(xs), n_resamples=n_resamples, seed=seed,
                **_references(xs, ys))
        diffs, values_a, values_b = _PAIRED[key]
        diff = diffs[self.name]
        return PairedComparison(len(xs), values_a[self.name], values_b[self.name], diff.value,
                                diff.lo, diff.hi, outcome(diff.lo, diff.hi), None, 0, 0,
                                n_resamples=n_resamples, seed=seed)


for _name in ("BLEU-1", "BLEU-2", "BLEU-3", "BLEU-4", "METEOR", "ROUGE-L"):
    register(ReportMetric(_name))
register(ReportMetric("CIDEr", scale=1.0))
for _name in ("CE-P-micro", "CE-R-micro", "CE-F1-micro", "CE-F1-macro", "CE-F1-example"):
    register(ReportMetric(_name))
