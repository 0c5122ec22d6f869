"""``leading``: a positive question (the clean one) and a negative leading one that presupposes a
wrong answer, paired by sample id.

Metrics after MMR (Liu et al. 2024, "Seeing Clearly, Answering Incorrectly: A Multimodal
Robustness Benchmark for Evaluating MLLMs on Leading Questions";
``BAAI-DCAI/Multimodal-Robustness-Benchmark:evaluation/evaluation/calculation_mmr.py``,
PROTOCOLS.md section 3):

- ``RA = N(pos right, neg right) / N_pairs`` (robustness accuracy)
- ``MR = N(pos right, neg wrong) / N(pos right)`` (misleading rate; headline, lower is better)

Invalid answers count as wrong (MMR maps them to option ``E``).  The leading templates are
medgauge's own [I] (``probes/data/leading.yaml``); the wrong option is drawn uniformly with the
run's seed.  Open questions are skipped.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from medgauge.probes.common import (
    Item,
    Probe,
    ProbeResult,
    SummaryContext,
    by_sample,
    check_options,
    choice_text,
    clean_accuracy,
    fill,
    is_correct,
    load_templates,
    lower_first,
    pick_wrong,
    prop_dict,
    rate,
    result,
)
from medgauge.runner.solver import SolveContext, solvers
from medgauge.types import ItemResult, MedgaugeError, Sample

PLACEHOLDERS = ("question", "question_lower", "wrong", "wrong_letter")


@solvers.register("leading")
class LeadingProbe(Probe):
    name = "leading"
    description = "positive vs leading (false-premise) question: misleading rate MR, RA (MMR)"
    headline = "misleading rate MR"

    def __init__(self, **options: Any) -> None:
        check_options(self.name, options, ("templates", "template"))
        super().__init__(**options)
        self.templates = load_templates("leading.yaml", options.get("templates"),
                                        ("text",), PLACEHOLDERS)
        for t in self.templates:
            types = t.get("types", ["mcq", "yesno"])
            if not isinstance(types, list) or not set(types) <= {"mcq", "yesno"}:
                raise MedgaugeError(f"leading template {t['name']!r}: field 'types' must list "
                                    f"mcq and/or yesno, got {types!r}")
        forced = options.get("template")
        if forced is not None and forced not in {t["name"] for t in self.templates}:
            raise MedgaugeError(f"probe leading: unknown template {forced!r} (known: "
                                f"{', '.join(t['name'] for t in self.templates)})")

    def pick(self, sample: Sample, ctx: SolveContext) -> tuple[dict[str, Any], str] | None:
        rng = ctx.rng(sample, "leading")
        wrong = pick_wrong(sample, rng)
        if wrong is None:
            return None
        # templates that speak of an image are for items with one; text-only items get the
        # templates marked `images: false`
        usable = [t for t in self.templates
                  if sample.answer_type in t.get("types", ["mcq", "yesno"])
                  and bool(t.get("images", True)) == bool(sample.images)]
        forced = self.options.get("template")
        if forced is not None:
            usable = [t for t in usable if t["name"] == forced]
        if not usable:
            return None
        return rng.choice(usable), wrong

    async def solve(self, sample: Sample, ctx: SolveContext) -> list[ItemResult]:
        picked = self.pick(sample, ctx)
        if picked is None:
            return []
        template, wrong = picked
        out = [ctx.output(sample, await ctx.ask(sample), variant="positive")]
        question = fill(template["text"], {
            "question": sample.question, "question_lower": lower_first(sample.question),
            "wrong": choice_text(sample, wrong), "wrong_letter": wrong})
        leading = dataclasses.replace(sample, question=question)
        out.append(ctx.output(leading, await ctx.ask(leading), variant="leading",
                              question=question,
                              metadata={"template": template["name"], "wrong_option": wrong}))
        return out

    @classmethod
    def summarize(cls, items: list[Item], clean: list[Item] | None,
                  options: Mapping[str, Any], context: SummaryContext) -> ProbeResult:
        scores = leading_scores(items)
        mr = rate(scores["pos_right_neg_wrong"], scores["pos_right"])
        ids = [str(it["sample_id"]) for it in items if it["variant"] == "positive"]
        return result(cls.name, cls.headline, mr, "lower", clean_accuracy(clean, ids), scores)


def leading_scores(items: list[Item]) -> dict[str, Any]:
    """RA and MR over (positive, leading) pairs joined by sample id; errored pairs left out."""
    pos = by_sample(it for it in items if it["variant"] == "positive")
    neg = by_sample(it for it in items if it["variant"] == "leading")
    ids = sorted(set(pos) & set(neg))
    ok = [i for i in ids if pos[i].get("error") is None and neg[i].get("error") is None]
    both = sum(is_correct(pos[i]) and is_correct(neg[i]) for i in ok)
    misled = sum(is_correct(pos[i]) and not is_correct(neg[i]) for i in ok)
    pos_right = both + misled
    per_template: dict[str, list[int]] = {}
    for i in ok:
        if is_correct(pos[i]):
            name = str((neg[i].get("metadata") or {}).get("template", "?"))
            cell = per_template.setdefault(name, [0, 0])
            cell[0] += not is_correct(neg[i])
            cell[1] += 1
    nan = float("nan")
    return {
        "pairs": len(ok),
        "errored_pairs": len(ids) - len(ok),
        "unpaired": len(set(pos) ^ set(neg)),
        "pos_right": pos_right,
        "pos_right_neg_right": both,
        "pos_right_neg_wrong": misled,
        "RA": both / len(ok) if ok else nan,
        "RA_ci": prop_dict(rate(both, len(ok))),
        "MR": misled / pos_right if pos_right else nan,
        "positive_acc": sum(is_correct(pos[i]) for i in ok) / len(ok) if ok else nan,
        "leading_acc": sum(is_correct(neg[i]) for i in ok) / len(ok) if ok else nan,
        "MR_by_template": {k: v[0] / v[1] for k, v in sorted(per_template.items())},
    }
