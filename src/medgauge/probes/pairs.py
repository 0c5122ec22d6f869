"""``pairs``: one question asked of two images that need different answers (MediConfusion).

Sepehri et al. 2024, "MediConfusion: Can you trust your AI radiologist?"
(``MShahabSepehri/MediConfusion:utils/answering.py``; PROTOCOLS.md section 1).  Over the N pairs
whose two members were both answered:

- ``set_acc = #pairs with both images right / N`` (headline)
- ``individual_acc = #right images / 2N``
- ``confused = #pairs with c1 == c2 valid / #pairs with both answers valid``
- ``invalid = #invalid images / 2N``
- ``precision = set_right / #valid non-confused pairs``
- per category: each image counts under each of its categories; a pair counts under each
  category of each member (so a category listed for both images counts twice, as in the
  reference code).

Pairs come from ``pair_id`` / ``pair_member`` metadata (MediConfusion, phantom confusion
pairs) or, on any other benchmark, from items whose normalised question text is the same while
their images and answers differ (matched greedily in sample-id order; unmatched items are not
asked).  The requests are the clean ones, so after a clean run the probe costs no model calls.
Pairs with a member missing (e.g. cut by ``limit``) or errored are counted and reported apart.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from medgauge.probes.common import (
    Item,
    Probe,
    ProbeResult,
    SummaryContext,
    check_options,
    clean_accuracy,
    is_correct,
    is_invalid,
    norm_answer,
    prop_dict,
    rate,
    result,
)
from medgauge.runner.solver import SolveContext, solvers
from medgauge.types import ItemResult, Sample

if TYPE_CHECKING:
    from medgauge.benchmarks.base import Benchmark

CATEGORY_FIELDS = ("category", "image_organ", "modality", "body_system", "location")


def question_key(text: str) -> str:
    """Question text normalised for grouping: lower case, punctuation and spaces collapsed."""
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def image_key(sample: Sample) -> str:
    return "|".join(ref.path for ref in sample.images)


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def match_pairs(samples: list[Sample]) -> dict[str, tuple[str, int]]:
    """Sample id -> (pair id, member 1/2) for items sharing a question with different images and
    answers.  Greedy in sample-id order within each question group: an item is matched with the
    first later unmatched item whose image and answer both differ."""
    groups: dict[str, list[Sample]] = defaultdict(list)
    for s in samples:
        if s.images:
            groups[question_key(s.question)].append(s)
    out: dict[str, tuple[str, int]] = {}
    for key, group in sorted(groups.items()):
        group.sort(key=lambda s: s.id)
        free = list(group)
        n = 0
        while free:
            first = free.pop(0)
            for j, other in enumerate(free):
                if (image_key(other) != image_key(first)
                        and norm_answer(other.answer) != norm_answer(first.answer)):
                    free.pop(j)
                    pair = f"q:{_digest(key)}#{n}"  # the whole question, never a prefix
                    out[first.id] = (pair, 1)
                    out[other.id] = (pair, 2)
                    n += 1
                    break
    return out


@solvers.register("pairs")
class PairsProbe(Probe):
    name = "pairs"
    description = ("one question, two images with different answers: set accuracy, confusion "
                   "(MediConfusion)")
    headline = "set accuracy"

    def __init__(self, **options: Any) -> None:
        check_options(self.name, options, ("category",))
        super().__init__(**options)
        self.index: dict[str, tuple[str, int]] = {}

    def prepare(self, benchmark: Benchmark) -> None:
        samples = [s for s in benchmark.samples() if "pair_id" not in s.metadata]
        self.index = match_pairs(samples)

    def pair_of(self, sample: Sample) -> tuple[str, int, str] | None:
        meta = sample.metadata
        if meta.get("pair_id") is not None and meta.get("pair_member") is not None:
            return str(meta["pair_id"]), int(meta["pair_member"]), "metadata"
        found = self.index.get(sample.id)
        return None if found is None else (found[0], found[1], "question")

    async def solve(self, sample: Sample, ctx: SolveContext) -> list[ItemResult]:
        pair = self.pair_of(sample)
        if pair is None:
            return []
        return [ctx.output(sample, await ctx.ask(sample), variant="pair",
                          metadata={"pair_id": pair[0], "pair_member": pair[1],
                                    "pair_source": pair[2]})]

    @classmethod
    def summarize(cls, items: list[Item], clean: list[Item] | None,
                  options: Mapping[str, Any], context: SummaryContext) -> ProbeResult:
        rows = [it for it in items if it["variant"] == "pair"]
        scores = pair_scores(rows, options.get("category"))
        set_acc = rate(scores["set_correct"], scores["pairs"])
        ids = [str(r["sample_id"]) for r in rows]
        return result(cls.name, cls.headline, set_acc, "higher", clean_accuracy(clean, ids),
                      scores)


def _categories(item: Item, fld: str | None) -> list[str]:
    meta = item.get("metadata") or {}
    if fld is None:
        fld = next((f for f in CATEGORY_FIELDS if meta.get(f) not in (None, "")), None)
        if fld is None:
            return []
    value = meta.get(fld)
    if value is None or value == "":
        return []
    values = value if isinstance(value, list) else str(value).split(",")
    return [str(v).strip() for v in values if str(v).strip()]


def pair_scores(rows: list[Item], category: str | None = None) -> dict[str, Any]:
    """MediConfusion's metrics over the given items (each with pair_id / pair_member)."""
    members: dict[str, dict[int, Item]] = defaultdict(dict)
    for r in rows:
        meta = r.get("metadata") or {}
        members[str(meta["pair_id"])][int(meta["pair_member"])] = r
    complete: list[tuple[Item, Item]] = []
    incomplete = errored = 0
    for pid in sorted(members):
        m = members[pid]
        if 1 not in m or 2 not in m:
            incomplete += 1
            continue
        if m[1].get("error") is not None or m[2].get("error") is not None:
            errored += 1
            continue
        complete.append((m[1], m[2]))
    n = len(complete)
    individual = sum(is_correct(a) + is_correct(b) for a, b in complete)
    set_correct = sum(is_correct(a) and is_correct(b) for a, b in complete)
    invalid = sum(is_invalid(a) + is_invalid(b) for a, b in complete)
    valid_pairs = [(a, b) for a, b in complete if not is_invalid(a) and not is_invalid(b)]
    confused = sum(norm_answer(a["extracted"]) == norm_answer(b["extracted"])
                   for a, b in valid_pairs)
    non_confused = len(valid_pairs) - confused
    cat_img: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    cat_set: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for a, b in complete:
        both = is_correct(a) and is_correct(b)
        for member in (a, b):
            for c in _categories(member, category):
                cat_img[c][0] += is_correct(member)
                cat_img[c][1] += 1
                cat_set[c][0] += both
                cat_set[c][1] += 1
    per_category = {c: {"individual_acc": cat_img[c][0] / cat_img[c][1],
                        "set_acc": cat_set[c][0] / cat_set[c][1], "images": cat_img[c][1]}
                    for c in sorted(cat_img)}
    nan = float("nan")
    return {
        "pairs": n,
        "set_correct": set_correct,
        "set_acc": set_correct / n if n else nan,
        "individual_acc": individual / (2 * n) if n else nan,
        "confused": confused / len(valid_pairs) if valid_pairs else nan,
        "valid_pairs": len(valid_pairs),
        "invalid": invalid / (2 * n) if n else nan,
        "precision": set_correct / non_confused if non_confused else nan,
        "incomplete_pairs": incomplete,
        "errored_pairs": errored,
        "set_acc_ci": prop_dict(rate(set_correct, n)),
        "per_category": per_category,
    }
