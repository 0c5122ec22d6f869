"""Indexes kept in the medgauge cache, built once per corpus content and retriever settings.

Location: ``$MEDGAUGE_CACHE/retrieval/<corpus content hash>/<retriever>-<params hash>/`` or, without
that variable, ``~/.cache/medgauge/retrieval/...``.  An index is built in a temporary sibling
folder, its ``manifest.json`` written last, and the folder renamed into place: a crash leaves a
stray temporary folder (removed by a later build once an hour old), never a half index under
the final name, and two processes building at once both end with a complete index.  A folder
is reused only when its manifest matches the corpus hash, the retriever, its parameters and
:data:`INDEX_VERSION`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from medgauge.cache import cache_root as medgauge_cache
from medgauge.cache import publish
from medgauge.retrieval.base import Retriever, retrievers
from medgauge.retrieval.corpus import Corpus

#: bumped when the on-disk layout of any index changes
INDEX_VERSION = 1
MANIFEST = "manifest.json"
IDS_FILE = "ids.json"


def cache_root() -> Path:
    return medgauge_cache() / "retrieval"


def params_key(name: str, params: dict[str, Any]) -> str:
    blob = json.dumps(params, sort_keys=True, default=str).encode("utf-8")
    return f"{name}-{hashlib.blake2b(blob, digest_size=6).hexdigest()}"


def index_dir(corpus: Corpus, retriever: Retriever) -> Path:
    return cache_root() / corpus.content_hash / params_key(retriever.name, retriever.params())


def _manifest(corpus: Corpus, retriever: Retriever) -> dict[str, Any]:
    return {"version": INDEX_VERSION, "corpus_hash": corpus.content_hash,
            "retriever": retriever.name, "params": retriever.params(), "passages": len(corpus)}


def is_complete(folder: Path, expected: dict[str, Any]) -> bool:
    try:
        found = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return found == json.loads(json.dumps(expected, default=str))


def _build_into(folder: Path, corpus: Corpus, retriever: Retriever) -> None:
    retriever.ids = corpus.ids
    retriever.build([p.indexed_text() for p in corpus])
    retriever.save(folder)
    (folder / IDS_FILE).write_text(json.dumps(retriever.ids, ensure_ascii=False),
                                   encoding="utf-8")
    # written last: its presence marks the folder complete
    (folder / MANIFEST).write_text(json.dumps(_manifest(corpus, retriever), default=str),
                                   encoding="utf-8")


def open_index(corpus: Corpus, name: str, *, cache: bool = True, **options: Any) -> Retriever:
    """A ready retriever ``name`` over ``corpus``: loaded from the cache when a complete index
    for the same content and parameters is there, else built (and, with ``cache``, stored
    atomically).  Raises ``MedgaugeError`` for an unknown retriever or bad options."""
    retriever = retrievers.get(name)(**options)
    if not cache:
        retriever.ids = corpus.ids
        retriever.build([p.indexed_text() for p in corpus])
        return retriever
    final = index_dir(corpus, retriever)
    expected = _manifest(corpus, retriever)
    if is_complete(final, expected):
        retriever.load(final)
        retriever.ids = json.loads((final / IDS_FILE).read_text(encoding="utf-8"))
        return retriever
    publish(final, lambda folder: _build_into(folder, corpus, retriever),
            lambda folder: is_complete(folder, expected), "the index")
    return retriever
