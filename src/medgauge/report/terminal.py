"""Terminal tables: the leaderboard (benchmark x model) and group breakdowns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from medgauge.report.labels import status_note
from medgauge.stats import Proportion


def pct(p: Proportion) -> str:
    if p.n == 0:
        return "-"
    return f"{100 * p.value:.1f} [{100 * p.lo:.1f}-{100 * p.hi:.1f}]"


def leaderboard_table(rows: Sequence[Mapping[str, Any]], title: str = "Leaderboard") -> Table:
    """rows: {benchmark, model, run_id, acc: Proportion, optional status and n_total}; sorted by
    benchmark, then accuracy.  A run that did not finish (interrupted, failed, still running)
    says so beside its model, with samples done / total."""
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False,
                  collapse_padding=True)
    table.add_column("benchmark", no_wrap=True)
    table.add_column("model", no_wrap=True)
    table.add_column("accuracy % [95% CI]", justify="right", no_wrap=True)
    for col in ("n", "invalid", "errors"):
        table.add_column(col, justify="right", no_wrap=True)
    table.add_column("run", style="dim", overflow="ellipsis", no_wrap=True)
    ordered = sorted(rows, key=lambda r: (r["benchmark"], -(r["acc"].value if r["acc"].n else -1)))
    previous = None
    for r in ordered:
        acc: Proportion = r["acc"]
        note = status_note(r.get("status", "completed"), acc.n, r.get("n_total"))
        model = f"{r['model']} ({note})" if note else r["model"]
        table.add_row(r["benchmark"] if r["benchmark"] != previous else "", model, pct(acc),
                      str(acc.n), str(acc.invalid), str(acc.errors), r["run_id"][:8],
                      style="yellow" if note else None)
        previous = r["benchmark"]
    return table


def breakdown_table(field: str, groups: Mapping[str, Proportion], title: str) -> Table:
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False,
                  collapse_padding=True)
    table.add_column(field, no_wrap=True)
    table.add_column("accuracy % [95% CI]", justify="right", no_wrap=True)
    table.add_column("n", justify="right")
    table.add_column("invalid", justify="right")
    table.add_column("errors", justify="right")
    for key, acc in groups.items():
        table.add_row(key, pct(acc), str(acc.n), str(acc.invalid), str(acc.errors))
    return table


def print_tables(*tables: Table, console: Console | None = None) -> None:
    """Print tables whole.  On a terminal they fit its width; written to a file or a pipe (where
    rich assumes 80 columns) each table gets the width it needs, so no column (an interval) is
    ever cut."""
    console = console or Console()
    for t in tables:
        if console.is_terminal:
            console.print(t)
        else:
            need = console.measure(t, options=console.options.update_width(10_000)).maximum
            width = console.width  # print(width=...) cannot exceed it, so widen the console
            console.width = max(width, need)
            try:
                console.print(t)
            finally:
                console.width = width
