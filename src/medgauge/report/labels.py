"""Short model labels for tables: the backend options (JSON in the model identity) stay in the
run config, and a local checkpoint or predictions file is named by its last path component."""

from __future__ import annotations

from pathlib import PurePath

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
    under different options) keep their full identity, so runs are never merged by mistake."""
    by_label: dict[str, set[str]] = {}
    for run in runs:
        by_label.setdefault(model_label(str(run["model"])), set()).add(str(run["model"]))
    for run in runs:
        full = str(run["model"])
        label = model_label(full)
        run["model_identity"] = full
        run["model"] = label if len(by_label[label]) == 1 else full


def strategy(run: dict) -> str | None:
    """The run's prompting strategy when it is not the default one (its pipeline, e.g.
    ``few_shot(k=2) -> generate``), else None."""
    pipeline = (run.get("config") or {}).get("pipeline")
    return str(pipeline) if pipeline else None


def label_strategies(runs: list[dict]) -> None:
    """Append the strategy to each run's ``model`` label in place (``hf:smollm2 (chain_of_thought
    -> generate)``), so two strategies of one model are two columns in tables, comparisons and
    reports rather than one (``clean_runs`` keys by benchmark and model)."""
    for run in runs:
        name = strategy(run)
        if name and not str(run["model"]).endswith(f"({name})"):
            run["model"] = f"{run['model']} ({name})"  # not [...]: rich reads that as markup
