"""Scoring: its own phase after solving, with versioned, async scorers that may call models.

Two layers:

- **Rules** (``(Sample, text) -> Judgement``): the synchronous extraction-and-match rule of one
  answer type.  Named *scoring modes* group one rule per answer type: ``default`` dispatches on
  the sample's answer type (scoring/default.py); compatibility modes that reproduce a published
  scorer (``medevalkit``, ``vlmevalkit``, ``mediconfusion``, ``mmstar``, ``multimedeval``)
  replace some rules; docs/scoring.md documents each.  Every mode carries a ``version`` that
  changes whenever its rules change, so stored scores of an older version are re-scored.
- **Scorers** (``async score(item, ctx) -> Score``, inspect_ai's scorer shape): what the engine
  and ``medgauge rescore`` call.  :class:`RuleScorer` wraps a mode; ``scoring/grader.py`` asks a
  grader model through :class:`ScoreContext` (the same request cache, retries and counters as
  the model under test).  A scorer's ``name`` and ``version`` key its rows in the store's
  ``scores`` table.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from medgauge.registry import Registry
from medgauge.types import ItemResult, MedgaugeError, Sample, Score

if TYPE_CHECKING:
    from medgauge.runner.calls import ModelCaller


@dataclass(slots=True)
class Judgement:
    extracted: str | None  # None = invalid (nothing could be parsed)
    correct: bool
    metrics: dict[str, float] = field(default_factory=dict)


Rule = Callable[[Sample, str], Judgement]
scorers: Registry[Rule] = Registry("scoring mode")

#: Scoring mode name -> one line for ``medgauge list`` and the docs.
describe: dict[str, str] = {}
#: Scoring mode name -> version of its rules (bump it when the rules change).
versions: dict[str, str] = {}


def register(name: str, description: str, version: str = "1") -> Callable[[Rule], Rule]:
    """Register a scoring mode under ``name`` with its one-line ``description`` and the
    ``version`` of its rules."""

    def decorator(fn: Rule) -> Rule:
        scorers.register(name)(fn)
        describe[name] = description
        versions[name] = version
        if not getattr(fn, "__doc__", None):
            fn.__doc__ = description  # listings that read the first docstring line see it
        return fn

    return decorator


def get_scorer(mode: str | None) -> Rule:
    """The rule function of a scoring mode (``None`` = ``default``); unknown names fail with
    the list of known ones."""
    import medgauge.scoring  # noqa: F401 - registers the built-in modes

    return scorers.get(mode or "default")


class ScoreContext:
    """What a scorer may use: model callers by role (``grader`` ...), each going through the
    request cache in the store, so grader calls are cached, retried, resumable and counted
    exactly like the model under test."""

    def __init__(self, roles: dict[str, ModelCaller] | None = None) -> None:
        self.roles = dict(roles or {})

    def model(self, role: str = "grader") -> ModelCaller:
        try:
            return self.roles[role]
        except KeyError:
            raise MedgaugeError(f"this scorer needs a {role} model (--grader KIND:MODEL)"
                                ) from None

    @property
    def sent(self) -> int:
        return sum(c.sent for c in self.roles.values())


class Scorer(ABC):
    """An async scorer.  ``name`` and ``version`` identify its stored scores; ``metrics`` names
    the metrics it adds to a run's declared ones (``medgauge.metrics``)."""

    name: str = ""
    version: str = "1"
    metrics: ClassVar[tuple[str, ...]] = ()
    #: model roles it calls (``grader``): their identities are part of the run config
    roles: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    async def score(self, item: ItemResult, ctx: ScoreContext) -> Score:
        """Score one solved item (``item.target`` is the sample it is scored against, never
        ``None`` here).  Never raise for a bad answer: return an ``invalid`` score."""

    def identity(self) -> str:
        return f"{self.name}@{self.version}"


_THINK_OPEN = re.compile(r"<think>", re.IGNORECASE)
_THINK_CLOSE = re.compile(r"</think>", re.IGNORECASE)


def reply_status(text: str, finish_reason: str | None) -> tuple[str, str | None]:
    """``(answer_text, status)``: the part of a reply an extractor may read, and ``incomplete``
    when the reply is an unclosed reasoning block (a model cut inside ``<think>``), else None.

    Reasoning inside a closed ``<think>...</think>`` block is dropped before extraction; an
    unclosed block is never parsed (its "probably B" is not an answer)."""
    opened = [m.end() for m in _THINK_OPEN.finditer(text)]
    closed = [m.end() for m in _THINK_CLOSE.finditer(text)]
    if opened and (not closed or closed[-1] < opened[-1]):
        return "", "incomplete"
    if closed:
        text = text[closed[-1]:]
    return text, None


class RuleScorer(Scorer):
    """A scoring mode's rules as a scorer: ``ok`` with value 1/0, or ``invalid`` when the rule
    extracted nothing; ``incomplete`` for an unclosed reasoning block, or a reply cut by the
    length limit from which nothing could be extracted."""

    def __init__(self, mode: str | None = None) -> None:
        self.rule = get_scorer(mode)
        self.name = mode or "default"
        self.version = versions.get(self.name, "1")

    async def score(self, item: ItemResult, ctx: ScoreContext) -> Score:
        return self.score_text(item.target, item.response, item.finish_reason)

    def score_text(self, target: Sample | None, text: str, finish_reason: str | None) -> Score:
        if target is None:
            raise MedgaugeError("an item has no stored target to score against")
        answer_text, status = reply_status(text or "", finish_reason)
        if status == "incomplete":
            return Score(0.0, None, "incomplete")
        j = self.rule(target, answer_text)
        if j.extracted is None and not j.correct:
            status = "incomplete" if finish_reason == "length" else "invalid"
            return Score(0.0, None, status, dict(j.metrics))
        return Score(1.0 if j.correct else 0.0, j.extracted, "ok", dict(j.metrics))


