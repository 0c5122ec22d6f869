"""MediConfusion's ``greedy`` and ``prefix`` answering modes as a solver (``likelihood``).

Sepehri et al. (2024), "MediConfusion", github.com/MShahabSepehri/MediConfusion
(PROTOCOLS.md section 1); open-weight models only, so it needs a backend that scores
continuations (``hf:``):

- ``mode=greedy``: the option letters are scored as one-token continuations of the prompt
  (one forward pass); the probabilities are the softmax over the letters' log-probabilities,
  ``p_k = exp(l_k) / sum_j exp(l_j)``; the argmax is the answer.
- ``mode=prefix``: each option's text is scored as the assistant reply; the score is the
  geometric mean of its tokens' probabilities ``exp(mean log-probability)`` (the ``hf:``
  backend's continuation score is that mean); the highest-scoring option is the answer.

Ties go to the first option in display order, as an ``argmax`` does in the original.  Options
with identical text are scored once and count as the same answer.  Each item stores the
per-option scores in its metadata (scored into ``metrics`` as ``score_A`` ...) and the winning
score as ``confidence``; its scorer (``likelihood``) reads the chosen option, not reply text.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from medgauge.extract.options import same_option
from medgauge.runner.solver import SolveContext, Solver, solvers
from medgauge.scoring.base import ScoreContext, Scorer
from medgauge.types import ItemResult, MedgaugeError, Sample, Score

MODES = ("greedy", "prefix")


def option_scores(mode: str, options: dict[str, str],
                  option_logprobs: dict[str, float]) -> dict[str, float]:
    """Letter -> score from the backend's continuation log-probabilities (module rule)."""
    if mode == "greedy":
        top = max(option_logprobs[k] for k in options)
        weights = {k: math.exp(option_logprobs[k] - top) for k in options}
        total = sum(weights.values())
        return {k: w / total for k, w in weights.items()}
    return {k: math.exp(option_logprobs[v]) for k, v in options.items()}


@solvers.register("likelihood")
class LikelihoodSolver(Solver):
    name = "likelihood"
    description = ("MediConfusion greedy/prefix: the option with the highest likelihood under "
                   "the model (needs an hf: backend); option mode=greedy|prefix")

    def __init__(self, **options: Any) -> None:
        unknown = set(options) - {"mode"}
        if unknown:
            raise MedgaugeError(f"solver likelihood: unknown option(s) {sorted(unknown)} "
                                "(known: mode)")
        super().__init__(**options)
        self.mode = str(options.get("mode", "greedy"))
        if self.mode not in MODES:
            raise MedgaugeError(f"solver likelihood: mode must be greedy or prefix, got "
                                f"{self.mode!r}")

    async def solve(self, sample: Sample, ctx: SolveContext) -> list[ItemResult]:
        if sample.answer_type != "mcq" or not sample.options:
            raise MedgaugeError(f"solver likelihood: sample {sample.id} is not multiple choice")
        if self.mode == "greedy":
            continuations = tuple(sample.options)
        else:
            continuations = tuple(dict.fromkeys(sample.options.values()))
        request = dataclasses.replace(ctx.request(sample, scoring=self.mode),
                                      continuations=continuations)
        key, response = await ctx.generate(request)
        if response.error is not None or response.option_logprobs is None:
            error = response.error or "backend returned no option log-probabilities"
            return [ctx.output(sample, (key, dataclasses.replace(response, error=error)))]
        scores = option_scores(self.mode, sample.options, response.option_logprobs)
        best = max(sample.options, key=lambda k: scores[k])  # first on ties
        return [ctx.output(sample, (key, response), confidence=scores[best],
                           metadata={"likelihood_mode": self.mode, "likelihood_choice": best,
                                     "option_scores": scores})]

    def scorer(self, base: Scorer) -> Scorer:
        return LikelihoodScorer()


class LikelihoodScorer(Scorer):
    """The option the solver found most likely (``metadata["likelihood_choice"]``) against the
    gold; letters with identical option text count as the same answer."""

    name = "likelihood"
    version = "1"

    async def score(self, item: ItemResult, ctx: ScoreContext) -> Score:
        sample = item.target
        assert sample is not None
        best = item.metadata.get("likelihood_choice")
        scores = item.metadata.get("option_scores") or {}
        metrics = {f"score_{k}": float(v) for k, v in scores.items()}
        if best is None:
            return Score(0.0, None, "invalid", metrics)
        gold = sample.answer.strip().upper()
        ok = same_option(sample.options, best, gold)
        return Score(1.0 if ok else 0.0, best, "ok", metrics)
