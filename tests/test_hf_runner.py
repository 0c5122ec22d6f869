"""End to end: VQA-RAD through the runner and store with a tiny local VLM behind ``hf:``."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

import hf_tiny
from medgauge.backends import create_backend
from medgauge.benchmarks import create_benchmark
from medgauge.runner.engine import Task, run_tasks
from medgauge.runner.solver import solvers
from medgauge.store import Store
from medgauge.types import GenParams


def _run(model: Path, data: Path, db: Path, batch_size: int):
    backend = create_backend(f"hf:{model}", {"device": "cpu", "batch_size": batch_size})
    task = Task(create_benchmark("vqa-rad", data / "vqa_rad"), backend,
                solvers.get("clean")(), params=GenParams(max_tokens=8), limit=12)
    store = Store(db)
    [outcome] = asyncio.run(run_tasks([task], store))
    return outcome, list(store.items(outcome.run_id)), backend


def test_vqa_rad_through_the_runner_batched(shared_data: Path, tmp_path_factory,
                                            tmp_path: Path) -> None:
    model = hf_tiny.cached_model(tmp_path_factory.getbasetemp() / "hf_models", "llava")
    outcome, items, backend = _run(model, shared_data, tmp_path / "b4.db", batch_size=4)
    assert outcome.status == "completed" and outcome.errors == 0
    assert outcome.sent == 12 and len(items) == 12
    assert max(backend.batch_sizes) == 4  # the runner's concurrency filled real batches
    assert all(i["error"] is None and i["correct"] in (True, False) for i in items)
    # the same run answered one request at a time stores the same responses
    single_outcome, single, _ = _run(model, shared_data, tmp_path / "b1.db", batch_size=1)
    assert single_outcome.run_id == outcome.run_id
    assert ([(i["sample_id"], i["response"]) for i in single]
            == [(i["sample_id"], i["response"]) for i in items])
    # a rerun on the first store asks the model nothing
    again, _, _ = _run(model, shared_data, tmp_path / "b4.db", batch_size=4)
    assert again.sent == 0 and again.skipped == 12
