"""Solvers turn one Sample into solved items, asking the model through ``SolveContext``.

The clean solver runs the run's pipeline (``runner/steps.py``; by default: render the prompt,
generate once) on the sample.  Probes (``medgauge.probes``) are solvers too: they build perturbed
variants of the sample (no image, rotated options, a leading question, a follow-up turn ...),
run the same pipeline on each with ``ctx.ask`` and return one ``ItemResult`` per variant, each
with the sample it is scored against (``target``).  Scoring is a separate phase
(``runner/scoring.py``).  Every request goes through ``SolveContext.generate``, so caching,
storage and resume work the same for all.
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

from medgauge.prompts import render, resolve
from medgauge.registry import Registry, import_submodules
from medgauge.runner.examples import ExamplePool
from medgauge.runner.steps import Pipeline, SampleState
from medgauge.scoring.base import Rule, Scorer
from medgauge.types import GenParams, ItemResult, MedgaugeError, Message, Request, Response, Sample

if TYPE_CHECKING:
    from medgauge.benchmarks.base import Benchmark
    from medgauge.runner.calls import ModelCaller


class SolveContext:
    """What a solver may use: prompt rendering, the pipeline, cached generation, seeded
    randomness, the scoring rule's extractor (for votes)."""

    def __init__(self, caller: ModelCaller, *, prompt: str | None, params: GenParams,
                 seed: int, rule: Rule, pipeline: Pipeline | None = None,
                 examples: ExamplePool | None = None, system: str | None = None) -> None:
        self.caller = caller
        self.backend = caller.backend
        self.prompt = prompt
        self.system = system  # the user's system prompt; replaces the template's
        self.params = params
        self.seed = seed
        self.rule = rule
        self.pipeline = pipeline or Pipeline.default()
        self._examples = examples

    @property
    def identity(self) -> str:
        return self.caller.identity

    @property
    def sent(self) -> int:
        return self.caller.sent

    @property
    def examples(self) -> ExamplePool:
        if self._examples is None:
            raise MedgaugeError("few_shot: no example pool for this task")
        return self._examples

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
                  "options": list(sample.options), "option_texts": dict(sample.options),
                  "labels": list(sample.labels), **meta},
        )

    async def generate(self, request: Request) -> tuple[str, Response]:
        """One request through the store's cache (see ``runner/calls.py``)."""
        return await self.caller.generate(request)

    async def ask(self, sample: Sample, *, messages: list[Message] | None = None,
                  with_images: bool = True, params: GenParams | None = None,
                  **meta: Any) -> SampleState:
        """Run the run's pipeline on ``sample`` (rendered with the run's prompt, or the given
        ``messages``) and return the final state (``state.key``, ``state.response``)."""
        state = SampleState(sample,
                            messages if messages is not None
                            else self.messages(sample, with_images=with_images),
                            params or self.params, dict(meta))
        return await self.pipeline.run(state, self)

    def output(self, target: Sample, state: SampleState | tuple[str | None, Response],
               variant: str = "clean", **extra: Any) -> ItemResult:
        """The solved item of one variant, to be scored against ``target``.  A failed request
        becomes an error item, never an answer."""
        if isinstance(state, SampleState):
            key, response = state.key, state.response
            notes = dict(state.store)
            confidence = state.confidence
        else:
            key, response = state
            notes, confidence = {}, None
        meta = {**notes, **extra.pop("metadata", {})}
        if confidence is not None and "confidence" not in extra:
            extra["confidence"] = confidence
        return ItemResult(sample_id=target.id if "sample_id" not in extra
                          else extra.pop("sample_id"), variant=variant, request_hash=key,
                          response=response.text, error=response.error, metadata=meta,
                          target=target, finish_reason=response.finish_reason, raw=response,
                          **extra)

    def extract(self, sample: Sample, text: str) -> str | None:
        """The answer the run's scoring rule reads in ``text`` (None = invalid)."""
        return self.rule(sample, text or "").extracted

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

    def scorer(self, base: Scorer) -> Scorer:
        """The scorer of this solver's items: the run's, unless the solver reads its replies its
        own way (the confidence probe parses "answer + confidence")."""
        return base

    @abstractmethod
    async def solve(self, sample: Sample, ctx: SolveContext) -> list[ItemResult]:
        """Return the solved items of one sample."""


solvers: Registry[type[Solver]] = Registry("solver")


@solvers.register("clean")
class CleanSolver(Solver):
    name = "clean"
    description = "the benchmark as published: one prompt, one answer"

    async def solve(self, sample: Sample, ctx: SolveContext) -> list[ItemResult]:
        return [ctx.output(sample, await ctx.ask(sample))]


def load_probes() -> None:
    """Import every probe module (each registers itself): adding a probe is one file."""
    import medgauge.probes as pkg

    import_submodules(pkg.__name__, list(pkg.__path__))
