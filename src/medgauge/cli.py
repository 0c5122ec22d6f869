"""The ``medgauge`` command line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from medgauge.types import MedgaugeError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Evaluate and stress-test medical LLMs and VLMs: scores with intervals, probes, reports.",
)
console = Console()
err_console = Console(stderr=True)

# Exit codes: 0 done, 1 done but some requests failed after retries, 2 error, 70 internal error,
# 130 interrupted.
EXIT_ERRORS, EXIT_FATAL, EXIT_INTERNAL, EXIT_INTERRUPTED = 1, 2, 70, 130


def _kv(pairs: list[str] | None, what: str) -> dict[str, Any]:
    """``key=value`` flags; values parsed as YAML scalars/lists (``5``, ``true``, ``[a, b]``)."""
    import yaml

    out: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise MedgaugeError(f"{what} {pair!r} must look like KEY=VALUE")
        try:
            out[key.strip()] = yaml.safe_load(value) if value else ""
        except yaml.YAMLError:
            out[key.strip()] = value
    return out


def _config_from_flags(benchmark: list[str], model: list[str], probe: list[str],
                       store: str, limit: int | None, prompt: str | None, scoring: str | None,
                       opt: list[str], model_opt: list[str], base_url: list[str],
                       api_key_env: str | None, concurrency: int | None,
                       generation: dict[str, Any], seed: int,
                       probe_opt: list[str] | None = None, pipeline: str | None = None,
                       metric: list[str] | None = None, grader: list[str] | None = None,
                       grader_opt: list[str] | None = None,
                       select: dict[str, Any] | None = None) -> dict[str, Any]:
    bench_options = _kv(opt, "--opt")
    benches = []
    for spec in benchmark:
        name, _, data = spec.partition("=")
        benches.append({"name": name, "data": data or None, "options": bench_options,
                        "limit": limit, "prompt": prompt,
                        "scoring": scoring or _graded_mode(grader),
                        "metrics": [m.strip() for group in metric or [] for m in group.split(",")
                                    if m.strip()],
                        **{k: v for k, v in (select or {}).items() if v is not None}})
    model_options = _kv(model_opt, "--model-opt")
    if base_url:
        model_options["base_url"] = base_url if len(base_url) > 1 else base_url[0]
    if api_key_env:
        model_options["api_key_env"] = api_key_env
    if concurrency:
        model_options["concurrency"] = concurrency
    models = []
    for spec in model:
        kind = spec.partition(":")[0]
        own = {k: v for k, v in model_options.items()
               if kind == "openai" or k not in ("base_url", "api_key_env", "cache_scope")}
        models.append({"spec": spec, "options": own})
    probes = [p.strip() for group in probe for p in group.split(",") if p.strip()]
    probe_options: dict[str, dict[str, Any]] = {}
    for key, value in _kv(probe_opt, "--probe-opt").items():
        name, dot, option = key.partition(".")
        if not dot or not option:
            raise MedgaugeError(f"--probe-opt {key!r} must look like PROBE.KEY=VALUE")
        probe_options.setdefault(name, {})[option] = value
    out = {"store": store, "seed": seed, "generation": generation, "benchmarks": benches,
           "models": models, "probes": probes, "probe_options": probe_options,
           "pipeline": pipeline}
    if grader:
        out["grader"] = grader_configs(grader, grader_opt)
    return out


def _graded_mode(grader: list[str] | None) -> str | None:
    """The scoring mode implied by --grader flags alone: grader (one) or jury (several)."""
    if not grader:
        return None
    return "grader" if len(grader) == 1 else "jury"


def grader_configs(grader: list[str], grader_opt: list[str] | None) -> list[dict[str, Any]]:
    """``--grader`` specs with their ``--grader-opt KEY=VALUE`` (every grader) or
    ``--grader-opt N.KEY=VALUE`` (the N-th grader, from 0)."""
    shared: list[str] = []
    own: dict[int, list[str]] = {}
    for pair in grader_opt or []:
        head, dot, rest = pair.partition(".")
        if dot and head.isdigit() and "=" not in head:
            index = int(head)
            if index >= len(grader):
                raise MedgaugeError(f"--grader-opt {pair!r}: there is no grader {index} (give "
                                    f"{len(grader)} --grader, numbered from 0)")
            own.setdefault(index, []).append(rest)
        else:
            shared.append(pair)
    return [{"spec": spec, "options": _kv([*shared, *own.get(i, [])], "--grader-opt")}
            for i, spec in enumerate(grader)]


def _unescape(text: str | None) -> str | None:
    """``\\n`` typed in a shell argument becomes a newline (``\\\\n`` keeps a literal one)."""
    if text is None:
        return None
    return text.replace("\\\\", "\0").replace("\\n", "\n").replace("\0", "\\")


def _warn_unbalanced_limit(tasks: list[Any]) -> None:
    from medgauge.benchmarks.select import limit_warning

    seen: set[tuple[int, int | None]] = set()
    for task in tasks:
        key = (id(task.benchmark), task.limit)
        if task.limit is None or task.select or key in seen:
            continue
        seen.add(key)
        warning = limit_warning(task.benchmark.samples(), task.limit,
                                f"--limit {task.limit} on {task.benchmark.name}")
        if warning:
            err_console.print(f"[yellow]warning:[/] {warning}", highlight=False, soft_wrap=True)


@app.command()
def run(
    benchmark: list[str] = typer.Option([], "--benchmark", "-b", help="NAME or NAME=DATA_PATH; repeat for several."),
    model: list[str] = typer.Option([], "--model", "-m", help="KIND:MODEL, e.g. baseline:random, openai:gpt-4o, hf:/ckpt; repeat."),
    config: Path | None = typer.Option(None, "--config", "-c", help="YAML or TOML run config (other flags are refused with it)."),
    probe: list[str] = typer.Option([], "--probe", "-p", help="Reliability probes, comma separated."),
    probe_opt: list[str] = typer.Option([], "--probe-opt", help="Probe option PROBE.KEY=VALUE (e.g. blind.text_run=ab12cd34)."),
    store: str = typer.Option("medgauge.db", help="Store: a SQLite file, or postgresql://user@host/db."),
    limit: int | None = typer.Option(None, min=1, help="Only the first N samples of each benchmark (after --sample/--ids)."),
    sample: int | None = typer.Option(None, "--sample", min=1, help="A seeded random sample of N samples (seed: --seed)."),
    stratify: str | None = typer.Option(None, help="Stratify --sample by this field: answer, answer_type or a metadata field."),
    ids: Path | None = typer.Option(None, "--ids", help="Only the sample ids listed in this file, one a line."),
    prompt: str | None = typer.Option(None, help="Prompt template name, or literal text with {question} (\\n is a newline)."),
    system: str | None = typer.Option(None, "--system", help="System prompt (replaces the template's; \\n is a newline)."),
    scoring: str | None = typer.Option(None, help="Scoring mode (see medgauge list scoring)."),
    opt: list[str] = typer.Option([], "--opt", help="Benchmark option KEY=VALUE (e.g. lang=zh)."),
    model_opt: list[str] = typer.Option([], "--model-opt", help="Backend option KEY=VALUE."),
    base_url: list[str] = typer.Option([], "--base-url", help="OpenAI-compatible base URL; repeat to spread load."),
    api_key_env: str | None = typer.Option(None, help="Environment variable holding the API key."),
    concurrency: int | None = typer.Option(None, min=1, help="Requests in flight per model."),
    temperature: float = typer.Option(0.0, min=0.0),
    max_tokens: int = typer.Option(512, min=1),
    gen_seed: int | None = typer.Option(None, "--gen-seed", help="Sampling seed sent to the model."),
    logprobs: bool = typer.Option(False, help="Ask for token log-probabilities."),
    top_logprobs: int | None = typer.Option(None, min=0, max=20),
    seed: int = typer.Option(0, help="Seed of baselines and probes."),
    pipeline: str | None = typer.Option(None, help="Solver steps, e.g. 'few_shot(k=2) -> chain_of_thought -> generate(n=3) -> vote'."),
    metric: list[str] = typer.Option([], "--metric", help="Declared metrics (the first is the headline), e.g. accuracy,token_f1."),
    grader: list[str] = typer.Option([], "--grader", help="Grader model KIND:MODEL for --scoring grader (model-graded answers); repeat for a jury."),
    grader_opt: list[str] = typer.Option([], "--grader-opt", help="Grader backend option KEY=VALUE (every grader) or N.KEY=VALUE (grader N); price_in/price_out in USD per million tokens."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    shard: str | None = typer.Option(None, "--shard", help="Run only shard I/N of each benchmark (0-based: 0/3, 1/3, 2/3; samples split by a hash of their id); the N shards write one run."),
    wait: bool = typer.Option(False, "--wait", help="Wait while another process runs the same run (or shard) instead of refusing."),
    cache_scope: str | None = typer.Option(None, "--cache-scope", help="model (default: stored answers are shared by every server of the same model name) or server (keyed by base URL too)."),
) -> None:
    """Run benchmarks x models (and probes) into the store; resumes what is already stored."""
    from medgauge.config import load_config, parse_config
    from medgauge.redact import redact_command
    from medgauge.workflow import build_tasks, execute

    if config is not None:
        _refuse_flags_with_config(sys.argv[2:])
        cfg = load_config(config)
    else:
        if not benchmark or not model:
            raise MedgaugeError("give at least one --benchmark and one --model (or --config FILE)")
        generation = {"temperature": temperature, "max_tokens": max_tokens, "seed": gen_seed,
                      "logprobs": logprobs, "top_logprobs": top_logprobs}
        select = {"sample": sample, "stratify": stratify, "ids": str(ids) if ids else None,
                  "system": _unescape(system)}
        cfg = parse_config(_config_from_flags(
            benchmark, model, probe, store, limit, _unescape(prompt), scoring, opt,
            [*model_opt, *([f"cache_scope={cache_scope}"] if cache_scope else [])], base_url,
            api_key_env, concurrency, generation, seed, probe_opt, pipeline, metric, grader,
            grader_opt, select), "command line")
    from medgauge.benchmarks.select import parse_shard

    shard_of_run = parse_shard(shard)
    tasks = build_tasks(cfg)
    for task in tasks:
        task.shard = shard_of_run
    _warn_unbalanced_limit(tasks)
    resume = "medgauge " + redact_command(sys.argv[1:])
    from medgauge.runner.breaker import TaskStopped

    try:
        code = execute(cfg, tasks, console=console, quiet=quiet, resume_command=resume,
                       wait=wait)
    except TaskStopped as exc:
        raise TaskStopped(f"{exc}: {resume}") from None
    raise typer.Exit(code)


def _refuse_flags_with_config(args: list[str]) -> None:
    """With ``-c FILE`` every setting comes from the file: other flags would be ignored, so they
    are refused instead (``-q``, which only changes the display, and ``--shard`` / ``--wait``,
    which choose what this process does of the run, aside)."""
    allowed = ("-c", "--config", "-q", "--quiet", "--shard", "--wait")
    given = [a.split("=")[0] for a in args
             if a.startswith("-") and a.split("=")[0] not in allowed]
    if given:
        raise MedgaugeError(f"{', '.join(dict.fromkeys(given))} cannot be combined with "
                            "--config: put the setting in the config file")


@app.command("list")
def list_(what: str = typer.Argument("all", help="benchmarks | backends | probes | scoring | prompts | all")) -> None:
    """List what is available: benchmarks (with their layouts), backends, probes, scoring modes."""
    from medgauge.workflow import catalogue

    sections = catalogue()
    if what != "all" and what not in sections:
        raise MedgaugeError(f"unknown list {what!r} (known: {', '.join(sections)}, all)")
    from rich.table import Table

    for name, rows in sections.items():
        if what not in ("all", name):
            continue
        table = Table(title=name, title_justify="left", show_lines=(name == "benchmarks"))
        table.add_column("name", style="bold")
        table.add_column("description")
        for key, text in rows:
            table.add_row(key, text)
        console.print(table)


@app.command()
def results(
    run_ids: list[str] = typer.Argument(None, help="Run ids (prefixes work); all runs when omitted."),
    store: str = typer.Option("medgauge.db", help="Store: a SQLite file, or postgresql://user@host/db."),
    by: list[str] = typer.Option([], "--by", help="Break accuracy down by this metadata field."),
    export: Path | None = typer.Option(None, help="Write the items to .jsonl, .csv or .parquet."),
) -> None:
    """Show the leaderboard of stored runs, breakdowns, or export their items."""
    from medgauge.workflow import show_results

    show_results(store, run_ids or [], by, export, console)


@app.command()
def score(
    benchmark: str = typer.Option(..., "--benchmark", "-b", help="NAME or NAME=DATA_PATH."),
    predictions: Path = typer.Option(..., "--predictions", help="JSONL or CSV: id (or question) and the raw response."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Per-item extraction to .jsonl or .csv."),
    scoring: str | None = typer.Option(None, help="Scoring mode (see medgauge list scoring)."),
    opt: list[str] = typer.Option([], "--opt", help="Benchmark option KEY=VALUE."),
    id_field: str = typer.Option("id", help="Column holding the sample id."),
    question_field: str = typer.Option("question", help="Column holding the question (used when the id is absent)."),
    response_field: str | None = typer.Option(None, help="Column holding the raw response."),
    by: list[str] = typer.Option([], "--by", help="Break accuracy down by this metadata field."),
    store: str | None = typer.Option(None, help="Keep the scored items in this store (default: a temporary one)."),
) -> None:
    """Score an external predictions file against a benchmark, without a model, through the same
    extraction and metrics as `medgauge run`."""
    from medgauge.workflow import score_predictions

    options = {"id_field": id_field, "question_field": question_field}
    if response_field:
        options["response_field"] = response_field
    raise typer.Exit(score_predictions(benchmark, predictions, options, _kv(opt, "--opt"),
                                       scoring, by, out, store, console))


@app.command()
def compare(
    run_ids: list[str] = typer.Argument(..., help="Two or more clean runs (prefixes work)."),
    store: str = typer.Option("medgauge.db", help="Store: a SQLite file, or postgresql://user@host/db."),
    intersection: bool = typer.Option(False, help="Compare only the items both runs have."),
    resamples: int = typer.Option(10000, min=100, help="Bootstrap resamples."),
    seed: int = typer.Option(0, help="Bootstrap seed."),
    clustered: bool = typer.Option(True, help="Resample clusters (shared images/cases), not items."),
) -> None:
    """Paired comparison of models on the same items: difference with a paired bootstrap CI,
    exact McNemar test, win/tie/loss, Holm correction across benchmarks, macro average."""
    from medgauge.workflow import show_comparison

    show_comparison(store, run_ids, intersection, resamples, seed, clustered, console)


@app.command()
def report(
    run_ids: list[str] = typer.Argument(None, help="Runs to report (prefixes work); all runs when omitted."),
    out: Path = typer.Option(Path("report.html"), "--out", "-o", help="Output file."),
    store: str = typer.Option("medgauge.db", help="Store: a SQLite file, or postgresql://user@host/db."),
    fmt: str = typer.Option("html", "--format", help="html | md | latex | csv (the last three: the leaderboard only)."),
    include_images: bool = typer.Option(False, help="Embed thumbnails of the failed items' images (patient data: off by default)."),
    by: list[str] = typer.Option([], "--by", help="Metadata fields for the breakdown heatmaps (default: chosen automatically)."),
    force: bool = typer.Option(False, "--force", help="Overwrite -o even when it is not a previous report."),
) -> None:
    """Write a self-contained HTML report (or a leaderboard table for papers and spreadsheets)."""
    from medgauge.workflow import write_report

    path = write_report(store, run_ids or [], out, fmt, include_images, by, force)
    console.print(f"wrote {path}")


@app.command()
def rescore(
    run_ids: list[str] = typer.Argument(None, help="Runs to re-score (prefixes work); all runs when omitted."),
    store: str = typer.Option("medgauge.db", help="Store: a SQLite file, or postgresql://user@host/db."),
    scoring: str | None = typer.Option(None, help="Scoring mode (default: each run's own, at this release's version)."),
    grader: list[str] = typer.Option([], "--grader", help="Grader model KIND:MODEL for --scoring grader; repeat for a jury."),
    grader_opt: list[str] = typer.Option([], "--grader-opt", help="Grader backend option KEY=VALUE or N.KEY=VALUE."),
) -> None:
    """Re-score stored replies (another scoring mode, or new scoring rules) without asking the
    model again; the new scores become the runs' current ones, older ones stay stored."""
    from medgauge.workflow import rescore_runs

    raise typer.Exit(rescore_runs(store, run_ids or [], scoring,
                                  grader_configs(grader, grader_opt), console))


@app.command()
def agreement(
    run_ids: list[str] = typer.Argument(None, help="Model-graded runs (prefixes work); all graded runs when omitted."),
    store: str = typer.Option("medgauge.db", help="SQLite store file."),
    human: Path | None = typer.Option(None, "--human", help="Human judgements: CSV or JSONL with sample_id and correct (1/0)."),
    seed: int = typer.Option(0, help="Bootstrap seed."),
) -> None:
    """Graders of model-graded runs: invalid rate, tokens, cost, inter-grader kappa, and
    agreement with people (accuracy and kappa with 95% intervals) given --human."""
    from medgauge.workflow import show_agreement

    show_agreement(Path(store), run_ids or [], human, seed, console)


store_app = typer.Typer(help="Store maintenance.", no_args_is_help=True)
app.add_typer(store_app, name="store")


@store_app.command("upgrade")
def store_upgrade(path: str = typer.Argument(..., help="Store file to migrate in place (a backup copy is kept).")) -> None:
    """Migrate a store written by an earlier release to this release's schema."""
    from medgauge.workflow import upgrade_store

    upgrade_store(path, console)


@store_app.command("copy")
def store_copy(src: str = typer.Argument(..., help="Store to copy from: a SQLite file or postgresql://user@host/db."),
               dst: str = typer.Argument(..., help="Store to copy into (created when missing)."),
               run: list[str] = typer.Option([], "--run", help="Only these runs (prefixes work); all when omitted.")) -> None:
    """Copy runs (with their items, scores and responses) from one store into another, e.g.
    SQLite <-> PostgreSQL.  Identical rows are fine; a success is kept over an error; two
    different successes are refused (nothing is written)."""
    from medgauge.store import open_store
    from medgauge.store.transfer import copy_runs

    source = open_store(src, readonly=True, must_exist=True)
    target = open_store(dst)
    try:
        summary = copy_runs(source, target, run or None)
    finally:
        source.close()
        target.close()
    console.print(summary.line(source.where, target.where), highlight=False, soft_wrap=True)


@app.command()
def merge(stores: list[str] = typer.Argument(..., help="SQLite stores (or postgresql:// URLs) to merge."),
          out: str = typer.Option(..., "--out", "-o", help="Store to merge them into (created when missing).")) -> None:
    """Merge stores run apart (e.g. the shards of one run on machines without a shared store)
    into one: identical rows are fine, a success is kept over an error, two different successes
    are refused with the run and sample named."""
    from medgauge.store import open_store
    from medgauge.store.transfer import copy_runs

    if out in stores:
        raise MedgaugeError(f"--out {out} is one of the stores to merge; give a new store")
    sources = [open_store(s, readonly=True, must_exist=True) for s in stores]
    target = open_store(out)
    try:
        for source in sources:
            summary = copy_runs(source, target)
            console.print(summary.line(source.where, target.where), highlight=False,
                          soft_wrap=True)
    finally:
        for source in sources:
            source.close()
        target.close()


@app.command()
def phantom(
    out: Path = typer.Argument(..., help="Folder to write phantom.jsonl and images/ into."),
    n_cases: int = typer.Option(60, min=1, help="Number of phantom cases."),
    seed: int = typer.Option(0),
) -> None:
    """Generate the phantom benchmark (synthetic CT-like slices with known truth)."""
    from medgauge.phantom import phantom_command

    path = phantom_command(out, n_cases, seed)
    console.print(f"wrote {path}")


def print_error(message: str) -> None:
    """One line on stderr, printed verbatim (no console markup: ``[info]`` stays) and with any
    credentials in URLs redacted."""
    from rich.text import Text

    from medgauge.redact import redact_text

    line = " ".join(redact_text(str(message)).split())
    err_console.print(Text.assemble(("error: ", "bold red"), line), soft_wrap=True)


def _version(value: bool) -> None:
    if value:
        import medgauge

        console.print(f"medgauge {medgauge.__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the version and exit.")) -> None:
    """Evaluate and stress-test medical LLMs and VLMs: scores with intervals, probes, reports."""


models_app = typer.Typer(no_args_is_help=True, help="Local models converted from installed packages (nothing is downloaded).")
app.add_typer(models_app, name="models")


@models_app.command("prepare")
def models_prepare(name: str = typer.Argument(..., help="Model name (see medgauge models list).")) -> None:
    """Convert a packaged model into a checkpoint folder under the medgauge cache (once) and print
    its path, for use as hf:PATH or with an OpenAI-compatible server."""
    from medgauge.models import MODELS, is_prepared, model_path, prepare

    if name in MODELS and not is_prepared(model_path(name)):
        err_console.print(f"converting {name} into {model_path(name)} (once)", highlight=False)
    print(prepare(name))


@models_app.command("list")
def models_list() -> None:
    """The models `models prepare` knows, where they come from, and whether they are prepared."""
    from rich.table import Table

    from medgauge.models import MODELS, is_prepared, model_path

    table = Table(title="models", title_justify="left")
    for col in ("name", "package", "prepared", "description"):
        table.add_column(col)
    for name, m in MODELS.items():
        path = model_path(name)
        table.add_row(name, m.distribution, str(path) if is_prepared(path) else "no",
                      m.description)
    console.print(table)


runs_app = typer.Typer(help="List or delete the runs of a store.")
app.add_typer(runs_app, name="runs")


@runs_app.callback(invoke_without_command=True)
def runs_list(ctx: typer.Context,
              store: str = typer.Option("medgauge.db", help="Store: a SQLite file, or postgresql://user@host/db.")) -> None:
    """List the runs: id, benchmark, model, probe, status, samples done / total, limit, created."""
    if ctx.invoked_subcommand is not None:
        return
    from medgauge.runs import print_runs

    print_runs(store, console)


@runs_app.command("rm")
def runs_rm(run_ids: list[str] = typer.Argument(..., help="Run ids (prefixes work)."),
            store: str = typer.Option("medgauge.db", help="Store: a SQLite file, or postgresql://user@host/db.")) -> None:
    """Delete runs and their items (cached responses stay, so a rerun sends nothing again)."""
    from medgauge.runs import remove_runs

    for line in remove_runs(store, run_ids):
        console.print(line, highlight=False)


def main() -> None:
    """Exit codes: 0 done, 1 done but some requests failed (rerun), 2 bad input or a fatal
    server answer (also disk full), 70 an internal error (a bug: please report it), 130/143
    interrupted.  No traceback reaches the user."""
    from medgauge.failures import describe_unexpected

    try:
        app()  # standalone: usage errors and typer.Exit codes are handled by typer
    except MedgaugeError as exc:
        print_error(str(exc))
        sys.exit(EXIT_FATAL)
    except KeyboardInterrupt:
        sys.exit(EXIT_INTERRUPTED)
    except Exception as exc:
        message, code = describe_unexpected(exc)
        print_error(message)
        sys.exit(code)


if __name__ == "__main__":
    main()
