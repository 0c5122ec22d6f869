"""What the commands do, kept apart from argument parsing: build tasks from a config, execute
them with a progress bar and clean Ctrl-C handling, print leaderboards, export items."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

from rich.console import Console

from medgauge.backends import create_backend
from medgauge.backends.base import Backend
from medgauge.benchmarks import create_benchmark
from medgauge.benchmarks.select import selection_config
from medgauge.config import RunConfig
from medgauge.metrics import get_metric, grouped, run_metrics
from medgauge.report.labels import model_label
from medgauge.report.terminal import breakdown_table, leaderboard_table, print_tables
from medgauge.runner.engine import Task, TaskOutcome, run_tasks
from medgauge.runner.progress import Progress
from medgauge.runner.solver import load_probes, solvers
from medgauge.runner.steps import parse_pipeline
from medgauge.scoring.base import RuleScorer, Scorer
from medgauge.store import BaseStore, open_store
from medgauge.store.sqlite import SCHEMA_VERSION
from medgauge.types import MedgaugeError


def build_tasks(cfg: RunConfig) -> list[Task]:
    """Every benchmark x model, clean first, then each probe.  Fails before anything runs when a
    benchmark folder, backend, probe, pipeline step, metric or scoring mode is wrong."""
    load_probes()
    params = cfg.generation.params()
    pipeline = parse_pipeline(cfg.pipeline)
    if cfg.probes and any(m.spec.startswith("replay:") for m in cfg.models):
        raise MedgaugeError("probes need a model to ask: a replay: predictions file has only "
                            "the clean answers")
    for name in cfg.probe_options:
        if name not in cfg.probes:
            raise MedgaugeError(f"options given for probe {name!r}, which is not selected "
                                f"(selected: {', '.join(cfg.probes) or 'none'})")
    graders = create_graders(cfg.graders())
    scorers = {b.scoring: make_scorer(b.scoring, graders) for b in cfg.benchmarks}
    for b in cfg.benchmarks:
        for m in b.metrics:
            get_metric(m)  # an unknown metric fails before anything runs
    known = [n for n in solvers.names() if n != "clean"]
    for name in cfg.probes:
        if name not in known:
            raise MedgaugeError(f"unknown probe {name!r} (known: {', '.join(known)})")
    shared = [create_backend(m.spec, m.options) for m in cfg.models]
    tasks = []
    for b in cfg.benchmarks:
        bench = create_benchmark(b.name, b.data, **b.options)
        scorer = scorers[b.scoring]
        roles = {role: graders[i][0] for i, role in enumerate(scorer.roles)} if scorer.roles \
            else {}
        metrics = tuple(b.metrics) or scorer_metrics(bench, scorer)
        for spec, backend in zip(cfg.models, shared, strict=True):
            if backend.per_benchmark:  # state learnt from one benchmark (prior baseline)
                backend = create_backend(spec.spec, spec.options)
            for name in ["clean", *cfg.probes]:
                solver = solvers.get(name)(**cfg.probe_options.get(name, {}))
                tasks.append(Task(bench, backend, solver, prompt=b.prompt, scoring=b.scoring,
                                  params=params, seed=cfg.seed, limit=b.limit,
                                  pipeline=pipeline, scorer=scorers[b.scoring],
                                  graders=roles, metrics=metrics,
                                  system=b.system,
                                  select=selection_config(b.sample, cfg.seed, b.stratify,
                                                          b.ids)))
    return tasks


GraderBackends = list[tuple[Backend, tuple[float | None, float | None]]]


def create_graders(configs: list[Any]) -> GraderBackends:
    """Each grader's backend and its prices (options ``price_in``/``price_out``: USD per million
    prompt/completion tokens, taken out before the backend sees its options)."""
    out: GraderBackends = []
    for c in configs:
        options = dict(c.options)
        prices = []
        for key in ("price_in", "price_out"):
            value = options.pop(key, None)
            try:
                prices.append(None if value is None else float(value))
            except (TypeError, ValueError):
                raise MedgaugeError(f"grader {c.spec}: option {key} must be a number (USD per "
                                    f"million tokens), got {value!r}") from None
        out.append((create_backend(c.spec, options), (prices[0], prices[1])))
    return out


def make_scorer(scoring: str | None, graders: GraderBackends | Backend | None) -> Scorer:
    """The scorer of a scoring mode name: a rule mode, ``grader[:TEMPLATE]`` or ``green`` (one
    grader model) or ``jury[:AGG[:TEMPLATE]]`` (several).  With no mode given but graders,
    ``grader`` for one and ``jury`` for several."""
    from medgauge.scoring.grader import Grader, grader_scorer, is_graded

    if isinstance(graders, Backend):
        graders = [(graders, (None, None))]
    graders = graders or []
    if not is_graded(scoring):
        return RuleScorer(scoring)
    assert scoring is not None
    if not graders:
        raise MedgaugeError(f"scoring {scoring!r} needs a grader model: --grader KIND:MODEL")
    jury = scoring.split(":")[0] == "jury"
    return grader_scorer(scoring, [Grader(f"grader{i}" if jury else "grader", b.identity(),
                                          *prices) for i, (b, prices) in enumerate(graders)])


def scorer_metrics(bench: Any, scorer: Scorer) -> tuple[str, ...]:
    """The run's declared metrics when the scorer adds some (a rubric's ``grade``): the
    benchmark's, then the scorer's; empty (the benchmark's own) otherwise."""
    if not scorer.metrics:
        return ()
    return tuple(dict.fromkeys([*getattr(bench, "metrics", ("accuracy",)), *scorer.metrics]))


def execute(cfg: RunConfig, tasks: list[Task], *, console: Console, quiet: bool,
            resume_command: str, wait: bool = False) -> int:
    """Run the tasks; ``wait``: wait for another process's lease on a run instead of refusing."""
    store = open_store(cfg.store)
    progress = Progress.quiet() if quiet else Progress(console=Console(stderr=True))
    outcomes: list[TaskOutcome] = []
    try:
        outcomes = _run_interruptibly(run_tasks(tasks, store, progress, wait=wait))
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


def leaderboard_rows(store: BaseStore, run_ids: list[str]) -> list[dict[str, Any]]:
    """One row per declared metric of each run (``report.summary.metric_rows``)."""
    from medgauge.report.summary import metric_rows, sort_rows

    rows = []
    for run_id in dict.fromkeys(run_ids):
        run = store.run(run_id)
        rows.extend(metric_rows({**run, "model": _model_name(run),
                                 "items": list(store.items(run["run_id"]))}))
    return sort_rows(rows)


def _model_name(run: dict[str, Any]) -> str:
    from medgauge.report.labels import model_label, with_pipeline

    return with_pipeline(model_label(str(run["model"])), run.get("config"))


def print_leaderboard(store: BaseStore, run_ids: list[str], console: Console) -> None:
    print_tables(leaderboard_table(leaderboard_rows(store, run_ids)), console=console)
    print_grader_summaries([store.run_data(r) for r in dict.fromkeys(run_ids)
                            if (store.run(r).get("config") or {}).get("grader")], console)
    stale_scores_note(store, run_ids, console)


def stale_scores_note(store: BaseStore, run_ids: list[str], console: Console) -> None:
    """Say when a run's scores come from an older version of its scoring rules (a rerun of its
    command, or ``medgauge rescore``, re-scores them without asking the model)."""
    from medgauge.scoring.base import versions

    for run_id in dict.fromkeys(run_ids):
        run = store.run(run_id)
        current = versions.get(run.get("scorer") or "default")
        if current is not None and run.get("scorer_version") not in (None, current):
            console.print(f"note: run {run['run_id']} was scored by {run['scorer']} version "
                          f"{run['scorer_version']}; this release scores with version {current}. "
                          f"Re-score it (no model calls): medgauge rescore {run['run_id']} "
                          f"--store {store.path}", highlight=False, soft_wrap=True)


def shard_progress(store: BaseStore, run: dict[str, Any]) -> str | None:
    """One line on a sharded run: samples stored of the run's total, and each shard's stored
    samples of its size, status and holder (None for an unsharded run)."""
    from medgauge.benchmarks.select import shard_of
    from medgauge.runner.lease import describe

    shards = store.shards(run["run_id"])
    if not shards:
        return None
    n = int(shards[0]["shard"].split("/")[1])
    stored = store.stored_sample_ids(run["run_id"])
    per: dict[int, int] = {}
    for sid in stored:
        k = shard_of(sid, n)
        per[k] = per.get(k, 0) + 1
    known = {int(sh["shard"].split("/")[0]): sh for sh in shards
             if sh["shard"].endswith(f"/{n}")}
    parts = []
    for i in range(n):
        sh = known.get(i)
        if sh is None:
            parts.append(f"{i}/{n} not started ({per.get(i, 0)} stored)")
            continue
        state = (f"running ({describe(sh['owner'])})" if sh["owner"] else sh["status"])
        parts.append(f"{i}/{n} {state} {per.get(i, 0)}/{sh['n_total']}")
    total = "?" if run["n_total"] is None else run["n_total"]
    return (f"run {run['run_id']} ({run['status']}): {len(stored)}/{total} samples stored; "
            f"shards: {', '.join(parts)}")


def shard_progress_notes(store: BaseStore, runs: list[dict[str, Any]], console: Console) -> None:
    for run in runs:
        line = shard_progress(store, run)
        if line:
            console.print(line, highlight=False, soft_wrap=True)


def show_results(store_path: str | Path, run_ids: list[str], by: list[str], export: Path | None,
                 console: Console) -> None:
    store = open_store(store_path, readonly=True, must_exist=True)
    runs = [store.run(r) for r in run_ids] if run_ids else store.runs()
    shard_progress_notes(store, runs, console)
    clean = [r["run_id"] for r in runs if r["probe"] is None]
    if export is not None:
        from medgauge.store.export import export_items

        n = export_items(store, [r["run_id"] for r in runs], export)
        console.print(f"wrote {n} items to {export}")
        return
    if clean and not by:
        print_leaderboard(store, clean, console)
    from medgauge.metrics.fields import check_breakdown_fields

    for r in runs if by else []:
        check_breakdown_fields(store.items(r["run_id"]), by, f"run {r['run_id']}")
    for field in by:
        for r in runs:
            items = list(store.items(r["run_id"]))
            for metric in run_metrics(r["config"], r["benchmark"]):
                groups = grouped(metric, items, field)
                print_tables(breakdown_table(field, groups,
                                             f"{r['benchmark']} | {_model_name(r)} | {metric.name} "
                                             f"by {field}"), console=console)
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
        store = open_store(cfg.store)
        outcomes = _run_interruptibly(run_tasks(tasks, store, Progress.quiet()))
        run_ids = [o.run_id for o in outcomes]
        print_leaderboard(store, run_ids, console)
        from medgauge.metrics.fields import check_breakdown_fields

        check_breakdown_fields(store.items(run_ids[0]), by, name)
        items = list(store.items(run_ids[0]))
        run = store.run(run_ids[0])
        for field in by:
            for metric in run_metrics(run["config"], run["benchmark"]):
                print_tables(breakdown_table(field, grouped(metric, items, field),
                                             f"{name} | {metric.name} by {field}"),
                             console=console)
        if out is not None:
            from medgauge.store.export import export_extraction

            n = export_extraction(store, run_ids, out)
            console.print(f"wrote the extraction of {n} items to {out}")
        missing = sum(o.errors for o in outcomes)
        unmatched = tasks[0].backend.unmatched(
            {it["sample_id"] for it in store.items(run_ids[0])})
        store.close()
    if missing:
        console.print(f"[yellow]{missing} sample(s) had no prediction[/] (reported as errors).")
    if unmatched:
        shown = ", ".join(repr(u) for u in unmatched[:3]) + (", ..." if len(unmatched) > 3 else "")
        console.print(f"[yellow]{len(unmatched)} prediction(s) name no sample of the benchmark[/] "
                      f"and were not scored ({shown}).", highlight=False, soft_wrap=True)
    return 0


def show_comparison(store_path: str | Path, run_ids: list[str], intersection: bool, resamples: int,
                    seed: int, clustered: bool, console: Console) -> None:
    from rich.table import Table

    from medgauge.compare import compare_runs
    from medgauge.report.summary import macro_by_model, macro_metrics
    from medgauge.stats import win_tie_loss

    if len(run_ids) < 2:
        raise MedgaugeError("compare needs at least two runs")
    store = open_store(store_path, readonly=True, must_exist=True)
    runs = [store.run_data(r) for r in run_ids]
    store.close()
    from medgauge.report.labels import shorten_models

    shorten_models(runs)  # short labels; two pipelines of one model are two names
    comparisons = compare_runs(runs, intersection=intersection, n_resamples=resamples,
                               seed=seed, clustered=clustered)
    table = Table(title="Paired comparison (A - B)", title_justify="left")
    for col in ("benchmark", "metric", "A", "B", "n", "A", "B", "diff [95% CI]",
                "McNemar p", "Holm p", "outcome", "only A / only B right"):
        table.add_column(col, no_wrap=col.startswith("diff"))
    for c in comparisons:
        r = c.result
        k = c.scale
        d = ".1f" if k == 100 else ".3f"
        dropped = f" (-{r.dropped_a}/-{r.dropped_b})" if r.dropped_a or r.dropped_b else ""
        table.add_row(c.benchmark, c.metric, c.model_a, c.model_b, f"{r.n}{dropped}",
                      format(k * r.mean_a, d), format(k * r.mean_b, d),
                      f"{k * r.diff:+{d}} [{k * r.lo:+{d}}, {k * r.hi:+{d}}]",
                      "-" if r.p_mcnemar is None else f"{r.p_mcnemar:.3g}",
                      "-" if c.p_holm is None else f"{c.p_holm:.3g}", r.outcome,
                      # helpful/harmful split: items only one run gets right
                      "-" if r.p_mcnemar is None else f"{r.a_only} / {r.b_only}")
    console.print(table)
    wtl = win_tie_loss(c.result.outcome for c in comparisons)
    console.print("A against B, win / tie / loss: " + " / ".join(
        f"{int(wtl[k])} ({wtl[k + '_pct']:.0f}%)" for k in ("win", "tie", "loss")))
    for metric in macro_metrics(runs):
        for model, macro in macro_by_model(runs, metric).items():
            parts = ", ".join(f"{b} {100 * ci.estimate:.1f}"
                              for b, ci in macro.per_benchmark.items())
            console.print(f"macro {metric} {model}: {100 * macro.estimate:.1f} "
                          f"[{100 * macro.lo:.1f}, {100 * macro.hi:.1f}] over {parts}")


def write_report(store_path: str | Path, run_ids: list[str], out: Path, fmt: str,
                 include_images: bool, by: list[str], force: bool = False) -> Path:
    from medgauge.report.output import check_report_path

    if fmt not in ("html", "md", "latex", "csv"):
        raise MedgaugeError(f"unknown report format {fmt!r} (known: html, md, latex, csv)")
    check_report_path(out, fmt, force)
    if not out.parent.exists():
        raise MedgaugeError(f"output folder does not exist: {out.parent}")
    store = open_store(store_path, must_exist=True)
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


def rescore_runs(store_path: str | Path, run_ids: list[str], scoring: str | None,
                 grader_configs: list[dict[str, Any]], console: Console) -> int:
    """``medgauge rescore``: score stored replies again (another scoring mode, or the current
    version of the run's own) without solving again; only grader models are ever asked."""
    from medgauge.config import ModelConfig
    from medgauge.runner.calls import ModelCaller
    from medgauge.runner.scoring import rescore_samples
    from medgauge.scoring.base import ScoreContext

    load_probes()
    store = open_store(store_path, must_exist=True)
    graders = create_graders([ModelConfig.model_validate(c) for c in grader_configs])
    runs = [store.run(r) for r in run_ids] if run_ids else store.runs()
    if not runs:
        raise MedgaugeError(f"no runs in {store_path}")

    async def go() -> list[tuple[dict[str, Any], Scorer, int, int, int]]:
        out = []
        for backend, _ in graders:
            await backend.start()
        try:
            for run in runs:
                mode = scoring or (run["config"] or {}).get("scoring") or "default"
                base = make_scorer(mode, graders)
                solver_cfg = dict((run["config"] or {}).get("solver") or {"name": "clean"})
                solver = solvers.get(solver_cfg.pop("name", "clean"))(**solver_cfg)
                scorer = solver.scorer(base)
                roles = {role: ModelCaller(graders[i][0], store, role)
                         for i, role in enumerate(base.roles)}
                ctx = ScoreContext(roles)
                n, errors = await rescore_samples(store, run["run_id"], scorer, ctx)
                store.set_scorer(run["run_id"], scorer.name, scorer.version)
                out.append((run, scorer, n, errors, ctx.sent))
        finally:
            for backend, _ in graders:
                await backend.close()
        return out

    results = _run_interruptibly(go())
    errors = 0
    for run, scorer, n, err, sent in results:
        errors += err
        skipped = (run["n_items"] or 0) - n
        note = f"; {skipped} item(s) from medgauge 0.1 need a rerun of the run's command" \
            if skipped > 0 else ""
        console.print(f"rescored {n} item(s) of run {run['run_id']} with {scorer.identity()}: "
                      f"0 model requests, {sent} grader request(s), {err} error(s){note}",
                      highlight=False, soft_wrap=True)
    clean = [run["run_id"] for run, *_ in results if run["probe"] is None]
    if clean:
        print_leaderboard(store, clean, console)
    store.close()
    return 1 if errors else 0


def print_grader_summaries(runs: list[dict[str, Any]], console: Console,
                           human: dict[str, int] | None = None, seed: int = 0) -> None:
    """The grader table (report/graders.py) of the model-graded runs among ``runs``, and their
    agreement with people when ``human`` judgements are given."""
    from rich.table import Table

    from medgauge.report.graders import grader_summary, human_agreement

    summaries = [(run, s) for run in runs if (s := grader_summary(run, seed=seed)) is not None]
    if not summaries:
        return
    table = Table(title="Graders", title_justify="left")
    for col in ("benchmark", "model", "scorer", "graders", "asked", "grader invalid [95% CI]",
                "tokens in/out", "cost $", "kappa [95% CI]", "run"):
        table.add_column(col, overflow="fold")
    for _, s in summaries:
        k = s.kappa
        table.add_row(s.benchmark, _model_name({"model": s.model}), s.scorer,
                      ", ".join(model_label(g) for g in s.graders.values()), str(s.asked),
                      f"{s.invalid} ({100 * s.invalid_rate:.1f}%) "
                      f"[{100 * s.invalid_lo:.1f}-{100 * s.invalid_hi:.1f}]" if s.asked else "-",
                      f"{s.prompt_tokens}/{s.completion_tokens}",
                      "-" if s.cost_usd is None else f"{s.cost_usd:.4f}",
                      "-" if k is None else f"{k.method} {_num(k.value)} "
                                            f"[{_num(k.lo)}, {_num(k.hi)}] n={k.n}",
                      s.run_id)
    print_tables(table, console=console)
    if human is None:
        return
    table = Table(title="Grader vs human judgements", title_justify="left")
    for col in ("benchmark", "model", "rater", "n", "accuracy [95% CI]", "kappa [95% CI]",
                "run"):
        table.add_column(col, overflow="fold")
    for run, s in summaries:
        for rater, a in human_agreement(run, human, seed=seed).items():
            acc = (f"{100 * a.accuracy:.1f} [{100 * a.lo:.1f}-{100 * a.hi:.1f}]" if a.n
                   else "-")
            table.add_row(s.benchmark, _model_name({"model": s.model}), rater, str(a.n), acc,
                          f"{_num(a.kappa.value)} [{_num(a.kappa.lo)}, {_num(a.kappa.hi)}]",
                          s.run_id)
    print_tables(table, console=console)


def _num(x: float) -> str:
    return "-" if x != x else f"{x:.2f}"  # nan -> "-"


def show_agreement(store_path: str | Path, run_ids: list[str], human_path: Path | None, seed: int,
                   console: Console) -> None:
    """``medgauge agreement``."""
    from medgauge.report.graders import grader_roles, read_judgements

    human = read_judgements(human_path) if human_path is not None else None
    store = open_store(store_path, readonly=True)
    runs = [store.run_data(r) for r in run_ids] if run_ids else \
        [store.run_data(r["run_id"]) for r in store.runs() if grader_roles(r)]
    store.close()
    graded = [r for r in runs if grader_roles(r)]
    if not graded:
        raise MedgaugeError(f"no model-graded run in {store_path} (runs scored with --scoring "
                            "grader or jury)")
    print_grader_summaries(graded, console, human, seed)


def upgrade_store(store_path: str | Path, console: Console) -> None:
    """``medgauge store upgrade``: migrate an older SQLite store in place (a backup is kept).
    A PostgreSQL store has nothing to migrate (none was written before schema 3)."""
    open_store(store_path, must_exist=True).close()
    console.print(f"{store_path} is up to date (schema {SCHEMA_VERSION})")
