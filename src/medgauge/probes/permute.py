"""``permute``: circular evaluation — the options rotated through every position.

After MMBench's CircularEval (Liu et al. 2024, "MMBench: Is Your Multi-modal Model an
All-around Player?", ECCV): an item with k options is asked k times, rotation r putting original
option ``(i + r) mod k`` at position i; the item counts as right only when every rotation is
right.  For closed (yes/no) items the order of the labels in the instruction ("yes or no" /
"no or yes") is rotated the same way [I].  Rotation 0 is the clean request (a cache hit).

Position bias: over the valid answers of all rotations, the share of answers at each position
against that position's share of gold answers (each position holds the gold once per item, so
the gold share is ``1/k`` for a complete set of rotations).
"""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from collections.abc import Mapping
from typing import Any

from medgauge.probes.common import (
    Item,
    Probe,
    ProbeResult,
    SummaryContext,
    check_options,
    clean_accuracy,
    gold_choice,
    is_correct,
    prop_dict,
    rate,
    result,
)
from medgauge.prompts.templates import placeholders, resolve
from medgauge.runner.solver import SolveContext, solvers
from medgauge.types import ItemResult, MedgaugeError, Sample


def rotate(sample: Sample, r: int) -> tuple[Sample, dict[str, Any]]:
    """The sample with its choices rotated by ``r`` and the facts the metrics need."""
    if sample.answer_type == "mcq":
        letters = list(sample.options)
        texts = [sample.options[c] for c in letters]
        k = len(letters)
        origin = [letters[(i + r) % k] for i in range(k)]  # original letter now at position i
        options = {letters[i]: texts[(i + r) % k] for i in range(k)}
        gold = gold_choice(sample)
        new_gold = letters[origin.index(gold)] if gold in origin else sample.answer
        variant = dataclasses.replace(sample, options=options, answer=new_gold)
        order = letters
    else:
        labels = list(sample.labels)
        k = len(labels)
        origin = [labels[(i + r) % k] for i in range(k)]
        variant = dataclasses.replace(sample, labels=tuple(origin))
        order = origin
        new_gold = gold_choice(sample) or sample.answer
    return variant, {"rotation": r, "k": k, "order": order,
                     "origin": dict(zip(order, origin, strict=True)),
                     "gold_position": order.index(new_gold) if new_gold in order else None}


@solvers.register("permute")
class PermuteProbe(Probe):
    name = "permute"
    description = "options rotated through every position: circular accuracy, position bias"
    headline = "circular accuracy"

    def __init__(self, **options: Any) -> None:
        check_options(self.name, options, ())
        super().__init__(**options)

    async def solve(self, sample: Sample, ctx: SolveContext) -> list[ItemResult]:
        if sample.answer_type not in ("mcq", "yesno") or gold_choice(sample) is None:
            return []
        k = len(sample.options) if sample.answer_type == "mcq" else len(sample.labels)
        shown = "options" if sample.answer_type == "mcq" else "labels"
        if shown not in placeholders(resolve(ctx.prompt, sample).text):
            raise MedgaugeError(f"probe permute: the prompt does not show the {shown} "
                                f"({{{shown}}}), so every rotation would send the same request "
                                f"scored against a different answer; add {{{shown}}} to the "
                                "prompt")
        out = []
        for r in range(k):
            variant, facts = rotate(sample, r)
            state = await ctx.ask(variant)
            item = ctx.output(variant, state, variant=f"rot{r}", answer=variant.answer)
            got = ctx.extract(variant, state.response.text) if state.response.ok else None
            chosen = _position(got, facts["order"])
            item.metadata = {
                "rotation": r, "k": k, "gold_position": facts["gold_position"],
                "chosen_position": chosen,
                "chosen_original": None if chosen is None else facts["origin"][
                    facts["order"][chosen]],
                **({"options": variant.options} if sample.answer_type == "mcq" else
                   {"labels": list(variant.labels)}),
            }
            out.append(item)
        return out

    @classmethod
    def summarize(cls, items: list[Item], clean: list[Item] | None,
                  options: Mapping[str, Any], context: SummaryContext) -> ProbeResult:
        scores = permute_scores(items)
        circ = rate(scores["all_right"], scores["items"])
        ids = list(scores["ids"])
        del scores["ids"]
        return result(cls.name, cls.headline, circ, "higher", clean_accuracy(clean, ids), scores)


def _position(extracted: str | None, order: list[str]) -> int | None:
    if extracted is None:
        return None
    low = [o.strip().lower() for o in order]
    got = str(extracted).strip().lower()
    return low.index(got) if got in low else None


def permute_scores(items: list[Item]) -> dict[str, Any]:
    """Circular accuracy over items with every rotation answered; position bias over valid
    answers of all rotations."""
    per_sample: dict[str, list[Item]] = defaultdict(list)
    for it in items:
        if str(it["variant"]).startswith("rot"):
            per_sample[str(it["sample_id"])].append(it)
    complete = errored = 0
    all_right = consistent = 0
    first_right = 0
    ids: list[str] = []
    chosen: Counter[int] = Counter()
    gold: Counter[int] = Counter()
    n_valid = n_gold = 0
    for sid, rows in sorted(per_sample.items()):
        meta = [r.get("metadata") or {} for r in rows]
        k = int(meta[0].get("k", len(rows)))
        if any(r.get("error") is not None for r in rows) or len(rows) < k:
            errored += 1
            continue
        complete += 1
        ids.append(sid)
        all_right += all(is_correct(r) for r in rows)
        rot0 = [r for r, m in zip(rows, meta, strict=True) if m.get("rotation") == 0]
        first_right += bool(rot0) and is_correct(rot0[0])
        picks = {m.get("chosen_original") for m in meta}
        consistent += len(picks) == 1 and None not in picks
        for m in meta:
            if m.get("gold_position") is not None:
                gold[int(m["gold_position"])] += 1
                n_gold += 1
            if m.get("chosen_position") is not None:
                chosen[int(m["chosen_position"])] += 1
                n_valid += 1
    positions = sorted(set(chosen) | set(gold))
    bias = {str(p): {"chosen": chosen[p], "chosen_share": chosen[p] / n_valid if n_valid else
                     float("nan"), "gold_share": gold[p] / n_gold if n_gold else float("nan")}
            for p in positions}
    gaps = [(abs(v["chosen_share"] - v["gold_share"]), int(p)) for p, v in bias.items()
            if n_valid and n_gold]
    # most favoured position: largest excess of chosen over gold share; ties -> lowest position
    favoured = max(((bias[str(p)]["chosen_share"] - bias[str(p)]["gold_share"], -p)
                    for p in positions), default=None) if n_valid and n_gold else None
    nan = float("nan")
    return {
        "items": complete, "ids": ids, "incomplete_or_errored": errored,
        "all_right": all_right,
        "circular_acc": all_right / complete if complete else nan,
        "circular_acc_ci": prop_dict(rate(all_right, complete)),
        "rotation0_acc": first_right / complete if complete else nan,
        "consistency": consistent / complete if complete else nan,
        "valid_answers": n_valid,
        "position_bias": bias,
        "max_bias_gap": max(gaps)[0] if gaps else nan,
        "favoured_position": None if favoured is None else -favoured[1],
    }
