"""``bm25``: lexical retrieval with the ``bm25s`` package (Lù 2024, "BM25S: Orders of magnitude
faster lexical search via eager sparse scoring", arXiv:2407.03618).

Scoring is Okapi BM25 (Robertson & Zaragoza 2009, "The Probabilistic Relevance Framework: BM25 and
Beyond") in bm25s's ``lucene`` variant by default, with ``k1 = 1.5`` and ``b = 0.75``.  Texts are
lower-cased, split on ``\\w\\w+``, English stop words removed (bm25s's list) and, by default,
stemmed with the Snowball English stemmer (PyStemmer).  Hits with score 0 (no query term in the
passage) are not returned, so a query may get fewer than ``k`` hits.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from medgauge.retrieval.base import Hit, Retriever, float_option, require, retrievers
from medgauge.types import MedgaugeError

METHODS = ("lucene", "robertson", "atire", "bm25l", "bm25+")


@retrievers.register("bm25")
class BM25Retriever(Retriever):
    name = "bm25"
    description = "BM25 (bm25s), stop words removed, Snowball stemming"
    option_help = {  # noqa: RUF012
        "k1": "term-frequency saturation (default 1.5)",
        "b": "length normalisation (default 0.75)",
        "method": f"BM25 variant: {', '.join(METHODS)} (default lucene)",
        "stemmer": "Snowball language, or none (default english)",
        "stopwords": "en or none (default en)",
    }

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.k1 = float_option(options, "k1", 1.5)
        self.b = float_option(options, "b", 0.75)
        self.method = str(options.get("method", "lucene"))
        if self.method not in METHODS:
            raise MedgaugeError(f"retriever bm25: method {self.method!r}: use one of "
                                f"{', '.join(METHODS)}")
        self.stemmer_name = str(options.get("stemmer", "english")).lower()
        self.stopwords = str(options.get("stopwords", "en")).lower()
        if self.stopwords not in ("en", "none"):
            raise MedgaugeError(f"retriever bm25: stopwords {self.stopwords!r}: use en or none")
        self._model: Any = None
        self._stemmer: Any = None

    def params(self) -> dict[str, Any]:
        return {"k1": self.k1, "b": self.b, "method": self.method,
                "stemmer": self.stemmer_name, "stopwords": self.stopwords}

    def _bm25s(self) -> Any:
        return require("bm25s", "bm25s", "retriever bm25")

    def _stem(self) -> Any:
        if self.stemmer_name == "none":
            return None
        if self._stemmer is None:
            stemmer_mod = require("Stemmer", "PyStemmer", "retriever bm25 (stemming)")
            try:
                self._stemmer = stemmer_mod.Stemmer(self.stemmer_name)
            except KeyError:
                raise MedgaugeError(f"retriever bm25: no Snowball stemmer for "
                                    f"{self.stemmer_name!r}") from None
        return self._stemmer

    def _tokenize(self, texts: Sequence[str], return_ids: bool) -> Any:
        return self._bm25s().tokenize(
            list(texts), stopwords=None if self.stopwords == "none" else "en",
            stemmer=self._stem(), return_ids=return_ids, show_progress=False)

    def build(self, texts: Sequence[str]) -> None:
        bm25s = self._bm25s()
        self._model = bm25s.BM25(k1=self.k1, b=self.b, method=self.method)
        self._model.index(self._tokenize(texts, return_ids=True), show_progress=False)

    def save(self, folder: Path) -> None:
        self._model.save(str(folder), show_progress=False)

    def load(self, folder: Path) -> None:
        self._model = self._bm25s().BM25.load(str(folder), show_progress=False, mmap=False)

    def search(self, queries: Sequence[str], k: int) -> list[list[Hit]]:
        if self._model is None:
            raise MedgaugeError("retriever bm25: search before the index was built or loaded")
        k = self.check_k(k)
        if not queries:
            return []
        import numpy as np

        model = self._model
        out: list[list[Hit]] = []
        for tokens in self._tokenize(queries, return_ids=False):
            # bm25s scores; the top k are picked here: bm25s's batch ``retrieve`` costs about
            # twice the scoring itself per single query, and a pipeline asks one at a time
            scores = model.get_scores_from_ids(model.get_tokens_ids(tokens))
            top = np.argpartition(-scores, k - 1)[:k] if k < scores.size else \
                np.arange(scores.size)
            order = top[np.lexsort((top, -scores[top]))]  # best first; ties by index order
            hits = []
            for d in order:
                score = float(scores[d])
                if score <= 0:
                    break  # no query term in this passage, nor in the ones after it
                hits.append(Hit(self.ids[int(d)], score, len(hits) + 1))
            out.append(hits)
        return out
