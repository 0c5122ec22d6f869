"""Terminal tables: the leaderboard (benchmark x model) and group breakdowns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from medgauge.metrics import Estimate
from medgauge.report.labels import status_note


def fmt(x: float, est: Estimate) -> str:
    """A value in the metric's display unit (percent for scale 100, else 3 decimals)."""
    return f"{est.scale * x:.1f}" if est.scale == 100 else f"{est.scale * x:.3f}"


def pct(est: Estimate) -> str:
    """``value [lo-hi]`` in the metric's display unit; ``-`` when nothing was scored."""
    if est.n == 0:
        return "-"
    return f"{fmt(est.value, est)} [{fmt(est.lo, est)}-{fmt(est.hi, est)}]"


def metric_label(est: Estimate) -> str:
    return f"{est.metric} %" if est.scale == 100 else est.metric


def leaderboard_table(rows: Sequence[Mapping[str, Any]], title: str = "Leaderboard") -> Table:
    """rows: {benchmark, model, run_id, metric, est: Estimate} (``report.summary.leaderboard``
    order: by benchmark, metric, then value, best first).  With one metric throughout, its name
    heads the value column; otherwise a metric column is shown.  Values and intervals are never
    cut: names wrap instead.  A run that did not finish (interrupted, failed, still
    running) says so beside its model, with samples done / total."""
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False,
                  collapse_padding=True)
    labels = {metric_label(r["est"]) for r in rows}
    one = len(labels) == 1
    values = [pct(r["est"]) for r in rows]
    table.add_column("benchmark", overflow="fold", min_width=9)
    table.add_column("model", overflow="fold", min_width=12)
    if not one:
        table.add_column("metric", no_wrap=True)
    head = f"{next(iter(labels))} [95% CI]" if one else "value [95% CI]"
    if not one and any(r["est"].scale == 100 for r in rows):
        table.caption = "values in % except metrics on another scale (CIDEr)"
    table.add_column(head, justify="right", no_wrap=True,
                     min_width=max([len(v) for v in values] + [10]))
    for col in ("n", "invalid", "errors"):
        table.add_column(col, justify="right", no_wrap=True)
    table.add_column("run", style="dim", no_wrap=True, min_width=8, max_width=8)
    previous = None
    previous_model: tuple[str, str] | None = None
    for r, value in zip(rows, values, strict=True):
        est: Estimate = r["est"]
        invalid = str(est.invalid) + (f"+{est.incomplete}i" if est.incomplete else "")
        same = (r["benchmark"], r["model"]) == previous_model
        note = status_note(r.get("status") or "completed", est.n + est.errors, r.get("n_total"))
        model = f"{r['model']} ({note})" if note else r["model"]
        cells = [r["benchmark"] if r["benchmark"] != previous else "",
                 "" if same else model]
        previous_model = (r["benchmark"], r["model"])
        if not one:
            cells.append(metric_label(est))
        table.add_row(*cells, value, str(est.n), invalid, str(est.errors), r["run_id"][:8],
                      style="yellow" if note else None)
        previous = r["benchmark"]
    return table


def breakdown_table(field: str, groups: Mapping[str, Estimate], title: str) -> Table:
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False,
                  collapse_padding=True)
    first = next(iter(groups.values()), None)
    label = metric_label(first) if first is not None else "value"
    table.add_column(field, no_wrap=True)
    table.add_column(f"{label} [95% CI]", justify="right", no_wrap=True)
    table.add_column("n", justify="right")
    table.add_column("invalid", justify="right")
    table.add_column("errors", justify="right")
    for key, est in groups.items():
        table.add_row(key, pct(est), str(est.n), str(est.invalid), str(est.errors))
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
