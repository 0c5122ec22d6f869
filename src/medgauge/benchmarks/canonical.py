"""Reader of the canonical JSONL layout (used by ``phantom`` and the generic ``custom`` loader).

One JSON object per line::

    {"id": str, "question": str, "answer": str,
     "answer_type": "mcq" | "yesno" | "open" | "number",
     "options": {"A": "...", ...},           # optional; required (non-empty) for mcq
     "images": ["images/x.png", ...],        # optional; relative to the JSONL's folder
     "image_roles": ["prior", "current"],    # optional; parallel to images
     "metadata": {...},                      # optional
     "cluster": str | null,                  # optional; items sharing an image or case
     "context": str,                         # optional
     "labels": ["yes", "no", "maybe"],       # optional; yes/no labels (default yes, no)
     "history": [{"role": "user", "content": "..."},      # optional; earlier turns of a
                 {"role": "assistant", "content": "..."}]} # conversation, before the question

Without ``answer_type`` the type is ``mcq`` when options are given, ``yesno`` when the answer
is one of the labels, else ``open``.  Samples are yielded one line at a time; images are
checked to exist (a stat) but never read.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

from medgauge.benchmarks.io import field, image_ref, read_jsonl
from medgauge.types import YES_NO, AnswerType, ImageRef, MedgaugeError, Sample

ANSWER_TYPES: tuple[str, ...] = get_args(AnswerType)


def _text(value: Any, name: str, where: str, *, allow_number: bool = True) -> str:
    if isinstance(value, str):
        return value
    if allow_number and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise MedgaugeError(f"{where}: field {name!r} must be a string, got {type(value).__name__}")


def _str_list(value: Any, name: str, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise MedgaugeError(f"{where}: field {name!r} must be a list of strings")
    return value


def _options(obj: dict[str, Any], where: str) -> dict[str, str]:
    raw = obj.get("options") or {}
    if not isinstance(raw, dict):
        raise MedgaugeError(f"{where}: field 'options' must be an object like {{\"A\": \"...\"}}")
    return {str(k): _text(v, f"options.{k}", where) for k, v in raw.items()}


def _images(obj: dict[str, Any], where: str, image_root: Path) -> tuple[ImageRef, ...]:
    paths = _str_list(obj.get("images") or [], "images", where)
    roles: list[str | None] = [None] * len(paths)
    if obj.get("image_roles") is not None:
        given = _str_list(obj["image_roles"], "image_roles", where)
        if len(given) != len(paths):
            raise MedgaugeError(
                f"{where}: field 'image_roles' has {len(given)} entries for {len(paths)} images"
            )
        roles = list(given)
    return tuple(image_ref(image_root, p, f"{where}: field 'images'", role=r)
                 for p, r in zip(paths, roles, strict=True))


def parse_canonical(obj: dict[str, Any], where: str, image_root: Path) -> Sample:
    """One canonical object -> Sample; ``where`` (``file:line``) prefixes every error."""
    item_id = _text(field(obj, "id", where), "id", where)
    question = _text(field(obj, "question", where), "question", where, allow_number=False)
    answer = _text(field(obj, "answer", where), "answer", where).strip()
    options = _options(obj, where)
    labels = tuple(_str_list(obj["labels"], "labels", where)) if obj.get("labels") else YES_NO
    answer_type = obj.get("answer_type")
    if answer_type is None:
        answer_type = ("mcq" if options else
                       "yesno" if answer.lower() in labels else "open")
    if answer_type not in ANSWER_TYPES:
        raise MedgaugeError(f"{where}: field 'answer_type' must be one of "
                            f"{', '.join(ANSWER_TYPES)}, got {answer_type!r}")
    if answer_type == "mcq":
        if not options:
            raise MedgaugeError(f"{where}: field 'options' is required for an mcq item")
        if answer not in options:
            raise MedgaugeError(f"{where}: field 'answer' {answer!r} is not one of the option "
                                f"letters {', '.join(options)}")
    elif answer_type == "yesno":
        answer = answer.lower()
        if answer not in labels:
            raise MedgaugeError(f"{where}: field 'answer' {answer!r} is not one of "
                                f"{', '.join(labels)}")
    metadata = obj.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise MedgaugeError(f"{where}: field 'metadata' must be an object")
    cluster = obj.get("cluster")
    context = obj.get("context")
    history = _history(obj.get("history"), where)
    return Sample(
        id=item_id,
        question=question,
        answer=answer,
        answer_type=answer_type,
        options=options,
        images=_images(obj, where, image_root),
        metadata=metadata,
        context=None if context is None else _text(context, "context", where),
        labels=labels,
        cluster=None if cluster is None else _text(cluster, "cluster", where),
        history=history,
    )


def _history(value: Any, where: str) -> tuple[dict[str, str], ...]:
    """Earlier conversation turns: a list of {role: user|assistant, content: text}."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise MedgaugeError(f"{where}: field 'history' must be a list of {{role, content}} turns")
    turns = []
    for i, turn in enumerate(value):
        if (not isinstance(turn, dict) or turn.get("role") not in ("user", "assistant")
                or not isinstance(turn.get("content"), str)):
            raise MedgaugeError(f"{where}: field 'history[{i}]' must be {{\"role\": "
                                "\"user\" or \"assistant\", \"content\": text}")
        turns.append({"role": turn["role"], "content": turn["content"]})
    return tuple(turns)


def read_canonical_jsonl(path: Path, image_root: Path | None = None) -> Iterator[Sample]:
    """Yield Samples from a canonical JSONL file lazily; image paths are relative to
    ``image_root`` (default: the file's folder).  Duplicate ids are an error."""
    path = Path(path)
    root = Path(image_root) if image_root is not None else path.parent
    seen: dict[str, int] = {}
    for lineno, obj in read_jsonl(path):
        where = f"{path}:{lineno}"
        sample = parse_canonical(obj, where, root)
        if sample.id in seen:
            raise MedgaugeError(f"{where}: field 'id' {sample.id!r} repeats line {seen[sample.id]}")
        seen[sample.id] = lineno
        yield sample
