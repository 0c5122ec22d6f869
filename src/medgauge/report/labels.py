"""Short model labels for tables: the backend options (JSON in the model identity) stay in the
run config, and a local checkpoint or predictions file is named by its last path component."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

_PATH_KINDS = ("hf", "replay")


def model_label(identity: str) -> str:
    """``hf:/data/models/smollm2-135m{"dtype": ...}`` -> ``hf:smollm2-135m``;
    ``openai:gpt-4o`` -> ``openai:gpt-4o``; ``openai:m{"base": 1}`` -> ``openai:m``."""
    kind, sep, rest = identity.partition(":")
    if not sep:
        return identity
    brace = rest.find("{")
    name = rest[:brace] if brace > 0 else rest
    if kind in _PATH_KINDS and ("/" in name or "\\" in name):
        name = PurePath(name.rstrip("/\\")).name or name
    return f"{kind}:{name}"


_QUOTED_PATH = re.compile(r"'([^']*[/\\][^']*)'")


def pipeline_label(config: Mapping[str, Any] | None) -> str:
    """The run's pipeline (``retrieve(corpus='pool.jsonl', k=5) -> generate``) with quoted paths
    cut to their last component; ``""`` for the default pipeline (a plain ``generate``)."""
    text = str((config or {}).get("pipeline") or "")
    return _QUOTED_PATH.sub(lambda m: repr(PurePath(m.group(1).rstrip("/\\")).name), text)


def with_pipeline(label: str, config: Mapping[str, Any] | None) -> str:
    """``label (pipeline)`` when the run has a non-default pipeline: two runs of one model that
    differ only by their pipeline (with and without retrieval, chain of thought ...) are two
    rows, and the report pairs them instead of keeping only the latest.  Parentheses, not
    brackets: the terminal reads ``[...]`` as markup."""
    pipeline = pipeline_label(config)
    return f"{label} ({pipeline})" if pipeline else label


FINISHED = ("completed", "completed_with_errors")


def status_note(status: str | None, done: int | None, total: int | None) -> str:
    """'' for a finished run; otherwise e.g. ``interrupted 40/100`` so it never looks final."""
    if status in FINISHED:
        return ""
    counts = f" {done}/{total}" if done is not None and total is not None else ""
    return f"{status or 'unknown'}{counts}"


def shorten_models(runs: list[dict]) -> None:
    """Replace each run's ``model`` by its short label in place, for reports, keeping the full
    identity in ``model_identity``.  Identities whose labels would collide (the same checkpoint
    under different options) keep their full identity, so runs are never merged by mistake; a
    non-default pipeline is appended (:func:`with_pipeline`)."""
    by_label: dict[str, set[str]] = {}
    for run in runs:
        by_label.setdefault(model_label(str(run["model"])), set()).add(str(run["model"]))
    for run in runs:
        full = str(run["model"])
        label = model_label(full)
        run["model_identity"] = full
        run["model"] = with_pipeline(label if len(by_label[label]) == 1 else full,
                                     run.get("config"))
