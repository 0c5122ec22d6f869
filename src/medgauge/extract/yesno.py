"""Closed-label (yes/no[/maybe]) extraction with word boundaries (minimal first version)."""

from __future__ import annotations

import re


def extract_label(text: str, labels: tuple[str, ...] = ("yes", "no")) -> str | None:
    """Return the one label the text asserts ("normal" is not "no"), or None (invalid)."""
    lowered = text.lower()
    found = {lab for lab in labels if re.search(rf"\b{re.escape(lab.lower())}\b", lowered)}
    return found.pop() if len(found) == 1 else None
