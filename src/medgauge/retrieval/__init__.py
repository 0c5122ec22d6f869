"""Retrieval-augmented evaluation: corpora from local files, cached indexes (BM25, dense),
retrieval metrics with intervals, evidence prompts and the over-reliance counterfactuals.

See docs/retrieval.md.  Every module of this package is imported here so that each retriever's
``@retrievers.register`` runs: adding a retriever is one new file.  Heavy libraries (bm25s, faiss,
sentence-transformers) are imported only when a retriever is built (``pip install
'medgauge[rag]'``).
"""

from medgauge.registry import import_submodules
from medgauge.retrieval.base import Hit, Retriever, retrievers
from medgauge.retrieval.cache import open_index
from medgauge.retrieval.corpus import Corpus, Passage, corpus_from_samples, load_corpus

import_submodules(__name__, __path__)

__all__ = [
    "Corpus",
    "Hit",
    "Passage",
    "Retriever",
    "corpus_from_samples",
    "load_corpus",
    "open_index",
    "retrievers",
]
