"""Accuracy over item records (store rows or report items): request errors apart, invalid answers
counted as wrong, and a 95% interval: a cluster bootstrap when items share an image or case
(``cluster``), Wilson otherwise.  The one accuracy used by the terminal, the report and compare."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from medgauge.stats import Proportion, proportion_of
from medgauge.stats.clustered import MIN_CLUSTERS, clustered_proportion

__all__ = ["MIN_CLUSTERS", "accuracy", "grouped"]


def _correct(row: Mapping[str, Any]) -> bool | None:
    return None if row["error"] is not None else bool(row["correct"])


def _invalid(row: Mapping[str, Any]) -> bool:
    return row["error"] is None and row["extracted"] is None and not row["correct"]


def accuracy(items: Iterable[Mapping[str, Any]], *, clustered: bool = True,
             seed: int = 0) -> Proportion:
    rows = list(items)
    correct = [_correct(r) for r in rows]
    invalid = [_invalid(r) for r in rows]
    clusters = [r.get("cluster") for r in rows]
    if clustered and any(c is not None for c in clusters):
        ids = [c if c is not None else f"\x00item{i}" for i, c in enumerate(clusters)]
        # Items sharing an image or case: the cluster bootstrap or a design-effect Wilson
        # interval, never narrower than Wilson (stats/clustered.py); with every item its own
        # cluster it is plain Wilson.
        if len(set(ids)) < len(ids):
            return clustered_proportion(correct, ids, invalid=invalid, seed=seed)
    return proportion_of(correct, invalid)


def grouped(items: Iterable[Mapping[str, Any]], field: str) -> dict[str, Proportion]:
    """Accuracy (Wilson) per value of one metadata field: the one breakdown mechanism for every
    benchmark (organ, modality, question type, GMAI-MMBench tree keys ...).  Items whose value is
    a list (e.g. MediConfusion categories) count once under each of its values."""
    groups: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for item in items:
        value = item.get("metadata", {}).get(field)
        for v in value if isinstance(value, list) else [value]:
            groups["(none)" if v is None else str(v)].append(item)
    return {key: accuracy(rows, clustered=False) for key, rows in sorted(groups.items())}
