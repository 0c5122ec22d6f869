from medgauge.extract.letter import extract_letter
from medgauge.extract.yesno import extract_label

__all__ = ["extract_label", "extract_letter"]
