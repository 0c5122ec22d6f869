"""Checks every loaded sample passes before anything is sent: an ill-posed item is a one-line
error naming it, never a request with a silent blank."""

from __future__ import annotations

import re

from medgauge.types import MedgaugeError, Sample

_IMAGE_TAG = re.compile(r"<image (\d+)>")


def check_sample(sample: Sample, benchmark: str) -> None:
    """Raise ``MedgaugeError`` for an item that cannot be asked as written:

    - the question (or an option) refers to ``<image N>`` but the sample has fewer than N
      images (MMMU-style placeholders; not checked when the sample carries no images at all,
      as with ``images=skip``);
    - two options have the same text (a model cannot pick between them)."""
    where = f"benchmark {benchmark}, sample {sample.id!r}"
    if sample.images:
        texts = [sample.question, sample.context or "", *sample.options.values()]
        for text in texts:
            for match in _IMAGE_TAG.finditer(text):
                if not 1 <= int(match.group(1)) <= len(sample.images):
                    raise MedgaugeError(f"{where}: refers to {match.group(0)} but has "
                                        f"{len(sample.images)} image(s)")
    seen: dict[str, str] = {}
    for letter, text in sample.options.items():
        key = " ".join(text.lower().split())
        if key in seen:
            raise MedgaugeError(f"{where}: options {seen[key]} and {letter} have the same text "
                                f"{text!r}")
        seen[key] = letter
