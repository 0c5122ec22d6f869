"""What the commands do, kept apart from argument parsing: build tasks from a config, execute
them with a progress bar and clean Ctrl-C handling, print leaderboards, export items."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

from rich.console import Console

from medgauge.backends import create_backend
from medgauge.benchmarks import create_benchmark
from medgauge.benchmarks.select import selection_config
from medgauge.config import RunConfig
from medgauge.metrics import accuracy, grouped
from medgauge.report.terminal import breakdown_table, leaderboard_table, print_tables
from medgauge.runner.engine import Task, TaskOutcome, run_tasks
from medgauge.runner.progress import Progress
from medgauge.runner.solver import solvers
from medgauge.scoring import get_scorer
from medgauge.store import Store
from medgauge.types import MedgaugeError


def build_tasks(cfg: RunConfig) -> list[Task]:
    """Every benchmark x model, clean first, then each probe.  Fails before anything runs when a
    benchmark folder, backend or probe name is wrong."""
    import medgauge.probes  # noqa: F401 - registers probe solvers

    params = cfg.generation.params()
    models = [create_backend(m.spec, m.options) for m in cfg.models]
    if cfg.probes and any(m.spec.startswith("replay:") for m in cfg.models):
        raise MedgaugeError("probes need a model to ask: a replay: predictions file has only "
                            "the clean answers")
    for name in cfg.probe_options:
        if name not in cfg.probes:
            raise MedgaugeError(f"options given for probe {name!r}, which is not selected "
                                f"(selected: {', '.join(cfg.probes) or 'none'})")
    for b in cfg.benchmarks:
        get_scorer(b.scoring)  # an unknown scoring mode fails before anything runs
    known = [n for n in solvers.names() if n != "clean"]
    for name in cfg.probes:
        if name not in known:
            raise MedgaugeError(f"unknown probe {name!r} (known: {', '.join(known)})")
    tasks = []
    for b in cfg.benchmarks:
        bench = create_benchmark(b.name, b.data, **b.options)
        for backend in models:
            for name in ["clean", *cfg.probes]:
                solver = solvers.get(name)(**cfg.probe_options.get(name, {}))
                tasks.append(Task(bench, backend, solver, prompt=b.prompt, scoring=b.scoring,
                                  params=params, seed=cfg.seed, limit=b.limit, system=b.system,
                                  select=selection_config(b.sample, cfg.seed, b.stratify, b.ids)))
    return tasks


def execute(cfg: RunConfig, tasks: list[Task], *, console: Console, quiet: bool,
            resume_command: str) -> int:
    store = Store(cfg.store)
    progress = Progress.quiet() if quiet else Progress(console=Console(stderr=True))
    outcomes: list[TaskOutcome] = []
    try:
        outcomes = _run_interruptibly(run_tasks(tasks, store, progress))
    except KeyboardInterrupt as exc:
        console.print("[yellow]interrupted[/]: everything finished so far is stored. Resume with:"
                      f"\n  {resume_command}", highlight=False, soft_wrap=True)
        store.close()
        return 128 + (exc.signum if isinstance(exc, Interrupted) else signal.SIGINT)
    run_ids = [o.run_id for t, o in zip(tasks, outcomes, strict=False)
               if t.solver.name == "clean"]
    print_leaderboard(store, run_ids, console)
    probe_runs = [o.run_id for t, o in zip(tasks, outcomes, strict=False)
                  if t.solver.name != "clean"]
    if probe_runs:
        from medgauge.probes import print_trust_profile

        print_trust_profile(store, probe_runs, console)
    errors = sum(o.errors for o in outcomes)
    store.close()
    if errors:
        console.print(f"[red]{errors} request(s) failed after retries[/] and are reported apart "
                      f"from accuracy. Rerun to retry them:\n  {resume_command}",
                      highlight=False, soft_wrap=True)
        return 1
    return 0


class Interrupted(KeyboardInterrupt):
    """Ctrl-C, or SIGTERM/SIGHUP from a scheduler (SLURM, timeout): stop cleanly."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _run_interruptibly(coro: Any) -> Any:
    """asyncio.run, turning the first SIGINT, SIGTERM or SIGHUP into a clean cancellation of the
    workers (what finished is stored; the run is marked interrupted)."""
    loop = asyncio.new_event_loop()
    main = loop.create_task(coro)
    received: list[int] = []

    def on_signal(signum: int) -> None:
        received.append(signum)
        main.cancel()

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        try:
            loop.add_signal_handler(signum, on_signal, signum)
        except (NotImplementedError, RuntimeError, ValueError):  # pragma: no cover
            pass
    try:
        return loop.run_until_complete(main)
    except asyncio.CancelledError:
        if received:
            raise Interrupted(received[0]) from None
        raise
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


def leaderboard_rows(store: Store, run_ids: list[str]) -> list[dict[str, Any]]:
    rows = []
    for run_id in dict.fromkeys(run_ids):
        run = store.run(run_id)
        rows.append({"benchmark": run["benchmark"], "model": _model_name(run),
                     "run_id": run["run_id"], "acc": accuracy(store.items(run["run_id"])),
                     "status": run["status"], "n_total": run["n_total"]})
    return rows


def _model_name(run: dict[str, Any]) -> str:
    from medgauge.report.labels import model_label

    return model_label(str(run["model"]))


def print_leaderboard(store: Store, run_ids: list[str], console: Console) -> None:
    print_tables(leaderboard_table(leaderboard_rows(store, run_ids)), console=console)


def show_results(store_path: Path, run_ids: list[str], by: list[str], export: Path | None,
                 console: Console) -> None:
    if not store_path.is_file():
        raise MedgaugeError(f"store not found: {store_path}")
    store = Store(store_path)
    runs = [store.run(r) for r in run_ids] if run_ids else store.runs()
    clean = [r["run_id"] for r in runs if r["probe"] is None]
    if export is not None:
        from medgauge.store.export import export_items

        n = export_items(store, [r["run_id"] for r in runs], export)
        console.print(f"wrote {n} items to {export}")
        return
    if clean and not by:
        print_leaderboard(store, clean, console)
    for field in by:
        for r in runs:
            groups = grouped(store.items(r["run_id"]), field)
            print_tables(breakdown_table(field, groups,
                                         f"{r['benchmark']} | {_model_name(r)} by {field}"),
                         console=console)
    probe = [r["run_id"] for r in runs if r["probe"] is not None]
    if probe:
        from medgauge.probes import print_trust_profile

        print_trust_profile(store, probe, console)
    store.close()


def catalogue() -> dict[str, list[tuple[str, str]]]:
    import medgauge.backends as backends_pkg
    import medgauge.benchmarks as benchmarks_pkg
    import medgauge.probes  # noqa: F401
    from medgauge.backends.base import describe_backend
    from medgauge.prompts import templates
    from medgauge.scoring import scorers

    return {
        "benchmarks": [(n, cls.layout or "") for n, cls in benchmarks_pkg.benchmarks.items()],
        "backends": [(n, describe_backend(cls)) for n, cls in backends_pkg.backends.items()],
        "probes": [(n, cls.description) for n, cls in solvers.items() if n != "clean"],
        "scoring": [(n, (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else "")
                    for n, fn in scorers.items()],
        "prompts": [(n, t.description or t.text) for n, t in templates.items()],
    }


def score_predictions(benchmark: str, predictions: Path, backend_options: dict[str, Any],
                      bench_options: dict[str, Any], scoring: str | None, by: list[str],
                      out: Path | None, store_path: str | None, console: Console) -> int:
    """``medgauge score``: a run whose model is the ``replay`` backend over the predictions."""
    import tempfile

    from medgauge.config import parse_config

    name, _, data = benchmark.partition("=")
    with tempfile.TemporaryDirectory() as tmp:
        cfg = parse_config({
            "store": store_path or str(Path(tmp) / "score.db"),
            "benchmarks": [{"name": name, "data": data or None, "options": bench_options,
                            "scoring": scoring}],
            "models": [{"spec": f"replay:{predictions}", "options": backend_options}],
        }, "score")
        tasks = build_tasks(cfg)
        store = Store(cfg.store)
        outcomes = _run_interruptibly(run_tasks(tasks, store, Progress.quiet()))
        run_ids = [o.run_id for o in outcomes]
        print_leaderboard(store, run_ids, console)
        for field in by:
            groups = grouped(store.items(run_ids[0]), field)
            print_tables(breakdown_table(field, groups, f"{name} by {field}"), console=console)
        if out is not None:
            from medgauge.store.export import export_extraction

            n = export_extraction(store, run_ids, out)
            console.print(f"wrote the extraction of {n} items to {out}")
        missing = sum(o.errors for o in outcomes)
        store.close()
    if missing:
        console.print(f"[yellow]{missing} sample(s) had no prediction[/] (reported as errors).")
    return 0


def show_comparison(store_path: Path, run_ids: list[str], intersection: bool, resamples: int,
                    seed: int, clustered: bool, console: Console) -> None:
    from rich.table import Table

    from medgauge.compare import compare_runs
    from medgauge.report.summary import macro_by_model
    from medgauge.stats import win_tie_loss

    if not store_path.is_file():
        raise MedgaugeError(f"store not found: {store_path}")
    if len(run_ids) < 2:
        raise MedgaugeError("compare needs at least two runs")
    store = Store(store_path)
    runs = [store.run_data(r) for r in run_ids]
    store.close()
    comparisons = compare_runs(runs, intersection=intersection, n_resamples=resamples,
                               seed=seed, clustered=clustered)
    table = Table(title="Paired comparison (A - B)", title_justify="left")
    for col in ("benchmark", "A", "B", "n", "acc A %", "acc B %", "diff % [95% CI]",
                "McNemar p", "Holm p", "outcome"):
        table.add_column(col, no_wrap=col.startswith("diff"))
    for c in comparisons:
        r = c.result
        dropped = f" (-{r.dropped_a}/-{r.dropped_b})" if r.dropped_a or r.dropped_b else ""
        table.add_row(c.benchmark, c.model_a, c.model_b, f"{r.n}{dropped}",
                      f"{100 * r.mean_a:.1f}", f"{100 * r.mean_b:.1f}",
                      f"{100 * r.diff:+.1f} [{100 * r.lo:+.1f}, {100 * r.hi:+.1f}]",
                      "-" if r.p_mcnemar is None else f"{r.p_mcnemar:.3g}",
                      "-" if c.p_holm is None else f"{c.p_holm:.3g}", r.outcome)
    console.print(table)
    wtl = win_tie_loss(c.result.outcome for c in comparisons)
    console.print("A against B, win / tie / loss: " + " / ".join(
        f"{int(wtl[k])} ({wtl[k + '_pct']:.0f}%)" for k in ("win", "tie", "loss")))
    for model, macro in macro_by_model(runs).items():
        parts = ", ".join(f"{b} {100 * ci.estimate:.1f}" for b, ci in macro.per_benchmark.items())
        console.print(f"macro average {model}: {100 * macro.estimate:.1f} "
                      f"[{100 * macro.lo:.1f}, {100 * macro.hi:.1f}] over {parts}")


def write_report(store_path: Path, run_ids: list[str], out: Path, fmt: str,
                 include_images: bool, by: list[str]) -> Path:
    if fmt not in ("html", "md", "latex", "csv"):
        raise MedgaugeError(f"unknown report format {fmt!r} (known: html, md, latex, csv)")
    if not store_path.is_file():
        raise MedgaugeError(f"store not found: {store_path}")
    if not out.parent.exists():
        raise MedgaugeError(f"output folder does not exist: {out.parent}")
    store = Store(store_path)
    ids = run_ids or [r["run_id"] for r in store.runs()]
    if not ids:
        raise MedgaugeError(f"no runs in {store_path}")
    runs = [store.run_data(r) for r in ids]
    from medgauge.report.labels import shorten_models

    shorten_models(runs)  # short model labels in the tables (identities stay in the config)
    if fmt == "html":
        from medgauge.probes import probe_summary

        for run in runs:
            if run["probe"] is not None:
                run["probe_summary"] = probe_summary(store, run["run_id"])
    store.close()
    if fmt == "html":
        from medgauge.report.html import write_html_report

        return write_html_report(runs, out, include_images=include_images, group_by=by or None)
    from medgauge.report.tables import leaderboard_table

    out.write_text(leaderboard_table(runs, fmt), encoding="utf-8")
    return out
