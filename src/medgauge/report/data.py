"""The plain data the report consumes (``RunData``), checked and normalised.

The store's ``run_data(run_id)`` returns this shape; tests build it directly.  Missing optional
item fields get defaults; missing required ones raise a one-line :class:`MedgaugeError`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any, TypedDict

from medgauge.types import Item, MedgaugeError

#: The items the report reads are the store's typed records.
ItemData = Item


class RunData(TypedDict, total=False):
    run_id: str
    model: str
    benchmark: str
    probe: str | None  # None = clean run
    config: dict[str, Any]
    started: str
    status: str
    items: list[ItemData]
    #: for probe runs: ``medgauge.probes.probe_summary`` (headline metric, CI, clean score)
    probe_summary: dict[str, Any] | None


_RUN_REQUIRED = ("run_id", "model", "benchmark", "items")
_ITEM_REQUIRED = ("sample_id",)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


_STATUSES = ("ok", "invalid", "incomplete", "error")


def normalise_item(item: Any, where: str) -> Item:
    """A typed :class:`~medgauge.types.Item` from a store record or a plain dict (tests, JSON
    dumps).  Dicts may give ``status``/``value`` (Core v2 scores) or the older ``correct`` and
    ``extracted`` (``extracted`` null and not correct = invalid; no outcome = an error item)."""
    if isinstance(item, Item):
        return item
    if not isinstance(item, dict):
        raise MedgaugeError(f"{where}: expected an object, got {type(item).__name__}")
    for key in _ITEM_REQUIRED:
        if key not in item:
            raise MedgaugeError(f"{where}: missing field {key!r}")
    correct = item.get("correct")
    if correct is not None and not isinstance(correct, bool):
        if correct in (0, 1):
            correct = bool(correct)
        else:
            raise MedgaugeError(f"{where}: field 'correct' must be true/false/null: {correct!r}")
    conf = item.get("confidence")
    if conf is not None:
        try:
            conf = float(conf)
        except (TypeError, ValueError):
            raise MedgaugeError(f"{where}: field 'confidence' is not a number: {conf!r}") from None
        if not (math.isfinite(conf) and 0.0 <= conf <= 1.0):
            raise MedgaugeError(f"{where}: field 'confidence' must be in [0, 1], got {conf}")
    error = item.get("error")
    extracted = None if item.get("extracted") is None else str(item["extracted"])
    status = item.get("status")
    value = item.get("value")
    if status is not None and status not in _STATUSES:
        raise MedgaugeError(f"{where}: field 'status' must be one of {', '.join(_STATUSES)}")
    if error is not None:
        status = "error"
    elif status is None:
        if correct is None and value is None:
            status, error = "error", "unscored"  # no outcome recorded: kept out of estimates
        elif extracted is None and not correct:
            status = "invalid"
        else:
            status = "ok"
    if value is None and correct is not None:
        value = float(correct)
    cluster = item.get("cluster")
    return Item(
        sample_id=str(item["sample_id"]),
        variant=_text(item.get("variant") or "clean"),
        response=_text(item.get("response")),
        extracted=extracted,
        value=None if value is None else float(value),
        status=status,
        metrics=dict(item.get("metrics") or {}),
        error=None if error is None else str(error),
        confidence=conf,
        question=_text(item.get("question")),
        answer=_text(item.get("answer")),
        metadata=dict(item.get("metadata") or {}),
        cluster=None if cluster is None else str(cluster),
    )


def normalise_run(run: Any, index: int = 0) -> RunData:
    if not isinstance(run, dict):
        raise MedgaugeError(f"run {index}: expected an object, got {type(run).__name__}")
    for key in _RUN_REQUIRED:
        if key not in run:
            raise MedgaugeError(f"run {index} ({run.get('run_id', '?')}): missing field {key!r}")
    rid = str(run["run_id"])
    items = run["items"]
    if not isinstance(items, list):
        raise MedgaugeError(f"run {rid}: field 'items' must be a list")
    return RunData(
        run_id=rid,
        model=str(run["model"]),
        benchmark=str(run["benchmark"]),
        probe=None if run.get("probe") in (None, "", "clean") else str(run["probe"]),
        config=dict(run.get("config") or {}),
        started=_text(run.get("started")),
        status=_text(run.get("status")),
        items=[normalise_item(it, f"run {rid}: item {i}") for i, it in enumerate(items)],
        probe_summary=run.get("probe_summary"),
    )


def normalise_runs(runs: Iterable[Any]) -> list[RunData]:
    out = [normalise_run(r, i) for i, r in enumerate(runs)]
    seen: set[str] = set()
    for r in out:
        if r["run_id"] in seen:
            raise MedgaugeError(f"run {r['run_id']} is given twice")
        seen.add(r["run_id"])
    return out


def is_failed(item: Item) -> bool:
    """Wrong, invalid, incomplete or errored."""
    return item.correct is not True


def variant_items(run: RunData, variant: str = "clean") -> list[ItemData]:
    return [it for it in run["items"] if it.variant == variant]


def variants(run: RunData) -> list[str]:
    seen: dict[str, None] = {}
    for it in run["items"]:
        seen.setdefault(it.variant, None)
    return sorted(seen, key=lambda v: (v != "clean", v))


_SECRET = re.compile(
    r"(api[_-]?key|access[_-]?key|secret|passw(or)?d|authori[sz]ation|cookie|bearer|"
    r"(^|[_-])token$|credential)",
    re.IGNORECASE,
)


def redact(config: Any) -> Any:
    """A copy of a config with values of secret-looking keys replaced by ``***``."""
    if isinstance(config, dict):
        return {
            k: "***" if _SECRET.search(str(k)) else redact(v)
            for k, v in config.items()
        }
    if isinstance(config, list):
        return [redact(v) for v in config]
    return config
