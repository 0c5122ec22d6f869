"""``followup``: after the model answers, a second turn challenges the answer.

Deep (multi-turn) robustness after MedQA-Followup ("shallow vs deep robustness", arXiv
2510.12255; PROTOCOLS.md section 4 — [P]/[I], no public code).  Turn 1 is the clean request (a
cache hit after a clean run).  Each intervention appends the model's answer and one user turn:
a *direct* suggestion of a wrong option (user insistence, authority) or an *indirect* context
that supports it (a retrieved passage, a similar case), then an instruction to reconsider
independently and give a final answer.  The wrong option is drawn uniformly from the incorrect
options with the run's seed; the final answer is scored by the run's scorer.

Metrics per intervention: accuracy after, ``delta = acc_after - acc_before``, flip rates
``P(right -> wrong)`` and ``P(wrong -> right)``; the headline is the right->wrong flip rate of
the worst intervention (ties broken by template order).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from medgauge.probes.common import (
    Item,
    Probe,
    ProbeResult,
    SummaryContext,
    as_list,
    builtin_data,
    by_sample,
    check_options,
    choice_phrase,
    choice_text,
    clean_accuracy,
    fill,
    is_correct,
    load_templates,
    pick_wrong,
    prop_dict,
    rate,
    result,
)
from medgauge.runner.solver import SolveContext, solvers
from medgauge.types import ItemResult, MedgaugeError, Message, Sample

PLACEHOLDERS = ("wrong", "wrong_text", "wrong_letter", "question")
INITIAL = "initial"


@solvers.register("followup")
class FollowupProbe(Probe):
    name = "followup"
    description = ("a second turn challenges the answer (direct / authority / context): flip "
                   "rates, accuracy after (MedQA-Followup)")
    headline = "right->wrong flips, worst"

    def __init__(self, **options: Any) -> None:
        check_options(self.name, options, ("templates", "interventions"))
        super().__init__(**options)
        templates = load_templates("followup.yaml", options.get("templates"), ("text", "kind"),
                                   PLACEHOLDERS)
        for t in templates:
            if t["kind"] not in ("direct", "indirect"):
                raise MedgaugeError(f"followup template {t['name']!r}: field 'kind' must be "
                                    f"direct or indirect, got {t['kind']!r}")
        wanted = as_list(options.get("interventions"), "interventions")
        if wanted:
            known = {t["name"] for t in templates}
            missing = [w for w in wanted if w not in known]
            if missing:
                raise MedgaugeError(f"probe followup: unknown intervention {missing[0]!r} "
                                    f"(known: {', '.join(sorted(known))})")
            templates = [t for t in templates if t["name"] in wanted]
        self.templates = templates
        self.reconsider = str(builtin_data("followup.yaml").get("reconsider", ""))

    def turn(self, template: Mapping[str, Any], sample: Sample, wrong: str) -> str:
        values = {"wrong": choice_phrase(sample, wrong), "wrong_text": choice_text(sample, wrong),
                  "wrong_letter": wrong, "question": sample.question}
        text = fill(" ".join(str(template["text"]).split()), values)
        reconsider = fill(str(template.get("reconsider", self.reconsider)), values)
        return f"{text} {reconsider}".strip()

    async def solve(self, sample: Sample, ctx: SolveContext) -> list[ItemResult]:
        wrong = pick_wrong(sample, ctx.rng(sample, "followup"))
        if wrong is None:
            return []
        state = await ctx.ask(sample)
        first = state.response
        out = [ctx.output(sample, state, variant=INITIAL, metadata={"turn": 1})]
        initial = ctx.extract(sample, first.text) if first.ok else None
        for index, template in enumerate(self.templates):
            meta = {"turn": 2, "intervention": template["name"], "kind": template["kind"],
                    "template_index": index,
                    "wrong_option": wrong, "initial_answer": initial}
            if not first.ok:
                out.append(ctx.output(sample, state, variant=template["name"], metadata=meta))
                continue
            challenge = self.turn(template, sample, wrong)
            convo: list[Message] = [*state.messages,
                                    {"role": "assistant", "content": first.text},
                                    {"role": "user",
                                     "content": [{"type": "text", "text": challenge}]}]
            second = await ctx.ask(sample, messages=convo)
            got = ctx.extract(sample, second.response.text) if second.response.ok else None
            meta["followed_wrong"] = (None if got is None
                                      else str(got).strip().lower() == wrong.strip().lower())
            out.append(ctx.output(sample, second, variant=template["name"], metadata=meta))
        return out

    @classmethod
    def summarize(cls, items: list[Item], clean: list[Item] | None,
                  options: Mapping[str, Any], context: SummaryContext) -> ProbeResult:
        scores = followup_scores(items)
        worst = scores["worst_intervention"]
        if worst is None:
            flip = rate(0, 0)
        else:
            cell = scores["interventions"][worst]
            flip = rate(cell["right_to_wrong"], cell["right_before"])
        ids = [str(it["sample_id"]) for it in items if it["variant"] == INITIAL]
        return result(cls.name, cls.headline, flip, "lower", clean_accuracy(clean, ids), scores)


def _accuracy(answered_items: list[Item]) -> float:
    """Share right among answered items; NaN when none was answered (all errored)."""
    if not answered_items:
        return float("nan")
    return sum(is_correct(v) for v in answered_items) / len(answered_items)


def followup_scores(items: list[Item]) -> dict[str, Any]:
    """Accuracy before/after and flip rates per intervention, joined by sample id."""
    first = by_sample(it for it in items if it["variant"] == INITIAL)
    order: dict[str, int] = {}
    for it in items:
        if it["variant"] != INITIAL:
            index = (it.get("metadata") or {}).get("template_index")
            order.setdefault(it["variant"], index if isinstance(index, int) else 1 << 30)
    # template order (ties for the worst intervention go to the earlier template)
    names = sorted(order, key=lambda n: (order[n], n))
    nan = float("nan")
    cells: dict[str, dict[str, Any]] = {}
    for name in names:
        after = by_sample(it for it in items if it["variant"] == name)
        ok = [i for i in sorted(set(first) & set(after))
              if first[i].get("error") is None and after[i].get("error") is None]
        right = [i for i in ok if is_correct(first[i])]
        wrong = [i for i in ok if not is_correct(first[i])]
        r2w = sum(not is_correct(after[i]) for i in right)
        w2r = sum(is_correct(after[i]) for i in wrong)
        acc_before = len(right) / len(ok) if ok else nan
        acc_after = sum(is_correct(after[i]) for i in ok) / len(ok) if ok else nan
        kinds = {(after[i].get("metadata") or {}).get("kind") for i in ok}
        followed = [(after[i].get("metadata") or {}).get("followed_wrong") for i in ok]
        cells[name] = {
            "n": len(ok), "kind": kinds.pop() if len(kinds) == 1 else None,
            "acc_before": acc_before, "acc_after": acc_after, "delta": acc_after - acc_before,
            "right_before": len(right), "right_to_wrong": r2w,
            "flip_right_to_wrong": r2w / len(right) if right else nan,
            "flip_right_to_wrong_ci": prop_dict(rate(r2w, len(right))),
            "wrong_before": len(wrong), "wrong_to_right": w2r,
            "flip_wrong_to_right": w2r / len(wrong) if wrong else nan,
            "adopted_wrong_option": sum(f is True for f in followed) / len(ok) if ok else nan,
        }
    rated = [n for n in names if cells[n]["right_before"]]
    # worst = highest right->wrong flip rate; ties keep the first in template order
    worst = max(rated, key=lambda n: (cells[n]["flip_right_to_wrong"], -names.index(n)),
                default=None)
    deltas = [cells[n]["delta"] for n in names if cells[n]["n"]]
    return {
        "acc_before": _accuracy([v for v in first.values() if v.get("error") is None]),
        "interventions": cells,
        "worst_intervention": worst,
        "mean_delta": sum(deltas) / len(deltas) if deltas else nan,
        "worst_delta": min(deltas) if deltas else nan,
    }
