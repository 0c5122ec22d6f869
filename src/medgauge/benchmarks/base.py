"""The Benchmark interface and its registry.

A benchmark turns files on the user's disk into a lazy stream of ``Sample``s.  Loaders read
local files only and raise ``MedgaugeError`` naming the file and line or field they could not
use.  One module per benchmark family; register each name with ``@benchmarks.register(name)``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, ClassVar

from medgauge.registry import Registry
from medgauge.types import MedgaugeError, Sample


class Benchmark(ABC):
    """Base class.  ``root`` is the folder (or file) the user points at; ``options`` are the
    loader's own settings (split, language, field mapping ...)."""

    name: ClassVar[str] = ""
    #: One paragraph for ``medgauge list`` and docs: which files, in which layout.
    layout: ClassVar[str] = ""
    #: Name of the default prompt template (see ``medgauge.prompts``); overridable per run.
    prompt: ClassVar[str] = "default"
    #: Metadata fields results are broken down by by default.
    group_by: ClassVar[tuple[str, ...]] = ()
    #: Declared metrics (``medgauge.metrics``); the first is the headline.
    metrics: ClassVar[tuple[str, ...]] = ("accuracy",)
    #: Scoring modes this benchmark supports beyond ``default``.
    scoring_modes: ClassVar[tuple[str, ...]] = ()
    #: Whether ``root`` may be omitted (the phantom benchmark generates itself).
    needs_root: ClassVar[bool] = True

    def __init__(self, root: str | Path | None = None, **options: Any) -> None:
        if root is None and self.needs_root:
            raise MedgaugeError(f"benchmark {self.name}: give the data folder (-b NAME=PATH, "
                                "or data: in the config)")
        self.root = Path(root).expanduser() if root is not None else None
        if self.root is not None and not self.root.exists():
            raise MedgaugeError(f"benchmark {self.name}: data path not found: {self.root}")
        self.options = options

    @abstractmethod
    def samples(self) -> Iterator[Sample]:
        """Yield the evaluation split lazily (images are references, not bytes)."""

    def evaluation_samples(self) -> Iterable[Sample]:
        """The evaluation split as the engine read it for this task list (``Task.samples``
        keeps it on the benchmark), else read now: a backend that learns from the benchmark
        (the prior baseline) does not read the files again."""
        cached = getattr(self, "_medgauge_samples", None)
        return cached if cached is not None else self.samples()

    def reference_samples(self) -> Iterator[Sample] | None:
        """A training/dev split if the layout has one (prior baseline, few-shot); else None."""
        return None

    def describe(self) -> dict[str, Any]:
        """What identifies this benchmark instance in a run config (no absolute machine paths
        beyond what the user gave)."""
        return {"name": self.name, "root": str(self.root) if self.root else None, **self.options}


benchmarks: Registry[type[Benchmark]] = Registry("benchmark")


def create_benchmark(name: str, root: str | Path | None = None, **options: Any) -> Benchmark:
    import medgauge.benchmarks  # noqa: F401 - registers the built-in benchmarks

    return benchmarks.get(name)(root, **options)
