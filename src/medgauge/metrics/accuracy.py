"""Accuracy, the binary metric every closed benchmark declares: request errors apart, invalid and
incomplete answers counted as wrong, and a 95% interval: for items sharing an image or case
(``cluster``) a cluster bootstrap or a design-effect Wilson interval, never narrower than Wilson's
for the same n (``stats/clustered.py``); Wilson otherwise.  The
one accuracy used by the terminal, the report, compare and the probes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from medgauge.metrics.base import Estimate, Metric, as_items, register
from medgauge.stats import proportion_of
from medgauge.stats.clustered import clustered_proportion
from medgauge.types import Item


class Accuracy(Metric):
    name = "accuracy"
    kind = "binary"
    description = "correct / answered items (invalid and incomplete count as wrong)"

    def values(self, items: Sequence[Item]) -> list[float | None]:
        return [None if it.correct is None else float(it.correct) for it in as_items(items)]

    def estimate(self, items: Sequence[Item], *, clustered: bool = True,
                 seed: int = 0) -> Estimate:
        rows = as_items(items)
        correct = [it.correct for it in rows]
        wrong_unparsed = [it.invalid for it in rows]
        clusters = [it.cluster for it in rows]
        ids = [c if c is not None else f"\x00item{i}" for i, c in enumerate(clusters)]
        if clustered and len(set(ids)) < len(ids):
            # items sharing an image or case: the cluster bootstrap or a design-effect Wilson
            # interval, never narrower than Wilson (stats/clustered.py)
            p = clustered_proportion(correct, ids, invalid=wrong_unparsed, seed=seed)
        else:
            p = proportion_of(correct, wrong_unparsed)
        return Estimate("accuracy", p.value, p.lo, p.hi, p.n, p.invalid,
                        sum(it.incomplete for it in rows), p.errors, p.method, True, p.k)


ACCURACY = register(Accuracy())


def accuracy(items: Iterable[Item], *, clustered: bool = True, seed: int = 0) -> Estimate:
    """Accuracy of items (``Store.items`` records or the report's normalised items)."""
    return ACCURACY.estimate(list(items), clustered=clustered, seed=seed)
