"""Composable solver steps: a run's pipeline is a list of steps over a per-sample state.

``SampleState`` holds the sample, the chat messages built so far, the generation parameters and
the model outputs; each step is ``async (state, ctx) -> state`` (inspect_ai's solver-chain shape).
The pipeline always starts from the rendered prompt of the sample (or the messages a probe
built) and must contain at least one ``generate``.  Probes run the *whole* pipeline on their
variants, so a blind probe of a chain-of-thought pipeline sends chain-of-thought requests
without images.

Written on the command line or in YAML as ``few_shot(k=2) -> chain_of_thought -> generate(n=3)
-> vote`` (or a YAML list of names / ``{name: {args}}``).  Built-in steps:

- ``system_prompt(text=...)``: a system message (replaces the template's).
- ``few_shot(k=3, selector=random|tfidf)``: ``k`` solved examples as earlier user/assistant turns,
  from the benchmark's reference split, or, when it has none, from the other evaluation items
  (leave-one-out).  ``tfidf`` picks the nearest questions by TF-IDF cosine (scikit-learn).
  Brown et al. 2020 (few-shot prompting); Maharjan et al. 2024 (OpenMedLM) for medical QA.
- ``chain_of_thought``: replaces the template's answer-directly instruction with "Let's think
  step by step" (Kojima et al. 2022) and asks for a final ``Answer: ...`` line.
- ``generate(n=1, temperature=..., max_tokens=...)``: ``n`` samples, each its own cached request
  (seeds ``gen_seed + i``); with ``n > 1`` the temperature defaults to 0.7.
- ``retrieve(corpus=PATH, k=5, retriever=bm25|dense)``: top-k passages as evidence in the prompt
  (``medgauge.retrieval.step``; docs/retrieval.md).
- ``vote``: self-consistency (Wang et al. 2023): the majority answer over the samples (answers
  extracted with the run's scoring rule; ties go to the earliest), the vote share as the item's
  confidence.  Any failed sample makes the item an error (a rerun retries it).

Adding a step is one decorated factory in this module or any module that imports ``steps``.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from medgauge.registry import Registry
from medgauge.types import GenParams, MedgaugeError, Message, Response, Sample

if TYPE_CHECKING:
    from medgauge.runner.solver import SolveContext


@dataclass(slots=True)
class SampleState:
    """What the steps of one sample share."""

    sample: Sample
    messages: list[Message]
    params: GenParams
    meta: dict[str, Any] = field(default_factory=dict)
    outputs: list[tuple[str, Response]] = field(default_factory=list)  # (request hash, reply)
    final: tuple[str, Response] | None = None  # set by an aggregating step (vote)
    confidence: float | None = None
    store: dict[str, Any] = field(default_factory=dict)  # step notes, stored with the item

    @property
    def key(self) -> str | None:
        out = self.final or (self.outputs[-1] if self.outputs else None)
        return None if out is None else out[0]

    @property
    def response(self) -> Response:
        out = self.final or (self.outputs[-1] if self.outputs else None)
        if out is None:
            raise MedgaugeError("the pipeline ended without a generate step")
        return out[1]


Step = Callable[[SampleState, "SolveContext"], Awaitable[SampleState]]
#: steps that produce a model answer (a pipeline needs one)
ANSWERING = frozenset({"generate", "likelihood", "ensemble"})
steps: Registry[Callable[..., Step]] = Registry("solver step")


@dataclass(frozen=True, slots=True)
class StepSpec:
    name: str
    args: tuple[tuple[str, Any], ...] = ()

    def describe(self) -> str:
        if not self.args:
            return self.name
        return f"{self.name}({', '.join(f'{k}={v!r}' for k, v in self.args)})"


class Pipeline:
    """An ordered list of steps; ``describe()`` is its identity in the run config."""

    def __init__(self, specs: list[StepSpec]) -> None:
        if not any(s.name in ANSWERING for s in specs):
            raise MedgaugeError("pipeline: needs at least one generate step (e.g. "
                                "'chain_of_thought -> generate'; likelihood and ensemble "
                                "answer too)")
        self.specs = specs
        self.steps: list[Step] = []
        load_steps()
        for spec in specs:
            factory = steps.get(spec.name)
            try:
                self.steps.append(factory(**dict(spec.args)))
            except TypeError as exc:
                raise MedgaugeError(f"pipeline step {spec.describe()}: {exc}") from None

    @classmethod
    def default(cls) -> Pipeline:
        return cls([StepSpec("generate")])

    @property
    def is_default(self) -> bool:
        return [s.describe() for s in self.specs] == ["generate"]

    def describe(self) -> str:
        return " -> ".join(s.describe() for s in self.specs)

    def needs(self, name: str) -> bool:
        """Whether a step of this name runs, at the top level or in an ensemble's members."""
        return any(s.name == name or (s.name == "ensemble" and name in str(dict(s.args)))
                   for s in self.specs)

    async def run(self, state: SampleState, ctx: SolveContext) -> SampleState:
        for step in self.steps:
            state = await step(state, ctx)
        return state


def load_steps() -> None:
    """Import the modules that register steps outside this one (``retrieve``,
    ``medgauge.retrieval.step``); imported here, lazily, to avoid an import cycle."""
    import medgauge.retrieval.step  # noqa: F401


_CALL = re.compile(r"^\s*([A-Za-z_]\w*)\s*(?:\((.*)\))?\s*$", re.DOTALL)


def parse_pipeline(value: Any) -> Pipeline:
    """A pipeline from text (``a(k=1) -> b``), or a YAML list of names, ``{name: {args}}``
    mappings or ``name(args)`` strings.  Errors name the step."""
    if value is None or value == "":
        return Pipeline.default()
    if isinstance(value, str):
        parts: list[Any] = [p for p in split_steps(value) if p.strip()]
    elif isinstance(value, list):
        parts = value
    else:
        raise MedgaugeError(f"pipeline: expected text like 'chain_of_thought -> generate' or a "
                            f"list of steps, got {type(value).__name__}")
    specs = []
    for i, part in enumerate(parts):
        if isinstance(part, dict) and len(part) == 1:
            (name, args), = part.items()
            if args is None:
                args = {}
            if not isinstance(args, dict):
                raise MedgaugeError(f"pipeline step {i + 1} ({name}): arguments must be a mapping")
            specs.append(StepSpec(str(name), tuple(sorted(args.items()))))
            continue
        if not isinstance(part, str):
            raise MedgaugeError(f"pipeline step {i + 1}: expected a name or a mapping, got "
                                f"{part!r}")
        m = _CALL.match(part)
        if m is None:
            raise MedgaugeError(f"pipeline step {i + 1}: cannot read {part.strip()!r} (write "
                                "name or name(key=value, ...))")
        specs.append(StepSpec(m.group(1), _parse_args(m.group(2) or "", m.group(1))))
    return Pipeline(specs)


def split_steps(text: str) -> list[str]:
    """``a -> b(x='c -> d') -> e`` -> ``['a ', ' b(x='c -> d') ', ' e']``: arrows inside quotes,
    brackets or parentheses belong to an argument (an ensemble's member pipelines)."""
    parts, depth, quote, start, i = [], 0, "", 0, 0
    while i < len(text):
        ch = text[i]
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0 and text.startswith("->", i):
            parts.append(text[start:i])
            start = i + 2
            i += 1
        i += 1
    parts.append(text[start:])
    return parts


def _parse_args(text: str, name: str) -> tuple[tuple[str, Any], ...]:
    if not text.strip():
        return ()
    try:
        call = ast.parse(f"f({text})", mode="eval").body
    except SyntaxError:
        raise MedgaugeError(f"pipeline step {name}: cannot read arguments {text!r}") from None
    assert isinstance(call, ast.Call)
    if call.args:
        raise MedgaugeError(f"pipeline step {name}: give arguments as key=value")
    out = []
    for kw in call.keywords:
        try:
            value = ast.literal_eval(kw.value)
        except ValueError:
            if isinstance(kw.value, ast.Name):  # bare words: selector=tfidf
                value = kw.value.id
            else:
                raise MedgaugeError(f"pipeline step {name}: argument {kw.arg} must be a "
                                    "literal") from None
        out.append((str(kw.arg), value))
    return tuple(sorted(out))


# ---- built-in steps ---------------------------------------------------------------------------

@steps.register("system_prompt")
def system_prompt(text: str) -> Step:
    text = str(text).replace("\\n", "\n")

    async def step(state: SampleState, ctx: SolveContext) -> SampleState:
        rest = [m for m in state.messages if m.get("role") != "system"]
        state.messages = [{"role": "system", "content": text}, *rest]
        return state

    return step


SELECTORS = ("random", "tfidf", "embedding")


@steps.register("few_shot")
def few_shot(k: int = 3, selector: str = "random", images: bool = False,
             model: str | None = None) -> Step:
    if not isinstance(k, int) or k < 1:
        raise MedgaugeError(f"pipeline step few_shot: k must be a positive integer, got {k!r}")
    if selector not in SELECTORS:
        raise MedgaugeError(f"pipeline step few_shot: selector must be one of "
                            f"{', '.join(SELECTORS)}, got {selector!r}")
    if model is not None and selector != "embedding":
        raise MedgaugeError("pipeline step few_shot: model= is the sentence-embedding model "
                            "folder of selector=embedding")

    async def step(state: SampleState, ctx: SolveContext) -> SampleState:
        examples = ctx.examples.select(state.sample, k, selector, ctx.rng(state.sample,
                                                                          "few_shot"), model)
        turns: list[Message] = []
        for ex in examples:
            turns.extend(ctx.messages(ex, with_images=images)[-1:])
            turns.append({"role": "assistant", "content": answer_text(ex)})
        system = [m for m in state.messages if m.get("role") == "system"]
        rest = [m for m in state.messages if m.get("role") != "system"]
        state.messages = [*system, *turns, *rest]
        state.store["few_shot_ids"] = [ex.id for ex in examples]
        return state

    return step


def answer_text(sample: Sample) -> str:
    """How a solved example answers: the letter and its text for MCQ, else the gold."""
    if sample.answer_type == "mcq" and sample.answer in sample.options:
        return f"{sample.answer}. {sample.options[sample.answer]}"
    return sample.answer


#: The default templates' answer-directly lines that chain-of-thought replaces.
_DIRECT = re.compile(
    r"(Answer with the option's letter from the given choices directly\.|"
    r"Answer the question using a single word or phrase\.|Answer with a single number\.|"
    r"Answer with [^\n.]* or [^\n.]*\.)\s*$")

#: Kojima et al. 2022, "Large Language Models are Zero-Shot Reasoners" (the trigger sentence).
COT_TRIGGER = "Let's think step by step."
#: Chain-of-thought templates (``chain_of_thought(template=NAME)``): the reasoning instruction;
#: each is followed by the request for a final ``Answer: ...`` line.
COT_TEMPLATES: dict[str, str] = {
    # Kojima et al. 2022 (zero-shot CoT trigger)
    "step_by_step": COT_TRIGGER,
    # Wang et al. 2023, "Plan-and-Solve Prompting" (ACL 2023): the PS trigger, shortened
    "plan_and_solve": "Let's first understand the problem and devise a plan to solve it. Then, "
                      "let's carry out the plan and solve the problem step by step.",
    # medgauge's own clinical wording: a differential before committing (in the spirit of the
    # clinical CoT exemplars of Singhal et al. 2023, Med-PaLM)
    "differential": "Summarise the key findings, consider the differential diagnosis and weigh "
                    "each option against the findings before choosing.",
}


@steps.register("chain_of_thought")
def chain_of_thought(instruction: str | None = None, template: str = "step_by_step") -> Step:
    if template not in COT_TEMPLATES:
        raise MedgaugeError(f"pipeline step chain_of_thought: template must be one of "
                            f"{', '.join(COT_TEMPLATES)}, got {template!r}")

    async def step(state: SampleState, ctx: SolveContext) -> SampleState:
        final = instruction or (f"{COT_TEMPLATES[template]} Then give your final answer on "
                                f"the last line as \"Answer: {_answer_form(state.sample)}\".")
        state.messages = _edit_last_user_text(state.messages,
                                              lambda t: f"{_DIRECT.sub('', t).rstrip()}\n{final}")
        return state

    return step


def _answer_form(sample: Sample) -> str:
    if sample.answer_type == "mcq":
        return "<letter>"
    if sample.answer_type == "yesno":
        return " or ".join(sample.labels)
    return "<answer>"


def _edit_last_user_text(messages: list[Message], edit: Callable[[str], str]) -> list[Message]:
    out = [dict(m) for m in messages]
    for m in reversed(out):
        if m.get("role") != "user":
            continue
        content = m.get("content")
        if isinstance(content, str):
            m["content"] = edit(content)
            return out
        parts = [dict(p) for p in content]
        for p in reversed(parts):
            if p.get("type") == "text":
                p["text"] = edit(p["text"])
                break
        else:
            parts.append({"type": "text", "text": edit("")})
        m["content"] = parts
        return out
    raise MedgaugeError("pipeline: no user message to edit")


#: public name for steps defined in other modules (``retrieve``)
edit_last_user_text = _edit_last_user_text


#: Self-consistency sampling temperature when none is given (Wang et al. 2023 sample at T=0.5-0.7).
SC_TEMPERATURE = 0.7


@steps.register("generate")
def generate(n: int = 1, temperature: float | None = None, max_tokens: int | None = None) -> Step:
    if not isinstance(n, int) or n < 1:
        raise MedgaugeError(f"pipeline step generate: n must be a positive integer, got {n!r}")

    async def step(state: SampleState, ctx: SolveContext) -> SampleState:
        params = state.params
        changes: dict[str, Any] = {}
        if temperature is not None:
            changes["temperature"] = float(temperature)
        elif n > 1 and params.temperature == 0:
            changes["temperature"] = SC_TEMPERATURE
        if max_tokens is not None:
            changes["max_tokens"] = int(max_tokens)
        if changes:
            params = dataclasses.replace(params, **changes)
        for i in range(n):
            p = params if n == 1 else dataclasses.replace(params, seed=(params.seed or 0) + i)
            request = ctx.request(state.sample, messages=state.messages, params=p, **state.meta)
            state.outputs.append(await ctx.generate(request))
        return state

    return step


@steps.register("vote")
def vote() -> Step:
    async def step(state: SampleState, ctx: SolveContext) -> SampleState:
        if not state.outputs:
            raise MedgaugeError("pipeline: vote needs a generate step before it")
        return majority(state, ctx, state.outputs)

    return step


def majority(state: SampleState, ctx: SolveContext,
             outputs: list[tuple[str, Response]]) -> SampleState:
    """Set ``state.final`` to the majority answer of ``outputs`` (ties: the earliest) and the
    vote share as confidence; a failed output makes the item an error."""
    failed = [(k, r) for k, r in outputs if not r.ok]
    if failed:
        state.final = failed[0]
        return state
    answers = [ctx.extract(state.sample, r.text) for _, r in outputs]
    counts = Counter(a for a in answers if a is not None)
    state.store["votes"] = answers
    if not counts:
        state.final = outputs[0]
        state.confidence = 0.0
        return state
    best = max(counts.values())
    winner = next(a for a in answers if a is not None and counts[a] == best)
    state.final = outputs[answers.index(winner)]
    state.confidence = best / len(answers)
    return state


import medgauge.runner.strategies  # noqa: E402,F401 - registers ensemble and likelihood
