"""Reliability probes: solvers that perturb samples, and their paired metrics."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from medgauge.store import Store


def print_trust_profile(store: Store, run_ids: list[str], console: Console) -> None:
    """Accuracy per probe variant for each probe run (headline metrics come with each probe)."""
    from collections import defaultdict

    from rich.table import Table

    from medgauge.metrics import accuracy
    from medgauge.report.terminal import pct

    table = Table(title="Trust profile", title_justify="left")
    for col in ("benchmark", "model", "probe", "variant", "accuracy % [95% CI]", "n"):
        table.add_column(col)
    for run_id in run_ids:
        run = store.run(run_id)
        by_variant = defaultdict(list)
        for item in store.items(run["run_id"]):
            by_variant[item["variant"]].append(item)
        for variant, items in sorted(by_variant.items()):
            acc = accuracy(items)
            table.add_row(run["benchmark"], run["model"], run["probe"] or "", variant, pct(acc),
                          str(acc.n))
    console.print(table)
