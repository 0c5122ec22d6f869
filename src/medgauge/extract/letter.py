"""Option-letter extraction: the one option a model's answer asserts, or ``None`` (invalid).

Precedence (the first stage that yields something decides; see docs/scoring.md):

1. explicit answer containers: the last ``\\boxed{}``, then the last ``<answer>`` tag;
2. answer phrases, the *last* one in the text that names an option wins: "the answer is B",
   "Answer: (B)", "The correct option is (B) Pneumonia", "B is the correct answer",
   "I would choose B", "most likely diagnosis is <option text>", "Therefore, B.",
   "答案是B", "选B";
3. lines that hold only a letter (``B``, ``(B)``, ``**B**``, ``B. Pneumonia``);
4. refusals ("I cannot determine ...") give ``None`` here;
5. standalone letter tokens anywhere: exactly one distinct option letter, else ``None``;
6. option text: exactly one option's text (normalised, whole words) occurs.

Two different options asserted at the deciding stage ("A or C", "B. <text of D>") give
``None``.  The English article "A" and pronoun "I" followed by an ordinary word are not letters.
"""

from __future__ import annotations

import re

from medgauge.extract.clean import answer_spans, clean, normalise_words

_CONFLICT = "conflict"

# Words that, placed before a capital letter, make it part of a name ("hepatitis B").
_NAME_WORDS = frozenset(
    "hepatitis vitamin vitamins type group class grade stage phase zone lead leads factor "
    "protein complex influenza hemophilia haemophilia cluster category level schedule panel "
    "figure fig image table appendix dr mr mrs ms plan site".split()
)
# After "A"/"I", these words keep the capital a letter ("A is correct", "A or C").
_LETTER_FOLLOWERS = frozenset(
    "or and is was would seems appears fits best because since as which vs versus "
    "remains matches describes with".split()
)

# The pronoun "I" is far more common than option I: only these keep it a letter.
_PRONOUN_I_FOLLOWERS = frozenset({"or", "and", "is"})
_CUES = re.compile(
    r"(?:"
    r"\b(?:final|correct|best|right|true|most\s+(?:likely|appropriate|accurate|correct|probable))"
    r"\s+(?:answer|option|choice|response|diagnosis)\s*(?:is|would\s+be|should\s+be|will\s+be"
    r"|must\s+be|here\s+is|:|=|-)"
    r"|\banswers?\s*(?:is|would\s+be|should\s+be|will\s+be|must\s+be|could\s+be|:|=)"
    r"|\b(?:answer|option|choice)\s+(?=\(?[A-Z]\)?\s*(?:[.!:)]|$))"
    r"|\bi\s*(?:would|will|'d|'ll|must)?\s*(?:choose|select|pick|go\s+with)"
    r"|\b(?:my|the)\s+(?:choice|pick|selection)\s+(?:is|would\s+be)"
    r"|(?:正确)?答案\s*(?:是|为|应为|应该是|应是)?\s*:?"
    r"|(?:应|故|因此|所以)?选(?!项)择?"
    r")",
    re.I,
)
_CONCLUDE = re.compile(r"\b(?:therefore|thus|hence|so)\b\s*,?\s*", re.I)
_ASSERT_AFTER = re.compile(
    r"(?<![A-Za-z0-9])(?:option\s+|choice\s+)?\(?([A-Z])\)?\s+is\s+(?:the\s+)?"
    r"(?:correct|right|best|most\s+(?:likely|appropriate)|answer)\b",
    re.I,
)
_LETTER_AT = re.compile(r"[(\[\"'“‘]?\s*([A-Za-z])\s*[)\]\"'”’]?(?![A-Za-z0-9'’\-])")
_HEDGE = re.compile(
    r"^\s*[)\].:]?\s*(?:,|/|&|(?i:\bor\b|\band\b|\bvs\.?)|或|和|与|、)\s*"
    r"(?i:option\s+|choice\s+)?[(\[]?([A-Z])(?![A-Za-z0-9])"
)
_LEAD_WORDS = re.compile(r"^(?:option|choice|letter|answer)\s*[:\-]?\s*", re.I)
_LETTER_LINE = re.compile(
    r"^(?:(?:final\s+)?(?:answer|option|choice)\s*[:\-]?\s*)?[(\[]?([A-Z])[)\]]?"
    r"(?:\s*[.:)]\s*(.*?)|\s+-\s+(.*?)|\s+(.*?))?\s*[.!]?$"
)
_TOKEN = re.compile(r"(?<![A-Za-z0-9'’\-/&.])([A-Z])(?![A-Za-z0-9'’\-&])(?!\.[A-Za-z])")
_REFUSAL = re.compile(
    r"\bi\s*(?:cannot|can't|can\s+not|am\s+unable\s+to|'m\s+unable\s+to|am\s+not\s+able\s+to"
    r"|'m\s+not\s+able\s+to|do\s+not\s+have|don't\s+have)\s+(?:determine|answer|tell|provide|see"
    r"|view|access|analy[sz]e|interpret|assess|make|reliably|the\s+image|enough|access)"
    r"|\b(?:cannot|can't|impossible\s+to|not\s+possible\s+to)\s+(?:be\s+)?(?:determined?|answered?)"
    r"|\bunable\s+to\s+(?:determine|answer|view|see)"
    r"|\bno\s+image\s+(?:was\s+|is\s+|has\s+been\s+)?(?:provided|attached|uploaded|shared|included)"
    r"|\binsufficient\s+information"
    r"|无法(?:确定|判断|回答|查看|看到)|不能确定",
    re.I,
)


def _option_norms(options: dict[str, str]) -> dict[str, str]:
    return {k: normalise_words(v) for k, v in options.items() if normalise_words(v)}


def _text_matches(text: str, options: dict[str, str]) -> set[str]:
    """Options whose normalised text occurs as whole words; an option whose only occurrences lie
    inside a longer matching option's text ("pneumonia" in "aspiration pneumonia") is dropped."""
    hay = f" {normalise_words(text)} "
    spans: dict[str, list[tuple[int, int]]] = {}
    for key, norm in _option_norms(options).items():
        found = [(m.start(), m.end()) for m in re.finditer(re.escape(f" {norm} "), hay)]
        # re.finditer does not overlap; that is enough for whole-word presence
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


def _rest_conflicts(letter: str, rest: str, options: dict[str, str]) -> bool:
    """True when the words after the letter name a different option ("B. <text of D>") or a
    second letter joined by or/and/slash ("A or C")."""
    hedge = _HEDGE.match(rest)
    if hedge and hedge.group(1).upper() in options and hedge.group(1).upper() != letter:
        return True
    rest_norm = normalise_words(rest)
    if not rest_norm:
        return False
    starts = {k for k, n in _option_norms(options).items()
              if rest_norm == n or rest_norm.startswith(n + " ")}
    if not starts:
        return False
    longest = max(len(_option_norms(options)[k]) for k in starts)
    starts = {k for k in starts if len(_option_norms(options)[k]) == longest}
    return letter not in starts


def _is_prose_capital(letter: str, after: str) -> bool:
    """"A chest X-ray shows" / "I think": an article or pronoun, not an option letter."""
    if letter not in ("A", "I"):
        return False
    m = re.match(r"\s+([A-Za-z0-9][\w\-]*)", after)
    if not m:
        return bool(re.match(r"'(?:m|d|ll|ve)\b", after))
    word = m.group(1)
    followers = _LETTER_FOLLOWERS if letter == "A" else _PRONOUN_I_FOLLOWERS
    return (word[0].islower() or word[0].isdigit()) and word.lower() not in followers


def _parse_span(span: str, options: dict[str, str], *, text_ok: bool = True) -> str | None:
    """A letter (or option text) at the start of the words that follow an answer cue."""
    span = span.split("\n", 1)[0][:300].strip()
    span = re.sub(r"^[\s:=\-\"'“‘,]+", "", span)
    span = _LEAD_WORDS.sub("", span)
    if re.match(r"(?:not|neither|none)\b", span, re.I):
        return None
    m = _LETTER_AT.match(span)
    if m:
        raw = m.group(1)
        rest = span[m.end() :]
        letter = raw.upper()
        wrapped = m.group(0).lstrip()[:1] in "([\"'“‘"
        lower_ok = wrapped or re.match(r"\s*(?:[.):,;]|$)", rest) is not None
        is_letter = letter in options and (raw.isupper() or lower_ok)
        if re.match(r"\.\s*[a-z]", rest):
            is_letter = False  # "E. coli", "S. aureus": an abbreviation, not a letter
        if is_letter and raw.isupper() and not wrapped and _is_prose_capital(letter, rest):
            is_letter = False
        if is_letter:
            return _CONFLICT if _rest_conflicts(letter, rest, options) else letter
    if not text_ok:
        return None
    sentence = re.split(r"(?<=[.!?。;])\s|[;。]", span, maxsplit=1)[0]
    found = _text_matches(sentence, options)
    if len(found) == 1:
        return found.pop()
    return _CONFLICT if len(found) > 1 else None


def _from_phrases(text: str, options: dict[str, str]) -> str | None:
    """Stage 2: the last answer phrase that names an option decides."""
    hits: list[tuple[int, str]] = []
    for m in _CUES.finditer(text):
        got = _parse_span(text[m.end() :], options)
        if got is not None:
            hits.append((m.start(), got))
    for m in _CONCLUDE.finditer(text):
        got = _parse_span(text[m.end() :], options, text_ok=False)
        if got is not None and re.match(
            r"\s*(?:option\s+|choice\s+)?[(\[]?[A-Z][)\]]?\s*(?:[.!]|$)", text[m.end() :], re.I
        ):
            hits.append((m.start(), got))
    for m in _ASSERT_AFTER.finditer(text):
        letter = m.group(1).upper()
        raw_ok = m.group(1).isupper() or m.group(0).lstrip()[:1] == "("
        if letter in options and raw_ok:
            hits.append((m.start(), letter))
    if not hits:
        return None
    hits.sort(key=lambda h: h[0])
    return hits[-1][1]


def _from_letter_lines(text: str, options: dict[str, str]) -> str | None:
    """Stage 3: lines that consist of a letter, optionally with that option's text."""
    found: set[str] = set()
    for line in text.splitlines():
        line = line.strip().strip("-•").strip()
        alone = re.fullmatch(r"[(\[]?([a-z])[)\]]?[.:]?", line)
        if alone and alone.group(1).upper() in options:
            found.add(alone.group(1).upper())  # a lone lower-case letter: "b."
            continue
        m = _LETTER_LINE.match(line)
        if not m or m.group(1) not in options:
            continue
        letter = m.group(1)
        rest = m.group(2) or m.group(3) or m.group(4) or ""
        if m.group(4) is not None and _is_prose_capital(letter, " " + rest):
            continue
        if rest and not _text_matches(rest, options):
            if rest[0].islower() or len(rest.split()) > 12:
                continue  # "E. coli ..." or a prose list item, not an answer line
        found.add(_CONFLICT if _rest_conflicts(letter, rest, options) else letter)
    if len(found) == 1:
        return found.pop()
    return _CONFLICT if found else None


def _mask_option_texts(text: str, options: dict[str, str]) -> str:
    """Blank out occurrences of option texts, so the "A" of "chromogranin A" or "Hepatitis A"
    is not read as a letter."""
    for value in sorted(options.values(), key=len, reverse=True):
        words = re.findall(r"\w+", value)
        if not words:
            continue
        pattern = r"(?<!\w)" + r"\W+".join(re.escape(w) for w in words) + r"(?!\w)"
        text = re.sub(pattern, lambda m: re.sub(r"\S", "x", m.group(0)), text, flags=re.I)
    return text


def _from_tokens(text: str, options: dict[str, str]) -> set[str]:
    """Stage 5: standalone capital letters that are options and not prose or names."""
    found: set[str] = set()
    text = _mask_option_texts(text, options)
    for m in _TOKEN.finditer(text):
        letter = m.group(1)
        if letter not in options:
            continue
        after = text[m.end() :]
        if _is_prose_capital(letter, after) or re.match(r"\.\s*[a-z]", after):
            continue
        before = re.search(r"([A-Za-z]+)\W{0,2}$", text[: m.start()])
        if before and before.group(1).lower() in _NAME_WORDS:
            continue
        found.add(letter)
    return found


def extract_letter(text: str, options: dict[str, str]) -> str | None:
    """Return the single option letter the text asserts, or None (invalid)."""
    if not options or not text or not text.strip():
        return None
    for span in answer_spans(text):
        got = _parse_span(span, options)
        if got is None:
            got = _from_phrases(span, options)
        if got is not None:
            return None if got == _CONFLICT else got
    body = clean(text)
    if not body:
        return None
    whole = normalise_words(body)
    if len(whole) > 1:
        exact = [k for k, n in _option_norms(options).items() if n == whole]
        if len(exact) == 1:
            return exact[0]  # the answer is exactly one option's text ("A D-dimer level ...")
    for stage in (_from_phrases, _from_letter_lines):
        got = stage(body, options)
        if got is not None:
            return None if got == _CONFLICT else got
    if _REFUSAL.search(body):
        return None
    letters = _from_tokens(body, options)
    if letters:
        return letters.pop() if len(letters) == 1 else None
    found = _text_matches(body, options)
    return found.pop() if len(found) == 1 else None
