"""Number extraction: ``"3"``, ``"2.5 cm"``, ``"three"``, ``"-1"``, ``"1,200"`` -> float, or None.

Precedence: an explicit answer container or phrase ("\\boxed{3}", "Answer: 3", "the answer is
three"), then a number that opens the answer ("3 lesions are seen"), then the only number in
the text.  Several different numbers and no marker give ``None``.  Number words cover zero to
twenty; "a single"/"single"/"one" count as 1.
"""

from __future__ import annotations

import re

from medgauge.extract.clean import answer_spans, clean

_WORDS = {
    w: i
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
}
_WORDS["single"] = 1
_NUMBER = re.compile(
    r"(?<![\w.])(-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|-?\d+(?:\.\d+)?|-?\.\d+)(?![\w.]\d)"
    r"|\b(" + "|".join(_WORDS) + r")\b",
    re.I,
)
_MARKER = re.compile(
    r"\b(?:final\s+|correct\s+)?answer\s*(?:is|would\s+be|:|=)"
    r"|答案\s*(?:是|为)?\s*:?",
    re.I,
)


def _value(match: re.Match[str]) -> float:
    if match.group(1) is not None:
        return float(match.group(1).replace(",", ""))
    return float(_WORDS[match.group(2).lower()])


def _numbers(text: str) -> list[tuple[int, float]]:
    return [(m.start(), _value(m)) for m in _NUMBER.finditer(text)]


def extract_number(text: str) -> float | None:
    """Return the number the text answers with, or None (invalid)."""
    if not text or not text.strip():
        return None
    for span in answer_spans(text):
        found = _numbers(span)
        if found:
            return found[0][1]
    body = clean(text)
    markers = list(_MARKER.finditer(body))
    for marker in reversed(markers):
        tail = body[marker.end() :].split("\n", 1)[0]
        found = _numbers(tail[:60])
        if found and found[0][0] <= 12:
            return found[0][1]
    found = _numbers(body)
    if not found:
        return None
    if found[0][0] <= 2:
        return found[0][1]
    values = {v for _, v in found}
    return found[0][1] if len(values) == 1 else None


def format_number(value: float) -> str:
    """``3.0`` -> ``"3"``, ``2.50`` -> ``"2.5"`` (how an extracted number is stored)."""
    return str(int(value)) if value == int(value) else repr(value)
