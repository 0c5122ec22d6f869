"""The retriever interface, its registry and the record a search returns.

A retriever turns a :class:`~medgauge.retrieval.corpus.Corpus` into an index (``build``), writes
it to a folder and reads it back (``save``/``load``, used by :mod:`medgauge.retrieval.cache`), and
answers ``search(queries, k) -> list[list[Hit]]``: for each query, at most ``k`` hits, best first.
Each retriever is one module of this package registered with ``@retrievers.register(name)``;
heavy libraries are imported inside methods, so importing the package stays cheap.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

from medgauge.options import as_number
from medgauge.registry import Registry
from medgauge.types import MedgaugeError


@dataclass(frozen=True, slots=True)
class Hit:
    """One retrieved passage: its corpus ``id``, the retriever's ``score`` (higher is better;
    BM25 score or cosine similarity) and its 1-based ``rank``."""

    id: str
    score: float
    rank: int


def require(module: str, package: str, what: str) -> ModuleType:
    """Import an optional dependency, or fail with one line naming the extra that brings it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MedgaugeError(
            f"{what} needs the {package} package (pip install 'medgauge[rag]')"
        ) from None


class Retriever(ABC):
    """Base class.  ``options`` are the retriever's own settings; :meth:`params` names those
    that change the index (they key the cache folder)."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    #: option name -> one line of help (``medgauge list`` and docs)
    option_help: ClassVar[dict[str, str]] = {}

    def __init__(self, **options: Any) -> None:
        unknown = sorted(set(options) - set(self.option_help))
        if unknown:
            known = ", ".join(sorted(self.option_help)) or "none"
            raise MedgaugeError(f"retriever {self.name}: unknown option {unknown[0]!r} "
                                f"(known: {known})")
        self.options = dict(options)
        #: corpus ids in index order (row i of the index is passage ``ids[i]``)
        self.ids: list[str] = []

    @abstractmethod
    def params(self) -> dict[str, Any]:
        """JSON-serialisable settings that determine the index (not query-time settings)."""

    @abstractmethod
    def build(self, texts: Sequence[str]) -> None:
        """Index ``texts`` (row i is passage ``self.ids[i]``) in memory."""

    @abstractmethod
    def save(self, folder: Path) -> None:
        """Write the index into the (empty, existing) ``folder``."""

    @abstractmethod
    def load(self, folder: Path) -> None:
        """Read an index written by :meth:`save`."""

    @abstractmethod
    def search(self, queries: Sequence[str], k: int) -> list[list[Hit]]:
        """At most ``k`` hits per query, best first (fewer when fewer passages match)."""

    def check_k(self, k: int) -> int:
        if not isinstance(k, int) or k < 1:
            raise MedgaugeError(f"retriever {self.name}: k must be a positive integer, got {k!r}")
        return min(k, len(self.ids))


def int_option(options: Mapping[str, Any], name: str, default: int, minimum: int = 1) -> int:
    return int(as_number(options.get(name, default), name, int, "retriever", minimum))


def float_option(options: Mapping[str, Any], name: str, default: float) -> float:
    return float(as_number(options.get(name, default), name, float, "retriever"))


retrievers: Registry[type[Retriever]] = Registry("retriever")
