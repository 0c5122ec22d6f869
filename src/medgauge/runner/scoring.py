"""The scoring phase: solved items -> scores, and ``medgauge rescore``.

Solving (asking the model) and scoring (judging the replies) are separate phases.  The engine
scores each sample's items right after solving them and stores both in one transaction; a rerun
re-scores, without solving, every sample whose items lack a score of the run's current scorer
version; ``rescore_run`` does the same for a stored run with any scorer, with no model calls
except a grader's (themselves cached).  A failed request is an error score, never an answer; a
scorer's own failure (a grader call that failed) is an error score too.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from medgauge.scoring.base import ScoreContext, Scorer
from medgauge.types import ItemResult, MedgaugeError, Score

if TYPE_CHECKING:
    from medgauge.store import Store


async def score_item(item: ItemResult, scorer: Scorer, ctx: ScoreContext) -> Score:
    if item.error is not None:
        return Score.failed(item.error)
    if item.target is None:
        raise MedgaugeError(f"item {item.sample_id}/{item.variant} has no target to score")
    return await scorer.score(item, ctx)


async def score_items(items: list[ItemResult], scorer: Scorer, ctx: ScoreContext) -> None:
    """Fill ``item.score`` for each item, in order (a sample's items are few)."""
    for item in items:
        item.score = await score_item(item, scorer, ctx)


async def rescore_samples(store: Store, run_id: str, scorer: Scorer, ctx: ScoreContext,
                          sample_ids: set[str] | None = None) -> tuple[int, int]:
    """Score the stored items of a run (of ``sample_ids`` only, when given) with ``scorer`` and
    store the scores one sample per transaction; returns (items scored, errors)."""
    by_sample: dict[str, list[ItemResult]] = defaultdict(list)
    for _, item in store.stored_items(run_id, sample_ids):
        by_sample[item.sample_id].append(item)
    key = (scorer.name, scorer.version)
    n = errors = 0
    for items in by_sample.values():
        await score_items(items, scorer, ctx)
        store.put_scores(run_id, [(it.sample_id, it.variant, it.score) for it in items
                                  if it.score is not None], key)
        n += len(items)
        errors += sum(it.score is not None and it.score.status == "error" for it in items)
    return n, errors
