"""Run one task (benchmark x model x solver) into the store, resumably.

Samples stream lazily from the benchmark to ``concurrency`` asyncio workers; each finished sample's
items are committed at once.  A rerun of the same task (same run id) skips samples whose items are
all stored without error, retries the rest, and so ends with exactly the rows an uninterrupted run
would have written.  A ``MedgaugeError`` (wrong API key, corrupt image ...) stops the task: what
is stored stays, the run is marked ``failed`` and the error propagates as one line.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import platform
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

import medgauge
from medgauge.backends.base import Backend
from medgauge.benchmarks.base import Benchmark
from medgauge.benchmarks.select import apply_selection
from medgauge.report.labels import model_label
from medgauge.runner.progress import Progress
from medgauge.runner.request_key import sample_fingerprint
from medgauge.runner.solver import SolveContext, Solver
from medgauge.scoring import get_scorer
from medgauge.store import Store
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
    select: dict[str, Any] | None = None  # benchmarks.select.selection_config
    system: str | None = None             # system prompt

    def config(self) -> dict[str, Any]:
        return {
            "benchmark": self.benchmark.describe(),
            "model": self.backend.identity(),
            "solver": {"name": self.solver.name, **self.solver.options},
            "prompt": self.effective_prompt,
            "scoring": self.scoring or "default",
            "params": self.params.as_dict(),
            "seed": self.seed,
            "limit": self.limit,
            # only when set, so the run ids of existing runs stay unchanged
            **({"select": self.select} if self.select else {}),
            **({"system": self.system} if self.system else {}),
        }

    @property
    def effective_prompt(self) -> str:
        """The run's template: the user's override, else the benchmark's default."""
        return self.prompt or self.benchmark.prompt

    @property
    def run_id(self) -> str:
        blob = json.dumps(self.config(), sort_keys=True, default=str)
        return hashlib.blake2b(blob.encode(), digest_size=6).hexdigest()

    def samples(self) -> Iterator[Sample]:
        it = apply_selection(self.benchmark.samples(), self.select, self.benchmark.name)
        return islice(it, self.limit) if self.limit is not None else it


@dataclass
class TaskOutcome:
    run_id: str
    status: str
    total: int
    done: int = 0
    skipped: int = 0
    errors: int = 0
    invalid: int = 0
    sent: int = 0


def versions(backend: Backend) -> dict[str, str]:
    return {"medgauge": medgauge.__version__, "python": platform.python_version(),
            "backend": backend.kind}


def _count(task: Task) -> set[str]:
    """The sample ids of the task, checked for duplicates before anything is sent."""
    ids: set[str] = set()
    for sample in task.samples():
        if sample.id in ids:
            raise MedgaugeError(f"benchmark {task.benchmark.name}: duplicate sample id "
                                f"{sample.id!r}")
        ids.add(sample.id)
    return ids


async def run_task(task: Task, store: Store, progress: Progress | None = None) -> TaskOutcome:
    task.backend.prepare(task.benchmark)  # before the run id: a prior baseline's identity
    run_id = task.run_id                  # depends on what it learnt
    task.solver.prepare(task.benchmark)
    ids = _count(task)
    total = len(ids)
    ctx = SolveContext(task.backend, store, prompt=task.effective_prompt,
                       scorer=get_scorer(task.scoring), params=task.params, seed=task.seed,
                       system=task.system)
    store.begin_run(run_id, task.backend.display_name(), task.benchmark.name,
                    None if task.solver.name == "clean" else task.solver.name,
                    task.config(), versions(task.backend), total)
    outcome = TaskOutcome(run_id, "running", total)
    done = store.done_samples(run_id)
    progress = progress or Progress.quiet()
    progress.start_task(f"{task.benchmark.name} | {model_label(task.backend.display_name())} | "
                        f"{task.solver.name}", total)
    stream = enumerate(task.samples())

    async def worker() -> None:
        for seq, sample in stream:
            fingerprint = sample_fingerprint(sample)
            if done.get(sample.id, "") == fingerprint:
                outcome.skipped += 1
                progress.advance(skipped=True)
                continue
            items = await task.solver.solve(sample, ctx)
            store.put_items(run_id, sample, items, seq, fingerprint)
            errors = sum(it.error is not None for it in items)
            invalid = sum(it.invalid for it in items)
            outcome.done += 1
            outcome.errors += errors
            outcome.invalid += invalid
            progress.advance(errors=errors, invalid=invalid)

    status = "failed"
    try:
        workers = [asyncio.create_task(worker()) for _ in range(task.backend.concurrency)]
        try:
            await asyncio.gather(*workers)
        except BaseException:
            for w in workers:
                w.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            raise
        store.prune_items(run_id, ids)  # samples removed from the benchmark since a past run
        status = "completed" if outcome.errors == 0 else "completed_with_errors"
    except (asyncio.CancelledError, KeyboardInterrupt):
        status = "interrupted"
        raise
    finally:
        outcome.status = status
        outcome.sent = ctx.sent
        store.end_run(run_id, status)
        progress.finish_task()
    return outcome


async def run_tasks(tasks: list[Task], store: Store,
                    progress: Progress | None = None) -> list[TaskOutcome]:
    """Run tasks one after another; each distinct backend is started once and closed at the end."""
    started: list[Backend] = []
    outcomes: list[TaskOutcome] = []
    try:
        for task in tasks:
            if not any(task.backend is b for b in started):
                await task.backend.start()
                started.append(task.backend)
            outcomes.append(await run_task(task, store, progress))
    finally:
        for backend in started:
            await backend.close()
    return outcomes
