"""Retrieved passages into a prompt: a numbered evidence block and a template.

Template placeholders: ``{evidence}`` (the block), ``{question}``, ``{options}`` (one ``A. text``
line per option, empty unless MCQ), ``{letters}`` ("A, B, C or D") and ``{labels}`` ("yes, no or
maybe").  The layout -- evidence first, then the question and its choices -- follows MedRAG
(Xiong et al. 2024, "Benchmarking Retrieval-Augmented Generation for Medicine", Findings of ACL);
the wording is medgauge's own.  Answer instructions match the benchmark defaults in
``medgauge.prompts`` so that accuracy with and without retrieval differ only by the evidence.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from medgauge.prompts.templates import format_options
from medgauge.retrieval.corpus import Passage
from medgauge.types import MedgaugeError, Sample

PLACEHOLDERS = ("evidence", "question", "options", "letters", "labels")
_FIELD = re.compile(r"{([^{}]*)}")

# [I] medgauge's own wording; the answer instruction is the one of prompts/templates.py.
_HEAD = "Use the evidence below if it is relevant to the question.\n\nEvidence:\n{evidence}\n\n"
TEMPLATES: dict[str, str] = {
    "mcq": _HEAD + "Question: {question}\n{options}\nAnswer with the option's letter from the "
                   "given choices directly.",
    "yesno": _HEAD + "Question: {question}\nAnswer with {labels}.",
    "open": _HEAD + "Question: {question}\nAnswer the question using a single word or phrase.",
    "number": _HEAD + "Question: {question}\nAnswer with a single number.",
}


def _or_list(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]


def evidence_block(passages: Sequence[Passage], max_chars: int | None = None) -> str:
    """``[1] Title. text`` lines, numbered in retrieval order, one blank line apart.  Each
    passage's text is cut to ``max_chars`` characters (at a word boundary, ``...`` appended)
    when given.  No passages gives ``(no evidence retrieved)``."""
    if not passages:
        return "(no evidence retrieved)"
    lines = []
    for i, p in enumerate(passages, 1):
        text = p.text
        if max_chars is not None and len(text) > max_chars:
            text = text[:max_chars].rsplit(" ", 1)[0] + " ..."
        head = f"{p.title}. " if p.title else ""
        lines.append(f"[{i}] {head}{text}")
    return "\n\n".join(lines)


def evidence_preamble(passages: Sequence[Passage], max_chars: int | None = None) -> str:
    """The evidence part of the default templates (instruction, ``Evidence:``, the numbered
    block, a blank line), to put before a benchmark's own rendered prompt."""
    return _HEAD.format(evidence=evidence_block(passages, max_chars))


def check_template(template: str) -> str:
    """The template itself, or a one-line error naming its first unknown placeholder."""
    for name in _FIELD.findall(template):
        if name not in PLACEHOLDERS:
            known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
            raise MedgaugeError(f"retrieval template: unknown placeholder {{{name}}} "
                                f"(known: {known})")
    if "{evidence}" not in template:
        raise MedgaugeError("retrieval template: it must contain {evidence}")
    return template


def format_prompt(sample: Sample, passages: Sequence[Passage], template: str | None = None,
                  max_chars: int | None = None) -> str:
    """The user text for ``sample`` with ``passages`` as evidence; ``template`` defaults to
    :data:`TEMPLATES` for the sample's answer type."""
    text = check_template(template) if template is not None else TEMPLATES[sample.answer_type]
    values = {
        "evidence": evidence_block(passages, max_chars),
        "question": sample.question,
        "options": format_options(sample.options),
        "letters": _or_list(list(sample.options)),
        "labels": _or_list(list(sample.labels)),
    }
    return _FIELD.sub(lambda m: values[m.group(1)], text).strip()
