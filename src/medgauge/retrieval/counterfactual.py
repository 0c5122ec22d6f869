"""Over-reliance counterfactuals: evidence that supports a wrong answer.

RULE (Xia et al. 2024, "RULE: Reliable Multimodal RAG for Factuality in Medical Vision Language
Models", EMNLP) found that medical models over-trust retrieved context and copy its errors.  The
probe built on these functions replaces the retrieved evidence with a passage that supports a
wrong choice and measures how often a correct answer flips (:mod:`medgauge.retrieval.effect`).
The wrong choice is drawn uniformly from the incorrect options (or labels) with the caller's
seeded ``random.Random``, as every other probe draws it (PROTOCOLS.md section 4).

Two kinds, both pure functions of the sample, the retrieved passages and the generator:

- ``statement``: the evidence becomes one passage asserting the wrong answer to the question;
- ``edit``: the top retrieved passage is edited: every occurrence of the gold option's text is
  replaced by the wrong option's text (case-insensitive, whole words); when the gold text does
  not occur (always for yes/no labels), a closing sentence asserting the wrong answer is
  appended.  The other retrieved passages are kept.  ``how`` records which edit was made.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from medgauge.probes.common import choice_text, gold_choice, pick_wrong
from medgauge.retrieval.corpus import Passage
from medgauge.types import MedgaugeError, Sample

KINDS = ("statement", "edit")
COUNTERFACTUAL_ID = "counterfactual"


@dataclass(frozen=True, slots=True)
class Counterfactual:
    """Evidence supporting ``wrong`` (a choice: option letter or label) instead of the gold
    answer.  ``how`` is ``statement``, ``substituted`` or ``appended``."""

    wrong: str
    passages: list[Passage]
    kind: str
    how: str


def _claim(sample: Sample, wrong: str) -> str:
    # [I] medgauge's own wording: a plain assertion of the wrong answer to this very question.
    answer = choice_text(sample, wrong)
    return f'The answer to the question "{sample.question.strip()}" is {answer}.'


def counterfactual_evidence(sample: Sample, passages: Sequence[Passage], rng: random.Random,
                            kind: str = "statement") -> Counterfactual | None:
    """Evidence for a wrong choice, or None when the item has no wrong choice (open questions,
    a gold answer that is none of the choices).  ``passages`` are the retrieved ones, best
    first; ``edit`` needs at least one."""
    if kind not in KINDS:
        raise MedgaugeError(f"counterfactual kind {kind!r}: use one of {', '.join(KINDS)}")
    wrong = pick_wrong(sample, rng)
    if wrong is None:
        return None
    if kind == "statement":
        passage = Passage(COUNTERFACTUAL_ID, _claim(sample, wrong), None,
                          {"counterfactual": "statement", "wrong": wrong})
        return Counterfactual(wrong, [passage], kind, "statement")
    if not passages:
        raise MedgaugeError(f"sample {sample.id}: counterfactual edit needs a retrieved passage")
    top = passages[0]
    gold = gold_choice(sample)
    gold_text = choice_text(sample, gold) if gold is not None else ""
    text, count = top.text, 0
    if sample.answer_type == "mcq" and gold_text.strip():
        pattern = re.compile(rf"(?<!\w){re.escape(gold_text.strip())}(?!\w)", re.IGNORECASE)
        text, count = pattern.subn(lambda _: choice_text(sample, wrong), top.text)
    how = "substituted" if count else "appended"
    if not count:
        text = f"{top.text.rstrip()} {_claim(sample, wrong)}"
    edited = replace(top, id=f"{top.id}#{COUNTERFACTUAL_ID}", text=text,
                     metadata={**top.metadata, "counterfactual": how, "wrong": wrong,
                               "edited_from": top.id})
    return Counterfactual(wrong, [edited, *passages[1:]], kind, how)
