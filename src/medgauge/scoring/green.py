"""GREEN-style report grading: a grader model counts clinically significant errors.

GREEN (Ostmeier et al. 2024, "GREEN: Generative Radiology Report Evaluation and Error Notation",
Findings of EMNLP 2024, arXiv:2405.03595) asks a language model to compare a candidate report
with a reference report and to count, separately for clinically significant and insignificant
errors, six error categories, plus the findings both reports share:

  (a) a finding reported in the candidate but not supported by the reference (false finding);
  (b) a finding of the reference missing from the candidate;
  (c) a finding placed at the wrong anatomic location or position;
  (d) a finding with a wrongly assessed severity;
  (e) a comparison with a prior study that the reference does not make;
  (f) a change from a prior study, given in the reference, that the candidate omits.

The score of one report pair is ``GREEN = matched / (matched + significant)`` where ``matched``
is the number of matched findings and ``significant`` the sum of the six clinically significant
error counts (the paper's formula); it is 0 when there is no matched finding.

``--scoring green --grader KIND:MODEL`` on report benchmarks (any grader model; GREEN's own
fine-tuned graders are such models too).  The grader is asked through the store's request cache
(``ScoreContext.model("grader")``): a failed grader call is an error item, retried by a rerun,
never a score; a reply whose counts cannot be read is invalid, never guessed.  The mean metric
``green`` reads ``Score.metrics["green"]``.  The instruction below is our own wording of the
paper's task, not the paper's prompt.
"""

from __future__ import annotations

import hashlib
import re
from typing import ClassVar

from medgauge.scoring.base import ScoreContext, Scorer
from medgauge.types import GenParams, ItemResult, MedgaugeError, Request, Score

#: The six error categories of GREEN (Ostmeier et al. 2024, section 3), keyed by their letters.
CATEGORIES = {
    "a": "False report of a finding in the candidate",
    "b": "Missing a finding present in the reference",
    "c": "Misidentification of a finding's anatomic location or position",
    "d": "Misassessment of the severity of a finding",
    "e": "Mentioning a comparison that is not in the reference",
    "f": "Omitting a comparison detailing a change from a prior study",
}

#: Our instruction (the task and the error categories of GREEN, our words).
TEMPLATE = (
    "You compare a candidate radiology report with a reference radiology report written for "
    "the same study. Treat the reference as correct. Count the candidate's errors in each "
    "category below, separately for clinically significant errors (they could change the "
    "patient's management) and clinically insignificant ones, and count the findings the two "
    "reports share.\n\n"
    "Reference report:\n{reference}\n\n"
    "Candidate report:\n{candidate}\n\n"
    "Reply in exactly this format, with a whole number after every colon and nothing else:\n"
    "[Clinically Significant Errors]:\n{categories}\n"
    "[Clinically Insignificant Errors]:\n{categories}\n"
    "[Matched Findings]: <number>"
)
_HEADERS = {
    "significant": re.compile(r"\[?\s*clinically\s+significant\s+errors?\s*\]?\s*:?",
                              re.IGNORECASE),
    "insignificant": re.compile(r"\[?\s*clinically\s+insignificant\s+errors?\s*\]?\s*:?",
                                re.IGNORECASE),
    "matched": re.compile(r"\[?\s*matched\s+findings?\s*\]?\s*:?\s*(\d+)", re.IGNORECASE),
}
_COUNT = re.compile(r"^\s*\(?([a-f])\)\s*[^:\n]*:\s*(\d+)\s*$", re.IGNORECASE | re.MULTILINE)


def prompt(reference: str, candidate: str) -> str:
    """The grader's instruction for one report pair."""
    lines = "\n".join(f"({k}) {v}: <number>" for k, v in CATEGORIES.items())
    return TEMPLATE.format(reference=reference.strip(), candidate=candidate.strip(),
                           categories=lines)


def parse_counts(text: str) -> dict[str, int] | None:
    """The counts of a grader reply: ``significant_a`` .. ``significant_f``,
    ``insignificant_a`` .. ``insignificant_f`` and ``matched``; None (invalid) when the two
    error sections, any of the twelve counts or the matched-findings count cannot be read, or a
    count appears twice."""
    text = text or ""
    sig = _HEADERS["significant"].search(text)
    insig = _HEADERS["insignificant"].search(text)
    matched = _HEADERS["matched"].search(text)
    if sig is None or insig is None or matched is None:
        return None
    if not sig.end() <= insig.start() or not insig.end() <= matched.start():
        return None
    out: dict[str, int] = {}
    for section, body in (("significant", text[sig.end():insig.start()]),
                          ("insignificant", text[insig.end():matched.start()])):
        found = _COUNT.findall(body)
        letters = [k.lower() for k, _ in found]
        if sorted(letters) != sorted(CATEGORIES):
            return None
        out.update({f"{section}_{k.lower()}": int(n) for k, n in found})
    out["matched"] = int(matched.group(1))
    return out


def green_score(counts: dict[str, int]) -> float:
    """``matched / (matched + sum of the clinically significant errors)``; 0 without a matched
    finding (Ostmeier et al. 2024)."""
    matched = counts["matched"]
    if matched == 0:
        return 0.0
    significant = sum(counts[f"significant_{k}"] for k in CATEGORIES)
    return matched / (matched + significant)


class GreenScorer(Scorer):
    """``--scoring green``: GREEN of each generated report against its reference."""

    roles: ClassVar[tuple[str, ...]] = ("grader",)
    metrics: ClassVar[tuple[str, ...]] = ("green",)

    def __init__(self, grader_identity: str = "", max_tokens: int = 512) -> None:
        self.name = "green"
        self.max_tokens = max_tokens
        digest = hashlib.blake2b(f"{TEMPLATE}\x00{grader_identity}\x00{max_tokens}".encode(),
                                 digest_size=5).hexdigest()
        self.version = f"1-{digest}"

    async def score(self, item: ItemResult, ctx: ScoreContext) -> Score:
        sample = item.target
        assert sample is not None
        if sample.answer_type != "report":
            raise MedgaugeError(f"scoring green grades generated reports; sample {sample.id!r} "
                                f"has answer type {sample.answer_type!r}")
        candidate = item.response.strip()
        if not any(ch.isalnum() for ch in candidate):
            return Score(0.0, None, "invalid", {"green": 0.0},
                         explanation="empty generated report")
        request = Request([{"role": "user", "content": [
            {"type": "text", "text": prompt(sample.answer, candidate)}]}],
            GenParams(temperature=0.0, max_tokens=self.max_tokens),
            meta={"sample_id": sample.id, "role": "grader"})
        _, reply = await ctx.model("grader").generate(request)
        if not reply.ok:
            return Score.failed(f"grader: {reply.error}")
        counts = parse_counts(reply.text)
        if counts is None:
            return Score(None, None, "invalid", explanation=reply.text,
                         metadata={"grader_invalid": True})
        value = green_score(counts)
        metrics = {"green": value, **{f"green_{k}": float(v) for k, v in counts.items()},
                   "green_significant": float(sum(counts[f"significant_{k}"]
                                                  for k in CATEGORIES))}
        return Score(value, candidate, "ok", metrics, explanation=reply.text)


__all__ = ["CATEGORIES", "GreenScorer", "green_score", "parse_counts", "prompt"]
