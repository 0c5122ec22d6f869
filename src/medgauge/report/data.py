"""The plain data the report consumes (``RunData``), checked and normalised.

The store's ``run_data(run_id)`` returns this shape; tests build it directly.  Missing optional
item fields get defaults; missing required ones raise a one-line :class:`MedgaugeError`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from typing import Any, TypedDict

from medgauge.metrics.accuracy import accuracy as metrics_accuracy
from medgauge.stats import Proportion
from medgauge.types import MedgaugeError


class ItemData(TypedDict, total=False):
    sample_id: str
    variant: str  # "clean" or a probe's variant
    correct: bool | None  # None = request error
    extracted: str | None  # None = invalid (unless error)
    response: str
    error: str | None
    question: str
    answer: str
    confidence: float | None
    metrics: dict[str, float]
    metadata: dict[str, Any]
    cluster: str | None


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


def normalise_item(item: Any, where: str) -> ItemData:
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
    if correct is None and error is None:
        error = "unscored"  # no outcome recorded: keep it out of accuracy, like an error
    cluster = item.get("cluster")
    return ItemData(
        sample_id=str(item["sample_id"]),
        variant=_text(item.get("variant") or "clean"),
        correct=correct,
        extracted=None if item.get("extracted") is None else str(item["extracted"]),
        response=_text(item.get("response")),
        error=None if error is None else str(error),
        question=_text(item.get("question")),
        answer=_text(item.get("answer")),
        confidence=conf,
        metrics=dict(item.get("metrics") or {}),
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


def is_invalid(item: ItemData) -> bool:
    return item["error"] is None and item["extracted"] is None


def is_failed(item: ItemData) -> bool:
    """Wrong, invalid or errored."""
    return item["correct"] is not True


def accuracy(items: Sequence[ItemData]) -> Proportion:
    """Wilson-interval accuracy; errors excluded from n, invalid answers counted wrong."""
    return metrics_accuracy(items, clustered=False)


def variant_items(run: RunData, variant: str = "clean") -> list[ItemData]:
    return [it for it in run["items"] if it["variant"] == variant]


def variants(run: RunData) -> list[str]:
    seen: dict[str, None] = {}
    for it in run["items"]:
        seen.setdefault(it["variant"], None)
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
