"""Closed-label extraction (yes/no, PubMedQA's yes/no/maybe, SLAKE's Chinese 是/否 pairs).

Rule, in order (the first step that yields something decides; docs/scoring.md):

0. a refusal ("I cannot determine ...", "No, I can't see the image") gives ``None`` unless a
   label leads the answer and the refusal phrase comes later (a caveat, not a refusal);
1. the leading word: a label that opens the answer and is followed by punctuation, the end,
   or a pronoun/determiner ("Yes.", "No, there is no effusion", "Yes there is") -- but not a
   determiner use such as "No evidence of effusion";
2. explicit answer markers, the last one wins: ``\\boxed{}``, ``<answer>``, "answer is/Answer:",
   "答案是";
3. a label word anywhere used as an answer: followed by punctuation or the end ("..., so no."),
   never "no" before a noun ("there is no evidence of X" is not inferred to mean "no").

Two different labels asserted at the deciding step ("yes or no", "Yes and no") give ``None``.
Words are matched on boundaries: "normal", "not", "know", "nothing", "none" are not "no".

Labels containing Chinese characters are mapped by polarity: a label starting with 不/没/否/无/
未/非 is negative, any other one affirmative, so (是的, 不是), (包含, 不包含), (有, 没有), (可以,
不可以), (是, 否) all work, and an English "Yes"/"No" answer maps onto them.
"""

from __future__ import annotations

import re

from medgauge.extract.clean import answer_spans, clean, has_cjk

_CONFLICT = "conflict"
_FOLLOWERS = frozenset(
    "it there the this that these those they he she we i you its his her based according as "
    "in on from because since given".split()
)
_MARKER = re.compile(
    r"(?:\b(?:final\s+|correct\s+|short\s+)?answer\s*(?:is|would\s+be|should\s+be|:|=|-)"
    r"|(?:最终)?答案\s*(?:是|为)?\s*:?"
    r"|\b(?:therefore|thus|hence|so|in\s+conclusion|in\s+summary)\s*,?\s*(?=\w+\s*(?:[.!,;]|$)))",
    re.I,
)
_REFUSAL = re.compile(
    r"\bi\s*(?:cannot|can't|can\s+not|am\s+unable\s+to|'m\s+unable\s+to|am\s+not\s+able\s+to"
    r"|'m\s+not\s+able\s+to|do\s+not\s+have|don't\s+have)\s+(?:determine|answer|tell|see|view"
    r"|access|analy[sz]e|interpret|assess|reliably|the\s+image|enough|provide)"
    r"|\b(?:cannot|can't|impossible\s+to|not\s+possible\s+to)\s+(?:be\s+)?(?:determined?|answered?)"
    r"|\bunable\s+to\s+(?:determine|answer|view|see)"
    r"|\bno\s+image\s+(?:was\s+|is\s+|has\s+been\s+)?(?:provided|attached|uploaded|shared|included)"
    r"|无法(?:确定|判断|回答|查看|看到)|不能确定",
    re.I,
)
_ZH_NEG_PREFIX = ("不", "没", "否", "无", "未", "非")
_ZH_POS = ("是的", "是", "对", "有的", "有", "存在", "包含", "含有", "可以", "能", "正常", "可见")
_ZH_NEG = ("不是", "否", "没有", "没", "无", "不存在", "不包含", "不含", "不可以", "不能",
           "不正常", "未见", "不可见", "不对")
_ZH_NOT_ANSWER = ("是否", "有无", "有可能", "可能", "能否", "可否", "无法", "不能确定", "不确定")
# One-character words that count only when punctuation or the end follows ("对于", "否则",
# "无异常" are not answers).
_ZH_STRICT = frozenset({"对", "否", "无"})
_EN_POS = frozenset({"yes", "true", "positive"})
_EN_NEG = frozenset({"no", "false", "negative"})


def _label_pattern(label: str) -> str:
    return rf"(?<![\w'’-]){re.escape(label.lower())}(?![\w'’-])"


def _answer_uses(text: str, label: str, *, leading: bool) -> list[int]:
    """Positions where ``label`` is used as an answer word (see the module rule)."""
    out: list[int] = []
    for m in re.finditer(_label_pattern(label), text):
        after = text[m.end() :]
        if re.match(r"\s*(?:[.!?,;:)\]\"'”’]|$|\n)", after):
            out.append(m.start())
            continue
        if leading:
            word = re.match(r"\s+([a-z']+)", after)
            if word and word.group(1) in _FOLLOWERS:
                out.append(m.start())
    return out


def _hedged(text: str, labels: tuple[str, ...]) -> bool:
    alts = "|".join(re.escape(lab.lower()) for lab in labels)
    for m in re.finditer(rf"\b({alts})\s*(?:/|,|\bor\b|\band\b)\s*(?:\w+\s+)?({alts})\b", text):
        if m.group(1) != m.group(2):
            return True
    return False


def _english(text: str, labels: tuple[str, ...], *, leading_only: bool = False) -> str | None:
    """Steps 1-3 on cleaned lower-case text for word labels."""
    low = text.lower()
    lead = low.lstrip(" \t\n\"'“‘([-•>:")
    if _hedged(lead[:60], labels):
        return _CONFLICT
    for lab in labels:
        if _answer_uses(lead[: len(lab) + 40], lab, leading=True)[:1] == [0]:
            return lab
    if leading_only:
        return None
    hits: list[tuple[int, str]] = []
    for m in _MARKER.finditer(low):
        span = low[m.end() :].lstrip(" \t\"'“‘(:*")
        for lab in labels:
            if re.match(_label_pattern(lab), span):
                hits.append((m.start(), lab))
    if hits:
        return max(hits)[1]
    if _hedged(low, labels):
        return _CONFLICT
    found = {lab for lab in labels if _answer_uses(low, lab, leading=False)}
    if len(found) == 1:
        return found.pop()
    return _CONFLICT if found else None


def _polarity(label: str) -> str | None:
    low = label.strip().lower()
    if low in _EN_NEG or low.startswith(_ZH_NEG_PREFIX):
        return "neg"
    if low in _EN_POS or has_cjk(low):
        return "pos"
    return None


def _chinese(text: str, by_polarity: dict[str, str]) -> str | None:
    """Polarity of a Chinese (or English) answer to a Chinese closed question."""
    neg_words = sorted({*_ZH_NEG, by_polarity["neg"]}, key=len, reverse=True)
    pos_words = sorted({*_ZH_POS, by_polarity["pos"]}, key=len, reverse=True)
    spans = [m.end() for m in _MARKER.finditer(text)]
    candidates = [text[spans[-1] :]] if spans else []
    candidates.append(text)
    for cand in candidates:
        head = cand.lstrip(" \t\n\"'“‘(:,.，。：")
        if head.startswith(_ZH_NOT_ANSWER):
            continue
        for polarity, words in (("neg", neg_words), ("pos", pos_words)):
            for word in words:
                if head.startswith(word) and (
                    word not in _ZH_STRICT
                    or re.match(r"\s*(?:[.,!;:，。！；：、]|$)", head[len(word) :])
                ):
                    return polarity
        english = _english(head, ("yes", "no"), leading_only=True)
        if english in ("yes", "no"):
            return "pos" if english == "yes" else "neg"
    masked = text
    for word in (w for w in neg_words if len(w) >= 2):
        masked = masked.replace(word, "\0")
    neg = "\0" in masked
    pos = any(w in masked for w in pos_words if len(w) >= 2)
    if neg != pos:
        return "neg" if neg else "pos"
    if neg and pos:
        return _CONFLICT
    english = _english(text, ("yes", "no"))
    if english in ("yes", "no"):
        return "pos" if english == "yes" else "neg"
    return english


def extract_label(text: str, labels: tuple[str, ...] = ("yes", "no")) -> str | None:
    """Return the one label the text asserts ("normal" is not "no"), or None (invalid)."""
    if not text or not text.strip() or not labels:
        return None
    spans = answer_spans(text)
    body = clean(text)
    refusal = _REFUSAL.search(body)
    if refusal and not spans:
        # "No, I cannot see the image" is a refusal; "Yes, a mass, though I cannot determine its
        # size" is an answer with a caveat.
        if refusal.start() <= 12 or _english(body, tuple(labels), leading_only=True) is None:
            return None
    polarities = {lab: _polarity(lab) for lab in labels}
    chinese = any(has_cjk(lab) for lab in labels) and sorted(
        p for p in polarities.values() if p) == ["neg", "pos"] and len(labels) == 2
    if chinese:
        by_polarity = {p: lab for lab, p in polarities.items() if p}
        for part in [*spans, body]:
            got = _chinese(part, by_polarity)
            if got is not None:
                return None if got == _CONFLICT else by_polarity[got]
        return None
    lowered = {lab.lower(): lab for lab in labels}
    for part in [*spans, body]:
        got = _english(part, tuple(lowered))
        if got is not None:
            return None if got == _CONFLICT else lowered[got]
    return None
