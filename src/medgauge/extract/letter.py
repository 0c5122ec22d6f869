"""Option-letter extraction (minimal first version; see tests/test_extract_*.py)."""

from __future__ import annotations

import re


def extract_letter(text: str, options: dict[str, str]) -> str | None:
    """Return the single option letter the text asserts, or None (invalid)."""
    letters = "".join(re.escape(k) for k in options)
    if not letters or not text:
        return None
    found = set(re.findall(rf"(?<![A-Za-z])([{letters}])(?![A-Za-z])", text.strip()))
    return found.pop() if len(found) == 1 else None
