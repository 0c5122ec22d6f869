"""Reference findings text of a phantom image, written from its known nodules.

The text states presence, count, side (patient's right/left) and size of every nodule, so a
report-generation model can be scored on the phantom with the same text and clinical-efficacy
metrics as on real reports, against a truth known by construction.  Sizes are given in pixels
(the phantom has no physical scale) with the size class of ``questions.radius_bin``.  Every
sentence is phrased so that the CheXpert observation of a nodule is "Lung Lesion" and an image
without nodules is "No Finding".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

_NUMBER_WORDS = {1: "one", 2: "two", 3: "three"}
NO_NODULE_TEXT = ("The lungs are clear. No pulmonary nodule is seen. No pleural effusion or "
                  "pneumothorax.")


def _size_class(radius: float, image_size: int) -> str:
    from medgauge.phantom.questions import radius_bin

    return radius_bin(radius, image_size)


def findings_text(nodules: Sequence[Mapping[str, Any]], image_size: int) -> str:
    """Findings for an image with ``nodules`` (dicts with ``side`` and ``radius`` in pixels).

    Nodules are described largest first: "There are two pulmonary nodules. A medium nodule
    (radius 9.5 pixels) in the right lung. A small nodule (radius 4.1 pixels) in the left
    lung. The largest nodule is in the right lung. No pleural effusion or pneumothorax."
    """
    if not nodules:
        return NO_NODULE_TEXT
    ordered = sorted(nodules, key=lambda n: -float(n["radius"]))
    n = len(ordered)
    head = ("There is one pulmonary nodule." if n == 1 else
            f"There are {_NUMBER_WORDS.get(n, str(n))} pulmonary nodules.")
    parts = [head]
    for nod in ordered:
        r = float(nod["radius"])
        parts.append(f"A {_size_class(r, image_size)} nodule (radius {r:.1f} pixels) in the "
                     f"{nod['side']} lung.")
    if n > 1:
        parts.append(f"The largest nodule is in the {ordered[0]['side']} lung.")
    parts.append("No pleural effusion or pneumothorax.")
    return " ".join(parts)
