"""``multimedeval`` mode: MultiMedEval's scoring.

Source (re-implemented, not copied): corentin-ryr/MultiMedEval ``multimedeval/qa.py``
(MedQA/MedMCQA/MMLU: BLEU-1 of the answer against each ``"<key> <option>"``, argmax, 0 ->
invalid; PubMedQA: most frequent of the tokens yes/no/maybe), ``multimedeval/task_families.py``
(VQA: closed yes/no correct iff token recall >= 0.4, with "not" added to the gold tokens of a
"no" answer; open correct iff token recall >= 0.75) and ``multimedeval/utils.py`` (``clean_str``:
the VQA-eval answer normalisation).

``clean`` below follows that normalisation: lower-case; the punctuation ``; / [ ] " { } ( ) = +
\\ _ - > < @ ` , ? !`` is deleted when it touches a space (or the text has a digit,digit comma)
and replaced by a space otherwise; periods not followed by a digit are deleted; number words
zero..ten and "none" become digits; the articles a/an/the are dropped (so the option key "A"
vanishes from "a <option>", as in the original).  Its contraction table is not reproduced.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from medgauge.scoring.base import Judgement
from medgauge.scoring.default import register_rules
from medgauge.types import Sample

_PUNCT = (";", "/", "[", "]", '"', "{", "}", "(", ")", "=", "+", "\\", "_", "-", ">", "<", "@",
          "`", ",", "?", "!")
_NUMBERS = {"none": "0", "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4",
            "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9", "ten": "10"}
_ARTICLES = frozenset({"a", "an", "the"})
_DIGIT_COMMA = re.compile(r"\d,\d")
CLOSED_RECALL = 0.4
OPEN_RECALL = 0.75


def clean(text: str) -> str:
    low = text.lower()
    out = low
    for p in _PUNCT:
        touches = (p + " " in low or " " + p in low) or _DIGIT_COMMA.search(low) is not None
        out = out.replace(p, "" if touches else " ")
    out = re.sub(r"\.(?!\d)", "", out)
    words = [_NUMBERS.get(w, w) for w in out.split()]
    return " ".join(w for w in words if w not in _ARTICLES).replace(",", "")


def bleu1(prediction: str, reference: str) -> float:
    """Corpus BLEU-1 of one sentence pair on whitespace tokens, with brevity penalty."""
    pred, ref = prediction.split(), reference.split()
    if not pred or not ref:
        return 0.0
    precision = sum((Counter(pred) & Counter(ref)).values()) / len(pred)
    if precision == 0:
        return 0.0
    return precision * (1.0 if len(pred) > len(ref) else math.exp(1 - len(ref) / len(pred)))


def _recall(pred_tokens: set[str], gold_tokens: set[str]) -> float:
    return len(pred_tokens & gold_tokens) / len(gold_tokens) if gold_tokens else 0.0


def _mcq(sample: Sample, text: str) -> Judgement:
    pred = clean(text)
    if not pred:
        return Judgement(None, False)
    scores = [bleu1(pred, clean(f"{k} {v}")) for k, v in sample.options.items()]
    if not scores or max(scores) == 0:
        return Judgement(None, False)
    got = list(sample.options)[scores.index(max(scores))]
    return Judgement(got, got == sample.answer.strip().upper(), {"bleu1": max(scores)})


def _closed(sample: Sample, text: str) -> Judgement:
    labels = [lab.lower() for lab in sample.labels]
    pred_tokens = set(clean(text).split())
    if sorted(labels) != ["no", "yes"]:
        counts = [sum(1 for t in clean(text).split() if t == lab) for lab in labels]
        if not counts or max(counts) == 0:
            return Judgement(None, False)
        got = sample.labels[counts.index(max(counts))]
        return Judgement(got, got.lower() == sample.answer.strip().lower())

    def passes(label: str) -> bool:
        gold = set(clean(label).split())
        if gold == {"no"}:
            gold.add("not")
        return _recall(pred_tokens, gold) >= CLOSED_RECALL

    gold = sample.answer.strip().lower()
    satisfied = [lab for lab in ("yes", "no") if passes(lab)]
    got = satisfied[0] if len(satisfied) == 1 else ("|".join(satisfied) or None)
    return Judgement(got, passes(gold), {"recall": _recall(pred_tokens, set(clean(gold).split()))})


def _open(sample: Sample, text: str) -> Judgement:
    pred, gold = clean(text), clean(sample.answer)
    pred_tokens, gold_tokens = set(pred.split()), set(gold.split())
    recall = _recall(pred_tokens, gold_tokens)
    precision = len(pred_tokens & gold_tokens) / len(pred_tokens) if pred_tokens else 0.0
    f1 = 2 * precision * recall / (precision + recall + 1e-8)
    metrics = {"recall": recall, "f1": f1, "bleu1": bleu1(pred, gold)}
    return Judgement(pred or None, recall >= OPEN_RECALL, metrics)


multimedeval_scorer = register_rules(
    "multimedeval", "MultiMedEval: MCQ by BLEU-1 argmax over options, closed yes/no "
    "correct iff token recall >= 0.4, open iff recall >= 0.75",
    mcq=_mcq, yesno=_closed, open=_open)
