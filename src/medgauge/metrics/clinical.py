"""Clinical efficacy (CE) of generated reports: observation labels of the generated report
against those of the reference report, as precision / recall / F1.

Labels come from a labeler (``medgauge.labelers``): per report and observation 1 (positive),
0 (negative), -1 (uncertain) or ``None`` (not mentioned).  They are binarised first:

- ``uncertain="negative"`` (default): only 1 counts as positive; -1, 0 and not mentioned count
  as negative.  This is the convention of R2Gen's ``compute_ce.py`` (Chen et al. 2020) that most
  report-generation tables on MIMIC-CXR follow (CheXpert labels, all 14 observations).
- ``uncertain="positive"``: 1 and -1 count as positive (the "U-Ones" reading of Irvin et al.
  2019), used by some later papers.

Averages over an (items x observations) 0/1 matrix, gold ``Y`` and predicted ``P``:

- micro: ``TP``, ``FP``, ``FN`` summed over all cells, then P = TP/(TP+FP), R = TP/(TP+FN),
  F1 = 2PR/(P+R);
- macro: P, R, F1 per observation, then their unweighted mean (an observation with no predicted
  or no gold positive has precision or recall 0, as scikit-learn's ``zero_division=0``);
- example-based: per report P_i = |Y_i & P_i| / |P_i|, R_i = |Y_i & P_i| / |Y_i|,
  F1_i = 2|Y_i & P_i| / (|Y_i| + |P_i|), then the mean over reports; a report where both label
  sets are empty scores 1 (full agreement), one where only one is empty scores 0.

All functions are pure functions of arrays, so a bootstrap over reports resamples rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from medgauge.types import MedgaugeError

UNCERTAIN_CONVENTIONS = ("negative", "positive")


def binarise(labels: Sequence[Mapping[str, int | None]], observations: Sequence[str], *,
             uncertain: str = "negative") -> np.ndarray:
    """An (items, observations) 0/1 int array from labeler output (see module docstring)."""
    if uncertain not in UNCERTAIN_CONVENTIONS:
        raise MedgaugeError(f"uncertain must be one of {', '.join(UNCERTAIN_CONVENTIONS)}, "
                            f"got {uncertain!r}")
    positive = {1, -1} if uncertain == "positive" else {1}
    out = np.zeros((len(labels), len(observations)), dtype=np.int8)
    for i, row in enumerate(labels):
        for j, obs in enumerate(observations):
            out[i, j] = row.get(obs) in positive
    return out


def _check(gold: np.ndarray, pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y, p = np.asarray(gold, dtype=bool), np.asarray(pred, dtype=bool)
    if y.shape != p.shape or y.ndim != 2:
        raise MedgaugeError(f"clinical efficacy: gold {y.shape} and predicted {p.shape} label "
                            "matrices must both be (items, observations)")
    return y, p


def _prf(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> tuple[np.ndarray, ...]:
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(tp + fp > 0, tp / np.maximum(tp + fp, 1), 0.0)
        recall = np.where(tp + fn > 0, tp / np.maximum(tp + fn, 1), 0.0)
        f1 = np.where(precision + recall > 0,
                      2 * precision * recall / np.where(precision + recall > 0,
                                                        precision + recall, 1), 0.0)
    return precision, recall, f1


def example_f1(gold: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Per-report F1 (the example-based per-item value), shape (items,)."""
    y, p = _check(gold, pred)
    inter = (y & p).sum(axis=1)
    size = y.sum(axis=1) + p.sum(axis=1)
    return np.where(size > 0, 2 * inter / np.maximum(size, 1), 1.0)


def ce_scores(gold: np.ndarray, pred: np.ndarray,
              observations: Sequence[str] | None = None) -> dict[str, float]:
    """CE precision/recall/F1, micro, macro and example-based, as fractions.

    ``gold``, ``pred``: (items, observations) 0/1 arrays (``binarise``).  Keys:
    ``CE-P-micro``, ``CE-R-micro``, ``CE-F1-micro``, the same with ``macro`` and ``example``;
    with ``observations`` also ``CE-F1/<observation>`` per column."""
    y, p = _check(gold, pred)
    if y.shape[0] == 0:
        raise MedgaugeError("clinical efficacy: no reports to score")
    tp = (y & p).sum(axis=0).astype(float)
    fp = (~y & p).sum(axis=0).astype(float)
    fn = (y & ~p).sum(axis=0).astype(float)
    micro = _prf(tp.sum(keepdims=True), fp.sum(keepdims=True), fn.sum(keepdims=True))
    per_obs = _prf(tp, fp, fn)
    inter = (y & p).sum(axis=1)
    n_pred, n_gold = p.sum(axis=1), y.sum(axis=1)
    both_empty = (n_pred == 0) & (n_gold == 0)
    ex_p = np.where(n_pred > 0, inter / np.maximum(n_pred, 1), both_empty.astype(float))
    ex_r = np.where(n_gold > 0, inter / np.maximum(n_gold, 1), both_empty.astype(float))
    out = {
        "CE-P-micro": float(micro[0][0]), "CE-R-micro": float(micro[1][0]),
        "CE-F1-micro": float(micro[2][0]),
        "CE-P-macro": float(per_obs[0].mean()), "CE-R-macro": float(per_obs[1].mean()),
        "CE-F1-macro": float(per_obs[2].mean()),
        "CE-P-example": float(ex_p.mean()), "CE-R-example": float(ex_r.mean()),
        "CE-F1-example": float(example_f1(y, p).mean()),
    }
    if observations is not None:
        if len(observations) != y.shape[1]:
            raise MedgaugeError(f"clinical efficacy: {len(observations)} observation names for "
                                f"{y.shape[1]} columns")
        out.update({f"CE-F1/{o}": float(f) for o, f in zip(observations, per_obs[2],
                                                            strict=True)})
    return out


def report_ce(generated: Sequence[str], references: Sequence[str], *,
              uncertain: str = "negative", labeler: object | None = None,
              ) -> tuple[dict[str, float], np.ndarray, np.ndarray]:
    """Label generated and reference reports (default: the rule-based CheXpert labeler) and
    score them.  Returns (``ce_scores`` with per-observation F1, gold matrix, predicted
    matrix); resample rows of the matrices for a bootstrap."""
    from medgauge.labelers.chexpert_rules import OBSERVATIONS, label_reports

    if len(generated) != len(references):
        raise MedgaugeError(f"clinical efficacy: {len(generated)} generated reports for "
                            f"{len(references)} references")
    label = label_reports if labeler is None else labeler.label_reports  # type: ignore[attr-defined]
    gold = binarise(label(references), OBSERVATIONS, uncertain=uncertain)
    pred = binarise(label(generated), OBSERVATIONS, uncertain=uncertain)
    return ce_scores(gold, pred, OBSERVATIONS), gold, pred


__all__ = ["UNCERTAIN_CONVENTIONS", "binarise", "ce_scores", "example_f1", "report_ce"]
