"""Closed questions that are not answered yes/no: either/or questions and polar golds.

- ``question_form(question)``: ``"either_or"`` ("Is the mass in the left or the right lobe?"),
  ``"polar"`` ("Is the heart normal?", "心脏正常吗?") or ``"open"``.  Used with a benchmark's
  own closed flag (and in its place when the benchmark has none) to decide how a sample is
  scored; whether the gold happens to be "yes"/"no" does not decide it.
- ``either_or_alternatives(question, references)``: the alternatives the question names, read
  around " or " next to a reference answer ("left or the right lobe" with gold "left" ->
  ("left", "right")); ``None`` when the gold is not one side of an " or ".
- ``extract_choice(text, alternatives)``: the one alternative the answer asserts: mentioned
  (whole words) and not negated ("not the right"), first in the answer's first sentence,
  else in the whole answer; two asserted -> ``None``.
- ``polar_gold(question, gold)``: for a polar question whose gold restates (or negates) its
  predicate ("Is the heart normal?" gold "normal" -> ``"yes"``; gold "abnormal" -> ``"no"``),
  the yes/no the gold means; ``None`` otherwise.
"""

from __future__ import annotations

import re

from medgauge.extract.text import extract_text
from medgauge.metrics.text import normalise

_AUX = frozenset(
    "is are was were does do did can could has have had will would should may might shall am "
    "isn't aren't doesn't don't".split()
)
_ARTICLES = frozenset({"a", "an", "the"})
_ZH_POLAR = re.compile(r"(?:吗|么|能否|可否|有无)\s*[?？]?\s*$|是否|有没有|是不是")
_NEG = re.compile(r"(?:\bnot|\bno|n't|\bneither|\bnor|\brather\s+than|\binstead\s+of|\bnon)"
                  r"(?:\s+\w+){0,2}\s*$", re.I)
_NEG_PREFIX = ("ab", "non", "not ", "no ", "un", "in", "不", "没", "无", "非", "未")


def question_form(question: str) -> str:
    """``"either_or"``, ``"polar"`` or ``"open"`` from the question's wording alone."""
    q = (question or "").strip()
    words = normalise(q).split()
    if _ZH_POLAR.search(q):
        return "polar"
    if not words:
        return "open"
    if words[0] in _AUX or (len(words) > 1 and words[0] in ("and", "so") and words[1] in _AUX):
        return "either_or" if " or " in f" {' '.join(words)} " else "polar"
    if " or " in f" {' '.join(words)} " and q.rstrip().endswith(("?", "？")):
        return "either_or"
    return "open"


def _find(words: list[str], target: list[str]) -> list[int]:
    n = len(target)
    return [i for i in range(len(words) - n + 1) if words[i : i + n] == target]


def either_or_alternatives(question: str, references: tuple[str, ...] | list[str]
                           ) -> tuple[str, ...] | None:
    """(reference, other) when a reference is one side of an " or " in the question."""
    words = [w for w in normalise(question).split()]
    for ref in references:
        gold = normalise(ref).split()
        if not gold:
            continue
        for i in _find(words, gold):
            end = i + len(gold)
            # gold before "or": "left or (the) right lobe"
            j = end
            if j < len(words) and words[j] == "or":
                k = j + 1
                while k < len(words) and words[k] in _ARTICLES:
                    k += 1
                other = words[k : k + len(gold)]
                if other and other != gold:
                    return (" ".join(gold), " ".join(other))
            # gold after "or": "CT or an MRI", "left upper lobe or right upper lobe"
            j = i - 1
            while j >= 0 and words[j] in _ARTICLES:
                j -= 1
            if j >= 0 and words[j] == "or":
                before = words[:j]
                # words both sides share after the alternative ("left upper lobe or right
                # upper lobe"): the longest start of the tail that also ends the first side
                tail = words[end:]
                shared = max((s for s in range(1, min(len(tail), len(before)) + 1)
                              if before[len(before) - s :] == tail[:s]), default=0)
                if shared:
                    before = before[: len(before) - shared]
                other = before[-len(gold):] if len(before) >= len(gold) else before
                while other and other[0] in _ARTICLES:
                    other = other[1:]
                if other and other != gold:
                    return (" ".join(gold), " ".join(other))
    return None


def _asserted(text: str, alternative: str) -> bool:
    hay = normalise(text)
    for m in re.finditer(rf"(?<!\S){re.escape(alternative)}(?!\S)", hay):
        if not _NEG.search(hay[: m.start()]):
            return True
    return False


def extract_choice(text: str, alternatives: tuple[str, ...]) -> str | None:
    """The one alternative the answer asserts (see the module rule), or ``None``."""
    answer = extract_text(text)
    if not answer:
        return None
    sentences = re.split(r"(?<=[.!?;。])\s+|\n+", answer)
    for part in (sentences[0], answer):
        found = [alt for alt in alternatives if _asserted(part, alt)]
        # an alternative inside a longer asserted one ("upper" in "upper lobe") yields
        found = [a for a in found if not any(a != b and f" {a} " in f" {b} " for b in found)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            return None
    return None


def polar_gold(question: str, gold: str) -> str | None:
    """"yes"/"no" when the gold of a polar question restates/negates its predicate."""
    g = normalise(gold)
    q = normalise(question)
    if not g or question_form(question) != "polar":
        return None
    if g in ("yes", "no"):
        return g
    if re.search(rf"(?<!\S){re.escape(g)}(?!\S)", q) or (g in q and re.search(r"[\u4e00-\u9fff]",
                                                                              g)):
        return "yes"
    for prefix in _NEG_PREFIX:
        if g.startswith(prefix):
            base = g[len(prefix):].strip()
            if base and (re.search(rf"(?<!\S){re.escape(base)}(?!\S)", q) or base in q):
                return "no"
    return None
