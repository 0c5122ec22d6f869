"""``replicas=N``: N Ray actors serving one ``hf:`` model, on a local Ray instance started here.

Two replicas of the tiny Llama answer exactly as one in-process backend; killing one actor while
its requests are in flight loses none of them (they are sent again to the other)."""

from __future__ import annotations

import asyncio
import importlib.util
from pathlib import Path
from typing import Any

import pytest

from hf_requests import run_all, summary, text_request
from medgauge.backends import create_backend
from medgauge.types import GenParams, MedgaugeError, Response

MISSING = [m for m in ("ray", "torch", "transformers") if importlib.util.find_spec(m) is None]
pytestmark = pytest.mark.skipif(bool(MISSING), reason=f"needs {', '.join(MISSING)} "
                                "(pip install medgauge[hf,ray])")

QUESTIONS = ["Is the heart enlarged on this chest x-ray?", "What is the modality?",
             "Is there a mass in the right upper lobe?", "How many ribs are visible?",
             "Which side is the lesion on, left or right?", "Kidney stones present.",
             "Is there free air under the diaphragm?", "What organ system is shown?",
             "Brain MRI shows a ring enhancing lesion.", "The liver appears normal.",
             "Is this an axial CT scan of the abdomen?", "Answer with a single letter."]


@pytest.fixture(scope="module")
def local_ray() -> Any:
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"OMP_NUM_THREADS": "1"}})
    try:
        yield ray
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import hf_tiny

    return hf_tiny.cached_model(tmp_path_factory.mktemp("ray"), "llama")


def _replicated(tiny: Path, **extra: Any) -> Any:
    return create_backend(f"hf:{tiny}", {"device": "cpu", "batch_size": 1, "replicas": 2,
                                         "replica_cpus": 1, **extra})


def test_two_replicas_answer_as_one_process_and_survive_a_killed_actor(
        local_ray: Any, tiny: Path) -> None:
    params = GenParams(max_tokens=16)
    requests = [text_request(q, params) for q in QUESTIONS]
    reference, _ = run_all(tiny, requests, batch_size=1)

    async def go() -> tuple[list[Response], list[Response], int, list[bool]]:
        backend = _replicated(tiny)
        assert backend.identity() == create_backend(f"hf:{tiny}", {}).identity()
        await backend.start()
        try:
            plain = await asyncio.gather(*(backend.generate(r) for r in requests))
            assert backend.retried == 0
            tasks = [asyncio.ensure_future(backend.generate(r)) for r in requests]
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            assert backend._load[0] > 0  # replica 0 still has requests in flight ...
            local_ray.kill(backend._actors[0], no_restart=True)  # ... and dies mid-run
            killed = await asyncio.gather(*tasks)
            return list(plain), list(killed), backend.retried, list(backend._alive)
        finally:
            await backend.close()

    plain, killed, retried, alive = asyncio.run(go())
    assert [summary(r) for r in plain] == [summary(r) for r in reference]
    assert [summary(r) for r in killed] == [summary(r) for r in reference]
    assert retried >= 1 and alive == [False, True]


def test_bad_replica_options_are_one_line_errors(tiny: Path) -> None:
    with pytest.raises(MedgaugeError, match="replicas must be >= 1"):
        _replicated(tiny, replicas=0)
    with pytest.raises(MedgaugeError, match="ray_address must be local, auto or ray://"):
        _replicated(tiny, ray_address="http://x")
    with pytest.raises(MedgaugeError, match="hf: unknown option"):
        _replicated(tiny, batch=3)
