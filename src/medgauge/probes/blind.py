"""``blind``: the same items without their images (MMStar's "w/o visual" run).

Chen et al. 2024, "Are We on the Right Way for Evaluating Large Vision-Language Models?" (MMStar;
``MMStar-Benchmark/MMStar:eval/README.md``, PROTOCOLS.md section 2):
``MG = S_v - S_wv`` (multi-modal gain) and ``ML = max(0, S_wv - S_t)`` (multi-modal leakage),
where ``S_v`` is the model with images (the clean run), ``S_wv`` the same model without images
(this probe) and ``S_t`` the model's base LLM, text only (probe option ``text_run=<run id>``).
The image parts are dropped from the message list, as MMStar's API path does.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from medgauge.probes.common import (
    Item,
    Probe,
    ProbeResult,
    SummaryContext,
    acc_of,
    by_sample,
    check_options,
    is_correct,
    prop_dict,
)
from medgauge.runner.solver import SolveContext, solvers
from medgauge.stats import paired_compare
from medgauge.types import ItemResult, Sample


@solvers.register("blind")
class BlindProbe(Probe):
    name = "blind"
    description = "items without their image: multimodal gain MG = S_v - S_wv, leakage ML (MMStar)"
    headline = "multimodal gain MG"

    def __init__(self, **options: Any) -> None:
        check_options(self.name, options, ("text_run",))
        super().__init__(**options)

    async def solve(self, sample: Sample, ctx: SolveContext) -> list[ItemResult]:
        state = await ctx.ask(sample, with_images=False)
        return [ctx.output(sample, state, variant="blind",
                           metadata={"images_removed": len(sample.images)})]

    @classmethod
    def summarize(cls, items: list[Item], clean: list[Item] | None,
                  options: Mapping[str, Any], context: SummaryContext) -> ProbeResult:
        blind = by_sample(it for it in items if it["variant"] == "blind")
        s_wv = acc_of(blind.values())
        details: dict[str, Any] = {"S_wv": prop_dict(s_wv)}
        if blind and all((it.get("metadata") or {}).get("images_removed") == 0
                         for it in blind.values()):
            nan = float("nan")
            return ProbeResult(cls.name, cls.headline, nan, nan, nan, s_wv.n, "higher", None,
                               None, {**details, "not_applicable":
                                      "text-only benchmark: no image to remove"})
        right_blind = sorted(i for i, it in blind.items() if is_correct(it))
        details["right_without_image"] = len(right_blind)
        details["right_without_image_ids"] = right_blind[:50]
        if clean is None:
            return ProbeResult(cls.name, "accuracy without image S_wv", s_wv.value, s_wv.lo,
                               s_wv.hi, s_wv.n, "lower", None, None,
                               {**details, "note": "no clean run: MG needs S_v"})
        ref = by_sample(c for c in clean if c.get("variant", "clean") == "clean")
        shared = sorted(set(ref) & set(blind))
        s_v = acc_of(ref[i] for i in shared)
        details["S_v"] = prop_dict(s_v)
        details["S_wv"] = prop_dict(acc_of(blind[i] for i in shared))
        clusters = {i: ref[i].get("cluster") or f"item:{i}" for i in shared}
        cmp = paired_compare({i: _val(ref[i]) for i in shared},
                             {i: _val(blind[i]) for i in shared},
                             clusters if any(ref[i].get("cluster") for i in shared) else None,
                             names=("with image", "blind"))  # clusters: shared images
        details["right_without_image_wrong_with"] = sum(
            is_correct(blind[i]) and not is_correct(ref[i]) for i in shared if _val(ref[i])
            is not None)
        details["mcnemar_p"] = cmp.p_mcnemar
        text_run = options.get("text_run")
        if text_run:
            text = by_sample(context.items_of(str(text_run)))
            both = sorted(set(text) & set(blind))
            s_t = acc_of(text[i] for i in both)
            tcmp = paired_compare({i: _val(blind[i]) for i in both},
                                  {i: _val(text[i]) for i in both}, names=("blind", "text"))
            details["S_t"] = prop_dict(s_t)
            details["ML"] = _leak(tcmp.diff)
            details["ML_lo"] = _leak(tcmp.lo)
            details["ML_hi"] = _leak(tcmp.hi)
        return ProbeResult(cls.name, cls.headline, cmp.diff, cmp.lo, cmp.hi, cmp.n, "higher",
                           s_v.value if s_v.n else None, s_v.n, details, "paired-bootstrap")


def _val(item: Item) -> float | None:
    return None if item.get("error") is not None else float(bool(item.get("correct")))


def _leak(diff: float) -> float:
    """``max(0, S_wv - S_t)``; nan stays nan."""
    return diff if math.isnan(diff) else max(0.0, diff)
