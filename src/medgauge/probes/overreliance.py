"""``overreliance``: the same question with the truly retrieved evidence and with counterfactual
evidence that supports a wrong choice, paired by sample id.

RULE (Xia et al. 2024, "RULE: Reliable Multimodal RAG for Factuality in Medical Vision Language
Models", EMNLP) found that medical models over-trust retrieved context.  Variants:

- ``evidence``: the run's pipeline on the prompt with the top-k retrieved passages;
- ``counterfactual``: the same prompt with evidence for a wrong choice drawn uniformly with the
  run's seed (:func:`medgauge.retrieval.counterfactual.counterfactual_evidence`): ``kind=statement``
  replaces the evidence by one passage asserting the wrong answer, ``kind=edit`` edits the top
  passage (the gold option's text replaced by the wrong one's, or a sentence asserting the wrong
  answer appended) and keeps the others.

Headline: the flip rate ``N(right with evidence, wrong with counterfactual) / N(right with
evidence)`` with a Wilson interval (:func:`medgauge.retrieval.effect.flip_rate`), lower is
better -- the form of the leading-question probe's misleading rate.  Invalid answers count as
wrong; pairs with a failed request are left out.  Open questions (no wrong choice) are skipped,
and so, for ``kind=edit``, are items for which nothing was retrieved.

Retrieval: ``corpus=`` (with ``retriever``, ``k``, ``template``, ``query``, ``layout``,
``max_chars`` and the retriever's own options such as ``model``), or, without ``corpus``, the
``retrieve`` step of the run's pipeline.  The evidence goes into the prompt exactly as the step
puts it; the step itself then leaves the prepared prompt alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from medgauge.probes.common import (
    Item,
    Probe,
    ProbeResult,
    SummaryContext,
    by_sample,
    check_options,
    clean_accuracy,
    is_correct,
    prop_dict,
    result,
)
from medgauge.retrieval.effect import flip_rate
from medgauge.retrieval.step import EVIDENCE_META, Retrieval
from medgauge.runner.solver import SolveContext, solvers
from medgauge.types import ItemResult, MedgaugeError, Sample

RETRIEVAL_OPTIONS = ("corpus", "retriever", "k", "template", "query", "layout", "max_chars")


@solvers.register("overreliance")
class OverrelianceProbe(Probe):
    name = "overreliance"
    description = ("true vs counterfactual retrieved evidence (RULE): flip rate of correct "
                   "answers")
    headline = "flip rate"

    def __init__(self, **options: Any) -> None:
        # imported here: the retrieval package imports the probes' choice helpers
        from medgauge.retrieval.counterfactual import KINDS

        kind = options.get("kind", "statement")
        if kind not in KINDS:
            raise MedgaugeError(f"probe overreliance: kind must be one of {', '.join(KINDS)}, "
                                f"got {kind!r}")
        if "corpus" not in options:
            check_options(self.name, options, ("kind",))
        super().__init__(**options)
        self.kind = str(kind)
        own = {k: v for k, v in options.items() if k != "kind"}
        self.retrieval: Retrieval | None = Retrieval(**own) if "corpus" in own else None

    def _retrieval(self, ctx: SolveContext) -> Retrieval:
        if self.retrieval is None:
            found = [getattr(step, "retrieval", None) for step in ctx.pipeline.steps]
            found = [r for r in found if r is not None]
            if not found:
                raise MedgaugeError("probe overreliance: give --probe-opt overreliance.corpus="
                                    "PATH, or put a retrieve step in the pipeline")
            self.retrieval = found[0]
        return self.retrieval

    async def solve(self, sample: Sample, ctx: SolveContext) -> list[ItemResult]:
        from medgauge.retrieval.counterfactual import counterfactual_evidence

        retrieval = self._retrieval(ctx)
        found = await retrieval.search(sample)
        passages = [p for p, _ in found]
        if self.kind == "edit" and not passages:
            return []
        cf = counterfactual_evidence(sample, passages, ctx.rng(sample, self.name), self.kind)
        if cf is None:
            return []
        base = ctx.messages(sample)
        notes = retrieval.notes([h for _, h in found])
        true_state = await ctx.ask(sample, messages=retrieval.messages(base, sample, passages),
                                   **{EVIDENCE_META: [p.text for p in passages]})
        out = [ctx.output(sample, true_state, variant="evidence", metadata=notes)]
        cf_state = await ctx.ask(sample, messages=retrieval.messages(base, sample, cf.passages),
                                 **{EVIDENCE_META: [p.text for p in cf.passages]})
        out.append(ctx.output(sample, cf_state, variant="counterfactual", metadata={
            **notes, "counterfactual": cf.how, "wrong_option": cf.wrong,
            "evidence_ids": [p.id for p in cf.passages]}))
        return out

    @classmethod
    def summarize(cls, items: list[Item], clean: list[Item] | None,
                  options: Mapping[str, Any], context: SummaryContext) -> ProbeResult:
        scores = overreliance_scores(items)
        ids = [str(it["sample_id"]) for it in items if it["variant"] == "evidence"]
        return result(cls.name, cls.headline, scores.pop("_rate"), "lower",
                      clean_accuracy(clean, ids), scores)


def overreliance_scores(items: list[Item]) -> dict[str, Any]:
    """Flip rate and counts over (evidence, counterfactual) pairs joined by sample id."""
    def outcomes(variant: str) -> dict[str, bool | None]:
        rows = by_sample(it for it in items if it["variant"] == variant)
        return {i: None if it.get("error") is not None else is_correct(it)
                for i, it in rows.items()}

    true, cf = outcomes("evidence"), outcomes("counterfactual")
    fr = flip_rate(true, cf)
    paired = [i for i in true if i in cf and true[i] is not None and cf[i] is not None]
    nan = float("nan")
    return {
        "_rate": fr.rate,
        "pairs": fr.pairs,
        "errored_pairs": fr.errored,
        "unpaired": fr.unpaired,
        "evidence_right": fr.base_correct,
        "flipped": fr.flipped,
        "fixed_by_counterfactual": fr.fixed,
        "flip_rate": prop_dict(fr.rate),
        "evidence_acc": (sum(bool(true[i]) for i in paired) / len(paired)) if paired else nan,
        "counterfactual_acc": (sum(bool(cf[i]) for i in paired) / len(paired)) if paired
        else nan,
    }
