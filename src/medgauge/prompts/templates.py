"""Prompt templates: a Sample becomes chat messages.

A template is text with the placeholders ``{question}``, ``{options}`` (one ``A. text`` line per
option), ``{letters}`` ("A, B, C or D"), ``{labels}`` ("yes or no"), ``{context}`` (empty when the
sample has none).  Images go before the text in the user turn, in the sample's order, unless the
question holds ``<image N>`` placeholders (MMMU), in which case each image is placed there.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from medgauge.registry import Registry
from medgauge.types import MedgaugeError, Message, Sample

_PLACEHOLDER = re.compile(r"<image (\d+)>")


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    text: str
    system: str | None = None
    description: str = ""
    #: How one option line of ``{options}`` is written (MediConfusion uses ``("A": text)``).
    option_format: str = "{letter}. {text}"


templates: Registry[PromptTemplate] = Registry("prompt template")


def register(template: PromptTemplate) -> PromptTemplate:
    templates.register(template.name)(template)
    return template


def _or_list(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]


def substitute(text: str, values: dict[str, str]) -> str:
    """``text`` with each ``{name}`` replaced by ``values[name]`` (``{{``/``}}`` for literal
    braces).  Only plain names: attribute or index access (``{question.__class__}``,
    ``{x[0]}``), conversions and format specs are refused, so a template cannot reach into
    Python objects.  The stdlib's ``string.Formatter.parse`` tokenises; nothing is evaluated.

    Raises ``MedgaugeError`` naming the placeholder."""
    out: list[str] = []
    for literal, name, refused in _tokens(text):
        out.append(literal)
        if name is None:
            continue
        if refused or name not in values:
            known = ", ".join("{" + k + "}" for k in values)
            if refused:
                raise MedgaugeError(f"prompt template placeholder {{{refused}}} is not allowed: "
                                    f"only plain names ({known})")
            raise MedgaugeError(f"prompt template has unknown placeholder {{{name}}} (known: "
                                f"{known})")
        out.append(values[name])
    return "".join(out)


@functools.lru_cache(maxsize=256)
def _tokens(text: str) -> tuple[tuple[str, str | None, str | None], ...]:
    """(literal, placeholder name or None, the placeholder as written when it is not a plain
    name) of each piece of a template, parsed once per text."""
    from string import Formatter

    try:
        parsed = list(Formatter().parse(text))
    except ValueError as exc:
        raise MedgaugeError(f"prompt template is malformed ({exc}; write {{{{ and }}}} for "
                            "literal braces)") from None
    out = []
    for literal, name, spec, conversion in parsed:
        refused = None
        if name is not None and (spec or conversion or not name.isidentifier()):
            refused = (name + (f"!{conversion}" if conversion else "")
                       + (f":{spec}" if spec else ""))
        out.append((literal, name, refused))
    return tuple(out)


def placeholders(text: str) -> set[str]:
    """The ``{name}`` placeholders a template uses."""
    from string import Formatter

    try:
        return {name for _, name, _, _ in Formatter().parse(text) if name}
    except ValueError:
        return set()


def format_options(options: dict[str, str], line: str = "{letter}. {text}") -> str:
    return "\n".join(substitute(line, {"letter": letter, "text": text})
                     for letter, text in options.items())


def fill(text: str, sample: Sample, option_format: str = "{letter}. {text}") -> str:
    values = {
        "question": sample.question,
        "options": format_options(sample.options, option_format),
        "letters": _or_list(list(sample.options)),
        "labels": _or_list(list(sample.labels)),
        "context": sample.context or "",
    }
    return substitute(text, values).strip()


def resolve(name_or_text: str | None, sample: Sample) -> PromptTemplate:
    """A registered name, literal template text (contains ``{``), or the default for the
    sample's answer type."""
    if not name_or_text or name_or_text == "default":
        return templates.get(sample.answer_type)
    if "{" in name_or_text:
        return PromptTemplate(name="custom", text=name_or_text)
    return templates.get(name_or_text)


def render(sample: Sample, template: PromptTemplate, *, with_images: bool = True) -> list[Message]:
    text = fill(template.text, sample, template.option_format)
    content: list[dict] = []
    images = list(sample.images) if with_images else []
    if images and _PLACEHOLDER.search(text):
        pos = 0
        for match in _PLACEHOLDER.finditer(text):
            if match.start() > pos:
                content.append({"type": "text", "text": text[pos : match.start()]})
            index = int(match.group(1)) - 1
            if 0 <= index < len(images):
                content.append({"type": "image", "image": images[index]})
            pos = match.end()
        if pos < len(text):
            content.append({"type": "text", "text": text[pos:]})
    else:
        content.extend({"type": "image", "image": img} for img in images)
        content.append({"type": "text", "text": text})
    messages: list[Message] = []
    if template.system:
        messages.append({"role": "system", "content": template.system})
    messages.extend({"role": turn["role"], "content": [{"type": "text", "text": turn["content"]}]}
                    for turn in sample.history)  # a conversation's earlier turns
    messages.append({"role": "user", "content": content})
    return messages


# Built-in defaults by answer type.  The MCQ wording follows LLaVA/MMStar
# ("Answer with the option's letter from the given choices directly."); the open wording follows
# LLaVA-Med's short-answer instruction.
register(PromptTemplate(
    "mcq",
    "{context}\n\n{question}\n{options}\nAnswer with the option's letter from the given choices "
    "directly.",
    description="question, lettered options, answer with the letter",
))
register(PromptTemplate(
    "yesno",
    "{context}\n\n{question}\nAnswer with {labels}.",
    description="closed question answered with yes/no (or the benchmark's labels)",
))
register(PromptTemplate(
    "open",
    "{context}\n\n{question}\nAnswer the question using a single word or phrase.",
    description="open question, short free-text answer",
))
register(PromptTemplate(
    "number",
    "{context}\n\n{question}\nAnswer with a single number.",
    description="numeric answer",
))
