"""Accuracy, the binary metric every closed benchmark declares: request errors apart, invalid and
incomplete answers counted as wrong, and a 95% interval: a cluster bootstrap when items share an
image or case (``cluster``), never narrower than Wilson's for the same n; Wilson otherwise.  The
one accuracy used by the terminal, the report, compare and the probes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from medgauge.metrics.base import Estimate, Metric, as_items, cluster_labels, register
from medgauge.stats import bootstrap_proportion, proportion_of
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
        labels = cluster_labels(rows) if clustered else None
        wilson = proportion_of(correct, wrong_unparsed)
        p = wilson
        if labels is not None:
            boot = bootstrap_proportion(correct, labels, invalid=wrong_unparsed, seed=seed)
            # a cluster bootstrap at 0% / 100% or with few discordant clusters can be narrower
            # than Wilson's for the same n: never report less uncertainty than Wilson does
            if boot.hi - boot.lo >= wilson.hi - wilson.lo:
                p = boot
        return Estimate("accuracy", p.value, p.lo, p.hi, p.n, p.invalid,
                        sum(it.incomplete for it in rows), p.errors, p.method, True, p.k)


ACCURACY = register(Accuracy())


def accuracy(items: Iterable[Item], *, clustered: bool = True, seed: int = 0) -> Estimate:
    """Accuracy of items (``Store.items`` records or the report's normalised items)."""
    return ACCURACY.estimate(list(items), clustered=clustered, seed=seed)
