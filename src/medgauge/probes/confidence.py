"""``confidence``: verbal confidence (Prompt4Trust) and, where the backend returns
log-probabilities, the probability of the chosen option; calibration metrics.

Source: Prompt4Trust (``xingbpshen/prompt4trust:prompt/pmcvqa.py``, ``engine/agent.py``;
PROTOCOLS.md section 5).  The elicitation prompt and the parsing regexes are the published ones
(``answer is\\s+([A-D])``, ``confidence\\s+(\\d{1,3})``, plus the baseline notebook's
``Answer:`` / ``Confidence:`` fallbacks); the letter set follows the item's options, and for
yes/no items the same prompt asks for yes or no instead of a letter [I].  Confidence is
``min(c, 100) / 100``; an answer without a letter or a confidence is invalid (wrong, confidence
0, as Prompt4Trust's ``(-1, 1e-12)``).

Metrics: ECE (10 equal-width bins, headline), Brier, AUROC of confidence for correctness [I],
overconfidence ``P(conf >= 0.8 | wrong)`` [I], reliability-diagram bins, on all items and on the
valid subset, and the mean *clinically aligned* log score of Prompt4Trust's reward
(right: ``log(max(p, 1e-10))``; wrong: ``log(max(1 - p, 1e-10)) - 1``; unparseable:
``log(1e-12)``; higher is better).  Log-probability confidences get the same metrics.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from medgauge.options import as_bool
from medgauge.probes.common import (
    Item,
    Probe,
    ProbeResult,
    SummaryContext,
    check_options,
    choices,
    clean_accuracy,
    gold_choice,
    is_invalid,
)
from medgauge.prompts.templates import PromptTemplate, format_options, render
from medgauge.runner.solver import SolveContext, solvers
from medgauge.scoring.base import ScoreContext, Scorer
from medgauge.stats import auroc, brier, ece, overconfidence_rate, reliability
from medgauge.stats.calibration import bin_index
from medgauge.types import GenParams, ItemResult, MedgaugeError, Response, Sample, Score

# Prompt4Trust's downstream elicitation prompt (prompt/pmcvqa.py), verbatim for four options A-D.
P4T_MCQ = (
    "You are answering a multiple-choice question with {count} options ({letters}). Clearly "
    "state your final answer and confidence in the following format only: 'In conclusion, the "
    "answer is {{LETTER}} with confidence {{CONFIDENCE}}.' Replace {{LETTER}} with one of "
    "{letters}, and {{CONFIDENCE}} with a number between 0 and 100. After giving the answer, "
    "explain your reasoning based on the image and the question."
)
# The same for closed questions [I].
P4T_CLOSED = (
    "You are answering a closed question with the possible answers {letters}. Clearly state "
    "your final answer and confidence in the following format only: 'In conclusion, the answer "
    "is {{ANSWER}} with confidence {{CONFIDENCE}}.' Replace {{ANSWER}} with one of {letters}, "
    "and {{CONFIDENCE}} with a number between 0 and 100. After giving the answer, explain your "
    "reasoning based on the image and the question."
)
NUMBER_WORDS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight",
                9: "nine", 10: "ten"}
#: Prompt4Trust downstream decoding (config/pmcvqa.yml); top_k 50 is not an OpenAI parameter.
P4T_PARAMS = {"temperature": 0.1, "top_p": 0.95, "max_tokens": 256}
FLOOR = 1e-10
UNPARSED = 1e-12
OVERCONFIDENT = 0.8


def _or(items: list[str], word: str = "or") -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f", {word} " + items[-1]


def elicitation(sample: Sample) -> str:
    """The Prompt4Trust prompt for one item, followed by the question and options."""
    cs = choices(sample)
    k = len(cs)
    if sample.answer_type == "mcq":
        head = P4T_MCQ.format(count=NUMBER_WORDS.get(k, str(k)), letters=_or(cs))
        body = f"\nQuestion:\n{sample.question}\nOptions:\n{format_options(sample.options)}"
    else:
        head = P4T_CLOSED.format(letters=_or(cs))
        body = f"\nQuestion:\n{sample.question}"
    context = f"\nContext:\n{sample.context}" if sample.context else ""
    return head + context + body + "\n\nAnswer:"


def _verbal_match(text: str, cs: list[str]) -> tuple[re.Match[str] | None, re.Match[str] | None]:
    alt = "|".join(re.escape(c) for c in sorted(cs, key=len, reverse=True))
    flags = re.IGNORECASE if any(len(c) > 1 for c in cs) else 0
    m = re.search(rf"answer is\s+\W?({alt})\b", text, flags) or re.search(
        rf"Answer:\s*\W?({alt})\b", text, flags)
    c = re.search(r"confidence\s+(\d{1,3})", text) or re.search(r"Confidence:\s*(\d{1,3})", text)
    return m, c


def parse_verbal(text: str, cs: list[str]) -> tuple[str | None, float | None]:
    """(choice, confidence in [0, 1]) with Prompt4Trust's regexes; (None, None) if either
    part is missing."""
    m, c = _verbal_match(text, cs)
    if m is None or c is None:
        return None, None
    got = m.group(1)
    choice = next((x for x in cs if x.lower() == got.lower()), got)
    return choice, min(int(c.group(1)), 100) / 100.0


def _bare(token: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", token or "")


def logprob_confidence(response: Response, choice: str, cs: list[str]) -> float | None:
    """Probability of ``choice`` at the generated token that states it: the token covering the
    character where the verbal answer was parsed (never an earlier article "a").  Renormalised
    over the choices among that token's top alternatives when another choice is there; else the
    token's own probability.  None when the response carries no log-probabilities or the token
    cannot be located."""
    if not response.logprobs:
        return None
    joined = "".join(str(t.get("token") or "") for t in response.logprobs)
    m, _ = _verbal_match(joined, cs)  # offsets into the generated tokens themselves
    if m is None:
        return None
    target = m.start(1)
    single = all(len(c) == 1 for c in cs)

    def same(token: str, c: str) -> bool:  # letters are case-sensitive, words are not
        return token == c if single else token.lower() == c.lower()

    offset = 0
    for t in response.logprobs:
        token = str(t.get("token") or "")
        end = offset + len(token)
        if end > target:
            if not same(_bare(token), choice):
                return None
            probs: dict[str, float] = {}
            for alt in [t, *(t.get("top") or [])]:
                key, lp = _bare(str(alt.get("token"))), alt.get("logprob")
                match = next((c for c in cs if same(key, c)), None)
                if match is not None and lp is not None and match not in probs:
                    probs[match] = math.exp(float(lp))
            own = t.get("logprob")
            if len(probs) > 1 and choice in probs:
                return probs[choice] / sum(probs.values())
            return math.exp(float(own)) if own is not None else None
        offset = end
    return None


def aligned_score(conf: float | None, correct: bool | None) -> float:
    """Prompt4Trust's clinically aligned reward (engine/agent.py:reward_func) for one item."""
    if conf is None or correct is None:
        return math.log(UNPARSED)
    if correct:
        return math.log(max(conf, FLOOR))
    return math.log(max(1.0 - conf, FLOOR)) - 1.0


class VerbalConfidenceScorer(Scorer):
    """Reads "answer + confidence" replies with :func:`parse_verbal`: correct when the parsed
    choice is the gold one; invalid without a choice; the clinically aligned log score as a
    per-item metric."""

    name = "confidence-verbal"
    version = "1"

    async def score(self, item: ItemResult, ctx: ScoreContext) -> Score:
        sample = item.target
        assert sample is not None
        choice, conf = parse_verbal(item.response, choices(sample))
        correct = choice is not None and choice == gold_choice(sample)
        aligned = {"aligned_score": aligned_score(conf, correct if choice is not None else None)}
        if choice is None:
            return Score(0.0, None, "invalid", aligned)
        return Score(1.0 if correct else 0.0, choice, "ok", aligned)


@solvers.register("confidence")
class ConfidenceProbe(Probe):
    name = "confidence"
    description = ("verbal confidence (Prompt4Trust) and option log-probabilities: ECE, Brier, "
                   "AUROC, overconfidence, clinically aligned log score")
    headline = "ECE (10 bins)"

    def __init__(self, **options: Any) -> None:
        check_options(self.name, options, ("decoding", "logprobs"))
        super().__init__(**options)
        self.decoding = str(options.get("decoding", "run"))
        if self.decoding not in ("run", "prompt4trust"):
            raise MedgaugeError(f"probe confidence: decoding must be run or prompt4trust, got "
                                f"{self.decoding!r}")
        self.logprobs = as_bool(options.get("logprobs", False), "logprobs", "probe confidence")

    def params(self, ctx: SolveContext) -> GenParams:
        p = ctx.params
        if self.decoding == "prompt4trust":
            p = dataclasses.replace(p, **P4T_PARAMS)
        if self.logprobs:
            p = dataclasses.replace(p, logprobs=True, top_logprobs=max(p.top_logprobs or 0, 5))
        return p

    async def solve(self, sample: Sample, ctx: SolveContext) -> list[ItemResult]:
        cs = choices(sample)
        gold = gold_choice(sample)
        if not cs or gold is None:
            return []
        text = elicitation(sample)
        messages = render(sample, PromptTemplate("prompt4trust", text.replace("{", "{{")
                                                 .replace("}", "}}")))
        state = await ctx.ask(sample, messages=messages, params=self.params(ctx))
        response = state.response
        if not response.ok:
            return [ctx.output(sample, state, variant="verbal")]
        choice, conf = parse_verbal(response.text, cs)
        lp_conf = logprob_confidence(response, choice, cs) if choice is not None else None
        return [ctx.output(sample, state, variant="verbal",
                           confidence=conf if conf is not None else 0.0,
                           metadata={"verbal_confidence": conf, "logprob_confidence": lp_conf,
                                     "prompt": "prompt4trust"})]

    def scorer(self, base: Scorer) -> Scorer:
        return VerbalConfidenceScorer()

    @classmethod
    def summarize(cls, items: list[Item], clean: list[Item] | None,
                  options: Mapping[str, Any], context: SummaryContext) -> ProbeResult:
        rows = [it for it in items if it["variant"] == "verbal" and it.get("error") is None]
        scores = confidence_scores(rows)
        conf = [float(r["confidence"] or 0.0) for r in rows]
        right = [bool(r["correct"]) for r in rows]
        ids = [str(r["sample_id"]) for r in rows]
        clean_acc = clean_accuracy(clean, ids)
        stated = sum((r.get("metadata") or {}).get("verbal_confidence") is not None
                     for r in rows)
        scores["invalid_rate"] = scores["invalid"] / len(rows) if rows else float("nan")
        if not stated:  # no confidence to calibrate: an ECE of 0 would be a made-up number
            scores["not_applicable"] = (
                f"no valid confidence in {len(rows)} answers (invalid rate "
                f"{100 * scores['invalid_rate']:.0f}%)" if rows else "no answers")
            nan = float("nan")
            return ProbeResult(cls.name, cls.headline, nan, nan, nan, len(rows), "lower",
                               None if clean_acc is None or clean_acc.n == 0 else
                               clean_acc.value, None if clean_acc is None else clean_acc.n,
                               scores, "bootstrap")
        lo, hi = _bootstrap_ece(conf, right)
        return ProbeResult(cls.name, cls.headline, scores["all"]["ece"], lo, hi, len(rows),
                           "lower", None if clean_acc is None or clean_acc.n == 0 else
                           clean_acc.value, None if clean_acc is None else clean_acc.n, scores,
                           "bootstrap")


def calibration(conf: list[float], right: list[bool]) -> dict[str, Any]:
    nan = float("nan")
    if not conf:
        return {"n": 0, "accuracy": nan, "mean_confidence": nan, "ece": nan, "brier": nan,
                "auroc": nan, "overconfidence": nan, "reliability": []}
    return {
        "n": len(conf),
        "accuracy": sum(right) / len(right),
        "mean_confidence": sum(conf) / len(conf),
        "ece": ece(conf, right),
        "brier": brier(conf, right),
        "auroc": auroc(conf, right),
        "overconfidence": overconfidence_rate(conf, right, OVERCONFIDENT),
        "reliability": [{"lo": b.lo, "hi": b.hi, "count": b.count, "mean_conf": b.mean_conf,
                         "accuracy": b.accuracy} for b in reliability(conf, right)],
    }


def confidence_scores(rows: list[Item]) -> dict[str, Any]:
    """Calibration of verbal confidence on all answered items (invalid = wrong, confidence 0)
    and on the valid subset; of log-probability confidence where present; the mean clinically
    aligned log score."""
    conf = [float(r.get("confidence") or 0.0) for r in rows]
    right = [bool(r.get("correct")) for r in rows]
    valid = [i for i, r in enumerate(rows) if not is_invalid(r)]
    lp = [(float(m["logprob_confidence"]), bool(r.get("correct"))) for r in rows
          if (m := r.get("metadata") or {}).get("logprob_confidence") is not None]
    scores = [aligned_score(
        (r.get("metadata") or {}).get("verbal_confidence"),
        None if is_invalid(r) else bool(r.get("correct"))) for r in rows]
    return {
        "all": calibration(conf, right),
        "valid": calibration([conf[i] for i in valid], [right[i] for i in valid]),
        "invalid": len(rows) - len(valid),
        "logprob": calibration([c for c, _ in lp], [y for _, y in lp]),
        "aligned_log_score": float(np.mean(scores)) if scores else float("nan"),
    }


def _bootstrap_ece(conf: list[float], right: list[bool], n_resamples: int = 1000,
                   seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the ECE (items resampled with replacement)."""
    if not conf:
        return (float("nan"), float("nan"))
    c = np.asarray(conf)
    y = np.asarray(right, dtype=float)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, c.size, size=(n_resamples, c.size))
    bins = bin_index(c, 10)
    reps = np.empty(n_resamples)
    for r in range(n_resamples):
        b = bins[idx[r]]
        cnt = np.bincount(b, minlength=10)
        cs = np.bincount(b, weights=c[idx[r]], minlength=10)
        ys = np.bincount(b, weights=y[idx[r]], minlength=10)
        nz = cnt > 0
        reps[r] = np.sum(np.abs(cs[nz] - ys[nz])) / c.size
    lo, hi = np.percentile(reps, [2.5, 97.5])
    return float(lo), float(hi)
