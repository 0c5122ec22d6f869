"""Clean-up shared by the extractors: reasoning blocks, markdown, LaTeX wrappers, width.

Nothing here decides an answer; it only removes presentation so that the extractors see
plain text.  ``answer_spans`` finds the *explicit* answer containers (``\\boxed{}``,
``<answer>...</answer>``) that every extractor gives the highest precedence.
"""

from __future__ import annotations

import re
import unicodedata

_THINK_BLOCK = re.compile(r"<think>.*?</think>", re.S | re.I)
_THINK_CLOSE = re.compile(r"</think>", re.I)
_ANSWER_TAG = re.compile(r"<answer>(.*?)</answer>", re.S | re.I)
_LATEX_TEXT = re.compile(r"\\(?:text|textbf|mathrm|mathbf|textit)\s*\{([^{}]*)\}")
_HEADER = re.compile(r"^\s{0,3}#{1,6}\s*", re.M)
_QUOTE = re.compile(r"^\s*>\s?", re.M)
_SPACES = re.compile(r"[ \t\u00a0]+")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def has_cjk(text: str) -> bool:
    return _CJK.search(text) is not None


def strip_reasoning(text: str) -> str:
    """Drop ``<think>...</think>`` blocks; if only a closing tag is present (the chat template
    opened the block in the prompt) keep what follows the last one."""
    text = _THINK_BLOCK.sub(" ", text)
    closes = list(_THINK_CLOSE.finditer(text))
    if closes:
        text = text[closes[-1].end() :]
    return text.replace("<think>", " ")


def strip_markup(text: str) -> str:
    """Width-normalise (NFKC: ``（Ｂ）`` -> ``(B)``, ``：`` -> ``:``) and remove markdown emphasis,
    headers, block quotes, inline code and ``\\text{}``/``$`` LaTeX wrappers."""
    text = unicodedata.normalize("NFKC", text)
    text = _LATEX_TEXT.sub(r"\1", text)
    text = text.replace("**", "").replace("__", "").replace("`", "").replace("$", "")
    text = text.replace("*", "")
    text = _HEADER.sub("", text)
    text = _QUOTE.sub("", text)
    return _SPACES.sub(" ", text).strip()


def clean(text: str | None) -> str:
    """Reasoning removed, then markup removed; ``None`` becomes ``""``."""
    if not text:
        return ""
    return strip_markup(strip_reasoning(text))


def _boxed_contents(text: str) -> list[str]:
    """Contents of every ``\\boxed{...}`` / ``\\fbox{...}``, nested braces respected."""
    out: list[str] = []
    for match in re.finditer(r"\\(?:boxed|fbox)\s*\{", text):
        depth, start = 1, match.end()
        for i in range(start, len(text)):
            if text[i] == "{":
                depth += 1
            elif text[i] == "}":
                depth -= 1
                if depth == 0:
                    out.append(text[start:i])
                    break
    return out


def answer_spans(raw: str) -> list[str]:
    """Explicit answer containers in precedence order: the last ``\\boxed{}`` first, then the
    last ``<answer>`` tag.  Each span is cleaned; empty spans are dropped."""
    text = strip_reasoning(raw or "")
    spans: list[str] = []
    boxed = _boxed_contents(text)
    if boxed:
        spans.append(boxed[-1])
    tags = _ANSWER_TAG.findall(text)
    if tags:
        spans.append(tags[-1])
    return [s for s in (strip_markup(x) for x in spans) if s]


def normalise_words(text: str) -> str:
    """Lower-case, punctuation to spaces, collapse spaces (for whole-word option matching)."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(ch if ch.isalnum() or ch.isspace() else " " for ch in text)
    return " ".join(text.split())
