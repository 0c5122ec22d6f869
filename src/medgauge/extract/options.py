"""Matching answer text against option text: how close is close enough.

Answer text names an option when their *canonical word sequences* are equal (or, for a
mention inside a longer answer, when the option's sequence occurs as whole words).  The
canonical form (``canonical_words``) removes differences of presentation only:

- Unicode width (NFKC), case, punctuation and hyphens (to spaces);
- arrows and comparison symbols written as words: ``↑`` = increased, ``↓`` = decreased,
  ``↔`` = normal, ``>`` = greater than, ``<`` = less than, ``≥``/``≤``, ``→`` = to;
- direction synonyms: high/elevated/raised/increase(d)/rising = increased,
  low/reduced/decrease(d)/diminished/lowered/falling = decreased;
- British spellings listed in ``_SPELLING`` (haem-, anaem-, oedema, oesophag-, tumour ...);
- the words a, an, the, and, of are dropped, and a plural ``-s`` is removed from words of
  more than three letters.

Word order, other synonyms and abbreviations are *not* matched ("TSH up" is not "increased
TSH"): a looser match would start to invent answers.  The exact words are tried first, so
when two options are canonical twins ("Decreased range of motion" and "Lower range of
motion", both in one MedXpertQA item) the words the model wrote decide.  Options whose text is
identical up to case, width and punctuation (a real MedMCQA item has B and D both "Petechial
rash") are the same answer (``same_option``).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from functools import lru_cache

_SYMBOLS = {
    "↑": " increased ", "⬆": " increased ", "↓": " decreased ", "⬇": " decreased ",
    "↔": " normal ", "→": " to ", "≥": " greater than or equal to ",
    "≤": " less than or equal to ", ">": " greater than ", "<": " less than ",
}
_DIRECTION = {
    **dict.fromkeys("high higher elevated raised increase increases increasing rise rising "
                    "up".split(), "increased"),
    **dict.fromkeys("low lower reduced reduce decrease decreases decreasing diminished "
                    "lowered fall falling down depressed".split(), "decreased"),
}
_SPELLING = (
    (r"\bhaem", "hem"), (r"\banaem", "anem"), (r"\baeti", "eti"), (r"\boedem", "edem"),
    (r"\boesoph", "esoph"), (r"\bfoet", "fet"), (r"\btumour", "tumor"), (r"\bpaed", "ped"),
    (r"\bleukaem", "leukem"), (r"\bischaem", "ischem"), (r"\boestr", "estr"),
    (r"\bcaesar", "cesar"), (r"\bfaec", "fec"), (r"\bhypoglycaem", "hypoglycem"),
    (r"\bhyperglycaem", "hyperglycem"), (r"aemia\b", "emia"),
)
_DROP = frozenset({"a", "an", "the", "and", "of"})


@lru_cache(maxsize=4096)
def canonical_words(text: str) -> str:
    """The canonical word sequence of ``text`` (see the module rule), space-joined."""
    text = unicodedata.normalize("NFKC", text)
    for sym, word in _SYMBOLS.items():
        text = text.replace(sym, word)
    text = text.lower()
    text = "".join(ch if ch.isalnum() or ch.isspace() else " " for ch in text)
    for pattern, repl in _SPELLING:
        text = re.sub(pattern, repl, text)
    out: list[str] = []
    for word in text.split():
        if word in _DROP:
            continue
        word = _DIRECTION.get(word, word)
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        out.append(word)
    return " ".join(out)


def strict_words(text: str) -> str:
    """Case, width and punctuation removed only: the form in which two options are
    *identical* (``same_option``)."""
    text = unicodedata.normalize("NFKC", text).lower()
    out = "".join(ch if ch.isalnum() else f" {ch} " if unicodedata.category(ch)[0] == "S"
                  else " " for ch in text)
    return " ".join(out.split())  # symbols (↑ ↓ + >) stay: "↑ Na+" is not "↓ Na+"


def option_canon(options: dict[str, str], strict: bool = False) -> dict[str, str]:
    """Letter -> canonical (or strict) text; options whose text is empty are left out."""
    return dict(_option_canon(tuple(options.items()), strict))


@functools.lru_cache(maxsize=4096)
def _option_canon(options: tuple[tuple[str, str], ...], strict: bool
                  ) -> tuple[tuple[str, str], ...]:
    # benchmarks repeat the same option lists (yes/no, A-D of one item asked several ways):
    # normalise each list once
    norm = strict_words if strict else canonical_words
    return tuple((key, canon) for key, value in options if (canon := norm(value)))


def same_option(options: dict[str, str], a: str | None, b: str | None) -> bool:
    """True when letters ``a`` and ``b`` are the same answer: equal, or two options whose
    texts are identical up to case, width and punctuation (not merely canonically equal:
    MedXpertQA lists "Decreased range of motion" and "Lower range of motion" as two
    options)."""
    if a is None or b is None:
        return False
    if a == b:
        return True
    ta, tb = strict_words(options.get(a) or ""), strict_words(options.get(b) or "")
    return bool(ta) and ta == tb


def duplicate_options(options: dict[str, str]) -> list[list[str]]:
    """Groups of letters whose option texts are identical (``same_option``); loaders flag such
    items in ``metadata["duplicate_options"]``."""
    groups: dict[str, list[str]] = {}
    for key, canon in option_canon(options, strict=True).items():
        groups.setdefault(canon, []).append(key)
    return [keys for keys in groups.values() if len(keys) > 1]


def one_answer(letters: set[str] | list[str], options: dict[str, str]) -> str | None:
    """The answer named by a set of letters: the first letter when every letter is the same
    answer (identical option texts), else ``None``."""
    keys = sorted(set(letters))
    if keys and all(same_option(options, keys[0], k) for k in keys[1:]):
        return keys[0]
    return None


def _prefer_strict(strict: set[str], loose: set[str], options: dict[str, str]) -> set[str]:
    """Strict matches, plus canonical ones that are not canonical twins of a strict match
    (the exact words decide between "Decreased ..." and "Lower ..." options)."""
    canon = option_canon(options)
    taken = {canon.get(k) for k in strict}
    return strict | {k for k in loose if k in strict or canon.get(k) not in taken}


def _occurrences(hay: str, norms: dict[str, str]) -> set[str]:
    spans: dict[str, list[tuple[int, int]]] = {}
    for key, norm in norms.items():
        found = [(m.start(), m.end()) for m in re.finditer(re.escape(f" {norm} "), hay)]
        if found:
            spans[key] = found
    keep: set[str] = set()
    for key, occ in spans.items():
        inside_other = all(
            any(o != key and s2 <= s and e <= e2 and (e2 - s2) > (e - s)
                for o, occ2 in spans.items() for s2, e2 in occ2)
            for s, e in occ
        )
        if not inside_other:
            keep.add(key)
    return keep


def text_matches(text: str, options: dict[str, str]) -> set[str]:
    """Options whose text occurs as whole words in ``text`` (strict form, then canonical); an
    option whose only occurrences lie inside a longer matching option's text ("pneumonia" in
    "aspiration pneumonia") is dropped."""
    strict = _occurrences(f" {strict_words(text)} ", option_canon(options, strict=True))
    loose = _occurrences(f" {canonical_words(text)} ", option_canon(options))
    return _prefer_strict(strict, loose, options)


def _affix(text: str, options: dict[str, str], end: bool) -> set[str]:
    found: dict[bool, set[str]] = {}
    for strict in (True, False):
        canon = (strict_words if strict else canonical_words)(text)
        norms = option_canon(options, strict=strict)
        if end:
            hits = {k for k, n in norms.items() if canon == n or canon.endswith(" " + n)}
        else:
            hits = {k for k, n in norms.items() if canon == n or canon.startswith(n + " ")}
        if hits:
            longest = max(len(norms[k]) for k in hits)
            hits = {k for k in hits if len(norms[k]) == longest}
        found[strict] = hits
    return _prefer_strict(found[True], found[False], options) if found[True] else found[False]


def text_starts(text: str, options: dict[str, str]) -> set[str]:
    """Options whose text the words of ``text`` start with (the longest ones)."""
    return _affix(text, options, end=False)


def text_ends(text: str, options: dict[str, str]) -> set[str]:
    """Options whose text the words of ``text`` end with (the longest ones)."""
    return _affix(text, options, end=True)
