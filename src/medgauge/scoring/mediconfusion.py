"""``mediconfusion`` mode: MediConfusion's ``clean_up_manual`` letter-token parser.

Source (re-implemented, not copied): MShahabSepehri/MediConfusion ``utils/answering.py``
(PROTOCOLS.md section 1).  Newlines become spaces, the text is split on single spaces, and a
letter counts when one of its token forms occurs: ``X``, ``X:``, ``.X``, ``.X:``, ``X.``,
``X")``, ``("X":``, ``("X")``, ``("X").``.  Exactly one letter found -> that letter; none or
several -> invalid ('-').  Non-MCQ samples are scored by ``default``.
"""

from __future__ import annotations

from medgauge.scoring.base import Judgement
from medgauge.scoring.default import register_rules
from medgauge.types import Sample


def _forms(letter: str) -> set[str]:
    return {letter, f"{letter}:", f".{letter}", f".{letter}:", f"{letter}.", f'{letter}")',
            f'("{letter}":', f'("{letter}")', f'("{letter}").'}


def mediconfusion_letter(text: str, letters: list[str]) -> str | None:
    words = set(text.replace("\n", " ").split(" "))
    found = [letter for letter in letters if _forms(letter) & words]
    return found[0] if len(found) == 1 else None


def _mcq(sample: Sample, text: str) -> Judgement:
    got = mediconfusion_letter(text or "", list(sample.options))
    return Judgement(got, got is not None and got == sample.answer.strip().upper())


mediconfusion_scorer = register_rules(
    "mediconfusion", "MediConfusion clean_up_manual: exactly one option letter token (X, X., "
    "(\"X\") ...), else invalid; non-MCQ -> default", mcq=_mcq)
