"""Retrieval quality as run metrics: ``recall@1``, ``recall@5``, ``recall@10``, ``mrr``,
``ndcg@10``, read from each item's metadata.

An item takes part when it carries the ids the ``retrieve`` step found (``retrieved``, best first)
and its gold passage ids (``gold_passages``: a list, or ``gold_passage``: one id; the PubMedQA
loader sets ``gold_passage`` to the question's own PMID, whose abstract is its gold evidence).
Items without either are left out (``n`` counts the others).  Retrieval happens before the model
is asked, so an item whose request failed still counts here.

Per-item formulas are those of :mod:`medgauge.retrieval.metrics` (recall@k: Manning, Raghavan &
Schütze 2008; reciprocal rank: Voorhees 1999; nDCG@k: Järvelin & Kekäläinen 2002).  Intervals:
when every item has one gold passage, recall@k is 0/1 and gets a Wilson interval, as retrieval
evaluation does (``evaluate_run``); otherwise (MRR, nDCG, recall with several gold passages) a
percentile bootstrap over items, clustered when items share a case.  Paired comparisons
(``compare``) use the per-item values (kind ``mean``: paired bootstrap).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from medgauge.metrics.base import Estimate, MeanMetric, as_items, cluster_labels, register
from medgauge.stats import proportion
from medgauge.types import Item


def gold_passages(metadata: dict[str, Any]) -> list[str]:
    """The item's gold passage ids: ``gold_passages`` (list) or ``gold_passage`` (one id)."""
    value = metadata.get("gold_passages", metadata.get("gold_passage"))
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [str(value)]


class RetrievalMetric(MeanMetric):
    """One retrieval measure per item from ``metadata["retrieved"]`` and the gold ids: a mean
    metric (bootstrap interval), with Wilson's interval instead when the measure is 0/1 per item
    and each item has one gold passage."""

    def __init__(self, name: str, per_query: Callable[[list[str], list[str]], float],
                 binary: bool, description: str) -> None:
        super().__init__(name, scale=1.0, missing_as_zero=False, description=description)
        self.per_query = per_query
        self.binary = binary  # 0/1 per item when each item has one gold passage

    def _value(self, it: Item) -> float | None:
        retrieved = it.metadata.get("retrieved")
        gold = gold_passages(it.metadata)
        if not isinstance(retrieved, list) or not gold:
            return None
        return float(self.per_query([str(r) for r in retrieved], gold))

    def counts(self, items: Sequence[Item]) -> dict[str, int]:
        return {}  # answer validity says nothing about what was retrieved

    def estimate(self, items: Sequence[Item], *, clustered: bool = True,
                 seed: int = 0) -> Estimate:
        items = as_items(items)
        vals = self.values(items)
        keep = [i for i, v in enumerate(vals) if v is not None]
        single = all(len(gold_passages(items[i].metadata)) == 1 for i in keep)
        labels = cluster_labels([items[i] for i in keep]) if clustered else None
        if self.binary and single and labels is None and keep:
            k = int(sum(vals[i] for i in keep))  # type: ignore[misc]
            p = proportion(k, len(keep))
            return Estimate(self.name, p.value, p.lo, p.hi, p.n, method=p.method, k=k,
                            scale=self.scale)
        return super().estimate(items, clustered=clustered, seed=seed)


# The per-query formulas live in medgauge.retrieval.metrics; imported when first used, because
# importing the retrieval package from the metrics package at start-up would be an import cycle.

def _recall(k: int) -> Callable[[list[str], list[str]], float]:
    def value(ranked: list[str], gold: list[str]) -> float:
        from medgauge.retrieval.metrics import recall_at_k

        return recall_at_k(ranked, gold, k)

    return value


def _mrr(ranked: list[str], gold: list[str]) -> float:
    from medgauge.retrieval.metrics import reciprocal_rank

    return reciprocal_rank(ranked, gold)


def _ndcg10(ranked: list[str], gold: list[str]) -> float:
    from medgauge.retrieval.metrics import ndcg_at_k

    return ndcg_at_k(ranked, gold, 10)


for _k in (1, 5, 10):
    register(RetrievalMetric(f"recall@{_k}", _recall(_k), True,
                             f"share of gold passages among the top {_k} retrieved"))
register(RetrievalMetric("mrr", _mrr, False,
                         "mean reciprocal rank of the first gold passage (0 if not retrieved)"))
register(RetrievalMetric("ndcg@10", _ndcg10, False,
                         "nDCG@10 of the retrieved list against the gold passages"))
