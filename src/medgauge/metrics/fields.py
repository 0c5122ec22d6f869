"""Which metadata fields a breakdown (``--by``) may use: a misspelt field is an error listing the
fields the items have, never one "(none)" group."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from medgauge.types import MedgaugeError


def metadata_fields(items: Iterable[Any]) -> dict[str, None]:
    """The metadata field names of ``items`` (stored ``Item`` records, the report's items, or
    plain dicts with a ``metadata`` key), in first-seen order."""
    known: dict[str, None] = {}
    for item in items:
        meta = item.get("metadata") if isinstance(item, Mapping) else item.metadata
        known.update(dict.fromkeys(meta or {}))
    return known


def check_breakdown_fields(items: Iterable[Any], fields: list[str], what: str) -> None:
    """Raise ``MedgaugeError`` when a field in ``fields`` is in no item's metadata."""
    if not fields:
        return
    known = metadata_fields(items)
    for name in fields:
        if name not in known:
            raise MedgaugeError(f"--by {name}: no item of {what} has this metadata field "
                                f"(fields: {', '.join(sorted(known)) or 'none'})")
