"""Synthetic ``RunData`` for report tests, demos and the report-size benchmark.

Clearly fake: questions read "Synthetic question N ..." and outcomes are drawn from a seeded
random generator with a per-model skill.  No real patient or benchmark text is used.
"""

from __future__ import annotations

import random
from typing import Any

from medgauge.report.data import RunData

_ORGANS = ("chest", "head", "abdomen")
_MODALITIES = ("CT", "MRI", "X-Ray")
_LETTERS = "ABCD"


def _item(
    rng: random.Random, bench: str, i: int, skill: float, variant: str = "clean",
    with_conf: bool = False,
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "organ": _ORGANS[i % 3],
        "modality": _MODALITIES[(i // 3) % 3],
        "answer_type": "CLOSED" if i % 5 else "OPEN",
    }
    p_correct = skill
    if bench.startswith("phantom"):
        radius = 2.0 + (i * 7919 % 1000) / 1000 * 18.0
        meta["nodule_radius"] = round(radius, 2)
        p_correct = min(0.97, 0.25 + skill * radius / 14)
    gold = _LETTERS[i % 4]
    roll = rng.random()
    error = None
    if roll < 0.01:
        error, extracted, correct = "HTTP 503 after 4 tries", None, None
    elif roll < 0.04:
        extracted, correct = None, False
    else:
        correct = rng.random() < p_correct
        extracted = gold if correct else _LETTERS[(i + 1 + rng.randrange(3)) % 4]
    conf = None
    if with_conf and error is None:
        conf = min(1.0, max(0.0, round((0.55 if correct else 0.45) + rng.gauss(0.2, 0.2), 2)))
    response = (
        f"Looking at the {meta['modality']} of the {meta['organ']}, the findings suggest option "
        f"{extracted or '?'}. " + "Reasoning about the differential diagnosis. " * 3
    )
    return dict(
        sample_id=f"{bench}-{i:05d}", variant=variant, correct=correct, extracted=extracted,
        response="" if error else response, error=error,
        question=f"Synthetic question {i} about the {meta['organ']}: which finding is present? "
        + "A. consolidation B. effusion C. nodule D. normal. " * 3,
        answer=gold, confidence=conf, metrics={}, metadata=meta,
        cluster=f"img{i // 3}" if bench.startswith("vqa") else None,
    )


def synthetic_runs(
    models: tuple[str, ...] = ("model-a", "model-b"),
    benchmarks: tuple[str, ...] = ("vqa_synth", "mcq_synth", "phantom_synth"),
    n_items: int = 500,
    seed: int = 0,
    probe: str | None = None,
) -> list[RunData]:
    """Clean runs for every model x benchmark (plus one probe run per model if ``probe``)."""
    rng = random.Random(seed)
    runs: list[RunData] = []
    for mi, model in enumerate(models):
        skill = 0.55 + 0.1 * mi
        for bench in benchmarks:
            with_conf = bench.startswith("mcq")
            runs.append(RunData(
                run_id=f"{model}-{bench}", model=model, benchmark=bench, probe=None,
                config={"temperature": 0.0, "api_key": "sk-should-not-appear"},
                started=f"2025-01-0{mi + 1}T00:00:00", status="complete",
                items=[_item(rng, bench, i, skill, with_conf=with_conf) for i in range(n_items)],
            ))
        if probe:
            bench = benchmarks[0]
            items = []
            for i in range(min(n_items, 200)):
                items.append(_item(rng, bench, i, skill))
                blind = _item(rng, bench, i, skill * 0.6, variant="blind")
                blind["metrics"] = {"flip": float(rng.random() < 0.3)}
                items.append(blind)
            runs.append(RunData(
                run_id=f"{model}-{bench}-{probe}", model=model, benchmark=bench, probe=probe,
                config={}, started="2025-01-05T00:00:00", status="complete", items=items,
            ))
    return runs
