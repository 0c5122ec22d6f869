"""All report-generation metrics of one model (or the difference of two) with bootstrap intervals.

One call for the metric protocol: BLEU-1..4, METEOR, ROUGE-L, CIDEr (``metrics.nlg``) and CE
precision/recall/F1 (``metrics.clinical``), each with a percentile interval from a bootstrap
over reports (Efron & Tibshirani 1993, ch. 13), or over clusters of reports (a patient's
studies) when ``clusters`` is given (Field & Welsh 2007).  Every resample uses the same reports
for every metric, and, in ``paired_report_metrics``, for both models (paired bootstrap).  See
``CocoCorpus`` for which resampled values are exact (all but CIDEr's document frequencies).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from medgauge.metrics.clinical import ce_scores
from medgauge.metrics.nlg import COCO_METRICS, CocoCorpus
from medgauge.types import MedgaugeError

CE_METRICS = ("CE-P-micro", "CE-R-micro", "CE-F1-micro", "CE-F1-macro", "CE-F1-example")


@dataclass(frozen=True, slots=True)
class ReportEstimate:
    """A corpus value with its percentile bootstrap interval (fractions; CIDEr 0-10)."""

    value: float
    lo: float
    hi: float
    n: int
    n_resamples: int
    method: str  # "bootstrap" or "cluster-bootstrap"


def _resampler(n: int, clusters: Sequence[Hashable] | None, rng: np.random.Generator):
    if clusters is None:
        return (lambda: rng.integers(0, n, n)), "bootstrap"
    if len(clusters) != n:
        raise MedgaugeError(f"report metrics: {len(clusters)} cluster labels for {n} reports")
    groups: dict[Hashable, list[int]] = {}
    for i, c in enumerate(clusters):
        groups.setdefault(i if c is None else c, []).append(i)
    members = [np.asarray(v) for v in groups.values()]
    return (lambda: np.concatenate([members[g] for g in rng.integers(0, len(members),
                                                                      len(members))]),
            "cluster-bootstrap")


#: the last few scored corpora: the leaderboard and ``compare`` score the same model's reports
#: again (one METEOR Java round trip per report makes a build the slow part)
_CORPORA: dict[tuple[object, ...], CocoCorpus] = {}
_CORPORA_KEPT = 4


def _corpus(generated: Sequence[str], references: Sequence[Sequence[str]],
            cleaning: str | None, tokenizer: str, references_cleaned: bool) -> CocoCorpus:
    key = (cleaning, tokenizer, references_cleaned, tuple(generated),
           tuple(tuple(r) for r in references))
    if key not in _CORPORA:
        if len(_CORPORA) >= _CORPORA_KEPT:
            del _CORPORA[next(iter(_CORPORA))]
        _CORPORA[key] = CocoCorpus.build(generated, references, cleaning=cleaning,
                                         tokenizer=tokenizer,
                                         references_cleaned=references_cleaned)
    return _CORPORA[key]


class _Scorer:
    """Text and CE statistics of one model, scored on any resample."""

    def __init__(self, generated: Sequence[str], references: Sequence[Sequence[str]], *,
                 cleaning: str | None, tokenizer: str, uncertain: str,
                 labeler: object | None, references_cleaned: bool = False,
                 ce_references: Sequence[str] | None = None) -> None:
        from medgauge.labelers.chexpert_rules import OBSERVATIONS, label_reports
        from medgauge.metrics.clinical import binarise

        self.corpus = _corpus(generated, references, cleaning, tokenizer, references_cleaned)
        label = label_reports if labeler is None else labeler.label_reports  # type: ignore[attr-defined]
        ce_refs = list(ce_references) if ce_references is not None else [r[0] for r in references]
        self.gold = binarise(label(ce_refs), OBSERVATIONS,
                             uncertain=uncertain)
        self.pred = binarise(label(list(generated)), OBSERVATIONS, uncertain=uncertain)

    def scores(self, idx: np.ndarray | None = None) -> dict[str, float]:
        if idx is None:
            values = dict(self.corpus.corpus)
            ce = ce_scores(self.gold, self.pred)
        else:
            values = self.corpus.scores(idx)
            ce = ce_scores(self.gold[idx], self.pred[idx])
        values.update({k: ce[k] for k in CE_METRICS})
        return values


def _intervals(point: dict[str, float], draws: dict[str, list[float]], n: int, level: float,
               method: str) -> dict[str, ReportEstimate]:
    alpha = (1 - level) / 2
    out = {}
    for name, value in point.items():
        arr = np.asarray(draws[name])
        out[name] = ReportEstimate(value, float(np.quantile(arr, alpha)),
                                   float(np.quantile(arr, 1 - alpha)), n, len(arr), method)
    return out


def report_metrics(generated: Sequence[str], references: Sequence[Sequence[str]], *,
                   cleaning: str | None = "iu_xray", tokenizer: str = "r2gen",
                   uncertain: str = "negative", clusters: Sequence[Hashable] | None = None,
                   n_resamples: int = 1000, seed: int = 0, level: float = 0.95,
                   labeler: object | None = None, references_cleaned: bool = False,
                   ce_references: Sequence[str] | None = None) -> dict[str, ReportEstimate]:
    """``{metric: ReportEstimate}`` for ``COCO_METRICS`` and ``CE_METRICS``.

    ``generated``: one report per item; ``references``: the reference reports per item (CE
    labels the first, or ``ce_references`` when given: e.g. the original reports when the text
    metrics use R2Gen-decoded ones with ``references_cleaned=True``).  ``clusters``: one label
    per item to resample clusters."""
    scorer = _Scorer(generated, references, cleaning=cleaning, tokenizer=tokenizer,
                     uncertain=uncertain, labeler=labeler,
                     references_cleaned=references_cleaned, ce_references=ce_references)
    draw, method = _resampler(len(generated), clusters, np.random.default_rng(seed))
    draws: dict[str, list[float]] = {m: [] for m in (*COCO_METRICS, *CE_METRICS)}
    for _ in range(n_resamples):
        for name, value in scorer.scores(draw()).items():
            draws[name].append(value)
    return _intervals(scorer.scores(), draws, len(generated), level, method)


def paired_report_metrics(generated_a: Sequence[str], generated_b: Sequence[str],
                          references: Sequence[Sequence[str]], **kw: Any,
                          ) -> dict[str, ReportEstimate]:
    """Model A minus model B on the same studies (same order): the difference of each corpus
    metric with a paired percentile bootstrap interval (both models scored on the same
    resampled reports).  An interval excluding 0 means the difference is significant at
    ``1 - level``.  Keywords as :func:`paired_report_values`."""
    return paired_report_values(generated_a, generated_b, references, **kw)[0]


def paired_report_values(generated_a: Sequence[str], generated_b: Sequence[str],
                         references: Sequence[Sequence[str]], *,
                         cleaning: str | None = "iu_xray", tokenizer: str = "r2gen",
                         uncertain: str = "negative",
                         clusters: Sequence[Hashable] | None = None, n_resamples: int = 1000,
                         seed: int = 0, level: float = 0.95, labeler: object | None = None,
                         references_cleaned: bool = False,
                         ce_references: Sequence[str] | None = None,
                         ) -> tuple[dict[str, ReportEstimate], dict[str, float],
                                    dict[str, float]]:
    """``(differences, values_a, values_b)``: the paired differences of
    :func:`paired_report_metrics` and each model's corpus values (``{metric: float}``), from
    one scoring of each model."""
    if len(generated_a) != len(generated_b):
        raise MedgaugeError(f"paired report metrics: {len(generated_a)} against "
                            f"{len(generated_b)} generated reports")
    kw = {"cleaning": cleaning, "tokenizer": tokenizer, "uncertain": uncertain,
          "labeler": labeler, "references_cleaned": references_cleaned,
          "ce_references": ce_references}
    a, b = _Scorer(generated_a, references, **kw), _Scorer(generated_b, references, **kw)
    draw, method = _resampler(len(generated_a), clusters, np.random.default_rng(seed))
    draws: dict[str, list[float]] = {m: [] for m in (*COCO_METRICS, *CE_METRICS)}
    for _ in range(n_resamples):
        idx = draw()
        sa, sb = a.scores(idx), b.scores(idx)
        for name in draws:
            draws[name].append(sa[name] - sb[name])
    pa, pb = a.scores(), b.scores()
    diffs = _intervals({k: pa[k] - pb[k] for k in pa}, draws, len(generated_a), level,
                       method + "-paired")
    return diffs, pa, pb


__all__ = ["CE_METRICS", "ReportEstimate", "paired_report_metrics", "paired_report_values",
           "report_metrics"]
