"""``medgauge runs``: list the runs of a store, and ``medgauge runs rm``: delete some."""

from __future__ import annotations

from pathlib import Path

from rich import box
from rich.console import Console
from rich.table import Table

from medgauge.report.labels import model_label
from medgauge.store import BaseStore, open_store


def _open(store_path: str | Path) -> BaseStore:
    return open_store(store_path, must_exist=True)


def run_rows(store_path: str | Path) -> list[dict[str, object]]:
    """One dict per run: run_id, benchmark, model (short label), probe, status, done, total,
    limit, selection, created (UTC, ISO 8601)."""
    store = _open(store_path)
    try:
        done = store.samples_done()
        rows = []
        for r in store.runs():
            cfg = r["config"] or {}
            sel = cfg.get("select") or {}
            selection = ", ".join(f"{k}={v}" for k, v in sel.items() if k in ("sample", "seed",
                                                                               "stratify", "ids"))
            rows.append({"run_id": r["run_id"], "benchmark": r["benchmark"],
                         "model": model_label(r["model"]), "probe": r["probe"] or "",
                         "status": r["status"], "done": done.get(r["run_id"], 0),
                         "total": r["n_total"], "limit": cfg.get("limit"),
                         "selection": selection, "created": r["started"]})
        return rows
    finally:
        store.close()


def print_runs(store_path: str | Path, console: Console) -> None:
    rows = run_rows(store_path)
    if not rows:
        console.print(f"no runs in {store_path}")
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    for col in ("run", "benchmark", "model", "probe", "status", "done/total", "limit",
                "selection", "created"):
        table.add_column(col, no_wrap=col not in ("model", "selection"))
    for r in rows:
        style = None if r["status"] in ("completed", "completed_with_errors") else "yellow"
        total = "?" if r["total"] is None else r["total"]
        table.add_row(str(r["run_id"]), str(r["benchmark"]), str(r["model"]), str(r["probe"]),
                      str(r["status"]), f"{r['done']}/{total}",
                      "-" if r["limit"] is None else str(r["limit"]), str(r["selection"]) or "-",
                      str(r["created"]).replace("T", " "), style=style)
    from medgauge.report.terminal import print_tables

    print_tables(table, console=console)


def remove_runs(store_path: str | Path, run_ids: list[str]) -> list[str]:
    """Delete each run (id or unique prefix); one line per run deleted."""
    store = _open(store_path)
    try:
        runs = [store.run(r) for r in run_ids]  # every id checked before anything is deleted
        lines = []
        for r in runs:
            n = store.delete_run(r["run_id"])
            lines.append(f"deleted run {r['run_id']} ({r['benchmark']} | "
                         f"{model_label(r['model'])}, {n} items)")
        return lines
    finally:
        store.close()
