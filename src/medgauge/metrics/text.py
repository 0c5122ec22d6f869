"""Open-ended answer metrics, pure Python.  Every function takes ``(prediction, reference)``.

Normalisation (``normalise``): NFKC, lower-case, punctuation to spaces, the articles a/an/the
dropped, whitespace collapsed (the SQuAD answer normalisation, Rajpurkar et al. 2016).
Tokens (``tokens``): whitespace words of the normalised text, except that each CJK character is
its own token, so Chinese answers ("右肺" vs "左肺") get partial credit as they do with
character-level scoring.

Empty answers: both empty -> 1.0 for every metric; exactly one empty -> 0.0.

BLEU-1 (``bleu1``): clipped unigram precision times the brevity penalty
``BP = 1 if c > r else exp(1 - r / c)`` with ``c``/``r`` the prediction/reference token
counts (Papineni et al. 2002, single reference, no smoothing).  A long prediction that contains
the reference is penalised through precision, a short one through BP.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter

_ARTICLES = frozenset({"a", "an", "the"})
_CJK_CHAR = re.compile(r"([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff])")


def normalise(text: str | None) -> str:
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(
        ch if ch.isalnum() or ch.isspace() or (ch == "." and 0 < i < len(text) - 1
                                               and text[i - 1].isdigit()
                                               and text[i + 1].isdigit()) else " "
        for i, ch in enumerate(text)
    )
    return " ".join(w for w in text.split() if w not in _ARTICLES)


def tokens(text: str | None) -> list[str]:
    return _CJK_CHAR.sub(r" \1 ", normalise(text)).split()


def _empty_rule(pred: list[str], ref: list[str]) -> float | None:
    if not pred and not ref:
        return 1.0
    if not pred or not ref:
        return 0.0
    return None


def exact_match(prediction: str | None, reference: str | None) -> float:
    """1.0 when the normalised strings are equal (both empty counts as equal)."""
    return 1.0 if normalise(prediction) == normalise(reference) else 0.0


def _overlap(pred: list[str], ref: list[str]) -> int:
    return sum((Counter(pred) & Counter(ref)).values())


def token_precision(prediction: str | None, reference: str | None) -> float:
    """Share of the prediction's tokens found in the reference (multiset overlap)."""
    pred, ref = tokens(prediction), tokens(reference)
    empty = _empty_rule(pred, ref)
    return empty if empty is not None else _overlap(pred, ref) / len(pred)


def token_recall(prediction: str | None, reference: str | None) -> float:
    """Share of the reference's (gold) tokens found in the prediction."""
    pred, ref = tokens(prediction), tokens(reference)
    empty = _empty_rule(pred, ref)
    return empty if empty is not None else _overlap(pred, ref) / len(ref)


def token_f1(prediction: str | None, reference: str | None) -> float:
    pred, ref = tokens(prediction), tokens(reference)
    empty = _empty_rule(pred, ref)
    if empty is not None:
        return empty
    common = _overlap(pred, ref)
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def bleu1(prediction: str | None, reference: str | None) -> float:
    pred, ref = tokens(prediction), tokens(reference)
    empty = _empty_rule(pred, ref)
    if empty is not None:
        return empty
    precision = _overlap(pred, ref) / len(pred)
    c, r = len(pred), len(ref)
    brevity = 1.0 if c > r else math.exp(1 - r / c)
    return precision * brevity


def text_scores(prediction: str | None, reference: str | None) -> dict[str, float]:
    """All of the above in one dict (the ``metrics`` of an open-question Judgement)."""
    return {
        "exact": exact_match(prediction, reference),
        "precision": token_precision(prediction, reference),
        "recall": token_recall(prediction, reference),
        "f1": token_f1(prediction, reference),
        "bleu1": bleu1(prediction, reference),
    }
