"""Accuracy over stored items: request errors apart, invalid answers counted as wrong."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from medgauge.stats import Proportion, proportion_of


def accuracy(items: Iterable[Mapping[str, Any]]) -> Proportion:
    """Wilson-interval accuracy of item records (store rows: correct, extracted, error)."""
    rows = list(items)
    return proportion_of([r["correct"] if r["error"] is None else None for r in rows],
                         [r["error"] is None and r["extracted"] is None for r in rows])


def grouped(items: Iterable[Mapping[str, Any]], field: str) -> dict[str, Proportion]:
    """Accuracy per value of one metadata field: the one breakdown mechanism for every
    benchmark (organ, modality, question type, GMAI-MMBench tree keys ...).  Items whose value is
    a list (e.g. MediConfusion categories) count once under each of its values."""
    groups: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for item in items:
        value = item.get("metadata", {}).get(field)
        for v in value if isinstance(value, list) else [value]:
            groups["(none)" if v is None else str(v)].append(item)
    return {key: accuracy(rows) for key, rows in sorted(groups.items())}
