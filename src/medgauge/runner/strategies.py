"""Answering steps beyond ``generate``: an ensemble of prompting strategies, and log-likelihood
scoring of the options (for base models).

- ``ensemble(members=[PIPELINE, ...])``: runs each member pipeline (text such as
  ``'chain_of_thought -> generate'``, or a self-consistency member ``'generate(n=3) -> vote'``)
  on the sample from the same starting messages, then takes the majority of the members' final
  answers (extracted with the run's rule; ties go to the earliest member), the vote share as
  confidence: the ensemble of OpenMedLM (Maharjan et al. 2024, "OpenMedLM: prompt engineering
  can out-perform fine-tuning in medical question-answering with open-source large language
  models").  A failed member makes the item an error (a rerun retries it; the others are
  cached).  Each member's answer is stored in the item's ``votes``, what each member noted
  (a self-consistency member's own ``votes``, a few-shot member's ``few_shot_ids``) in
  ``member_notes``.
- ``likelihood(mode=greedy|prefix)``: no text is generated; the backend scores each option as a
  continuation of the prompt (needs a backend that scores continuations: ``hf:``) and the most
  likely option is the answer, its probability the confidence.  ``greedy`` scores the option
  letters (softmax over their log-probabilities), ``prefix`` each option's text (geometric-mean
  token probability): the rules of ``probes/mediconfusion_likelihood.py`` (MediConfusion,
  Sepehri et al. 2024), shared, not copied.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from medgauge.runner.steps import SampleState, Step, majority, parse_pipeline, steps
from medgauge.types import MedgaugeError, Response

if TYPE_CHECKING:
    from medgauge.runner.solver import SolveContext


@steps.register("ensemble")
def ensemble(members: Any = None) -> Step:
    if not isinstance(members, list) or len(members) < 2 or \
            not all(isinstance(m, str | list) for m in members):
        raise MedgaugeError("pipeline step ensemble: members must be a list of two or more "
                            "pipelines, e.g. ensemble(members=['generate', "
                            "'chain_of_thought -> generate'])")
    pipelines = [parse_pipeline(m) for m in members]
    names = [p.describe() for p in pipelines]

    async def step(state: SampleState, ctx: SolveContext) -> SampleState:
        outputs: list[tuple[str, Response]] = []
        notes: list[dict[str, Any]] = []
        for pipeline in pipelines:
            member = SampleState(state.sample, list(state.messages), state.params,
                                 dict(state.meta))
            member = await pipeline.run(member, ctx)
            outputs.append((member.key, member.response))  # type: ignore[arg-type]
            notes.append(member.store)
        state.outputs.extend(outputs)
        majority(state, ctx, outputs)
        state.store["members"] = names
        if any(notes):  # what each member noted (its own votes, few-shot ids ...)
            state.store["member_notes"] = notes
        return state

    return step


@steps.register("likelihood")
def likelihood(mode: str = "greedy") -> Step:
    from medgauge.probes.mediconfusion_likelihood import MODES, option_scores

    if mode not in MODES:
        raise MedgaugeError(f"pipeline step likelihood: mode must be greedy or prefix, got "
                            f"{mode!r}")

    async def step(state: SampleState, ctx: SolveContext) -> SampleState:
        sample = state.sample
        if sample.answer_type != "mcq" or not sample.options:
            raise MedgaugeError(f"pipeline step likelihood: sample {sample.id} is not multiple "
                                "choice")
        continuations = (tuple(sample.options) if mode == "greedy"
                         else tuple(dict.fromkeys(sample.options.values())))
        request = dataclasses.replace(
            ctx.request(sample, messages=state.messages, params=state.params, scoring=mode,
                        **state.meta), continuations=continuations)
        key, response = await ctx.generate(request)
        if response.error is not None or response.option_logprobs is None:
            error = response.error or "backend returned no option log-probabilities"
            state.outputs.append((key, dataclasses.replace(response, error=error)))
            return state
        scores = option_scores(mode, sample.options, response.option_logprobs)
        best = max(sample.options, key=lambda k: scores[k])  # first on ties
        # the chosen letter is the item's reply, stored with the item (no request hash: the
        # stored response holds log-probabilities, not this text)
        state.outputs.append((None, dataclasses.replace(response, text=best)))  # type: ignore[arg-type]
        state.confidence = scores[best]
        state.store["option_scores"] = scores
        return state

    return step
