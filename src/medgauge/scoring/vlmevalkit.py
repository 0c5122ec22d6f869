"""``vlmevalkit`` mode: VLMEvalKit's rule-based option matching under ``exact_matching``.

Source (re-implemented, not copied): open-compass/VLMEvalKit@18fc37a5
``vlmeval/utils/matching_util.py`` (``can_infer_option``, ``can_infer_text``, ``can_infer``)
and ``vlmeval/dataset/utils/multiple_choice.py`` (``extract_answer_from_item``), as used for
GMAI-MMBench and MMStar (PROTOCOLS.md section 11).  Pinned choices: the option rule has no
"index below len-5" condition (added at a later commit), and the text rule keeps the "at most
twice the total option length" cap described in PROTOCOLS.md.  No GPT judge: what the rules
cannot infer becomes ``Z`` (wrong), never a random option.

Only MCQ samples use these rules; other answer types are scored by ``default``.
"""

from __future__ import annotations

from medgauge.scoring.base import Judgement
from medgauge.scoring.default import register_rules
from medgauge.types import Sample

_REFUSALS = (
    "Sorry, I can't help with images of people yet.",
    "I can't process this file.",
    "I'm sorry, but without the image provided",
    "Cannot determine the answer",
)
_SEPARATORS = ".()[],:;!*#{}"


def can_infer_option(answer: str, letters: list[str]) -> str | None:
    if "Failed to obtain answer via API" in answer:
        return None
    if any(r in answer for r in _REFUSALS):
        return "Z"
    for ch in _SEPARATORS:
        answer = answer.replace(ch, " ")
    words = answer.split()
    present = [c for c in letters if c in words]
    if len(present) == 1:
        return present[0]
    if not present and "Z" in words:
        return "Z"
    return None


def can_infer_text(answer: str, options: dict[str, str]) -> str | None:
    answer = answer.lower()
    if len(answer) > 2 * sum(len(str(v)) for v in options.values()):
        return None
    hits = [k for k, v in options.items() if str(v).lower() in answer]
    return hits[0] if len(hits) == 1 else None


def can_infer(answer: str, options: dict[str, str]) -> str | None:
    return can_infer_option(answer, list(options)) or can_infer_text(answer, options)


def _mcq(sample: Sample, text: str) -> Judgement:
    got = can_infer(str(text or ""), sample.options) or "Z"
    return Judgement(got, got == sample.answer.strip().upper())


vlmevalkit_scorer = register_rules(
    "vlmevalkit", "VLMEvalKit exact_matching (GMAI-MMBench, MMStar): one option letter token or "
    "one option text, else Z (wrong); non-MCQ -> default", mcq=_mcq)
