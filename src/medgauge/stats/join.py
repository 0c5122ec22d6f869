"""Align two runs' per-item values by sample id, never by row order."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from medgauge.types import MedgaugeError

A = TypeVar("A")
B = TypeVar("B")


@dataclass(frozen=True, slots=True)
class Joined(Generic[A, B]):
    """Values of two runs on their shared ids (sorted), with how many ids each side lost."""

    ids: list[str]
    left: list[A]
    right: list[B]
    dropped_left: int = 0  # ids present only in the left run
    dropped_right: int = 0  # ids present only in the right run


def _as_mapping(data: Mapping[str, Any] | Iterable[tuple[str, Any]], name: str) -> dict[str, Any]:
    if isinstance(data, Mapping):
        return {str(k): v for k, v in data.items()}
    out: dict[str, Any] = {}
    for pair in data:
        key, value = pair
        key = str(key)
        if key in out:
            raise MedgaugeError(f"cannot pair runs: id {key!r} appears twice in {name}")
        out[key] = value
    return out


def _examples(ids: set[str]) -> str:
    shown = sorted(ids)[:3]
    more = "" if len(ids) <= 3 else ", ..."
    return ", ".join(repr(i) for i in shown) + more


def join_by_id(
    left: Mapping[str, A] | Iterable[tuple[str, A]],
    right: Mapping[str, B] | Iterable[tuple[str, B]],
    *,
    intersection: bool = False,
    names: tuple[str, str] = ("A", "B"),
) -> Joined[A, B]:
    """Pair ``left`` and ``right`` (mappings or ``(id, value)`` pairs) by id.

    Different id sets raise :class:`MedgaugeError` naming what is missing, unless
    ``intersection=True``, in which case the shared ids are kept and the counts of ids dropped
    from each side are reported on the result.
    """
    lmap, rmap = _as_mapping(left, names[0]), _as_mapping(right, names[1])
    only_l = set(lmap) - set(rmap)
    only_r = set(rmap) - set(lmap)
    shared = sorted(set(lmap) & set(rmap))
    if (only_l or only_r) and not intersection:
        parts = []
        if only_l:
            parts.append(f"{len(only_l)} ids only in {names[0]} ({_examples(only_l)})")
        if only_r:
            parts.append(f"{len(only_r)} ids only in {names[1]} ({_examples(only_r)})")
        raise MedgaugeError(
            f"cannot pair {names[0]} with {names[1]}: {'; '.join(parts)}; "
            f"pass intersection=True to compare the {len(shared)} shared ids"
        )
    return Joined(
        ids=shared,
        left=[lmap[i] for i in shared],
        right=[rmap[i] for i in shared],
        dropped_left=len(only_l),
        dropped_right=len(only_r),
    )
