"""Scorers: (Sample, raw response text) -> Judgement.  Named modes live in one registry.

``default`` dispatches on the sample's answer type.  Compatibility modes that reproduce a
published scorer (``medevalkit``, ``vlmevalkit``, ``mediconfusion`` ...) register under their own
names and are documented with their differences in docs/benchmarks.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from medgauge.extract import extract_label, extract_letter
from medgauge.registry import Registry
from medgauge.types import Sample


@dataclass(slots=True)
class Judgement:
    extracted: str | None  # None = invalid (nothing could be parsed)
    correct: bool
    metrics: dict[str, float] = field(default_factory=dict)


Scorer = Callable[[Sample, str], Judgement]
scorers: Registry[Scorer] = Registry("scoring mode")


def _normalise(text: str) -> str:
    return " ".join(text.lower().strip().strip(".").split())


@scorers.register("default")
def default_scorer(sample: Sample, text: str) -> Judgement:
    if sample.answer_type == "mcq":
        got = extract_letter(text, sample.options)
        return Judgement(got, got is not None and got == sample.answer)
    if sample.answer_type == "yesno":
        got = extract_label(text, sample.labels)
        return Judgement(got, got is not None and got == sample.answer.lower())
    got = _normalise(text) or None
    return Judgement(got, got is not None and got == _normalise(sample.answer))


def get_scorer(mode: str | None) -> Scorer:
    return scorers.get(mode or "default")
