"""Model-graded scorers: a grader model judges an answer against the gold answer.

``--scoring grader[:TEMPLATE]`` with ``--grader KIND:MODEL`` (the same backend options as ``-m``,
through ``--grader-opt``); ``--scoring jury[:AGG[:TEMPLATE]]`` with several ``--grader`` flags.
Every grader is asked through the store's request cache (``ScoreContext.model(role)``), so its
calls are cached, retried by the next rerun when they fail, and counted like the model's.

- A failed grader call is an error item, never a score (a rerun asks again).
- A grader reply that cannot be read (no verdict, a grade out of range) is an ``invalid`` item,
  never a guess; ``metrics["grader_invalid"] = 1`` marks it, so the grader's invalid rate is
  reported apart from the model's.
- A model reply that is an unclosed reasoning block, or cut by the length limit with nothing in
  it, is ``incomplete`` and is not sent to the grader.
- Per item, ``metrics`` holds the grader's token counts (``grader_prompt_tokens``,
  ``grader_completion_tokens``) and, when prices are given, ``grader_cost_usd``; the raw grader
  text is the score's ``explanation``.
- The template, the graders' identities and prices make the scorer's version: changing any of
  them re-scores stored items without asking the model under test again.

Templates (``TEMPLATES``):

- ``default``: medgauge's own binary instruction (one word CORRECT / INCORRECT).
- ``qa-grade``: the grading protocol of inspect_ai's ``model_graded_qa`` scorer (UK AI Security
  Institute, github.com/UKGovernmentBEIS/inspect_ai, ``src/inspect_ai/scorer/_model.py``,
  MIT licence): the data between ``[BEGIN DATA]``/``[END DATA]`` markers, the reference answer
  as the criterion, step-by-step reasoning, and a final ``GRADE: C`` / ``GRADE: I`` read with
  the first match of ``GRADE: ([CI])``, as inspect_ai reads it.  Our wording of that protocol,
  not a copy of its text.
- ``rubric``: a graded 1-5 rubric (our wording) ending with ``Grade: N``; the grade is stored in
  ``metrics["grade"]`` (metric ``grade``) and the item counts as correct when the grade is at
  least 4 (``rubric:pass=N`` changes the threshold).  A missing or out-of-range grade is invalid.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from medgauge.scoring.base import ScoreContext, Scorer, reply_status
from medgauge.types import GenParams, ItemResult, MedgaugeError, Request, Response, Sample, Score

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

#: inspect_ai model_graded_qa's protocol (data markers, criterion, GRADE: C/I), in our words.
QA_GRADE_TEMPLATE = (
    "You are judging a submitted answer against a criterion.\n\n"
    "[BEGIN DATA]\n***\n[Task]: {question}\n***\n[Submission]: {prediction}\n***\n"
    "[Criterion]: {gold}\n***\n[END DATA]\n\n"
    "Does the submission meet the criterion (does it give the reference answer)?\n\n"
    "Reason about it step by step first, without stating a grade at the start. Then finish "
    "with a line 'GRADE: C' if the submission is correct, or 'GRADE: I' if it is incorrect."
)

#: A graded rubric (our wording): 1-5 with an explanation, the last line ``Grade: N``.
RUBRIC_TEMPLATE = (
    "You are grading an answer to a medical question on a 1-5 scale.\n"
    "Question: {question}\n"
    "Reference answer: {gold}\n"
    "Candidate answer: {prediction}\n"
    "Scale: 5 = same meaning as the reference; 4 = correct but less precise; 3 = partly "
    "correct; 2 = mostly wrong with a correct element; 1 = wrong, or no answer.\n"
    "Write one sentence of explanation, then a last line 'Grade: N' with N from 1 to 5."
)

_VERDICT = re.compile(r"\b(INCORRECT|CORRECT)\b", re.IGNORECASE)
_GRADE_CI = re.compile(r"GRADE\s*:\s*([CI])\b")
_GRADE_N = re.compile(r"\bGrade\s*:\s*\**\s*(-?\d+(?:\.\d+)?)", re.IGNORECASE)


def parse_verdict(text: str) -> bool | None:
    """``True``/``False`` from CORRECT/INCORRECT words; None when absent or when both appear
    (ambiguous)."""
    found = {m.group(1).upper() for m in _VERDICT.finditer(text or "")}
    if len(found) != 1:
        return None
    return found == {"CORRECT"}


def parse_grade_ci(text: str) -> bool | None:
    """inspect_ai's reading: the first ``GRADE: C`` (True) or ``GRADE: I`` (False); else None."""
    m = _GRADE_CI.search(text or "")
    return None if m is None else m.group(1) == "C"


def parse_grade(text: str, low: int = 1, high: int = 5) -> int | None:
    """The last ``Grade: N`` with an integer N in ``[low, high]``; None otherwise (a grade out of
    range, a fraction or no grade is never clipped into one)."""
    found = _GRADE_N.findall(text or "")
    if not found:
        return None
    try:
        value = float(found[-1])
    except ValueError:
        return None
    if not value.is_integer() or not low <= value <= high:
        return None
    return int(value)


@dataclass(frozen=True)
class GraderTemplate:
    name: str
    text: str  # fields: question, gold, prediction
    kind: str  # "binary" (1/0) or "rubric" (a grade)
    max_tokens: int
    parse: Callable[[str], float | None]


def _binary(fn: Callable[[str], bool | None]) -> Callable[[str], float | None]:
    def parse(text: str) -> float | None:
        verdict = fn(text)
        return None if verdict is None else float(verdict)

    return parse


def _rubric(text: str) -> float | None:
    grade = parse_grade(text)
    return None if grade is None else float(grade)


TEMPLATES: dict[str, GraderTemplate] = {
    "default": GraderTemplate("default", DEFAULT_TEMPLATE, "binary", 16, _binary(parse_verdict)),
    "qa-grade": GraderTemplate("qa-grade", QA_GRADE_TEMPLATE, "binary", 384,
                               _binary(parse_grade_ci)),
    "rubric": GraderTemplate("rubric", RUBRIC_TEMPLATE, "rubric", 128, _rubric),
}
AGGREGATIONS = ("majority", "mean")


def gold_text(sample: Sample) -> str:
    """The reference answer as a grader reads it (an MCQ letter with its option text)."""
    if sample.answer_type == "mcq":
        return f"{sample.answer}. {sample.options.get(sample.answer, '')}".strip(". ")
    return " / ".join(sample.references())


@dataclass(frozen=True)
class Grader:
    """One grader model in one role, with its prices (USD per million tokens) when known."""

    role: str
    identity: str
    price_in: float | None = None
    price_out: float | None = None

    def cost(self, usage: dict[str, int]) -> float | None:
        if self.price_in is None and self.price_out is None:
            return None
        return (usage.get("prompt_tokens", 0) * (self.price_in or 0.0)
                + usage.get("completion_tokens", 0) * (self.price_out or 0.0)) / 1e6


@dataclass
class _Verdict:
    value: float | None  # parsed verdict / grade; None = unreadable
    reply: Response


class _GraderBase(Scorer):
    """What the single grader and the jury share: the prompt, the call, tokens and cost."""

    template: GraderTemplate
    graders: tuple[Grader, ...]

    def _version(self, extra: str = "") -> str:
        ident = "\x00".join(f"{g.role}={g.identity}@{g.price_in}/{g.price_out}"
                            for g in self.graders)
        digest = hashlib.blake2b(f"{self.template.text}\x00{ident}\x00{extra}".encode(),
                                 digest_size=5).hexdigest()
        return f"2-{digest}"

    def _request(self, item: ItemResult, answer: str) -> Request:
        sample = item.target
        assert sample is not None
        prompt = self.template.text.format(question=item.question or sample.question,
                                           gold=gold_text(sample), prediction=answer)
        return Request([{"role": "user", "content": [{"type": "text", "text": prompt}]}],
                       GenParams(temperature=0.0, max_tokens=self.template.max_tokens),
                       meta={"sample_id": sample.id, "role": "grader"})

    @staticmethod
    def _answer(item: ItemResult) -> tuple[str, bool]:
        """The part of the reply a grader reads, and whether the reply is incomplete."""
        text, status = reply_status(item.response or "", item.finish_reason)
        text = text.strip()
        incomplete = status == "incomplete" or (not text and item.finish_reason == "length")
        return text, incomplete

    async def _ask(self, grader: Grader, request: Request, ctx: ScoreContext
                   ) -> tuple[_Verdict | None, str | None, dict[str, float]]:
        """(verdict, error, token/cost metrics) of one grader."""
        _, reply = await ctx.model(grader.role).generate(request)
        usage = reply.usage or {}
        metrics = {"grader_prompt_tokens": float(usage.get("prompt_tokens", 0)),
                   "grader_completion_tokens": float(usage.get("completion_tokens", 0))}
        cost = grader.cost(usage)
        if cost is not None:
            metrics["grader_cost_usd"] = cost
        if not reply.ok:
            return None, f"grader {grader.identity}: {reply.error}", metrics
        return _Verdict(self.template.parse(reply.text), reply), None, metrics


class GraderScorer(_GraderBase):
    """One grader: a binary verdict (value 1/0) or a rubric grade (``metrics["grade"]``; value 1
    when the grade is at least ``pass_grade``)."""

    roles: ClassVar[tuple[str, ...]] = ("grader",)

    def __init__(self, template: str = "default", grader: Grader | str = "",
                 pass_grade: int = 4) -> None:
        self.template = _template(template)
        if isinstance(grader, str):
            grader = Grader("grader", grader)
        self.graders = (grader,)
        self.pass_grade = pass_grade
        self.name = f"grader:{template}"
        self.version = self._version(str(pass_grade) if self.template.kind == "rubric" else "")
        self.metrics = ("grade",) if self.template.kind == "rubric" else ()  # type: ignore[misc]

    async def score(self, item: ItemResult, ctx: ScoreContext) -> Score:
        answer, incomplete = self._answer(item)
        if incomplete:
            return Score(0.0, None, "incomplete")
        verdict, error, metrics = await self._ask(self.graders[0], self._request(item, answer),
                                                  ctx)
        if error is not None:
            return Score.failed(error)
        assert verdict is not None
        raw = verdict.reply.text
        if verdict.value is None:
            return Score(None, None, "invalid", {**metrics, "grader_invalid": 1.0},
                         explanation=raw, metadata={"grader_invalid": True})
        metrics["grader_invalid"] = 0.0
        if self.template.kind == "rubric":
            metrics["grade"] = verdict.value
            passed = verdict.value >= self.pass_grade
            return Score(1.0 if passed else 0.0, answer, "ok", metrics, explanation=raw)
        return Score(verdict.value, answer, "ok", metrics, explanation=raw)


class JuryScorer(_GraderBase):
    """Several graders (roles ``grader0``, ``grader1`` ...) with one binary template; each
    grader's verdict is stored as ``metrics["graderI"]`` (1/0; absent when unreadable) so
    inter-grader agreement can be computed from stored items (``stats/agreement.py``).

    Aggregation over the readable verdicts: ``majority`` (value 1 when more than half say
    correct; a tie is 0, as "no majority for correct") or ``mean`` (value = share of graders that
    say correct, read by the ``jury_mean`` metric; correct only when all agree).  Any failed
    grader call makes the item an error (a rerun asks the failed grader only: the others are
    cached); no readable verdict at all makes it invalid."""

    def __init__(self, graders: list[Grader], aggregation: str = "majority",
                 template: str = "default") -> None:
        if len(graders) < 2:
            raise MedgaugeError("scoring jury needs at least two graders (--grader repeated)")
        if aggregation not in AGGREGATIONS:
            raise MedgaugeError(f"scoring jury: aggregation must be majority or mean, got "
                                f"{aggregation!r}")
        self.template = _template(template)
        if self.template.kind != "binary":
            raise MedgaugeError(f"scoring jury: template {template!r} is not a binary verdict")
        self.graders = tuple(graders)
        self.roles = tuple(g.role for g in graders)  # type: ignore[misc]
        self.aggregation = aggregation
        self.name = f"jury:{aggregation}:{template}"
        self.version = self._version(aggregation)
        self.metrics = ("jury_mean",) if aggregation == "mean" else ()  # type: ignore[misc]

    async def score(self, item: ItemResult, ctx: ScoreContext) -> Score:
        answer, incomplete = self._answer(item)
        if incomplete:
            return Score(0.0, None, "incomplete")
        request = self._request(item, answer)
        metrics: dict[str, float] = {}
        verdicts: list[float] = []
        errors: list[str] = []
        explanations = []
        for i, grader in enumerate(self.graders):
            verdict, error, used = await self._ask(grader, request, ctx)
            for k, v in used.items():
                metrics[k] = metrics.get(k, 0.0) + v
            if error is not None:
                errors.append(error)
                continue
            assert verdict is not None
            explanations.append(f"[{grader.role}] {verdict.reply.text}")
            if verdict.value is not None:
                metrics[f"grader{i}"] = verdict.value
                verdicts.append(verdict.value)
        if errors:
            return Score.failed("; ".join(errors))
        explanation = "\n".join(explanations)
        metrics["grader_invalid"] = float(len(self.graders) - len(verdicts))
        if not verdicts:
            return Score(None, None, "invalid", metrics, explanation=explanation)
        share = sum(verdicts) / len(verdicts)
        metrics["jury_mean"] = share
        if self.aggregation == "mean":
            return Score(share, answer, "ok", metrics, explanation=explanation)
        return Score(1.0 if share > 0.5 else 0.0, answer, "ok", metrics, explanation=explanation)


def _template(name: str) -> GraderTemplate:
    if name not in TEMPLATES:
        raise MedgaugeError(f"unknown grader template {name!r} (known: "
                            f"{', '.join(sorted(TEMPLATES))})")
    return TEMPLATES[name]


def grader_scorer(spec: str, graders: list[Grader] | str) -> Scorer:
    """``grader[:TEMPLATE[:pass=N]]`` (one grader) or ``jury[:AGG[:TEMPLATE]]`` (several) ->
    the scorer.  ``graders`` may be one identity string (the single-grader form of Core v2)."""
    if isinstance(graders, str):
        graders = [Grader("grader", graders)]
    kind, _, rest = spec.partition(":")
    parts = [p for p in rest.split(":") if p]
    if kind == "jury":
        aggregation = parts[0] if parts else "majority"
        template = parts[1] if len(parts) > 1 else "default"
        return JuryScorer(graders, aggregation, template)
    if len(graders) != 1:
        raise MedgaugeError(f"scoring {spec!r} takes one grader; {len(graders)} given"
                            + ("" if kind == "green" else " (use --scoring jury for several)"))
    if kind == "green":  # GREEN-style report grading (scoring/green.py)
        from medgauge.scoring.green import GreenScorer

        return GreenScorer(graders[0].identity)
    template = parts[0] if parts else "default"
    pass_grade = 4
    for extra in parts[1:]:
        key, _, value = extra.partition("=")
        if key != "pass" or not value.isdigit():
            raise MedgaugeError(f"scoring {spec!r}: cannot read {extra!r} (write pass=N)")
        pass_grade = int(value)
    return GraderScorer(template, graders[0], pass_grade)


def is_graded(scoring: str | None) -> bool:
    """True for the scoring modes that ask grader models: grader, jury, green."""
    return bool(scoring) and str(scoring).split(":")[0] in ("grader", "jury", "green")
