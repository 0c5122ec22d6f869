"""Typed records that flow through medgauge.

benchmark loader -> Sample -> solver (prompt, probe) -> Request -> backend -> Response
-> ItemResult (solved) -> scorer -> Score -> store -> Item -> metrics / report.

Hot-path records are plain slotted dataclasses (cheap to build thousands per second);
configuration uses pydantic (see ``config.py``) for its field-naming validation errors.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass, field
from typing import Any, Literal

AnswerType = Literal["mcq", "yesno", "open", "number", "report"]
YES_NO: tuple[str, ...] = ("yes", "no")

#: Value of an extracted answer when nothing could be parsed.  Kept as ``None`` in Python and
#: shown as ``invalid`` to users.
INVALID = None

_HASH_CACHE: dict[tuple[str, int, int], str] = {}


class MedgaugeError(Exception):
    """An error whose message is a complete, one-line explanation for the user."""


@dataclass(frozen=True, slots=True)
class ImageRef:
    """A reference to one image; bytes are read only when a request is sent.

    ``path`` is a file on disk.  ``b64`` holds an embedded base64 image (e.g. a GMAI-MMBench TSV
    cell) in which case ``path`` names where it came from (``file.tsv#row``).  ``role`` labels the
    image inside a multi-image sample (``prior``/``current``, ``example``...).
    """

    path: str
    b64: str | None = None
    role: str | None = None

    def read_bytes(self) -> bytes:
        if self.b64 is not None:
            return base64.b64decode(self.b64)
        try:
            with open(self.path, "rb") as fh:
                return fh.read()
        except FileNotFoundError:
            raise MedgaugeError(f"image not found: {self.path}") from None
        except OSError as exc:
            raise MedgaugeError(f"cannot read image {self.path}: {exc.strerror}") from None

    def content_hash(self) -> str:
        """blake2b of the image bytes, cached per (path, mtime, size) for files."""
        if self.b64 is not None:
            return hashlib.blake2b(self.b64.encode(), digest_size=16).hexdigest()
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            raise MedgaugeError(f"image not found: {self.path}") from None
        key = (self.path, st.st_mtime_ns, st.st_size)
        cached = _HASH_CACHE.get(key)
        if cached is None:
            cached = hashlib.blake2b(self.read_bytes(), digest_size=16).hexdigest()
            _HASH_CACHE[key] = cached
        return cached


@dataclass(frozen=True, slots=True)
class Sample:
    """One benchmark item.

    ``answer`` is an option letter for ``mcq``, one of ``labels`` for ``yesno`` (PubMedQA uses
    yes/no/maybe), free text for ``open`` and a number written as text for ``number``.
    ``options`` maps letters to option texts in display order (empty unless ``mcq``).
    ``cluster`` groups items that share an image or a case, for clustered intervals.
    ``answers`` holds further accepted reference answers (VQA-Med 2019 lists alternatives
    separated by ``#``); a reply matching ``answer`` or any of them is correct.
    """

    id: str
    question: str
    answer: str
    answer_type: AnswerType = "mcq"
    options: dict[str, str] = field(default_factory=dict)
    images: tuple[ImageRef, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)
    context: str | None = None
    labels: tuple[str, ...] = YES_NO
    cluster: str | None = None
    answers: tuple[str, ...] = ()
    #: earlier turns of a conversation, ``({"role": "user"|"assistant", "content": str}, ...)``;
    #: the rendered question is the last user turn after them
    history: tuple[dict[str, str], ...] = ()

    def references(self) -> tuple[str, ...]:
        """The gold answer followed by every further accepted answer, without repeats."""
        return tuple(dict.fromkeys((self.answer, *self.answers)))


@dataclass(frozen=True, slots=True)
class GenParams:
    temperature: float = 0.0
    max_tokens: int | None = 512
    top_p: float | None = None
    seed: int | None = None
    n: int = 1
    logprobs: bool = False
    top_logprobs: int | None = None
    stop: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "top_p": self.top_p,
            "seed": self.seed,
            "n": self.n,
            "logprobs": self.logprobs,
            "top_logprobs": self.top_logprobs,
            "stop": list(self.stop),
        }


# A chat message in OpenAI form, except that image parts are {"type": "image", "image": ImageRef}
# until a backend encodes them.  Text parts are {"type": "text", "text": str}.
Message = dict[str, Any]


def map_image_parts(message: Message, convert: Any) -> Message:
    """The message with each image part replaced by ``convert(ImageRef) -> part dict`` (how a
    backend encodes images, or how the cache key names them); other parts are kept."""
    content = message.get("content")
    if not isinstance(content, list):
        return message
    parts = [convert(p["image"]) if p.get("type") == "image" else p for p in content]
    return {**message, "content": parts}


@dataclass(slots=True)
class Request:
    """What a backend is asked.  ``meta`` is not part of the cache key (informational only).

    ``continuations``: when non-empty, the backend scores these candidate assistant replies
    (log-probabilities) instead of generating; used by MediConfusion-style greedy/prefix modes.
    """

    messages: list[Message]
    params: GenParams = field(default_factory=GenParams)
    continuations: tuple[str, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)

    def images(self) -> list[ImageRef]:
        out: list[ImageRef] = []
        for m in self.messages:
            content = m.get("content")
            if isinstance(content, list):
                out.extend(p["image"] for p in content if p.get("type") == "image")
        return out

    def text(self) -> str:
        """All text of the request, joined; handy for baselines and logs."""
        parts: list[str] = []
        for m in self.messages:
            content = m.get("content")
            if isinstance(content, str):
                parts.append(content)
            elif isinstance(content, list):
                parts.extend(p["text"] for p in content if p.get("type") == "text")
        return "\n".join(parts)


@dataclass(slots=True)
class Response:
    """A backend's answer.  ``error`` set means the request failed: never an answer."""

    text: str = ""
    finish_reason: str | None = None
    texts: tuple[str, ...] = ()  # all choices when n > 1 (texts[0] == text)
    logprobs: list[dict[str, Any]] | None = None  # per generated token: token, logprob, top
    option_logprobs: dict[str, float] | None = None  # for Request.continuations
    usage: dict[str, int] = field(default_factory=dict)
    latency_s: float = 0.0
    error: str | None = None
    cached: bool = False
    #: a reasoning model's separate reasoning text (``reasoning_content``); not stored, not part
    #: of the cache key, never parsed for an answer
    reasoning: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


ScoreStatus = Literal["ok", "invalid", "incomplete", "error"]


@dataclass(slots=True)
class Score:
    """A scorer's judgement of one item (inspect_ai's ``Score`` shape, with an explicit status).

    ``value``: ``1.0``/``0.0`` for a binary judgement (correct or not), any float for a graded
    one (token F1, a grader's 1-5 grade), ``None`` when there is nothing to score.
    ``status``: ``ok`` (scored), ``invalid`` (no answer could be parsed: counted wrong, never
    guessed), ``incomplete`` (the reply was cut off or only reasoning: counted wrong, shown apart),
    ``error`` (the request or a grader call failed: excluded from every estimate, retried by a
    rerun).  ``answer`` is the extracted answer; ``metrics`` holds extra per-item values (token
    F1, BLEU-1 ...) that declared metrics read; ``explanation`` a grader's reasoning.
    """

    value: float | None
    answer: str | None = None
    status: ScoreStatus = "ok"
    metrics: dict[str, float] = field(default_factory=dict)
    explanation: str | None = None
    error: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def failed(cls, error: str) -> Score:
        return cls(None, None, "error", error=error)


@dataclass(slots=True)
class ItemResult:
    """One solved item: a sample under one variant (``clean`` or a probe's variant), before or
    after scoring.

    ``target`` is the sample the item is scored against (a probe may rotate options or change the
    gold; default: the solved sample); it is stored so ``rescore`` needs neither the benchmark nor
    the model.  ``score`` is filled by the scoring phase.
    """

    sample_id: str
    variant: str = "clean"
    request_hash: str | None = None
    response: str = ""
    error: str | None = None  # the request failed: never an answer
    confidence: float | None = None
    metadata: dict[str, Any] = field(default_factory=dict)  # merged over the sample's metadata
    question: str | None = None  # set when a probe changed the question (else the sample's)
    answer: str | None = None  # set when a probe changed the gold answer
    target: Sample | None = None
    finish_reason: str | None = None
    score: Score | None = None
    #: the response object as the backend returned it (not stored; scorers may read it)
    raw: Response | None = None


@dataclass(slots=True)
class Item:
    """One stored, scored item as every reader sees it (``Store.items``): the only place where
    ``correct``, ``invalid``, ``incomplete`` and ``answered`` are defined.

    - ``error``: the request (or the grader) failed; excluded from every estimate.
    - ``invalid``: answered, but nothing could be parsed; counts as wrong.
    - ``incomplete``: cut off or only reasoning; counts as wrong, shown apart from invalid.
    - ``correct``: ``None`` on error, else ``value == 1`` for an ``ok`` score.
    Dict-style access (``item["variant"]``, ``item.get("error")``) is kept for templates and
    small scripts.
    """

    sample_id: str
    variant: str = "clean"
    request_hash: str | None = None
    response: str = ""
    extracted: str | None = None
    value: float | None = None
    status: ScoreStatus = "ok"
    metrics: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    confidence: float | None = None
    question: str = ""
    answer: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    cluster: str | None = None
    explanation: str | None = None
    finish_reason: str | None = None
    scorer: str | None = None

    @property
    def errored(self) -> bool:
        return self.status == "error" or self.error is not None

    @property
    def answered(self) -> bool:
        return not self.errored

    @property
    def invalid(self) -> bool:
        return not self.errored and self.status == "invalid"

    @property
    def incomplete(self) -> bool:
        return not self.errored and self.status == "incomplete"

    @property
    def correct(self) -> bool | None:
        if self.errored:
            return None
        return self.status == "ok" and self.value is not None and self.value >= 1.0

    def __getitem__(self, key: str) -> Any:
        try:
            return getattr(self, key)
        except AttributeError:
            raise KeyError(key) from None

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key, default)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and hasattr(self, key)
