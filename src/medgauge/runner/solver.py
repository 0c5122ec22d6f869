"""Solvers turn one Sample into scored items, asking the model through ``SolveContext``.

The clean solver renders the prompt, asks once and scores.  Probes (``medgauge.probes``) are
solvers too: they build perturbed variants of the sample (no image, rotated options, a leading
question, a follow-up turn ...) and return one ``ItemResult`` per variant.  Every request goes
through ``SolveContext.generate``, so caching, storage and resume work the same for all.
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

from medgauge.prompts import render, resolve
from medgauge.registry import Registry
from medgauge.runner.request_key import request_hash, request_record
from medgauge.scoring import Scorer
from medgauge.types import GenParams, ItemResult, Message, Request, Response, Sample

if TYPE_CHECKING:
    from medgauge.backends.base import Backend
    from medgauge.benchmarks.base import Benchmark
    from medgauge.store import Store


class SolveContext:
    """What a solver may use: prompt rendering, cached generation, scoring, seeded randomness."""

    def __init__(self, backend: Backend, store: Store, *, prompt: str | None, scorer: Scorer,
                 params: GenParams, seed: int, system: str | None = None) -> None:
        self.backend = backend
        self.store = store
        self.prompt = prompt
        self.system = system  # the user's system prompt; replaces the template's
        self.scorer = scorer
        self.params = params
        self.seed = seed
        self.identity = backend.identity()
        self.sent = 0  # requests actually sent to the backend (not served from the store)

    def messages(self, sample: Sample, *, with_images: bool = True) -> list[Message]:
        template = resolve(self.prompt, sample)
        if self.system:
            template = dataclasses.replace(template, system=self.system)
        return render(sample, template, with_images=with_images)

    def request(self, sample: Sample, messages: list[Message] | None = None,
                params: GenParams | None = None, **meta: Any) -> Request:
        """A request for ``sample``; ``meta`` tells baselines what kind of answer is wanted."""
        return Request(
            messages=messages if messages is not None else self.messages(sample),
            params=params or self.params,
            meta={"sample_id": sample.id, "question": sample.question,
                  "answer_type": sample.answer_type,
                  "options": list(sample.options), "labels": list(sample.labels), **meta},
        )

    async def generate(self, request: Request) -> tuple[str, Response]:
        """Serve from the store, or ask the backend and store the answer (errors included)."""
        record = request_record(self.identity, request, self.backend.key_extra(request))
        key = request_hash(record)
        cached = self.store.get_response(key)
        if cached is not None:
            return key, cached
        self.sent += 1
        response = await self.backend.generate(request)
        self.store.put_response(key, self.identity, record, response)
        return key, response

    def judge(self, sample: Sample, key: str | None, response: Response,
              variant: str = "clean", **extra: Any) -> ItemResult:
        """Score a response; a failed request becomes an error item, never an answer."""
        if response.error is not None:
            return ItemResult(sample.id, variant, key, response.text, None, None,
                              error=response.error, **extra)
        judgement = self.scorer(sample, response.text)
        return ItemResult(sample.id, variant, key, response.text, judgement.extracted,
                          judgement.correct, dict(judgement.metrics), **extra)

    def rng(self, sample: Sample, salt: str = "") -> random.Random:
        """A random generator that depends only on the run seed, the sample id and ``salt``."""
        digest = hashlib.blake2b(f"{self.seed}\x00{sample.id}\x00{salt}".encode(),
                                 digest_size=8).digest()
        return random.Random(int.from_bytes(digest, "big"))


class Solver(ABC):
    name: ClassVar[str] = ""
    description: ClassVar[str] = ""

    def __init__(self, **options: Any) -> None:
        self.options = options

    def prepare(self, benchmark: Benchmark) -> None:  # noqa: B027 - optional hook
        """Called once before the samples stream (e.g. to index images by modality)."""

    @abstractmethod
    async def solve(self, sample: Sample, ctx: SolveContext) -> list[ItemResult]:
        """Return the scored items of one sample."""


solvers: Registry[type[Solver]] = Registry("solver")


@solvers.register("clean")
class CleanSolver(Solver):
    name = "clean"
    description = "the benchmark as published: one prompt, one answer"

    async def solve(self, sample: Sample, ctx: SolveContext) -> list[ItemResult]:
        key, response = await ctx.generate(ctx.request(sample))
        return [ctx.judge(sample, key, response)]
