"""The ``retrieve`` pipeline step: top-k passages of a corpus put into the prompt as evidence.

Written ``retrieve(corpus=pool.jsonl, k=5) -> generate`` (or ``retriever=dense,
model=FOLDER``).  For each sample the step searches the corpus with the sample's question (plus
the option texts for multiple choice), puts the numbered evidence block into the last user
message and notes what it retrieved with the item (``metadata``):

- ``retrieved``: the passage ids, best first; ``retrieval_scores``: the retriever's scores
  (BM25 score or cosine), rounded to 4 decimals; ``retrieval_corpus``: the corpus content hash.

So every score can be traced to its evidence, and the retrieval metrics
(``medgauge.metrics.retrieval``) read ``retrieved`` against the item's ``gold_passage(s)``.
The evidence text is part of the request, so the request cache key includes it.

Corpus: a file or folder read by :func:`medgauge.retrieval.load_corpus`, or
``benchmark:NAME[=DATA]``, the contexts of every sample of a benchmark (test and reference
splits; :func:`medgauge.retrieval.corpus_from_samples`), e.g. ``benchmark:pubmedqa``: the pool of
all 1,000 PubMedQA PQA-L abstracts, where a question's gold passage is its own abstract.  The
corpus is read when the pipeline is built, before anything runs: a bad line stops the command
with one line naming file and line, and nothing stored is touched.  The index is opened (built
in the medgauge cache, or reused) once, on first use, and shared by every task of the run.

Prompt: without ``template``, the evidence preamble (``medgauge.retrieval.prompt``) goes before
the run's own rendered prompt, so prompts with and without retrieval differ only by the evidence.
With ``template`` (text with ``{evidence}`` and ``{question}``, ``{options}``, ``{letters}``,
``{labels}``), the user text becomes :func:`~medgauge.retrieval.prompt.format_prompt` of it.

The passages' texts are also given to the backend as ``Request.meta["evidence"]`` (not part of
the request hash): ``baseline:context`` answers from it.  A probe that builds its own evidence
(``overreliance``) sets that key itself, and the step then leaves the messages alone.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from itertools import chain
from typing import TYPE_CHECKING, Any

from medgauge.retrieval.base import Hit, Retriever
from medgauge.retrieval.cache import open_index
from medgauge.retrieval.corpus import LAYOUTS, Corpus, Passage, corpus_from_samples, load_corpus
from medgauge.retrieval.prompt import check_template, evidence_preamble, format_prompt
from medgauge.runner.steps import SampleState, Step, edit_last_user_text, steps
from medgauge.types import MedgaugeError, Message, Sample

if TYPE_CHECKING:
    from medgauge.runner.solver import SolveContext

QUERIES = ("auto", "question", "question+options")
BENCHMARK_PREFIX = "benchmark:"
#: the Request.meta key carrying the evidence passages' texts (read by baseline:context)
EVIDENCE_META = "evidence"


def read_corpus(spec: str, layout: str = "auto") -> Corpus:
    """The corpus named by ``spec``: a path (file or folder), or ``benchmark:NAME[=DATA]`` for
    the contexts of all samples of a benchmark (test and reference splits)."""
    spec = str(spec)
    if not spec.startswith(BENCHMARK_PREFIX):
        return load_corpus(spec, layout=layout)
    from medgauge.benchmarks import create_benchmark

    name, _, data = spec[len(BENCHMARK_PREFIX):].partition("=")
    bench = create_benchmark(name, data or None)
    reference = bench.reference_samples()
    samples = chain(bench.samples(), reference if reference is not None else ())
    try:
        return corpus_from_samples(samples, name)
    except MedgaugeError as exc:
        raise MedgaugeError(f"corpus {spec}: {exc}") from None


class Retrieval:
    """A corpus, a retriever over it (opened once, lazily, thread-safe) and how evidence goes
    into a prompt.  Shared by the ``retrieve`` step and the over-reliance probe."""

    def __init__(self, corpus: str, retriever: str = "bm25", k: int = 5,
                 template: str | None = None, query: str = "auto", layout: str = "auto",
                 max_chars: int | None = None, **options: Any) -> None:
        if not isinstance(k, int) or isinstance(k, bool) or k < 1:
            raise MedgaugeError(f"retrieve: k must be a positive integer, got {k!r}")
        if query not in QUERIES:
            raise MedgaugeError(f"retrieve: query must be one of {', '.join(QUERIES)}, got "
                                f"{query!r}")
        if layout not in LAYOUTS:
            raise MedgaugeError(f"retrieve: layout must be one of {', '.join(LAYOUTS)}, got "
                                f"{layout!r}")
        if max_chars is not None and (not isinstance(max_chars, int) or max_chars < 1):
            raise MedgaugeError(f"retrieve: max_chars must be a positive integer, got "
                                f"{max_chars!r}")
        self.template = None if template is None else check_template(str(template))
        self.k, self.query, self.max_chars = k, query, max_chars
        self.name = str(retriever)
        self.options = options
        from medgauge.retrieval.base import retrievers

        retrievers.get(self.name)(**options)  # unknown retriever or option: fail now
        self.corpus = read_corpus(corpus, layout)  # a bad line fails before anything runs
        self._index: Retriever | None = None
        self._lock = threading.Lock()

    def query_text(self, sample: Sample) -> str:
        """The search query: the question, plus one line per option text for MCQ (``auto``)."""
        with_options = self.query == "question+options" or (
            self.query == "auto" and sample.answer_type == "mcq")
        if with_options and sample.options:
            return "\n".join([sample.question, *sample.options.values()])
        return sample.question

    def _search(self, query: str) -> list[Hit]:
        with self._lock:  # one build; searches of bm25s/faiss/torch are not shared safely
            if self._index is None:
                self._index = open_index(self.corpus, self.name, **self.options)
            return self._index.search([query], self.k)[0]

    async def search(self, sample: Sample) -> list[tuple[Passage, Hit]]:
        """The top-k passages for ``sample``, best first (in a worker thread: an index build
        does not stall the other tasks)."""
        hits = await asyncio.to_thread(self._search, self.query_text(sample))
        return [(self.corpus.get(h.id), h) for h in hits]

    def messages(self, messages: list[Message], sample: Sample,
                 passages: Sequence[Passage]) -> list[Message]:
        """``messages`` with the evidence in the last user message (see the module docstring)."""
        if self.template is None:
            head = evidence_preamble(passages, self.max_chars)
            return edit_last_user_text(messages, lambda text: head + text)
        text = format_prompt(sample, passages, self.template, self.max_chars)
        return edit_last_user_text(messages, lambda _: text)

    def notes(self, hits: Sequence[Hit]) -> dict[str, Any]:
        return {"retrieved": [h.id for h in hits],
                "retrieval_scores": [round(float(h.score), 4) for h in hits],
                "retrieval_corpus": self.corpus.content_hash}


@steps.register("retrieve")
def retrieve(corpus: str | None = None, retriever: str = "bm25", k: int = 5,
             template: str | None = None, query: str = "auto", layout: str = "auto",
             max_chars: int | None = None, **options: Any) -> Step:
    """Top-``k`` passages of ``corpus`` into the prompt; other keyword arguments are the
    retriever's options (``model=FOLDER`` for ``dense``, ``k1``/``b`` for ``bm25`` ...)."""
    if corpus is None:
        raise MedgaugeError("pipeline step retrieve: corpus=PATH is required (a file, a folder "
                            "or benchmark:NAME)")
    retrieval = Retrieval(corpus, retriever, k, template, query, layout, max_chars, **options)

    async def step(state: SampleState, ctx: SolveContext) -> SampleState:
        if EVIDENCE_META in state.meta:  # a probe gave its own evidence
            return state
        found = await retrieval.search(state.sample)
        passages = [p for p, _ in found]
        state.messages = retrieval.messages(state.messages, state.sample, passages)
        state.meta[EVIDENCE_META] = [p.text for p in passages]
        state.store.update(retrieval.notes([h for _, h in found]))
        return state

    step.retrieval = retrieval  # type: ignore[attr-defined]  # the overreliance probe reuses it
    return step
