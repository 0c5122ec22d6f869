"""Continuous batching for the ``hf:`` backend (``--model-opt scheduling=continuous``).

A static batch runs ``model.generate`` once for up to ``batch_size`` requests and returns when
its longest reply ends, so one reply that rambles to ``max_new_tokens`` holds every other row of
its batch (and every request queued behind it).  Here greedy generation requests go instead to
transformers' ``ContinuousBatchingManager`` (``model.init_continuous_batching``; the engine
behind ``transformers serve --continuous-batching``): a background loop over a paged KV cache
that admits a new request as soon as a running one finishes, so a long reply delays no one.

We use transformers' engine rather than our own refill loop: it already schedules, pages the
cache and handles prefill/decode mixing, and it works on CPU with ``sdpa`` attention.

What goes through it: text-only, greedy (temperature 0), one choice, no log-probabilities, no
stop strings.  Everything else (images, continuation scoring, sampling, ``n`` > 1, stop strings,
log-probabilities) keeps the static path of ``hf_engine``; while a static batch runs, the
continuous loop is paused (``manager.pause()``), so the two never use the model at once.

Greedy answers are the same tokens as the static path's (``benchmarks/hf_continuous.py``
checks it on SmolLM2-135M); each reply is cut and decoded by ``HFEngine._finish``, as there.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from medgauge.backends.hf_engine import HFEngine, one_line
from medgauge.types import MedgaugeError, Request, Response


def eligible(request: Request) -> bool:
    """Whether ``request`` can use the continuous path (see the module docstring)."""
    p = request.params
    return (not request.continuations and not request.images() and p.temperature == 0
            and p.n == 1 and not p.logprobs and not p.stop)


class ContinuousGenerator:
    """One persistent continuous-batching manager over an ``HFEngine``'s model.

    ``max_requests``: rows decoded together at most (the backend's ``batch_size``).
    All methods but ``generate`` run in the backend's worker thread."""

    def __init__(self, engine_of: Callable[[], HFEngine], max_requests: int) -> None:
        self._engine_of = engine_of
        self.max_requests = max_requests
        self._manager: Any = None
        self._lock = threading.Lock()
        self._ids = itertools.count()

    # ------------------------------------------------------------------ worker thread
    def _start(self, engine: HFEngine) -> Any:
        with self._lock:
            if self._manager is not None and self._manager.is_running():
                return self._manager
            from transformers import ContinuousBatchingConfig
            from transformers.generation.continuous_batching.utils import WorkloadHints

            model = engine.model
            gc = copy.deepcopy(model.generation_config)
            gc.do_sample = False
            gc.temperature = gc.top_p = gc.top_k = None
            gc.num_return_sequences = 1
            gc.max_new_tokens = engine.opts.max_new_tokens
            gc.max_length = None
            gc.eos_token_id = sorted(engine.eos_ids) or None
            gc.pad_token_id = engine.pad_id
            cb = ContinuousBatchingConfig(max_requests_per_batch=self.max_requests,
                                          auto_switch_to_flash=False)
            hints = WorkloadHints(max_prompt_length=2048,
                                  max_generated_length=engine.opts.max_new_tokens,
                                  num_requests=self.max_requests)
            try:
                manager = model.init_continuous_batching(
                    generation_config=gc, continuous_batching_config=cb, workload_hints=hints)
                manager.start()
            except (ValueError, NotImplementedError, RuntimeError) as exc:
                raise MedgaugeError(f"hf model {engine.path}: scheduling=continuous is not "
                                    f"available for this model: {one_line(exc)}") from None
            self._manager = manager
            return manager

    def prepare(self, request: Request) -> tuple[Any, list[int]]:
        """(manager, prompt token ids); loads the model and starts the manager on first use."""
        engine = self._engine_of()
        prepared = engine._prepare(request)
        ids = list(engine.tokenizer(prepared.text, add_special_tokens=False)["input_ids"])
        return self._start(engine), ids

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Hold the continuous loop while the calling thread uses the model."""
        manager = self._manager
        ctx = manager.pause() if manager is not None and manager.is_running() else nullcontext()
        with ctx:
            yield

    def stop(self) -> None:
        with self._lock:
            manager, self._manager = self._manager, None
        if manager is not None:
            manager.stop(block=True, timeout=30)
            manager.destroy()

    # ------------------------------------------------------------------ event loop
    async def generate(self, request: Request, executor: Any) -> Response:
        loop = asyncio.get_running_loop()
        t0 = time.perf_counter()
        manager, ids = await loop.run_in_executor(executor, self.prepare, request)
        engine = self._engine_of()
        p = request.params
        max_new = p.max_tokens or engine.opts.max_new_tokens
        done: asyncio.Future[Any] = loop.create_future()

        def deliver(output: Any) -> None:
            if output.is_finished() and not done.done():
                done.set_result(output)

        rid = f"medgauge-{next(self._ids)}"
        manager.register_result_handler(rid, deliver)
        added = manager.add_request(ids, request_id=rid, max_new_tokens=max_new,
                                    eos_token_id=sorted(engine.eos_ids) or None)
        if added is None:
            return Response(error="hf: continuous batching refused the request (manager stopped)")
        try:
            output = await done
        except asyncio.CancelledError:
            manager.cancel_request(rid)
            raise
        if output.error:
            return Response(error=f"hf: continuous batching: {one_line(Exception(output.error))}")
        text, finish, _, n_tokens = engine._finish(list(output.generated_tokens), p, max_new,
                                                   None, 0)
        return Response(text=text, finish_reason=finish, usage={
            "prompt_tokens": len(ids), "completion_tokens": n_tokens},
            latency_s=time.perf_counter() - t0)
