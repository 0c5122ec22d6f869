"""Option-letter extraction: the one option a model's answer asserts, or ``None`` (invalid).

Precedence (the first stage that yields something decides; docs/scoring.md states each rule):

1. explicit answer containers: the last ``\\boxed{}``, then the last ``<answer>`` tag;
2. answer phrases, the *last* one in the text that names an option wins ("the answer is B",
   "Answer:\\nB", "The correct option is (B) Pneumonia", "B is the correct answer", "I would
   choose B", "the most likely diagnosis is <option text>", "Therefore, B.", "答案是B", "选B");
   a phrase inside a conditional ("if TSH were low, the answer would be A") counts only when
   no other phrase names an option;
3. the leading answer: the first line opens with a letter (``C.``, ``'C'.``, ``(C)``,
   ``Option C:``) that does not start a list of options; later mentions in the explanation
   ("argues against Graves disease (option A)") do not override it;
4. lines that hold only a letter, optionally with its option's text;
5. asserted option text: "most consistent with <text>", "<text> is the most likely ...";
6. refusals ("I cannot determine ...") give ``None`` here;
7. standalone letter tokens anywhere: exactly one distinct option letter, else ``None``;
8. option text: exactly one option's text occurs (options with identical text are one).

The conflict rule (``letter_with_text``) applies at every stage: a stated letter followed by a
different option's text ("B. <text of C>") or by a second letter joined by or/and/slash/comma
("A or C") is a conflict, and a conflict is invalid.  Letter ranges ("A through D", "A-D",
"A, B, C or D"), names ("hepatitis B", "vitamin D", "hemophilia A", "B cells"), negated
mentions ("not B", "no option D") and the article "A" / pronoun "I" are never letters.
"""

from __future__ import annotations

import re

from medgauge.extract.clean import answer_spans, clean
from medgauge.extract.options import (
    canonical_words,
    one_answer,
    option_canon,
    text_ends,
    text_matches,
    text_starts,
)

CONFLICT = "conflict"

# Words that, placed before a capital letter, make it part of a name ("hepatitis B").
_NAME_WORDS = frozenset(
    "hepatitis hep vitamin vitamins type types group class grade stage phase zone lead leads "
    "factor protein complex influenza hemophilia haemophilia cluster category level schedule "
    "panel figure fig image table appendix dr mr mrs ms plan site coenzyme toxin antigen "
    "streptococcus strep serotype subtype fraction blood immunoglobulin ig kerley hla hb "
    "chromogranin apolipoprotein apo cyclin interleukin il pattern segment band compartment "
    "wave lamina lane ward room bed patient case step part section question item point "
    "reaction aim tier vessel".split()
)
# Lower-case words that, after a capital letter, make it a name ("B cells", "D dimer").
_LETTER_NOUNS = frozenset(
    "cell cells lymphocyte lymphocytes wave waves line lines dimer peptide symptoms symptom "
    "antigen antigens virus fib flutter mode scan section chain chains receptor receptors "
    "allele alleles globulin toxin protein proteins fibers fibres ring rings loop loops "
    "band bands zone site sites deficiency deficient supplementation supplements levels "
    "level hepatitis serology vaccine vaccination carrier carriers surface core".split()
)
# After "A"/"I", these words keep the capital a letter ("A is correct", "A or C").
_LETTER_FOLLOWERS = frozenset(
    "or and is was would seems appears fits best because since as which vs versus "
    "remains matches describes with".split()
)
# The pronoun "I" is far more common than option I: only these keep it a letter.
_PRONOUN_I_FOLLOWERS = frozenset({"or", "and", "is"})

_QUALIFIER = (r"(?:final|correct|best|right|true|single\s+best|likeliest|"
              r"most\s+(?:likely|appropriate|accurate|correct|probable|common|consistent"
              r"|suitable|reasonable|plausible))")
_NOUN = (r"(?:answer|option|choice|response|diagnosis|cause|step|treatment|management"
         r"|explanation|mechanism|finding|test|investigation|drug|medication|agent|pathogen"
         r"|organism|etiology|aetiology|therapy|intervention|selection|statement|conclusion)")
_VERB = r"(?:is|would\s+be|should\s+be|will\s+be|must\s+be|here\s+is|remains|:|=|-|–)"
_CUES = re.compile(
    r"(?:"
    rf"\b{_QUALIFIER}\s+(?:[\w\-]+\s+){{0,4}}?{_NOUN}(?:\s+(?:here|then|therefore|thus))?"
    rf"\s*{_VERB}"
    r"|\banswers?(?:\s+(?:here|then|therefore|thus|choice|option))?\s*"
    r"(?:is|would\s+be|should\s+be|will\s+be|must\s+be|could\s+be|:|=)"
    r"|\b(?:i|we)\b\s*(?:would|will|'d|'ll|must|am\s+going\s+to|'m\s+going\s+to)?\s*"
    r"(?:choose|select|pick|go\s+(?:with|for)|opt\s+for)"
    r"|\blet's\s+go\s+with"
    r"|\b(?:my|the|our)\s+(?:choice|pick|selection)\s+(?:is|would\s+be)"
    r"|(?:正确|最终)?答案\s*(?:是|为|应为|应该是|应是|选)?\s*:?"
    r"|(?:应|故|因此|所以)?选(?!项)择?"
    r")",
    re.I,
)
# "Option B." on a line or sentence of its own (not "(option A)" inside an explanation).
_OPTION_CUE = re.compile(r"\b(?:answer|option|choice)\s+(?=\(?[A-Z]\)?\s*(?:[.!:)]|$))", re.I)
_CONCLUDE = re.compile(r"\b(?:therefore|thus|hence|so)\b\s*,?\s*", re.I)
_ASSERT_AFTER = re.compile(
    r"(?<![A-Za-z0-9])(?:option\s+|choice\s+)?\(?([A-Z])\)?\s+is\s+(?:the\s+)?"
    r"(?:correct|right|best|most\s+(?:likely|appropriate)|answer)\b",
    re.I,
)
_CONDITIONAL = re.compile(r"\b(?:if|unless|were|otherwise|had)\b", re.I)
_SKIP = re.compile(
    r"^(?:(?:most\s+likely|more\s+likely|likely|probably|clearly|definitely|therefore|thus"
    r"|then|indeed|actually|still|also|correct|indeed)\s*,?\s*)+",
    re.I,
)
_LETTER_AT = re.compile(r"[(\[\"'“‘]?\s*([A-Za-z])\s*[)\]\"'”’]?(?![A-Za-z0-9'’\-])")
_HEDGE = re.compile(
    r"^\s*[)\].:'\"”’]?\s*(?:,|/|&|(?i:\bor\b|\band\b|\bvs\.?)|或|和|与|、)\s*"
    r"(?i:option\s+|choice\s+)?[(\[]?([A-Z])(?![A-Za-z0-9])"
)
_LEAD_WORDS = re.compile(r"^(?:answer\s+choice|option|choice|letter|answer)\s*[:\-]?\s*", re.I)
_LETTER_LINE = re.compile(
    r"^(?:(?:final\s+)?(?:answer|option|choice)\s*[:\-]?\s*)?[(\[]?([A-Z])[)\]]?"
    r"(?:\s*[.:)]\s*(.*?)|\s+-\s+(.*?)|\s+(.*?))?\s*[.!]?$"
)
_LEADING = re.compile(
    r"^(?:(?:final\s+)?(?:answer|option|choice)\s*[:\-]?\s*)?"
    r"([(\[\"'“‘])?\s*([A-Za-z])\s*([)\]\"'”’])?\s*([.:)\-–—,])?(.*)$",
    re.I,
)
_LIST_ITEM = re.compile(r"^\s*(?:[-•*]\s*)?(?:option\s+)?[(\[]?([A-Z])(?:[).:]|\s+-)\s", re.I)
_TOKEN = re.compile(
    r"(?<![A-Za-z0-9'’\-/&.])([A-Z])(?![A-Za-z0-9'’\-&])(?!\.[A-Za-z])(?!\s*/\s*[A-Z]\b)")
_RANGE = re.compile(
    r"(?<![A-Za-z0-9])[(\[]?[A-Z][)\]]?\s*(?:through|thru|to|-|–|—|\.\.\.?)\s*[(\[]?[A-Z][)\]]?"
    r"(?![A-Za-z0-9])"
    r"|(?<![A-Za-z0-9])(?:[(\[]?[A-Z][)\]]?\s*,\s*){2,}(?:(?:or|and)\s+)?[(\[]?[A-Z][)\]]?"
    r"(?![A-Za-z0-9])"
)
_NEGATED = re.compile(
    r"(?:\bnot|\bno|n't|\brather\s+than|\binstead\s+of|\bexcept|\bexcluding|\bexcludes?"
    r"|\brules?\s+out|\bruled\s+out|\bunlike|\bagainst|\beliminates?|\beliminated|\bthan"
    r"|\bnor|\bneither)\s+(?:options?\s+|choices?\s+|answers?\s+)?[(\[]?\s*$",
    re.I,
)
_WEAK = re.compile(
    r"\b(?:(?:most|more|best|highly|strongly)\s+)?(?:consistent\s+with|suggestive\s+of|suggests"
    r"|indicative\s+of|indicates?|diagnostic\s+of|characteristic\s+of|points?\s+(?:to|towards?)"
    r"|in\s+favou?r\s+of|favou?rs?|confirms?|explained\s+by|likely|diagnosis\s+(?:is|of)"
    r"|represents|compatible\s+with|typical\s+of)[ \t]+",
    re.I,
)
_WEAK_AFTER = re.compile(
    r"\s(?:is|are|seems|appears|remains)\s+(?:the\s+|a\s+)?(?:most\s+likely|likeliest|correct"
    r"|best|right|most\s+consistent|most\s+appropriate|most\s+probable)\b",
    re.I,
)
_MARKED = re.compile(r"[-–—:(]\s*(?:most\s+likely|correct(?:\s+answer)?|best\s+answer|the\s+answer)"
                     r"\s*\)?\s*[.!]?\s*$", re.I)
_WEAK_NEG = re.compile(r"\b(?:not|n't|less|least|never|rather|against|would|if|unless|could)\W*"
                       r"(?:\w+\W+){0,2}$", re.I)
_REFUSAL = re.compile(
    r"\bi\s*(?:cannot|can't|can\s+not|am\s+unable\s+to|'m\s+unable\s+to|am\s+not\s+able\s+to"
    r"|'m\s+not\s+able\s+to|do\s+not\s+have|don't\s+have)\s+(?:determine|answer|tell|provide|see"
    r"|view|access|analy[sz]e|interpret|assess|make|reliably|the\s+image|enough|access|help)"
    r"|\b(?:cannot|can't|impossible\s+to|not\s+possible\s+to)\s+(?:be\s+)?(?:determined?|answered?)"
    r"|\bunable\s+to\s+(?:determine|answer|view|see)"
    r"|\bno\s+image\s+(?:was\s+|is\s+|has\s+been\s+)?(?:provided|attached|uploaded|shared|included)"
    r"|\binsufficient\s+information|^\s*(?:n/?a|none|null|unknown|not\s+applicable)\W*$"
    r"|无法(?:确定|判断|回答|查看|看到)|不能确定",
    re.I,
)


def letter_with_text(letter: str, rest: str, options: dict[str, str]) -> str:
    """The conflict rule, the one place it is decided: a stated ``letter`` followed by words
    ``rest`` is ``CONFLICT`` when those words start with a different option's text (not an
    option identical to the letter's own) or join a second letter with or/and/slash/comma
    ("A or C", "B/D"); otherwise the letter.  Text that names no option (a paraphrase, an
    explanation) leaves the letter standing."""
    hedge = _HEDGE.match(rest)
    if hedge and hedge.group(1).upper() in options and hedge.group(1).upper() != letter:
        other = hedge.group(1).upper()
        if one_answer({letter, other}, options) is None:
            return CONFLICT
    starts = text_starts(rest, options)
    if starts and letter not in starts and one_answer(starts | {letter}, options) is None:
        if _new_sentence_subject(rest, options[sorted(starts)[0]]):
            return letter  # "C. Graves disease (option A) is excluded by ...": an explanation
        return CONFLICT
    return letter


def _new_sentence_subject(rest: str, value: str) -> bool:
    """The other option's text opens a new sentence as its subject ("C. Graves disease is
    excluded ..."), rather than labelling the letter ("C. Graves disease")."""
    if not re.match(r"\s*\.\s+", rest):
        return False
    words = re.findall(r"\w+", value)
    m = re.match(r"\s*\.\s+" + r"\W+".join(re.escape(w) for w in words) + r"(?!\w)", rest, re.I)
    if not words or not m:
        return False
    after = re.sub(r"^\s*[(\[][^)\]]*[)\]]", "", rest[m.end() :])
    if re.match(r"\s+(?:is|would\s+be)\s+(?:the|correct|right|best|answer|most|likely|true|our"
                r"|my)\b", after, re.I):
        return False
    return re.match(r"\s+(?:is|are|was|were|would|can|could|may|might|should|will|has|have|does"
                    r"|do|causes?|shows?|presents?|typically|usually|often|also|requires?|needs?"
                    r"|remains?|tends?|lacks?)\b", after, re.I) is not None


def _name_before(text: str, pos: int) -> bool:
    before = re.search(r"([A-Za-z]+)\W{0,2}$", text[:pos])
    return bool(before and before.group(1).lower() in _NAME_WORDS)


def _noun_after(after: str) -> bool:
    m = re.match(r"[\s\-]+([a-z]+)", after)
    return bool(m and m.group(1) in _LETTER_NOUNS)


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


def _first_line(span: str) -> str:
    """The words right after an answer phrase: the rest of its line, or the next non-empty
    line when the phrase ends its line ("The correct answer is:\\nB")."""
    lines = span.split("\n")
    if lines[0].strip(" \t:=-*\"'“‘") == "":
        for line in lines[1:4]:
            if line.strip():
                return line
        return ""
    return lines[0]


def _parse_span(span: str, options: dict[str, str], *, text_ok: bool = True) -> str | None:
    """A letter (or option text) at the start of the words that follow an answer phrase."""
    span = _first_line(span)[:300].strip()
    span = re.sub(r"^[\s:=\-\"'“‘,]+", "", span)
    span = _SKIP.sub("", span)
    span = _LEAD_WORDS.sub("", span)
    span = _SKIP.sub("", span)
    if re.match(r"(?:not|neither|none|no\s+(?:option|answer|choice))\b", span, re.I):
        starts = text_starts(span, options)
        return one_answer(starts, options) if starts else None  # "None of the above" option
    m = _LETTER_AT.match(span)
    if m:
        raw = m.group(1)
        rest = span[m.end() :]
        letter = raw.upper()
        wrapped = m.group(0).lstrip()[:1] in "([\"'“‘"
        lower_ok = wrapped or re.match(r"\s*(?:[.):,;]|$)", rest) is not None
        is_letter = letter in options and (raw.isupper() or lower_ok)
        if re.match(r"\.\s*[a-z]", rest) and not text_starts(rest, options):
            is_letter = False  # "E. coli", "S. aureus": an abbreviation, not a letter
        if is_letter and not wrapped and (_noun_after(rest) or (
                raw.isupper() and _is_prose_capital(letter, rest))):
            is_letter = False
        if is_letter:
            return letter_with_text(letter, rest, options)
    if not text_ok:
        return None
    sentence = re.split(r"(?<=[.!?。;])\s|[;。,:]\s|\s(?:but|while|whereas|although|rather\s+than"
                        r"|over|instead\s+of|and\s+not|not|vs\.?|versus|as\s+opposed\s+to|unlike)\s",
                        span, maxsplit=1, flags=re.I)[0]
    found = text_matches(sentence, options)
    if not found:
        return None
    return one_answer(found, options) or CONFLICT


def _conditional(text: str, start: int, end: int) -> bool:
    """The phrase sits in a conditional sentence ("If TSH were low, the answer would be A")."""
    sent_start = max(text.rfind(c, 0, start) for c in ".!?\n")
    tail = re.split(r"[.!?\n]", text[end : end + 60], maxsplit=1)[0]
    return bool(_CONDITIONAL.search(text[sent_start + 1 : start])
                or re.search(r"\b(?:if|unless)\b", tail, re.I))


def _from_phrases(text: str, options: dict[str, str], conditional: bool = False) -> str | None:
    """Stage 2: the last answer phrase that names an option decides.  Phrases inside a
    conditional sentence are used only with ``conditional=True`` (a later, last-resort
    stage)."""
    hits: list[tuple[bool, int, str]] = []

    def add(start: int, end: int, got: str | None) -> None:
        if got is not None:
            hits.append((not _conditional(text, start, end), start, got))

    for m in _CUES.finditer(text):
        add(m.start(), m.end(), _parse_span(text[m.end() :], options))
    for m in _OPTION_CUE.finditer(text):
        if re.search(r"(?:^|[.!?:\n]|\b(?:is|be|choose|select|pick|with))\s*$",
                     text[: m.start()], re.I):
            add(m.start(), m.end(), _parse_span(text[m.end() :], options, text_ok=False))
    for m in _CONCLUDE.finditer(text):
        got = _parse_span(text[m.end() :], options, text_ok=False)
        if got is not None and re.match(
            r"\s*(?:option\s+|choice\s+)?[(\[]?[A-Z][)\]]?\s*(?:[.!]|$)", text[m.end() :], re.I
        ):
            add(m.start(), m.end(), got)
    for m in _ASSERT_AFTER.finditer(text):
        letter = m.group(1).upper()
        raw_ok = m.group(1).isupper() or m.group(0).lstrip()[:1] == "("
        if letter in options and raw_ok and not _name_before(text, m.start(1)) \
                and not _NEGATED.search(text[: m.start()]):
            add(m.start(), m.end(), letter)
    hits = [h for h in hits if h[0] != conditional]
    if not hits:
        return None
    return max(hits)[2]  # the last


def _from_conditional(text: str, options: dict[str, str]) -> str | None:
    """Stage 5b: an answer phrase inside a conditional ("If I had to choose, I would pick B")
    when nothing else was stated."""
    return _from_phrases(text, options, conditional=True)


def _list_letters(lines: list[str], options: dict[str, str]) -> list[str]:
    out = []
    for line in lines:
        m = _LIST_ITEM.match(line)
        if m and m.group(1).upper() in options and m.group(1).isupper():
            out.append(m.group(1).upper())
    return out


def _echoes_options(line: str, options: dict[str, str]) -> bool:
    """The line repeats two or more options with their letters ("(A) x (B) y ...")."""
    count = 0
    for key, value in options.items():
        words = re.findall(r"\w+", value)
        if words and re.search(rf"(?<![A-Za-z0-9])[(\[]?{key}[)\].:]\s*"
                               + r"\W*".join(re.escape(w) for w in words), line, re.I):
            count += 1
    return count >= 2


def _from_leading(text: str, options: dict[str, str]) -> str | None:
    """Stage 3: the answer opens with a letter ("C. Hypothyroidism. ...", "'C'. Because ...").

    Not when the first line starts a list of options: the next line is a list item, or a later
    line-initial letter continues the alphabet after it ("A. ... / B. ... / C. ...")."""
    raw_lines = [ln.strip() for ln in text.splitlines()]
    while raw_lines and not raw_lines[0]:
        raw_lines.pop(0)
    if not raw_lines:
        return None
    first = raw_lines[0].lstrip("-•> ").strip()
    m = _LEADING.match(first)
    if not m or _echoes_options(first, options):
        return None
    opener, raw, closer, punct, rest = m.groups()
    letter = raw.upper()
    if letter not in options:
        return None
    rest = rest or ""
    wrapped = bool(opener and closer) or bool(closer and closer in ")]")
    if raw.islower() and not (wrapped or punct in (".", ")")):
        return None
    if not wrapped and not punct and rest.strip():
        return None
    if punct == "." and re.match(r"\s*[a-z]", rest) and not text_starts(rest, options):
        return None  # "E. coli grows ..."
    if raw.islower() and rest.strip() and not text_starts(rest, options):
        return None
    if punct == "," and not wrapped:
        return None  # "A, the ..." is prose
    if len(raw_lines) > 1 and _list_letters(raw_lines[1:2], options):
        return None  # the next line is another lettered item
    later = _list_letters(raw_lines[1:], options)
    if later and later[0] > letter:
        return None  # the first item of an option-by-option list
    return letter_with_text(letter, rest if punct in (None, ",") else punct + rest, options)


def _from_letter_lines(text: str, options: dict[str, str]) -> str | None:
    """Stage 4: lines that consist of a letter, optionally with that option's text."""
    found: set[str] = set()
    for line in text.splitlines():
        line = line.strip().strip("-•").strip()
        alone = re.fullmatch(r"[(\[\"']?([a-z])[)\]\"']?[.:]?", line)
        if alone and alone.group(1).upper() in options:
            found.add(alone.group(1).upper())  # a lone lower-case letter: "b."
            continue
        m = _LETTER_LINE.match(line)
        if not m or m.group(1) not in options or _echoes_options(line, options):
            continue
        letter = m.group(1)
        rest = m.group(2) or m.group(3) or m.group(4) or ""
        if m.group(4) is not None and (_is_prose_capital(letter, " " + rest)
                                       or _noun_after(" " + rest)):
            continue
        if rest and not text_matches(rest, options):
            if rest[0].islower() or len(rest.split()) > 12:
                continue  # "E. coli ..." or a prose list item, not an answer line
        found.add(letter_with_text(letter, rest, options))
    if CONFLICT in found:
        return CONFLICT
    if not found:
        return None
    # several different letter lines are a list, not an answer: later stages may still find
    # the one marked ("B) ... - most likely"), else the letters stay ambiguous (invalid)
    return one_answer(found, options)


def _from_asserted_text(text: str, options: dict[str, str]) -> str | None:
    """Stage 5: option text asserted by a weaker phrase ("most consistent with iron
    deficiency", "Iron deficiency is the most likely ...").  Negated or conditional uses
    ("not consistent with", "would show") do not count; the hits must agree."""
    got: set[str] = set()
    for m in _WEAK.finditer(text):
        sent_start = max(text.rfind(c, 0, m.start()) for c in ".!?;\n")
        if _WEAK_NEG.search(text[sent_start + 1 : m.start()]):
            continue
        hit = _parse_span(text[m.end() :], options)
        if hit is not None:
            got.add(hit)
    for m in _WEAK_AFTER.finditer(text):
        sent_start = max(text.rfind(c, 0, m.start()) for c in ".!?;:\n")
        before = text[sent_start + 1 : m.start()]
        paren = re.search(r"[(\[]([A-Z])[)\]]\s*$", before)
        if paren and paren.group(1) in options:
            got.add(letter_with_text(paren.group(1), "", options))
            continue
        if re.search(r"\b(?:not|if|would|whether)\b", before, re.I):
            continue
        ends = text_ends(before, options)
        if ends:
            got.add(one_answer(ends, options) or CONFLICT)
    for line in text.splitlines():  # "B) Acute cholecystitis - most likely" in a list
        item = _LIST_ITEM.match(line)
        if item and item.group(1) in options and _MARKED.search(line):
            got.add(item.group(1))
    if not got:
        return None
    if CONFLICT in got:
        return CONFLICT
    return one_answer(got, options) or CONFLICT


def _mask(text: str, pattern: re.Pattern[str]) -> str:
    return pattern.sub(lambda m: " " * len(m.group(0)), text)


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
    """Stage 7: standalone capital letters that are options and not prose, names, ranges or
    negated mentions."""
    found: set[str] = set()
    original = text
    text = _mask_option_texts(text, options)
    for m in _TOKEN.finditer(text):
        letter = m.group(1)
        if letter not in options:
            continue
        after = text[m.end() :]
        if _is_prose_capital(letter, after) or re.match(r"\.\s*[a-z]", after):
            continue
        if _name_before(text, m.start()) or _noun_after(after):
            continue
        if _NEGATED.search(text[max(0, m.start() - 40) : m.start()]):
            continue
        if text[m.start() - 1 : m.start()] in "([" and m.start() > 0:
            named = text_ends(original[max(0, m.start() - 120) : m.start() - 1], options)
            if named and letter not in named and one_answer(named | {letter}, options) is None:
                found.add(CONFLICT)  # "Colchicine (C)" when colchicine is B
                continue
        found.add(letter)
    return found


def read_letter(text: str, options: dict[str, str]) -> str | None:
    """The letter the text asserts, ``CONFLICT`` when the deciding stage found two different
    answers, or ``None`` when nothing was found (see the module rule)."""
    if not options or not text or not text.strip():
        return None
    for span in answer_spans(text):
        span = _mask(span, _RANGE)
        got = _parse_span(span, options)
        if got is None:
            got = _from_phrases(span, options) or _from_conditional(span, options)
        if got is not None:
            return got
    body = clean(text)
    if not body:
        return None
    whole = canonical_words(body)
    labelled = re.match(r"[(\[\"'“‘]?[A-Za-z][)\]\"'”’]?(?:[.:)]|\s-|$)", body.strip())
    if len(whole) > 1 and not labelled:
        exact = [k for k, n in option_canon(options).items() if n == whole]
        if exact:
            return one_answer(exact, options) or CONFLICT  # "A D-dimer level ..." is option text
    body = _mask(body, _RANGE)
    for stage in (_from_phrases, _from_leading, _from_letter_lines, _from_asserted_text,
                  _from_conditional):
        got = stage(body, options)
        if got is not None:
            return got
    if _REFUSAL.search(body):
        return None
    letters = _from_tokens(body, options)
    if CONFLICT in letters:
        return CONFLICT
    if letters:
        return one_answer(letters, options)
    found = text_matches(body, options)
    return one_answer(found, options) if found else None


def extract_letter(text: str, options: dict[str, str]) -> str | None:
    """Return the single option letter the text asserts, or None (invalid; a conflict is
    invalid too).  ``options`` maps letters to option texts."""
    bare = text.strip().rstrip(".").strip("()")
    if bare in options and len(bare) == 1 and bare.isupper():
        return bare  # the whole reply is one option letter ("B", "B.", "(B)"): the common case
    got = read_letter(text, options)
    return None if got == CONFLICT else got
