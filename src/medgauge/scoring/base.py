"""Scorers: ``(Sample, raw response text) -> Judgement``.  Named modes live in one registry.

``default`` dispatches on the sample's answer type (scoring/default.py).  Compatibility modes
that reproduce a published scorer (``medevalkit``, ``vlmevalkit``, ``mediconfusion``,
``mmstar``, ``multimedeval``) register under their own names with a one-line description;
docs/scoring.md documents each and how it differs from ``default``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from medgauge.registry import Registry
from medgauge.types import Sample


@dataclass(slots=True)
class Judgement:
    extracted: str | None  # None = invalid (nothing could be parsed)
    correct: bool
    metrics: dict[str, float] = field(default_factory=dict)


Scorer = Callable[[Sample, str], Judgement]
scorers: Registry[Scorer] = Registry("scoring mode")

#: Scoring mode name -> one line for ``medgauge list`` and the docs.
describe: dict[str, str] = {}


def register(name: str, description: str) -> Callable[[Scorer], Scorer]:
    """Register a scoring mode under ``name`` with its one-line ``description``."""

    def decorator(fn: Scorer) -> Scorer:
        scorers.register(name)(fn)
        describe[name] = description
        if not getattr(fn, "__doc__", None):
            fn.__doc__ = description  # listings that read the first docstring line see it
        return fn

    return decorator


def get_scorer(mode: str | None) -> Scorer:
    import medgauge.scoring  # noqa: F401 - registers the built-in modes

    return scorers.get(mode or "default")
