"""What retrieval does to a model's answers, from paired per-item correctness.

Inputs are mappings sample id -> correct (``True``/``False``; ``None`` = the request failed, so
the pair is left out and counted in ``errored``), joined by id.

- :func:`retrieval_effect` -- accuracy with versus without retrieval on the same items (the
  headline: difference with a paired bootstrap interval and exact McNemar test, via
  ``medgauge.stats.paired_compare``) and the helpful/harmful split: items fixed by retrieval
  (wrong without, right with), broken by it (right without, wrong with) and unchanged, each
  rate with a Wilson interval over the paired items.  ``outcome`` is win/tie/loss from the
  difference's interval (Jeong et al. 2024, as in ``medgauge.stats.paired``).
- :func:`flip_rate` -- over-reliance (RULE, Xia et al. 2024): among items answered correctly
  with the real evidence, the share answered wrongly once the evidence supports a wrong answer,
  ``flip = N(right before, wrong after) / N(right before)`` with a Wilson interval -- the same
  form as the leading-question probe's misleading rate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from medgauge.stats import PairedComparison, Proportion, paired_compare, proportion
from medgauge.types import MedgaugeError

Outcomes = Mapping[str, bool | None]


@dataclass(frozen=True, slots=True)
class Pairs:
    ids: list[str]  # paired ids with both answers
    before: list[bool]
    after: list[bool]
    errored: int  # shared ids where either side failed
    unpaired: int  # ids on one side only


def pair(before: Outcomes, after: Outcomes) -> Pairs:
    shared = [i for i in before if i in after]
    ok = [i for i in shared if before[i] is not None and after[i] is not None]
    return Pairs(ok, [bool(before[i]) for i in ok], [bool(after[i]) for i in ok],
                 len(shared) - len(ok), len(set(before) ^ set(after)))


@dataclass(frozen=True, slots=True)
class FlipRate:
    """Flips among items right before the counterfactual; ``rate`` is flipped / base_correct."""

    rate: Proportion
    flipped: int
    base_correct: int
    fixed: int  # wrong before, right after (the counterfactual happened to help)
    pairs: int
    errored: int
    unpaired: int


def flip_rate(before: Outcomes, after: Outcomes) -> FlipRate:
    """``before``: correctness with the real evidence (or without retrieval); ``after``: with
    the counterfactual evidence."""
    p = pair(before, after)
    base = sum(p.before)
    flipped = sum(b and not a for b, a in zip(p.before, p.after, strict=True))
    fixed = sum(a and not b for b, a in zip(p.before, p.after, strict=True))
    return FlipRate(proportion(flipped, base), flipped, base, fixed, len(p.ids), p.errored,
                    p.unpaired)


@dataclass(frozen=True, slots=True)
class RetrievalEffect:
    """With minus without retrieval on paired items (``comparison.diff > 0``: retrieval helps).

    ``helped``/``harmed`` are the items fixed/broken by retrieval (their rates over ``n``
    pairs, Wilson); ``unchanged_right``/``unchanged_wrong`` the ties.  ``outcome``: win, tie or
    loss from the interval of the accuracy difference."""

    comparison: PairedComparison
    helped: int
    harmed: int
    unchanged_right: int
    unchanged_wrong: int
    helped_rate: Proportion
    harmed_rate: Proportion
    errored: int
    unpaired: int

    @property
    def n(self) -> int:
        return self.comparison.n

    @property
    def outcome(self) -> str:
        return self.comparison.outcome


def retrieval_effect(without: Outcomes, with_retrieval: Outcomes, *,
                     clusters: Mapping[str, object] | None = None, seed: int = 0
                     ) -> RetrievalEffect:
    """Paired effect of retrieval; raises ``MedgaugeError`` when no item is paired."""
    p = pair(without, with_retrieval)
    if not p.ids:
        raise MedgaugeError("retrieval effect: no item answered both with and without retrieval")
    comparison = paired_compare(dict(zip(p.ids, p.after, strict=True)),
                                dict(zip(p.ids, p.before, strict=True)), clusters,
                                names=("with retrieval", "without retrieval"), seed=seed)
    helped = sum(a and not b for b, a in zip(p.before, p.after, strict=True))
    harmed = sum(b and not a for b, a in zip(p.before, p.after, strict=True))
    both = sum(a and b for b, a in zip(p.before, p.after, strict=True))
    n = len(p.ids)
    return RetrievalEffect(comparison, helped, harmed, both, n - helped - harmed - both,
                           proportion(helped, n), proportion(harmed, n), p.errored, p.unpaired)
