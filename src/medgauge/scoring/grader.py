"""A model-graded scorer: a grader model judges whether an answer matches the gold answer.

``--scoring grader`` (or ``grader:TEMPLATE``) with ``--grader KIND:MODEL``: for each item the
grader is asked through the store's request cache (``ScoreContext.model("grader")``), so its
calls are cached, retried by the next rerun when they fail, and counted like the model's.  A
failed grader call is an error item, never a score; a verdict that cannot be read is an invalid
item (counted wrong, shown apart), never a guess.  The grader's identity and the template's
version make the scorer's version: changing either re-scores stored items without asking the
model under test again.
"""

from __future__ import annotations

import hashlib
import re
from typing import ClassVar

from medgauge.scoring.base import ScoreContext, Scorer
from medgauge.types import GenParams, ItemResult, MedgaugeError, Request, Score

#: medgauge's own binary-correctness instruction (our wording).
DEFAULT_TEMPLATE = (
    "You are grading an answer to a medical question.\n"
    "Question: {question}\n"
    "Reference answer: {gold}\n"
    "Candidate answer: {prediction}\n"
    "Does the candidate answer mean the same as the reference answer (synonyms, abbreviations "
    "and extra detail that does not contradict it are fine)? Reply with one word: CORRECT or "
    "INCORRECT."
)
TEMPLATES: dict[str, str] = {"default": DEFAULT_TEMPLATE}
_VERDICT = re.compile(r"\b(INCORRECT|CORRECT)\b", re.IGNORECASE)


def parse_verdict(text: str) -> bool | None:
    """``True``/``False`` from the first CORRECT/INCORRECT word; None when absent or when both
    appear as first words of different lines (ambiguous)."""
    found = {m.group(1).upper() for m in _VERDICT.finditer(text or "")}
    if len(found) != 1:
        return None
    return found == {"CORRECT"}


class GraderScorer(Scorer):
    roles: ClassVar[tuple[str, ...]] = ("grader",)

    def __init__(self, template: str = "default", grader_identity: str = "") -> None:
        if template not in TEMPLATES:
            raise MedgaugeError(f"unknown grader template {template!r} (known: "
                                f"{', '.join(sorted(TEMPLATES))})")
        self.template = TEMPLATES[template]
        self.name = f"grader:{template}"
        digest = hashlib.blake2b(f"{self.template}\x00{grader_identity}".encode(),
                                 digest_size=5).hexdigest()
        self.version = f"1-{digest}"

    async def score(self, item: ItemResult, ctx: ScoreContext) -> Score:
        sample = item.target
        assert sample is not None
        gold = (f"{sample.answer}. {sample.options.get(sample.answer, '')}".strip(". ")
                if sample.answer_type == "mcq" else sample.answer)
        prompt = self.template.format(question=sample.question, gold=gold,
                                      prediction=item.response.strip())
        request = Request([{"role": "user", "content": [{"type": "text", "text": prompt}]}],
                          GenParams(temperature=0.0, max_tokens=16),
                          meta={"sample_id": sample.id, "role": "grader"})
        _, reply = await ctx.model("grader").generate(request)
        if not reply.ok:
            return Score.failed(f"grader: {reply.error}")
        verdict = parse_verdict(reply.text)
        if verdict is None:
            return Score(None, None, "invalid", explanation=reply.text,
                         metadata={"grader_invalid": True})
        return Score(1.0 if verdict else 0.0, item.response.strip(), "ok",
                     explanation=reply.text)


def grader_scorer(spec: str, grader_identity: str) -> GraderScorer:
    """``grader`` or ``grader:TEMPLATE`` -> the scorer."""
    _, _, template = spec.partition(":")
    return GraderScorer(template or "default", grader_identity)
