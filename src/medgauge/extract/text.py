"""Free-text answer extraction for open questions.

Removes reasoning blocks and markup, prefers an explicit answer container (``\\boxed{}``,
``<answer>``) or an "Answer:" / "The answer is" line, and strips surrounding quotes and the
trailing period.  Returns ``None`` only when nothing is left (an empty answer is invalid).
"""

from __future__ import annotations

import re

from medgauge.extract.clean import answer_spans, clean

_PREFIX = re.compile(
    r"^\s*(?:(?:the\s+)?(?:final\s+|short\s+|correct\s+)?answer\s*(?:is|:|-)|答案\s*(?:是|为)?\s*:?)"
    r"\s*",
    re.I,
)
_LINE_MARKER = re.compile(
    r"(?:^|\n)\s*(?:final\s+|short\s+)?answer\s*:\s*(\S[^\n]*)|(?:^|\n)\s*答案\s*[:是为]\s*(\S[^\n]*)",
    re.I,
)


def _tidy(text: str) -> str:
    text = _PREFIX.sub("", text.strip())
    previous = None
    while text != previous:
        previous = text
        text = text.strip().strip("\"'“”‘’").rstrip(".。!！").strip()
    return text


def extract_text(text: str) -> str | None:
    """Return the answer text without markup, prefixes or trailing period, or None if empty."""
    if not text or not text.strip():
        return None
    for span in answer_spans(text):
        got = _tidy(span)
        if got:
            return got
    body = clean(text)
    lines = list(_LINE_MARKER.finditer(body))
    if lines:
        last = lines[-1]
        got = _tidy(last.group(1) or last.group(2) or "")
        if got:
            return got
    got = _tidy(body)
    return got or None
