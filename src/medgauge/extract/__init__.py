"""Answer extractors.  Each returns a value or ``None`` (invalid); see docs/scoring.md."""

from medgauge.extract.letter import extract_letter
from medgauge.extract.number import extract_number, format_number
from medgauge.extract.text import extract_text
from medgauge.extract.yesno import extract_label

__all__ = ["extract_label", "extract_letter", "extract_number", "extract_text", "format_number"]
