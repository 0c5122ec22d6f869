"""Run tasks (benchmark x model x solver) into the store, resumably, in two phases per sample:
solve (the pipeline asks the model) then score (the run's scorer judges the replies).

A benchmark is read once per task list (``Task.samples`` caches the list on the benchmark), and
checked for duplicate ids before anything is sent.  Samples go to asyncio workers; each finished
sample's items and scores are committed in one transaction.  A rerun of the same task (same run
id) skips samples whose items are stored without error and scored by the current scorer version,
re-scores (with no model calls) those whose score is missing or of another version, and solves
again the rest; so it ends with exactly the rows an uninterrupted run would have written.

All tasks of one backend run concurrently under that backend's one concurrency budget (a
semaphore of ``backend.concurrency`` samples in flight).  A ``MedgaugeError`` (wrong API key,
corrupt image ...) stops every task: what is stored stays, the runs are marked ``failed`` (or
``interrupted``) and the error propagates as one line.
"""

from __future__ import annotations

import asyncio
import platform
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

import medgauge
from medgauge.backends.base import Backend
from medgauge.benchmarks.base import Benchmark
from medgauge.benchmarks.checks import check_sample
from medgauge.benchmarks.select import apply_selection, shard_of
from medgauge.report.labels import model_label
from medgauge.runner.breaker import FailureStreak
from medgauge.runner.calls import ModelCaller
from medgauge.runner.examples import ExamplePool
from medgauge.runner.lease import take_lease
from medgauge.runner.progress import Progress
from medgauge.runner.request_key import sample_fingerprint
from medgauge.runner.scoring import rescore_samples, score_items
from medgauge.runner.solver import SolveContext, Solver
from medgauge.runner.steps import Pipeline
from medgauge.scoring.base import RuleScorer, ScoreContext, Scorer
from medgauge.store.base import BaseStore as Store
from medgauge.store.base import run_id_of
from medgauge.types import GenParams, MedgaugeError, Sample


@dataclass
class Task:
    benchmark: Benchmark
    backend: Backend
    solver: Solver
    prompt: str | None = None
    scoring: str | None = None
    params: GenParams = field(default_factory=GenParams)
    seed: int = 0
    limit: int | None = None
    pipeline: Pipeline = field(default_factory=Pipeline.default)
    #: the run's scorer (default: the rule scorer of ``scoring``); graders come with theirs
    scorer: Scorer | None = None
    graders: dict[str, Backend] = field(default_factory=dict)
    metrics: tuple[str, ...] = ()
    select: dict[str, Any] | None = None  # benchmarks.select.selection_config
    system: str | None = None             # system prompt
    #: (i, N): solve only the samples of shard i of N (``select.shard_of``); not part of the run
    #: id, so the N shards of a run write one run
    shard: tuple[int, int] | None = None

    def config(self) -> dict[str, Any]:
        cfg: dict[str, Any] = {
            "benchmark": self.benchmark.describe(),
            "model": self.backend.identity(),
            "solver": {"name": self.solver.name, **self.solver.options},
            "prompt": self.effective_prompt,
            "scoring": self.run_scorer.name,
            "params": self.params.as_dict(),
            "seed": self.seed,
            "limit": self.limit,
            # only when set, so the run ids of existing runs stay unchanged
            **({"select": self.select} if self.select else {}),
            **({"system": self.system} if self.system else {}),
        }
        if not self.pipeline.is_default:  # only when set: earlier run ids stay valid
            cfg["pipeline"] = self.pipeline.describe()
        if self.graders:
            cfg["grader"] = {role: b.identity() for role, b in self.graders.items()}
        if self.metrics:
            cfg["metrics"] = list(self.metrics)
        if self.select:  # only when set, so the run ids of existing runs stay unchanged
            cfg["select"] = self.select
        if self.system:
            cfg["system"] = self.system
        return cfg

    @property
    def run_scorer(self) -> Scorer:
        if self.scorer is None:
            self.scorer = RuleScorer(self.scoring)
        return self.scorer

    @property
    def item_scorer(self) -> Scorer:
        """The scorer of this task's items (a probe may read its replies its own way)."""
        return self.solver.scorer(self.run_scorer)

    @property
    def effective_prompt(self) -> str:
        """The run's template: the user's override, else the benchmark's default."""
        return self.prompt or self.benchmark.prompt

    @property
    def shard_label(self) -> str:
        return "" if self.shard is None else f"{self.shard[0]}/{self.shard[1]}"

    def in_shard(self, sample: Sample) -> bool:
        return self.shard is None or shard_of(sample.id, self.shard[1]) == self.shard[0]

    @property
    def run_id(self) -> str:
        return run_id_of(self.config())

    def samples(self) -> list[Sample]:
        """The benchmark's samples (read once and shared by the tasks of the benchmark), cut to
        ``limit``; duplicate ids are refused before anything is sent."""
        cached = getattr(self.benchmark, "_medgauge_samples", None)
        if cached is None:
            cached = list(self.benchmark.samples())
            seen: set[str] = set()
            for sample in cached:
                if sample.id in seen:
                    raise MedgaugeError(f"benchmark {self.benchmark.name}: duplicate sample id "
                                        f"{sample.id!r}")
                check_sample(sample, self.benchmark.name)
                seen.add(sample.id)
            if not cached:
                raise MedgaugeError(f"benchmark {self.benchmark.name}: no samples to evaluate "
                                    "(empty file, or every row filtered out)")
            self.benchmark._medgauge_samples = cached  # type: ignore[attr-defined]
        chosen = (apply_selection(cached, self.select, self.benchmark.name)
                  if self.select else cached)
        return list(islice(chosen, self.limit)) if self.limit is not None else list(chosen)

    def example_pool(self) -> ExamplePool | None:
        if not self.pipeline.needs("few_shot"):
            return None
        reference = self.benchmark.reference_samples()
        if reference is not None:
            return ExamplePool(reference, "reference split")
        return ExamplePool(self.samples(), "test items (leave-one-out)")


@dataclass
class TaskOutcome:
    run_id: str
    status: str
    total: int
    done: int = 0
    skipped: int = 0
    rescored: int = 0
    errors: int = 0
    invalid: int = 0
    sent: int = 0
    grader_sent: int = 0


def versions(backend: Backend) -> dict[str, str]:
    return {"medgauge": medgauge.__version__, "python": platform.python_version(),
            "backend": backend.kind}


async def run_task(task: Task, store: Store, progress: Progress | None = None,
                   budget: asyncio.Semaphore | None = None, wait: bool = False) -> TaskOutcome:
    """Run one task under the run's lease (``runner/lease.py``; ``wait``: wait for another
    process holding it instead of refusing).  A shard solves only its samples, keeping their
    positions in the whole benchmark, and marks the run completed once every shard's samples
    are stored."""
    task.backend.prepare(task.benchmark)  # before the run id: a prior baseline's identity
    run_id = task.run_id                  # depends on what it learnt
    task.solver.prepare(task.benchmark)
    every = task.samples()
    ids = {s.id for s in every}
    mine = [(seq, s) for seq, s in enumerate(every) if task.in_shard(s)]
    total = len(mine)
    scorer = task.item_scorer
    scorer_key = (scorer.name, scorer.version)
    caller = ModelCaller(task.backend, store)
    # the rule that reads answers while solving (vote): the run's rule mode, else the default
    # rules (a grader scorer has none)
    reader = task.run_scorer if isinstance(task.run_scorer, RuleScorer) else RuleScorer(None)
    ctx = SolveContext(caller, prompt=task.effective_prompt, params=task.params,
                       seed=task.seed, rule=reader.rule,
                       pipeline=task.pipeline, examples=task.example_pool(),
                       system=task.system)
    sctx = ScoreContext({role: ModelCaller(b, store, role) for role, b in task.graders.items()})
    lease = await take_lease(store, run_id, task.shard_label, total, wait)
    try:
        store.begin_run(run_id, task.backend.display_name(), task.benchmark.name,
                        None if task.solver.name == "clean" else task.solver.name,
                        task.config(), versions(task.backend), len(every), scorer_key)
        done = store.done_samples(run_id)
        scored = store.scored_samples(run_id, scorer_key)
    except BaseException:
        lease.release("failed")
        raise
    outcome = TaskOutcome(run_id, "running", total)
    handle = (progress or Progress.quiet()).task(
        f"{task.benchmark.name} | {model_label(task.backend.display_name())} | "
        f"{task.solver.name}", total)
    stream: Iterator[tuple[int, Sample]] = iter(mine)
    budget = budget or asyncio.Semaphore(task.backend.concurrency)
    streak = FailureStreak(task.backend.stop_after_failures)

    async def one(seq: int, sample: Sample) -> None:
        fingerprint = sample_fingerprint(sample)
        if done.get(sample.id, "") == fingerprint:
            if sample.id not in scored:  # solved, but not scored by this scorer version
                _, errors = await rescore_samples(store, run_id, scorer, sctx, {sample.id})
                outcome.rescored += 1
                outcome.errors += errors
                handle.advance(errors=errors)
            else:
                outcome.skipped += 1
                handle.advance(skipped=True)
            return
        items = await task.solver.solve(sample, ctx)
        await score_items(items, scorer, sctx)
        await store.save_items(run_id, sample, items, seq, fingerprint, scorer_key)
        streak.record(items)  # raises TaskStopped when every request keeps failing
        errors = sum(it.score is not None and it.score.status == "error" for it in items)
        invalid = sum(it.score is not None and it.score.status in ("invalid", "incomplete")
                      for it in items)
        outcome.done += 1
        outcome.errors += errors
        outcome.invalid += invalid
        handle.advance(errors=errors, invalid=invalid)

    async def worker() -> None:
        for seq, sample in stream:
            async with budget:
                await one(seq, sample)

    status = "failed"
    keeper = asyncio.create_task(lease.keep())
    try:
        workers = [asyncio.create_task(worker()) for _ in range(task.backend.concurrency)]
        try:
            await asyncio.gather(*workers)
        except BaseException:
            for w in workers:
                w.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            raise
        await store.flush()  # every sample committed before the run is read back
        if task.shard is None:  # a shard never prunes: the other shards' samples are stored
            store.prune_items(run_id, ids)  # samples removed from the benchmark since a run
        store.set_scorer(run_id, *scorer_key)
        status = "completed" if outcome.errors == 0 else "completed_with_errors"
    except (asyncio.CancelledError, KeyboardInterrupt):
        status = "interrupted"
        raise
    finally:
        keeper.cancel()
        try:
            if status in ("failed", "interrupted"):
                await store.flush()  # what was solved before the failure is kept
        finally:
            outcome.status = status
            outcome.sent = caller.sent
            outcome.grader_sent = sctx.sent
            lease.release(status)
            if task.shard is None:
                store.end_run(run_id, status)
            else:
                store.end_run(run_id, _run_status(store, run_id, ids, status),
                              keep_complete=True)
            handle.finish()
    return outcome


def _run_status(store: Store, run_id: str, ids: set[str], shard_status: str) -> str:
    """A sharded run's status when one shard ends: completed (with errors) once every sample
    of the run is stored, else ``partial`` (other shards still to run), or the shard's own
    failure."""
    if shard_status not in ("completed", "completed_with_errors"):
        return shard_status
    if not ids <= store.stored_sample_ids(run_id):
        return "partial"
    errors = any(it.errored for it in store.items(run_id))
    return "completed_with_errors" if errors else "completed"


async def run_tasks(tasks: list[Task], store: Store,
                    progress: Progress | None = None, wait: bool = False) -> list[TaskOutcome]:
    """Run every task concurrently, each backend under its own concurrency budget; each distinct
    backend (and grader) is started once and closed at the end.  The first fatal error cancels
    the other tasks (their runs are marked interrupted) and propagates."""
    started: list[Backend] = []
    budgets: dict[int, asyncio.Semaphore] = {}
    try:
        for task in tasks:
            for backend in (task.backend, *task.graders.values()):
                if not any(backend is b for b in started):
                    await backend.start()
                    started.append(backend)
            budgets.setdefault(id(task.backend), asyncio.Semaphore(task.backend.concurrency))
        for task in tasks:  # run ids and benchmark reads before anything is sent
            task.samples()
        async with store.buffered():  # one commit per batch of samples (``BaseStore``)
            jobs = [asyncio.create_task(run_task(t, store, progress, budgets[id(t.backend)],
                                                 wait)) for t in tasks]
            try:
                await asyncio.gather(*jobs)
            except BaseException:
                for j in jobs:
                    j.cancel()
                await asyncio.gather(*jobs, return_exceptions=True)
                raise
        return [j.result() for j in jobs]
    finally:
        for backend in started:
            await backend.close()
