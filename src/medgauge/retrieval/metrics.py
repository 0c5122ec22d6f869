"""Retrieval quality when the relevant (gold) passages are known: recall@k, MRR and nDCG@k per
query, and their means over queries with 95% intervals.

Per query, with ``ranked`` the retrieved ids best first and ``rel(d)`` the relevance grade of
passage ``d`` (1 for every listed id when relevance is binary, 0 for unlisted ones):

- recall@k = |relevant ∩ top k| / |relevant| (Manning, Raghavan & Schütze 2008, *Introduction to
  Information Retrieval*, ch. 8);
- reciprocal rank = 1 / (rank of the first relevant hit), 0 when none is retrieved (within
  ``k`` when given); its mean is MRR (Voorhees 1999, "The TREC-8 Question Answering Track
  Report");
- nDCG@k = DCG@k / IDCG@k with DCG@k = Σ_{i=1..k} rel(d_i) / log2(i + 1) (Järvelin & Kekäläinen
  2002, "Cumulated gain-based evaluation of IR techniques", ACM TOIS 20(4), with the log2(i + 1)
  discount used by trec_eval); IDCG@k is the DCG of the ideal ordering of all graded passages.

Written here rather than taken from scikit-learn's ``ndcg_score``, which needs a score for every
passage of the corpus per query; these work on ranked id lists (with relevant passages that were
never retrieved) and keep the core free of heavy dependencies.

Means: a query's recall@k is 0 or 1 when it has exactly one relevant passage, so when every query
has one the mean is a proportion with a Wilson interval (``medgauge.stats.proportion``); otherwise
recall, MRR and nDCG are continuous and get a percentile bootstrap interval over queries
(``medgauge.stats.bootstrap``, clustered when ``clusters`` is given).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from medgauge.retrieval.base import Hit
from medgauge.stats import bootstrap_mean, proportion
from medgauge.types import MedgaugeError

Relevance = Mapping[str, float] | Collection[str]


def grades(relevant: Relevance) -> dict[str, float]:
    """Relevance as {id: grade > 0}: a collection of ids is binary (grade 1)."""
    if isinstance(relevant, Mapping):
        out = {}
        for pid, g in relevant.items():
            grade = float(g)
            if not math.isfinite(grade) or grade < 0:
                raise MedgaugeError(f"relevance of {pid!r}: expected a grade >= 0, got {g!r}")
            if grade > 0:
                out[str(pid)] = grade
        return out
    if isinstance(relevant, str):
        return {relevant: 1.0}
    return {str(pid): 1.0 for pid in relevant}


def _ids(ranked: Sequence[str] | Sequence[Hit]) -> list[str]:
    return [h.id if isinstance(h, Hit) else str(h) for h in ranked]


def recall_at_k(ranked: Sequence[str] | Sequence[Hit], relevant: Relevance, k: int) -> float:
    """|relevant ∩ top k| / |relevant|; ``nan`` when nothing is relevant."""
    rel = grades(relevant)
    if not rel:
        return math.nan
    top = set(_ids(ranked)[:k])
    return sum(1 for pid in rel if pid in top) / len(rel)


def reciprocal_rank(ranked: Sequence[str] | Sequence[Hit], relevant: Relevance,
                    k: int | None = None) -> float:
    """1 / rank of the first relevant hit (within ``k`` when given), else 0; ``nan`` when
    nothing is relevant."""
    rel = grades(relevant)
    if not rel:
        return math.nan
    ids = _ids(ranked)
    for i, pid in enumerate(ids[:k] if k is not None else ids, 1):
        if pid in rel:
            return 1.0 / i
    return 0.0


def ndcg_at_k(ranked: Sequence[str] | Sequence[Hit], relevant: Relevance, k: int) -> float:
    """DCG@k / IDCG@k with gain ``rel`` and discount ``log2(i + 1)``; ``nan`` when nothing is
    relevant.  A passage retrieved twice counts once (at its first rank)."""
    rel = grades(relevant)
    if not rel:
        return math.nan
    seen: set[str] = set()
    dcg = 0.0
    for i, pid in enumerate(_ids(ranked)[:k], 1):
        if pid in rel and pid not in seen:
            dcg += rel[pid] / math.log2(i + 1)
        seen.add(pid)
    ideal = sorted(rel.values(), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 1) for i, g in enumerate(ideal, 1))
    return dcg / idcg


@dataclass(frozen=True, slots=True)
class MetricMean:
    """Mean of a per-query metric with its 95% interval; ``method`` is ``wilson`` or
    ``bootstrap`` (``cluster-bootstrap`` with clusters)."""

    name: str
    value: float
    lo: float
    hi: float
    n: int
    method: str
    higher_is_better: bool = True


@dataclass
class RetrievalEvaluation:
    """Per-query values (``per_query[qid][metric]``) and their means (``scores[metric]``).

    ``missing`` counts queries with relevance judgements but no entry in the run (scored as
    retrieving nothing); ``unjudged`` counts run queries without relevant passages (left out).
    """

    per_query: dict[str, dict[str, float]]
    scores: dict[str, MetricMean]
    missing: int = 0
    unjudged: int = 0
    ks: tuple[int, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


def _mean(name: str, values: list[float], binary: bool, clusters: list[Any] | None,
          seed: int) -> MetricMean:
    if binary and clusters is None:
        k = sum(1 for v in values if v == 1.0)
        p = proportion(k, len(values))
        return MetricMean(name, p.value, p.lo, p.hi, p.n, p.method)
    ci = bootstrap_mean(values, clusters, seed=seed)
    return MetricMean(name, ci.estimate, ci.lo, ci.hi, ci.n, ci.method)


def evaluate_run(run: Mapping[str, Sequence[str] | Sequence[Hit]],
                 qrels: Mapping[str, Relevance], ks: Sequence[int] = (1, 5, 10), *,
                 clusters: Mapping[str, Any] | None = None, seed: int = 0
                 ) -> RetrievalEvaluation:
    """recall@k and nDCG@k for each ``k`` in ``ks``, and MRR (over the whole ranked list), for
    every query of ``qrels`` that has a relevant passage.

    ``run`` maps query id -> ranked ids or :class:`Hit`s; ``qrels`` maps query id -> relevant
    ids (binary) or {id: grade}.  Raises ``MedgaugeError`` when no query can be scored."""
    ks = tuple(sorted({int(k) for k in ks}))
    if not ks or ks[0] < 1:
        raise MedgaugeError(f"retrieval metrics: k values must be >= 1, got {ks}")
    per_query: dict[str, dict[str, float]] = {}
    single = True
    missing = 0
    for qid, relevant in qrels.items():
        rel = grades(relevant)
        if not rel:
            continue
        single = single and len(rel) == 1
        if qid not in run:
            missing += 1
        ranked = run.get(qid, [])
        row = {f"recall@{k}": recall_at_k(ranked, rel, k) for k in ks}
        row.update({f"ndcg@{k}": ndcg_at_k(ranked, rel, k) for k in ks})
        row["mrr"] = reciprocal_rank(ranked, rel)
        per_query[str(qid)] = row
    if not per_query:
        raise MedgaugeError("retrieval metrics: no query has a relevant passage")
    unjudged = sum(1 for qid in run if qid not in per_query)
    qids = list(per_query)
    labels = None if clusters is None else [clusters.get(q) for q in qids]
    scores: dict[str, MetricMean] = {}
    binary_recall = single and all(per_query[q][f"recall@{k}"] in (0.0, 1.0)
                                   for q in qids for k in ks)
    for name in per_query[qids[0]]:
        values = [per_query[q][name] for q in qids]
        binary = name.startswith("recall@") and binary_recall
        scores[name] = _mean(name, values, binary, labels, seed)
    return RetrievalEvaluation(per_query, scores, missing, unjudged, ks)
