"""BM25 indexing time and per-query latency on a synthetic corpus, through medgauge's retriever.

    python benchmarks/retrieval_speed.py [--passages 100000] [--words 120] [--queries 1000]
                                         [--k 5] [--seed 0]

The corpus is generated deterministically (numpy seed): a vocabulary of 50,000 pseudo-words drawn
with Zipf-like frequencies (exponent 1.1), ``--words`` words per passage on average.  Queries are
12-word spans copied from random passages with two words replaced by random vocabulary words.
Prints the indexing time (tokenising, stemming and building, in memory and through the cache),
the per-query latency at k (mean and p95 wall time, and mean CPU time, one query per call, as a
pipeline step asks; on a shared machine the CPU time is the steadier number), the
batched throughput, and the peak RSS; ends with one JSON line.  Targets (issue 13): indexing 100k
passages in under a minute on 2 cores; under 5 ms per query at k = 5.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import numpy as np

from medgauge.retrieval import Corpus, Passage, open_index


def make_vocabulary(rng: np.random.Generator, size: int) -> np.ndarray:
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    lengths = rng.integers(3, 11, size=size)
    words = {"".join(rng.choice(letters, n)) for n in lengths}
    return np.array(sorted(words))


def make_corpus(n: int, mean_words: int, seed: int) -> tuple[Corpus, np.ndarray]:
    rng = np.random.default_rng(seed)
    vocab = make_vocabulary(rng, 50_000)
    ranks = np.arange(1, len(vocab) + 1, dtype=float)
    p = ranks ** -1.1
    p /= p.sum()
    lengths = rng.integers(mean_words // 2, mean_words * 3 // 2 + 1, size=n)
    draws = rng.choice(len(vocab), size=int(lengths.sum()), p=p)
    texts, start = [], 0
    for length in lengths:
        texts.append(" ".join(vocab[draws[start:start + length]]))
        start += length
    return Corpus(Passage(f"s{i}", t) for i, t in enumerate(texts)), vocab


def make_queries(corpus: Corpus, vocab: np.ndarray, n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed + 1)
    out = []
    for i in rng.integers(0, len(corpus), size=n):
        words = corpus.passages[int(i)].text.split()
        at = int(rng.integers(0, max(1, len(words) - 12)))
        span = words[at:at + 12]
        for j in rng.integers(0, len(span), size=2):
            span[int(j)] = str(vocab[int(rng.integers(0, len(vocab)))])
        out.append(" ".join(span))
    return out


def peak_rss_mib() -> float:
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib / 1024 if sys.platform != "darwin" else kib / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--passages", type=int, default=100_000)
    ap.add_argument("--words", type=int, default=120)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    t0 = time.perf_counter()
    corpus, vocab = make_corpus(args.passages, args.words, args.seed)
    queries = make_queries(corpus, vocab, args.queries, args.seed)
    gen_s = time.perf_counter() - t0
    print(f"corpus: {len(corpus):,} passages, ~{args.words} words each "
          f"(generated in {gen_s:.1f} s); {len(queries)} queries; CPUs: {os.cpu_count()}")

    with tempfile.TemporaryDirectory() as cache:
        os.environ["MEDGAUGE_CACHE"] = cache
        t0 = time.perf_counter()
        _ = corpus.content_hash
        hash_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        retriever = open_index(corpus, "bm25")  # builds, saves atomically
        index_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        retriever = open_index(Corpus(corpus.passages), "bm25")  # loads from the cache
        load_s = time.perf_counter() - t0

        retriever.search(queries[:10], args.k)  # warm up
        lat = []
        cpu0 = time.process_time()
        for q in queries:
            t = time.perf_counter()
            retriever.search([q], args.k)
            lat.append(time.perf_counter() - t)
        cpu_ms = 1000 * (time.process_time() - cpu0) / len(queries)
        t0 = time.perf_counter()
        batched = retriever.search(queries, args.k)
        batch_s = time.perf_counter() - t0
    lat_ms = np.array(lat) * 1000
    hits = sum(len(h) for h in batched) / len(batched)
    result = {
        "passages": len(corpus), "queries": len(queries), "k": args.k,
        "content_hash_s": round(hash_s, 2), "index_build_and_save_s": round(index_s, 2),
        "index_load_s": round(load_s, 2), "query_mean_ms": round(float(lat_ms.mean()), 3),
        "query_p95_ms": round(float(np.percentile(lat_ms, 95)), 3),
        "query_cpu_ms": round(cpu_ms, 3),
        "batched_ms_per_query": round(1000 * batch_s / len(queries), 3),
        "mean_hits": round(hits, 2), "peak_rss_mib": round(peak_rss_mib(), 1),
    }
    print(f"content hash: {hash_s:.2f} s")
    print(f"BM25 index (tokenise + stem + build + save): {index_s:.1f} s   "
          f"(target < 60 s)")
    print(f"load from cache: {load_s:.2f} s")
    print(f"one query per call at k={args.k}: mean {result['query_mean_ms']:.2f} ms, "
          f"p95 {result['query_p95_ms']:.2f} ms, CPU {cpu_ms:.2f} ms   (target < 5 ms)")
    print(f"batched: {result['batched_ms_per_query']:.2f} ms per query")
    print(f"peak RSS: {result['peak_rss_mib']:.0f} MiB")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
