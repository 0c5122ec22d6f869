"""Baseline "models": the floor every benchmark should be read against.

They are real backends on the same path as any model (requests, cache, store, scoring), so each
benchmark shows its floor beside the models.

- ``baseline:random``   seeded, uniform over the options (or the closed labels); open questions
                        get a uniform draw from the benchmark's answer vocabulary.
- ``baseline:constant`` always the same answer: option ``answer`` (default ``A``) for multiple
                        choice, ``yes`` for closed questions (``constant=B`` / ``constant=no``
                        override both through ``answer``).
- ``baseline:prior``    the most frequent answer in the reference (training) split; when the
                        benchmark has only its test split, the most frequent test answer, labelled
                        ``prior-oracle`` because it has seen the test labels.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections import Counter
from typing import Any, ClassVar

from medgauge.backends.base import Backend, backends
from medgauge.benchmarks.base import Benchmark
from medgauge.types import MedgaugeError, Request, Response


@backends.register("baseline")
class BaselineBackend(Backend):
    """Floors: baseline:random, baseline:constant, baseline:prior, and baseline:context (see the
    module docstring)."""

    kind = "baseline"
    supports_images = True
    per_benchmark = True
    option_help: ClassVar[dict[str, str]] = {
        "seed": "seed of baseline:random (default 0)",
        "answer": "the constant answer (default A for options, yes for yes/no)",
        "concurrency": "requests in flight (default 4)",
    }

    def __init__(self, model: str, options: dict[str, Any] | None = None) -> None:
        options = dict(options or {})
        options.setdefault("concurrency", 4)
        name, _, value = model.partition("=")
        super().__init__(name, options)
        if name not in ("random", "constant", "prior", "context"):
            raise MedgaugeError(f"unknown baseline {name!r} (known: random, constant, prior, "
                                "context)")
        self.seed = self.take("seed", int, 0)
        self.answer = value or str(self.options.pop("answer", ""))
        self.reject_unknown_options("seed, answer, concurrency")
        self.oracle = False
        self._prior: dict[str, str] = {}
        self._vocabulary: list[str] = []

    def identity(self) -> str:
        if self.model == "context":
            return "baseline:context"
        if self.model == "random":
            return f"baseline:random(seed={self.seed})"
        if self.model == "constant":
            return f"baseline:constant({self.answer or 'A/yes'})"
        digest = hashlib.blake2b(repr(sorted(self._prior.items())).encode(),
                                 digest_size=4).hexdigest()
        return f"baseline:prior{'-oracle' if self.oracle else ''}({digest})"

    def key_extra(self, request: Request) -> str | None:
        # the random draw is per sample: identical questions must not share a cached draw
        return str(request.meta.get("sample_id")) if self.model == "random" else None

    def display_name(self) -> str:
        if self.model == "context":
            return "context"
        if self.model == "prior":
            return "prior-oracle" if self.oracle else "prior"
        if self.model == "constant":
            return f"constant({self.answer or 'A/yes'})"
        return "random"

    def prepare(self, benchmark: Benchmark) -> None:
        reference = benchmark.reference_samples()
        self.oracle = reference is None
        vocabulary: set[str] = set()
        counts: dict[str, Counter[str]] = {}
        for s in reference if reference is not None else benchmark.evaluation_samples():
            if s.answer_type == "open":
                vocabulary.add(s.answer)
            counts.setdefault(_kind(s.answer_type, s.options, s.labels), Counter())[
                s.answer.lower() if s.answer_type == "yesno" else s.answer] += 1
        self._vocabulary = sorted(vocabulary)
        # Most frequent answer per answer kind; ties broken by the answer's sort order so the
        # choice is deterministic.
        self._prior = {k: min(c.items(), key=lambda kv: (-kv[1], kv[0]))[0]
                       for k, c in counts.items()}

    async def generate(self, request: Request) -> Response:
        meta = request.meta
        answer_type = meta.get("answer_type", "mcq")
        options: list[str] = list(meta.get("options") or [])
        labels: list[str] = list(meta.get("labels") or ["yes", "no"])
        choices = options if answer_type == "mcq" else labels if answer_type == "yesno" else []
        if self.model == "context":
            texts = dict(meta.get("option_texts") or {}) if answer_type == "mcq" else {
                c: c for c in choices}
            return Response(text=follow_evidence(meta.get("evidence") or [], texts),
                            finish_reason="stop")
        if self.model == "random":
            digest = hashlib.blake2b(f"{self.seed}\x00{request.text()}\x00"
                                     f"{meta.get('sample_id')}".encode(), digest_size=8).digest()
            rng = random.Random(int.from_bytes(digest, "big"))
            pool = choices or self._vocabulary
            return Response(text=rng.choice(pool) if pool else "", finish_reason="stop")
        if self.model == "constant":
            wanted = self.answer or ("yes" if answer_type == "yesno" else "A")
            text = wanted if (not choices or wanted in choices) else (choices[0] if choices else "")
            return Response(text=text, finish_reason="stop")
        key = _kind(answer_type, options, labels)
        text = self._prior.get(key)
        if text is None or (choices and text not in choices):
            text = choices[0] if choices else ""
        return Response(text=text, finish_reason="stop")


def follow_evidence(evidence: list[str], choices: dict[str, str]) -> str:
    """The choice (key of ``choices``: letter or label -> its text) whose text the evidence
    mentions most often (whole words, case-insensitive; ties: the earliest mention); ``""`` when
    none is mentioned."""
    text = "\n".join(str(e) for e in evidence)
    best: tuple[int, int, str] | None = None
    for choice, phrase in choices.items():
        if not str(phrase).strip():
            continue
        found = [m.start() for m in re.finditer(
            rf"(?<!\w){re.escape(str(phrase).strip())}(?!\w)", text, re.IGNORECASE)]
        if found and (best is None or (-len(found), found[0]) < best[:2]):
            best = (-len(found), found[0], choice)
    return "" if best is None else best[2]


def _kind(answer_type: str, options: Any, labels: Any) -> str:
    """Answers are pooled per kind of question (same option letters / labels)."""
    if answer_type == "mcq":
        return "mcq:" + "".join(options)
    if answer_type == "yesno":
        return "yesno:" + "/".join(labels)
    return answer_type
