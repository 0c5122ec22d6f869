"""The ``default`` scoring mode: dispatch on ``Sample.answer_type``.

Every rule compares against ``Sample.references()``: the gold answer and any further accepted
answers (``Sample.answers``); matching any of them is correct.

- ``mcq``: ``extract_letter``; correct when the letter is the gold letter or an option with
  identical text (``same_option``: a MedMCQA item with B and D both "Petechial rash").
- ``yesno``: ``extract_label`` over ``Sample.labels``; correct when it equals the gold label
  (case-insensitive).  When the sample also has lettered options whose texts are the labels
  (``A. yes B. no C. maybe``), a letter is read too and mapped to its label; a letter that
  contradicts the label read from the text is invalid (the conflict rule).
- ``open``: for a *closed* sample (the benchmark's closed flag, or the question's form when the
  benchmark has none; see ``extract/closed.py``): an either/or question is scored against the
  alternatives it names ("left or the right lobe", gold "left": "It is in the left lobe" is
  correct), and a polar question whose gold restates its predicate ("Is the heart normal?",
  gold "normal") is scored as yes/no; otherwise, and for open samples, ``extract_text``;
  metrics exact/precision/recall/f1/bleu1 (metrics/text.py, against the best-matching
  reference); correct when the normalised texts are equal, or when every gold token is in the
  answer (recall 1) and at least half of the answer's tokens are gold tokens (precision
  >= 0.5), so "multiple pulmonary nodules" matches "pulmonary nodules" but a list of three
  candidate diagnoses does not match one of them.
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
from medgauge.extract.clean import has_cjk
from medgauge.extract.closed import (
    either_or_alternatives,
    extract_choice,
    polar_gold,
    question_form,
)
from medgauge.extract.letter import CONFLICT, read_letter
from medgauge.extract.options import same_option
from medgauge.metrics.text import text_scores
from medgauge.scoring.base import Judgement, Rule, register
from medgauge.scoring.report import score_report
from medgauge.types import MedgaugeError, Sample

OPEN_MIN_PRECISION = 0.5


def score_mcq(sample: Sample, text: str) -> Judgement:
    got = extract_letter(text, sample.options)
    golds = [ref.strip().upper() for ref in sample.references()]
    return Judgement(got, any(same_option(sample.options, got, gold) for gold in golds))


def _lettered_label(sample: Sample, text: str) -> str | None:
    """The label a lettered answer names ("B" with ``B. no``), ``CONFLICT``, or ``None``."""
    by_text = {v.strip().lower(): v for v in sample.options.values()}
    labels = {lab.strip().lower(): lab for lab in sample.labels}
    if not by_text or not set(by_text) <= set(labels):
        return None  # options that are not the labels: no letter reading
    letter = read_letter(text, sample.options)
    if letter is None or letter == CONFLICT:
        return letter
    return labels[sample.options[letter].strip().lower()]


def score_yesno(sample: Sample, text: str) -> Judgement:
    got = extract_label(text, tuple(sample.labels))
    if sample.options:
        lettered = _lettered_label(sample, text)
        if lettered == CONFLICT or (lettered and got and lettered.lower() != got.lower()):
            got = None
        elif lettered:
            got = lettered
    golds = {ref.strip().lower() for ref in sample.references()}
    return Judgement(got, got is not None and got.strip().lower() in golds)


def open_correct(metrics: dict[str, float]) -> bool:
    return metrics["exact"] == 1.0 or (
        metrics["recall"] == 1.0 and metrics["precision"] >= OPEN_MIN_PRECISION
    )


def is_closed(sample: Sample) -> bool:
    """The benchmark's closed flag (``metadata["answer_type_group"]``) when it has one, else the
    question's form (polar or either/or)."""
    flag = str(sample.metadata.get("answer_type_group") or "").strip().lower()
    if flag in ("closed", "open"):
        return flag == "closed"
    return question_form(sample.question) != "open"


def _best_text(got: str | None, refs: tuple[str, ...]) -> tuple[bool, dict[str, float]]:
    scored = [text_scores(got or "", ref) for ref in refs]
    best = max(scored, key=lambda m: (got is not None and open_correct(m), m["f1"]))
    return got is not None and open_correct(best), best


def _closed_rule(sample: Sample, text: str, refs: tuple[str, ...]) -> Judgement | None:
    """Either/or and polar-gold scoring of a closed non-yes/no sample; ``None`` = not such."""
    alternatives = either_or_alternatives(sample.question, refs)
    if alternatives:
        got = extract_choice(text, alternatives)
        _, metrics = _best_text(extract_text(text), refs)
        return Judgement(got, got is not None and got == alternatives[0], metrics)
    polar = {polar_gold(sample.question, ref) for ref in refs} - {None}
    if len(polar) == 1:
        labels = ("是的", "不是") if has_cjk(sample.question) else ("yes", "no")
        label = extract_label(text, labels)
        if label is not None:
            said = "yes" if label == labels[0] else "no"
            return Judgement(label, said == polar.pop())
    return None


def score_open(sample: Sample, text: str) -> Judgement:
    refs = sample.references()
    if is_closed(sample):
        judged = _closed_rule(sample, text, refs)
        if judged is not None:
            return judged
    got = extract_text(text)
    correct, metrics = _best_text(got, refs)
    return Judgement(got, correct, metrics)


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


_BY_TYPE: dict[str, Rule] = {"mcq": score_mcq, "yesno": score_yesno, "open": score_open,
                               "number": score_number, "report": score_report}


def _scorer(rules: dict[str, Rule]) -> Rule:
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


#: Version of the default rules (extractors included): bump it whenever they change, so stored
#: scores of an older version are re-scored by the next run (no model calls).
DEFAULT_RULES_VERSION = "2"


def register_rules(name: str, description: str, version: str = "1", **rules: Rule) -> Rule:
    """Register a scoring mode that replaces the rules of some answer types (``mcq=...``,
    ``yesno=...``, ``open=...``, ``number=...``) and keeps medgauge's default for the others:
    the one dispatch mechanism of every mode.  ``version``: of the mode's own rules; the stored
    version also names the default rules' version, since the mode inherits them."""
    unknown = set(rules) - set(_BY_TYPE)
    if unknown:
        raise ValueError(f"scoring mode {name}: unknown answer types {sorted(unknown)}")
    full = DEFAULT_RULES_VERSION if name == "default" else f"{version}+{DEFAULT_RULES_VERSION}"
    return register(name, description, full)(_scorer({**_BY_TYPE, **rules}))


default_scorer = register_rules(
    "default", "medgauge's rule per answer type: letter / label / text / number extraction "
    "that can say invalid (docs/scoring.md)")
