"""``medevalkit`` mode: MedEvalKit's rule-based judges, quirks included on purpose.

Source (re-implemented from reading, not copied): alibaba-damo-academy/MedEvalKit as forked at
blackkiring/MedEvalKit@f60b5beb ``utils/utils.py`` (``parse_response``, ``judge_judgement``,
``judge_close_end_vqa``, ``judge_open_end_vqa``, ``judge_multi_choice``) and
``utils/VQA_RAD/VQA_RAD.py`` (which judge is used).

Differences from ``default`` (docs/scoring.md):
- yes/no: correct iff exactly one of the *substrings* "yes"/"no" occurs in the parsed,
  lower-cased response and it is the gold one, so "normal" counts as "no" (reproduced);
- other closed answers: exact string equality after parsing;
- open: exact string equality after parsing (no normalisation; the split on "answer:" leaves a
  leading space, so "Answer: x" never matches, reproduced); BLEU-1/recall/F1 are reported;
- MCQ: letter or option text, else the most similar option by ``difflib`` ratio, so an answer
  is never invalid.
"""

from __future__ import annotations

import difflib
import re

from medgauge.metrics.text import text_scores
from medgauge.scoring.base import Judgement
from medgauge.scoring.default import register_rules
from medgauge.types import Sample

_PATTERNS = ("**answer**:", "**answer**", "*answer*:", "**answer:**", "answer is", "answer:",
             "答案:", "final answer", "final answer is")


def _last_boxed(text: str) -> str | None:
    start = text.rfind("\\boxed{")
    if start < 0:
        return None
    depth, i = 1, start + len("\\boxed{")
    for j in range(i, len(text)):
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        if depth == 0:
            return text[i:j]
    return None


def parse_response(text: str) -> str:
    """Lower-case; take the boxed or ``<answer>`` content; keep what follows the last of each
    answer pattern, in the pattern order MedEvalKit uses."""
    response = text.lower()
    boxed = _last_boxed(response)
    if "boxed" in response and boxed is not None:
        response = boxed
    elif "<answer>" in response:
        tags = re.findall(r"<answer>(.*?)</answer>", response, re.S)
        response = " ".join(tags).strip() if tags else response
    for pattern in _PATTERNS:
        if pattern in response:
            response = response.split(pattern)[-1]
    return response


def _yes_no(sample: Sample, text: str) -> Judgement:
    answer = sample.answer.lower()
    response = parse_response(text.strip()).replace("\n", "").replace(".", "")
    has_yes, has_no = "yes" in response, "no" in response
    if answer not in ("yes", "no"):
        got = response
        return Judgement(got or None, got == answer)
    if has_yes == has_no:
        return Judgement(None, False)
    got = "yes" if has_yes else "no"
    return Judgement(got, answer in response)


def _open(sample: Sample, text: str) -> Judgement:
    answer = sample.answer.lower()
    response = parse_response(text.lower().strip())
    metrics = text_scores(response, answer)
    return Judgement(response or None, response == answer, metrics)


def _mcq(sample: Sample, text: str) -> Judgement:
    letters = [k.lower() for k in sample.options]
    choices = [v.lower() for v in sample.options.values()]
    response = text.lower()
    first = response.split("\n\n")[0]
    last = response.split("\n\n")[-1].split(".")[0]
    if first in letters:
        response = first
    elif last in letters:
        response = last
    response = parse_response(response).strip().lower().replace("\n", "")
    head = response.split(".")[0].split(":")[-1]
    answer = sample.answer.strip().lower()
    if head in letters:
        got = head
    elif head in choices:
        got = letters[choices.index(head)]
    else:
        best, best_ratio = 0, 0.0
        for i, choice in enumerate(choices):
            ratio = difflib.SequenceMatcher(None, choice, response).ratio()
            if ratio > best_ratio:
                best, best_ratio = i, ratio
        got = letters[best] if letters else ""
    if not got:
        return Judgement(None, False)
    correct = got == answer or choices[letters.index(got)] == answer
    return Judgement(got.upper(), correct)


medevalkit_scorer = register_rules(
    "medevalkit", "MedEvalKit rules: substring yes/no ('normal' counts as 'no'), exact "
    "open match, MCQ falls back to the most similar option (never invalid)",
    mcq=_mcq, yesno=_yes_no, open=_open)
