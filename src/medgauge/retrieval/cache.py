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
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from medgauge.retrieval.base import Retriever, retrievers
from medgauge.retrieval.corpus import Corpus
from medgauge.types import MedgaugeError

#: bumped when the on-disk layout of any index changes
INDEX_VERSION = 1
MANIFEST = "manifest.json"
IDS_FILE = "ids.json"
STRAY_AGE_S = 3600


def cache_root() -> Path:
    env = os.environ.get("MEDGAUGE_CACHE")
    base = Path(env).expanduser() if env else Path.home() / ".cache" / "medgauge"
    return base / "retrieval"


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
    final.parent.mkdir(parents=True, exist_ok=True)
    for stray in final.parent.glob(f".{final.name}.*"):
        # left by a crashed build (an hour old: not another process building right now)
        if time.time() - stray.stat().st_mtime > STRAY_AGE_S:
            shutil.rmtree(stray, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    try:
        _build_into(tmp, corpus, retriever)
        if final.exists() and not is_complete(final, expected):
            stale = Path(tempfile.mkdtemp(prefix=f".{final.name}.stale.", dir=final.parent))
            os.replace(final, stale / "index")
            shutil.rmtree(stale, ignore_errors=True)
        try:
            os.rename(tmp, final)
        except OSError:
            if not is_complete(final, expected):  # not another process's fresh index
                raise MedgaugeError(f"cannot store the index in {final}") from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return retriever
