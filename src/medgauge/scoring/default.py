"""The ``default`` scoring mode: dispatch on ``Sample.answer_type``.

- ``mcq``: ``extract_letter``; correct when the letter equals the gold letter.
- ``yesno``: ``extract_label`` over ``Sample.labels``; correct when it equals the gold label
  (case-insensitive).
- ``open``: ``extract_text``; metrics exact/precision/recall/f1/bleu1 (metrics/text.py);
  correct when the normalised texts are equal, or when every gold token is in the answer
  (recall 1) and at least half of the answer's tokens are gold tokens (precision >= 0.5), so
  "multiple pulmonary nodules" matches "pulmonary nodules" but a list of three candidate
  diagnoses does not match one of them.
- ``number``: ``extract_number``; correct when ``|got - gold| <= tolerance`` where the tolerance
  is ``Sample.metadata["tolerance"]`` (absolute) or, by default, 1e-9 relative.
- ``report``: scoring/report.py (cleaned report, per-report ROUGE-L and CheXpert CE F1;
  correct when the CheXpert labels equal the reference's).
"""

from __future__ import annotations

import math

from medgauge.extract import (
    extract_label,
    extract_letter,
    extract_number,
    extract_text,
    format_number,
)
from medgauge.metrics.text import text_scores
from medgauge.scoring.base import Judgement, Scorer, register
from medgauge.scoring.report import score_report
from medgauge.types import MedgaugeError, Sample

OPEN_MIN_PRECISION = 0.5


def score_mcq(sample: Sample, text: str) -> Judgement:
    got = extract_letter(text, sample.options)
    return Judgement(got, got is not None and got == sample.answer.strip().upper())


def score_yesno(sample: Sample, text: str) -> Judgement:
    got = extract_label(text, tuple(sample.labels))
    gold = sample.answer.strip().lower()
    return Judgement(got, got is not None and got.strip().lower() == gold)


def open_correct(metrics: dict[str, float]) -> bool:
    return metrics["exact"] == 1.0 or (
        metrics["recall"] == 1.0 and metrics["precision"] >= OPEN_MIN_PRECISION
    )


def score_open(sample: Sample, text: str) -> Judgement:
    got = extract_text(text)
    metrics = text_scores(got or "", sample.answer)
    return Judgement(got, got is not None and open_correct(metrics), metrics)


def score_number(sample: Sample, text: str) -> Judgement:
    gold = extract_number(sample.answer)
    if gold is None:
        raise MedgaugeError(f"sample {sample.id}: answer {sample.answer!r} is not a number")
    got = extract_number(text)
    if got is None:
        return Judgement(None, False)
    tolerance = sample.metadata.get("tolerance")
    if tolerance is not None:
        ok = abs(got - gold) <= float(tolerance)
    else:
        ok = math.isclose(got, gold, rel_tol=1e-9, abs_tol=1e-12)
    return Judgement(format_number(got), ok, {"abs_error": abs(got - gold)})


_BY_TYPE: dict[str, Scorer] = {"mcq": score_mcq, "yesno": score_yesno, "open": score_open,
                               "number": score_number, "report": score_report}


def _scorer(rules: dict[str, Scorer]) -> Scorer:
    def scorer(sample: Sample, text: str) -> Judgement:
        try:
            rule = rules[sample.answer_type]
        except KeyError:
            raise MedgaugeError(
                f"sample {sample.id}: unknown answer_type {sample.answer_type!r} "
                f"(known: {', '.join(rules)})"
            ) from None
        return rule(sample, text or "")

    return scorer


def register_rules(name: str, description: str, **rules: Scorer) -> Scorer:
    """Register a scoring mode that replaces the rules of some answer types (``mcq=...``,
    ``yesno=...``, ``open=...``, ``number=...``) and keeps medgauge's default for the others:
    the one dispatch mechanism of every mode."""
    unknown = set(rules) - set(_BY_TYPE)
    if unknown:
        raise ValueError(f"scoring mode {name}: unknown answer types {sorted(unknown)}")
    return register(name, description)(_scorer({**_BY_TYPE, **rules}))


default_scorer = register_rules(
    "default", "medgauge's rule per answer type: letter / label / text / number extraction "
    "that can say invalid (docs/scoring.md)")
