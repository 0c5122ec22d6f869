"""``mmstar`` mode: the MMStar hit rule (PROTOCOLS.md section 2).

Source (re-implemented, not copied): MMStar-Benchmark/MMStar ``eval/vlmeval/evaluate/mmstar.py``.
Lower-case and strip answer and prediction, newlines to spaces; a hit is the gold letter at
``pred[0]``, or after ``(``, ``option `` or ``the answer is ``.  Anything else is wrong; the
extracted letter is the character at that position when it is an option letter, else invalid.
Non-MCQ samples are scored by ``default``.
"""

from __future__ import annotations

from medgauge.scoring.base import Judgement
from medgauge.scoring.default import register_rules
from medgauge.types import Sample

_PREFIXES = ("(", "option ", "the answer is ")


def mmstar_letter(text: str, letters: list[str]) -> str | None:
    pred = text.lower().strip().replace("\n", " ")
    if not pred:
        return None
    index = 0
    for prefix in _PREFIXES:
        if pred.startswith(prefix) and len(pred) > len(prefix):
            index = len(prefix)
            break
    char = pred[index].upper()
    return char if char in letters else None


def _mcq(sample: Sample, text: str) -> Judgement:
    got = mmstar_letter(text or "", list(sample.options))
    return Judgement(got, got is not None and got == sample.answer.strip().upper())


mmstar_scorer = register_rules(
    "mmstar", "MMStar hit rule: the gold letter first, or after '(', 'option ' or 'the answer "
    "is '; non-MCQ -> default", mcq=_mcq)
