"""The graders of a model-graded run, from its stored items: who graded (identities from the run
config), how often a grader's reply could not be read (invalid rate, Wilson interval), tokens
and cost, and, for a jury, inter-grader agreement (Cohen's / Fleiss' kappa with a bootstrap
interval, ``stats/agreement.py``).  Tokens count every grader reply the run's scores rest on,
cached ones included (what grading the run costs from scratch)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from medgauge.stats.agreement import Agreement, Kappa, agreement, kappa
from medgauge.stats.proportion import wilson
from medgauge.types import Item, MedgaugeError


@dataclass(frozen=True)
class GraderSummary:
    run_id: str
    benchmark: str
    model: str
    scorer: str
    graders: dict[str, str]  # role -> identity
    asked: int               # items sent to the graders (not errors, not incomplete)
    invalid: int             # items with at least one unreadable grader reply
    invalid_lo: float
    invalid_hi: float
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None
    kappa: Kappa | None      # jury only

    @property
    def invalid_rate(self) -> float:
        return self.invalid / self.asked if self.asked else math.nan


def _items(run: Mapping[str, Any]) -> list[Item]:
    return [it for it in run["items"] if it.variant == "clean"]


def grader_roles(run: Mapping[str, Any]) -> dict[str, str]:
    graders = (run.get("config") or {}).get("grader") or {}
    return dict(graders) if isinstance(graders, dict) else {}


def jury_ratings(items: Sequence[Item], roles: Sequence[str]) -> list[list[float]]:
    """Per item with a readable verdict from every jury grader: those verdicts, in role order."""
    keys = list(roles)  # a jury stores each grader's verdict under its role (grader0 ...)
    return [[it.metrics[k] for k in keys] for it in items
            if not it.errored and all(k in it.metrics for k in keys)]


def grader_summary(run: Mapping[str, Any], *, seed: int = 0) -> GraderSummary | None:
    """None for a run scored without a grader."""
    roles = grader_roles(run)
    if not roles:
        return None
    items = _items(run)
    asked = [it for it in items if not it.errored and not it.incomplete]
    invalid = sum(it.metrics.get("grader_invalid", 0.0) > 0 or (it.invalid and len(roles) == 1)
                  for it in asked)
    lo, hi = wilson(invalid, len(asked)) if asked else (math.nan, math.nan)
    costs = [it.metrics["grader_cost_usd"] for it in items if "grader_cost_usd" in it.metrics]
    k = kappa(jury_ratings(items, list(roles)), seed=seed) if len(roles) > 1 else None
    return GraderSummary(
        run["run_id"], run["benchmark"], str(run["model"]), str(run.get("scorer") or ""), roles,
        len(asked), invalid, lo, hi,
        int(sum(it.metrics.get("grader_prompt_tokens", 0.0) for it in items)),
        int(sum(it.metrics.get("grader_completion_tokens", 0.0) for it in items)),
        sum(costs) if costs else None, k)


def read_judgements(path: Any) -> dict[str, int]:
    """Human judgements: a CSV (header with ``sample_id`` and ``correct``) or JSONL file
    (``{"sample_id": ..., "correct": ...}`` a line); ``correct`` is 1/0, true/false, yes/no or
    correct/incorrect.  Errors name the file and line."""
    import csv
    import json
    from pathlib import Path

    p = Path(path)
    if not p.is_file():
        raise MedgaugeError(f"human judgements file not found: {p}")
    rows: list[tuple[int, dict[str, Any]]] = []
    text = p.read_text(encoding="utf-8-sig")
    if p.suffix.lower() == ".csv":
        reader = csv.DictReader(text.splitlines())
        rows = [(i + 2, dict(r)) for i, r in enumerate(reader)]
    else:
        for i, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except ValueError:
                raise MedgaugeError(f"{p}:{i}: not a JSON object") from None
            if not isinstance(rec, dict):
                raise MedgaugeError(f"{p}:{i}: not a JSON object")
            rows.append((i, rec))
    out: dict[str, int] = {}
    for line, rec in rows:
        sid, value = rec.get("sample_id"), rec.get("correct")
        if sid is None or str(sid).strip() == "":
            raise MedgaugeError(f"{p}:{line}: field sample_id is missing")
        out[str(sid)] = _judgement(value, f"{p}:{line}")
    if not out:
        raise MedgaugeError(f"{p}: no judgements")
    return out


_TRUE = {"1", "true", "yes", "correct", "c"}
_FALSE = {"0", "false", "no", "incorrect", "i"}


def _judgement(value: Any, where: str) -> int:
    text = str(value).strip().lower()
    if isinstance(value, bool):
        return int(value)
    if text in _TRUE or text == "1.0":
        return 1
    if text in _FALSE or text == "0.0":
        return 0
    raise MedgaugeError(f"{where}: field correct must be 1/0, true/false, yes/no or "
                        f"correct/incorrect, got {value!r}")


def human_agreement(run: Mapping[str, Any], human: dict[str, int], *, seed: int = 0
                    ) -> dict[str, Agreement]:
    """Agreement with people of the run's verdict (``verdict``: the item's value, 1/0) and, for a
    jury, of each grader (``graderI``), on the items people judged that the grader judged."""
    items = _items(run)
    known = {it.sample_id for it in items}
    if not known & set(human):
        raise MedgaugeError(f"run {run['run_id']}: no item of the human judgements file is in "
                            "the run (sample ids differ?)")
    raters: dict[str, dict[str, int]] = {"verdict": {
        it.sample_id: int(it.value >= 0.5) for it in items
        if not it.errored and it.status == "ok" and it.value is not None}}
    roles = grader_roles(run)
    if len(roles) > 1:
        for role in roles:
            raters[role] = {it.sample_id: int(it.metrics[role]) for it in items
                            if role in it.metrics}
    return {name: agreement(r, human, seed=seed) for name, r in raters.items()}
