"""Trust profile: one row per probe run, computed from the store.

For a probe run, its clean run is the run whose config is the same except ``solver`` =
``{"name": "clean"}`` (same benchmark instance, model identity, prompt, scoring, parameters, seed
and limit); probe items are joined with the clean items by sample id.  When no such run exists
the metrics that need it are left out and ``clean`` is ``None``.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from medgauge.probes.common import (
    Item,
    Probe,
    ProbeResult,
    SummaryContext,
    acc_of,
    clean_accuracy,
    pct,
    result,
)
from medgauge.report.labels import model_label
from medgauge.runner.solver import solvers

if TYPE_CHECKING:
    from rich.console import Console

    from medgauge.store import Store


def _same_but_solver(a: dict[str, Any], b: dict[str, Any]) -> bool:
    strip = lambda c: {k: v for k, v in (c or {}).items() if k != "solver"}  # noqa: E731
    return strip(a) == strip(b)


def find_clean_run(store: Store, run: dict[str, Any]) -> dict[str, Any] | None:
    """The clean run paired with ``run`` (same config except the solver), or None."""
    matches = [r for r in store.runs()
               if r["run_id"] != run["run_id"]
               and (r.get("config") or {}).get("solver", {}).get("name") == "clean"
               and _same_but_solver(r.get("config") or {}, run.get("config") or {})]
    if not matches:
        return None
    # a completed run first, then the latest started
    matches.sort(key=lambda r: (r["status"] in ("completed", "completed_with_errors"),
                                r["started"] or ""))
    return matches[-1]


def _clean_json(value: Any) -> Any:
    """nan / inf become None so the summary is plain JSON."""
    if isinstance(value, float):
        return None if not math.isfinite(value) else value
    if isinstance(value, dict):
        return {str(k): _clean_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean_json(v) for v in value]
    return value


def summarize_items(name: str, items: list[Item], clean: list[Item] | None,
                    options: dict[str, Any], context: SummaryContext | None = None
                    ) -> ProbeResult:
    """The probe's summary from plain item rows (the store's dicts).  A solver that is not a
    probe (a prompting strategy, or one this version does not know) gets plain accuracy."""
    import medgauge.probes  # noqa: F401 - registers the probes

    cls = solvers.get(name) if name in solvers else None
    if cls is None or not issubclass(cls, Probe):
        ids = [str(it["sample_id"]) for it in items]
        return result(name, "accuracy", acc_of(items), "higher", clean_accuracy(clean, ids),
                      {"note": "not a probe: accuracy over all its items"})
    return cls.summarize(items, clean, options, context or SummaryContext())


def probe_summary(store: Store, run_id: str) -> dict[str, Any]:
    """``{run_id, model, benchmark, probe, headline, value, lo, hi, n, better, clean, clean_n,
    clean_run, method, details}`` for one probe run; undefined numbers are ``None``."""
    run = store.run(run_id)
    solver = dict((run.get("config") or {}).get("solver") or {"name": run["probe"]})
    name = str(solver.pop("name", run["probe"]))
    items = list(store.items(run["run_id"]))
    clean_run = find_clean_run(store, run)
    clean = list(store.items(clean_run["run_id"])) if clean_run is not None else None
    context = SummaryContext(lambda rid: store.items(store.run(rid)["run_id"]))
    res = summarize_items(name, items, clean, solver, context)
    out = {"run_id": run["run_id"], "model": run["model"], "benchmark": run["benchmark"],
           **asdict(res), "clean_run": clean_run["run_id"] if clean_run else None,
           "options": solver}
    return _clean_json(out)


KEY_DETAILS: dict[str, tuple[tuple[str, str], ...]] = {
    "blind": (("S_v", "S_v"), ("S_wv", "S_wv"), ("ML", "ML")),
    "pairs": (("individual_acc", "indiv"), ("confused", "confused"), ("invalid", "invalid"),
              ("incomplete_pairs", "incomplete")),
    "leading": (("RA", "RA"), ("pos_right", "pos right")),
    "followup": (("worst_intervention", "worst"), ("worst_delta", "worst Δacc"),
                 ("mean_delta", "mean Δacc")),
    "permute": (("rotation0_acc", "rot0 acc"), ("consistency", "consistent"),
                ("favoured_position", "favoured pos")),
    "perturb": (("clean_right_items", "clean-right"), ("changed", "changed")),
    "mismatch": (("flag_rate", "flagged"), ("clean_flag_rate", "flagged on clean")),
    "confidence": (("aligned_log_score", "aligned log score"),),
}


def _detail_text(summary: dict[str, Any]) -> str:
    details = summary.get("details") or {}
    parts = []
    for key, label in KEY_DETAILS.get(summary["probe"], ()):
        value = details.get(key)
        if isinstance(value, dict) and "value" in value:
            value = value["value"]
        if value is None:
            continue
        if isinstance(value, float) and key not in ("aligned_log_score",):
            parts.append(f"{label} {pct(value)}")
        elif isinstance(value, float):
            parts.append(f"{label} {value:.2f}")
        else:
            parts.append(f"{label} {value}")
    if summary["probe"] == "confidence":
        allc = details.get("all") or {}
        for key, label in (("brier", "Brier"), ("auroc", "AUROC"),
                           ("overconfidence", "overconf")):
            if allc.get(key) is not None:
                parts.append(f"{label} {allc[key]:.2f}")
    return ", ".join(parts)


def _value_text(s: dict[str, Any]) -> str:
    if s["value"] is None:
        reason = (s.get("details") or {}).get("not_applicable")
        return f"n/a ({reason})" if reason else "n/a"
    text = f"{100 * s['value']:.1f}"
    if s["lo"] is not None and s["hi"] is not None:
        text += f" [{100 * s['lo']:.1f}, {100 * s['hi']:.1f}]"
    return text


def print_trust_profile(store: Store, run_ids: list[str], console: Console) -> None:
    """The trust profile in the terminal: one table per benchmark and model, one row per probe
    run with its headline metric (95% CI; arrow = the good direction), n, the accuracy of the
    paired clean run on the same samples and a few key details."""
    from rich.table import Table

    summaries = [probe_summary(store, r) for r in dict.fromkeys(run_ids)]
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for s in sorted(summaries, key=lambda s: (s["benchmark"], s["model"], s["probe"])):
        groups.setdefault((s["benchmark"], s["model"]), []).append(s)
    for (benchmark, model), rows in groups.items():
        table = Table(title=f"Trust profile: {benchmark} | {model_label(model)}  "
                            "(% unless noted)",
                      title_justify="left")
        table.add_column("probe")
        table.add_column("metric")
        table.add_column("value [95% CI]", justify="right", no_wrap=True)
        table.add_column("n", justify="right")
        table.add_column("clean", justify="right")
        table.add_column("details")
        for s in rows:
            arrow = "\u2191" if s["better"] == "higher" else "\u2193"
            table.add_row(s["probe"], f"{s['headline']} {arrow}", _value_text(s), str(s["n"]),
                          pct(s["clean"]), _detail_text(s))
        console.print(table)
