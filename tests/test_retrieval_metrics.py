"""recall@k, MRR and nDCG@k checked by hand and against scikit-learn, with their intervals."""

from __future__ import annotations

import math

import pytest

from medgauge.retrieval import Hit
from medgauge.retrieval.metrics import (
    evaluate_run,
    ndcg_at_k,
    recall_at_k,
    reciprocal_rank,
)
from medgauge.stats import bootstrap_mean, wilson
from medgauge.types import MedgaugeError


def test_per_query_values_by_hand() -> None:
    ranked = ["d3", "d1", "d7", "d2"]
    assert recall_at_k(ranked, {"d1", "d2"}, 1) == 0.0
    assert recall_at_k(ranked, {"d1", "d2"}, 2) == 0.5
    assert recall_at_k(ranked, {"d1", "d2"}, 4) == 1.0
    assert reciprocal_rank(ranked, {"d7", "d2"}) == pytest.approx(1 / 3)
    assert reciprocal_rank(ranked, {"d2"}, k=3) == 0.0
    assert reciprocal_rank([Hit("x", 1.0, 1)], {"x"}) == 1.0
    # binary nDCG@3, relevant {d1, d2}: DCG = 1/log2(3); IDCG = 1 + 1/log2(3)
    assert ndcg_at_k(ranked, {"d1", "d2"}, 3) == pytest.approx(
        (1 / math.log2(3)) / (1 + 1 / math.log2(3)))
    # graded: d1=3, d7=1, d9=2 (never retrieved); DCG@3 = 3/log2(3) + 1/2
    # IDCG@3 = 3/1 + 2/log2(3) + 1/2
    assert ndcg_at_k(ranked, {"d1": 3, "d7": 1, "d9": 2}, 3) == pytest.approx(
        (3 / math.log2(3) + 1 / 2) / (3 + 2 / math.log2(3) + 1 / 2))
    assert ndcg_at_k(["a", "a"], {"a"}, 2) == 1.0  # a duplicate earns no second gain
    assert math.isnan(recall_at_k(ranked, set(), 3))
    with pytest.raises(MedgaugeError, match="grade >= 0"):
        ndcg_at_k(ranked, {"d1": -1}, 3)


def test_ndcg_matches_scikit_learn() -> None:
    sklearn = pytest.importorskip("sklearn.metrics")
    import numpy as np

    # all 6 passages ranked, graded relevance: the same setting sklearn scores
    ranked = ["a", "b", "c", "d", "e", "f"]
    rel = {"a": 0, "b": 2, "c": 0, "d": 3, "e": 1, "f": 0}
    y_true = np.array([[rel[d] for d in ranked]])
    y_score = np.array([[6, 5, 4, 3, 2, 1]])
    for k in (1, 3, 5):
        assert ndcg_at_k(ranked, rel, k) == pytest.approx(
            sklearn.ndcg_score(y_true, y_score, k=k))


def test_evaluate_run_intervals_and_missing_queries() -> None:
    run = {"q1": ["a", "b"], "q2": ["c", "x"], "q3": ["y", "z"], "q9": ["a"]}
    qrels = {"q1": {"a"}, "q2": {"x"}, "q3": {"q"}, "q4": {"b"}}
    ev = evaluate_run(run, qrels, ks=(1, 2))
    assert ev.missing == 1 and ev.unjudged == 1  # q4 retrieved nothing; q9 has no judgement
    assert ev.per_query["q2"] == {"recall@1": 0.0, "recall@2": 1.0, "ndcg@1": 0.0,
                                  "ndcg@2": pytest.approx(1 / math.log2(3)), "mrr": 0.5}
    r2 = ev.scores["recall@2"]
    assert (r2.value, r2.n, r2.method) == (0.5, 4, "wilson")
    assert (r2.lo, r2.hi) == pytest.approx(wilson(2, 4))
    mrr = ev.scores["mrr"]
    boot = bootstrap_mean([1.0, 0.5, 0.0, 0.0])
    assert (mrr.value, mrr.lo, mrr.hi, mrr.method) == (0.375, boot.lo, boot.hi, "bootstrap")
    # two relevant passages for one query: recall is no longer 0/1, so bootstrap
    multi = evaluate_run(run, {"q1": {"a", "c"}, "q2": {"x"}}, ks=(1,))
    assert multi.scores["recall@1"].method == "bootstrap"
    assert multi.scores["recall@1"].value == pytest.approx(0.25)
    clustered = evaluate_run(run, qrels, ks=(1,), clusters={"q1": "c", "q2": "c"})
    assert clustered.scores["recall@1"].method == "cluster-bootstrap"
    with pytest.raises(MedgaugeError, match="no query has a relevant passage"):
        evaluate_run(run, {"q1": set()})
