"""``perturb``: the same questions on corrupted images (noise, blur, JPEG, downscale, contrast,
and MMedPO-style region noising inside a box or mask); see ``corrupt.py`` for the recipes.

Each (corruption, severity) is one variant ``"{corruption}@{severity}"``; the corrupted image is
built at solve time as ``ImageRef(path="{orig}#{corruption}@{severity}", b64=...)`` from a seed
that depends only on the run seed, the sample and the variant, so reruns hit the cache.
Metrics: accuracy per corruption and severity, and — paired with the clean run — how often an
answer the clean run got right changes under corruption (the headline, lower is better).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from medgauge.probes.common import (
    Item,
    Probe,
    ProbeResult,
    SummaryContext,
    acc_of,
    as_list,
    by_sample,
    check_options,
    clean_accuracy,
    is_correct,
    norm_answer,
    prop_dict,
    result,
)
from medgauge.probes.corrupt import CORRUPTIONS, corrupted_ref, parse_box
from medgauge.runner.solver import SolveContext, solvers
from medgauge.stats import bootstrap_proportion
from medgauge.types import ItemResult, MedgaugeError, Sample

DEFAULT_SEVERITIES = (1, 3, 5)


@solvers.register("perturb")
class PerturbProbe(Probe):
    name = "perturb"
    description = ("corrupted images (noise, blur, JPEG, downscale, contrast, region noise) at "
                   "severity 1-5: accuracy per cell, answer changes")
    headline = "changed answers (clean-right)"

    def __init__(self, **options: Any) -> None:
        check_options(self.name, options, ("corruptions", "severities", "max_side", "box",
                                           "box_field", "mask_field"))
        super().__init__(**options)
        # de-duplicated: each (corruption, severity) is one stored variant
        self.corruptions = list(dict.fromkeys(
            as_list(options.get("corruptions"), "corruptions") or list(CORRUPTIONS)))
        for c in self.corruptions:
            if c not in CORRUPTIONS:
                raise MedgaugeError(f"probe perturb: unknown corruption {c!r} "
                                    f"(known: {', '.join(CORRUPTIONS)})")
        raw = as_list(options.get("severities"), "severities") or [
            str(s) for s in DEFAULT_SEVERITIES]
        try:
            self.severities = list(dict.fromkeys(int(s) for s in raw))
        except ValueError:
            raise MedgaugeError(f"probe perturb: severities must be integers 1-5, got {raw}"
                                ) from None
        if not all(1 <= s <= 5 for s in self.severities):
            raise MedgaugeError(f"probe perturb: severities must be 1 to 5, got {raw}")
        max_side = options.get("max_side")
        self.max_side = int(max_side) if max_side is not None else None
        self.box = parse_box(options.get("box"), "probe perturb option box")
        self.box_field = str(options.get("box_field", "bbox"))
        self.mask_field = str(options.get("mask_field", "mask"))

    def region(self, sample: Sample) -> dict[str, Any] | None:
        mask = sample.metadata.get(self.mask_field)
        if isinstance(mask, str) and mask:
            return {"mask": mask}
        box = sample.metadata.get(self.box_field)
        if box is not None:
            return {"box": parse_box(box, f"sample {sample.id}: metadata {self.box_field}")}
        return {"box": self.box} if self.box is not None else None

    async def solve(self, sample: Sample, ctx: SolveContext) -> list[ItemResult]:
        if not sample.images:
            return []
        region = self.region(sample)
        out = []
        for corruption in self.corruptions:
            if corruption == "region_noise" and region is None:
                continue
            for severity in self.severities:
                variant = f"{corruption}@{severity}"
                seeds = [ctx.rng(sample, f"perturb:{variant}:{i}").getrandbits(63)
                         for i in range(len(sample.images))]
                kw: dict[str, Any] = {"max_side": self.max_side}
                if corruption == "region_noise":
                    kw.update(region or {})
                refs = await asyncio.to_thread(
                    lambda c=corruption, s=severity, sd=seeds, k=kw: tuple(
                        corrupted_ref(ref, c, s, seed, **k)
                        for ref, seed in zip(sample.images, sd, strict=True)))
                perturbed = dataclasses.replace(sample, images=refs)
                out.append(ctx.output(sample, await ctx.ask(perturbed), variant=variant,
                                     metadata={"corruption": corruption, "severity": severity}))
        return out

    @classmethod
    def summarize(cls, items: list[Item], clean: list[Item] | None,
                  options: Mapping[str, Any], context: SummaryContext) -> ProbeResult:
        scores = perturb_scores(items, clean)
        flags = scores.pop("_flags")
        ids = sorted({str(it["sample_id"]) for it in items})
        clean_acc = clean_accuracy(clean, ids)
        if clean is None:
            pooled = acc_of(it for it in items if it.get("metadata", {}).get("corruption"))
            return result(cls.name, "accuracy under perturbation", pooled, "higher", None,
                          {**scores, "note": "no clean run: answer changes need it"})
        # items of one sample share its image: resample samples, not items
        changed = bootstrap_proportion([f for _, f in flags], [sid for sid, _ in flags],
                                       n_resamples=2000)
        return result(cls.name, cls.headline, changed, "lower", clean_acc, scores)


def perturb_scores(items: list[Item], clean: list[Item] | None) -> dict[str, Any]:
    """Accuracy per corruption and severity; answer changes on items the clean run got right
    (an invalid answer under corruption counts as a change; request errors are left out)."""
    cells: dict[str, list[Item]] = defaultdict(list)
    for it in items:
        meta = it.get("metadata") or {}
        if meta.get("corruption") is not None:
            cells[f"{meta['corruption']}@{meta['severity']}"].append(it)
    ref = by_sample(c for c in clean if c.get("variant", "clean") == "clean") if clean else {}
    per_cell: dict[str, dict[str, Any]] = {}
    by_corruption: dict[str, dict[str, Any]] = {}
    changed_total = right_total = 0
    flags: list[tuple[str, bool]] = []
    for name in sorted(cells, key=lambda n: (n.split("@")[0], int(n.split("@")[1]))):
        rows = cells[name]
        acc = acc_of(rows)
        changed = right = 0
        for it in rows:
            base = ref.get(str(it["sample_id"]))
            if base is None or it.get("error") is not None or not is_correct(base):
                continue
            right += 1
            flip = (it.get("extracted") is None
                    or norm_answer(it["extracted"]) != norm_answer(base.get("extracted")))
            changed += flip
            flags.append((str(it["sample_id"]), flip))
        changed_total += changed
        right_total += right
        per_cell[name] = {"accuracy": prop_dict(acc), "clean_right": right, "changed": changed,
                          "change_rate": changed / right if right else float("nan")}
        corruption, severity = name.split("@")
        by_corruption.setdefault(corruption, {})[severity] = acc.value
    return {"cells": per_cell, "accuracy_by_corruption": by_corruption,
            "clean_right_items": right_total, "changed": changed_total, "_flags": flags}
