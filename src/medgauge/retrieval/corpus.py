"""Retrieval corpora read from local files: passage tables, question-answer tables (MIRIAD) and
plain-text / Markdown documents chunked into passages.

Layouts (chosen per file by ``layout``; ``auto`` looks at the first record's fields):

- ``passages``: JSONL, JSON, CSV/TSV or parquet rows with ``id`` and ``text`` and an optional
  ``title``; every other column is kept as metadata.  A row without ``id`` is named
  ``<file stem>:<line>``.
- ``qa``: question-answer pairs in the MIRIAD layout (Zheng et al. 2025, "MIRIAD: Augmenting LLMs
  with millions of medical query-response pairs"): ``question`` plus ``answer`` and/or
  ``passage_text``.  The passage is ``Question: ...\\nAnswer: ...`` when an answer is given (the
  unit MIRIAD retrieves), else the ``passage_text``; ``qa_id`` (or ``id``) is the id and
  ``paper_title`` (or ``title``) the title.
- ``text``: ``.txt`` and ``.md`` files are chunked by :func:`chunk_document`.

A folder is read file by file (sorted, recursively) with each file's layout.  Bad input stops with
one line naming the file and line (or row) -- a malformed JSON line, a missing or empty ``text``,
a duplicated id.  :attr:`Corpus.content_hash` names the passages' content, not the files, so an
index is reused exactly when the passages are the same.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medgauge.benchmarks.io import TABLE_SUFFIXES, clean_text, read_lines, read_table
from medgauge.types import MedgaugeError, Sample

TEXT_SUFFIXES = (".txt", ".md", ".markdown")
LAYOUTS = ("auto", "passages", "qa", "text")
DEFAULT_CHUNK_WORDS = 200
DEFAULT_OVERLAP_WORDS = 40


@dataclass(frozen=True, slots=True)
class Passage:
    """One retrievable unit.  ``where`` (``file:line``) says where it was read; it is not part
    of the content hash."""

    id: str
    text: str
    title: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    where: str = ""

    def indexed_text(self) -> str:
        """What retrievers index: the title, a newline, the text (the text alone untitled)."""
        return f"{self.title}\n{self.text}" if self.title else self.text


class Corpus:
    """An ordered list of passages with unique ids and a content hash."""

    def __init__(self, passages: Iterable[Passage], name: str = "corpus") -> None:
        self.name = name
        self.passages: list[Passage] = []
        self._index: dict[str, int] = {}
        for p in passages:
            if p.id in self._index:
                first = self.passages[self._index[p.id]].where or "an earlier passage"
                raise MedgaugeError(f"{p.where or name}: passage id {p.id!r} already used at "
                                    f"{first}")
            self._index[p.id] = len(self.passages)
            self.passages.append(p)
        if not self.passages:
            raise MedgaugeError(f"{name}: the corpus has no passages")
        self._hash: str | None = None

    def __len__(self) -> int:
        return len(self.passages)

    def __iter__(self) -> Iterator[Passage]:
        return iter(self.passages)

    def __contains__(self, pid: object) -> bool:
        return pid in self._index

    @property
    def ids(self) -> list[str]:
        return [p.id for p in self.passages]

    def get(self, pid: str) -> Passage:
        try:
            return self.passages[self._index[pid]]
        except KeyError:
            raise MedgaugeError(f"{self.name}: no passage with id {pid!r}") from None

    @property
    def content_hash(self) -> str:
        """blake2b (16 bytes, hex) of the passages in order: id, title, text, metadata."""
        if self._hash is None:
            h = hashlib.blake2b(digest_size=16)
            for p in self.passages:
                record = [p.id, p.title, p.text, p.metadata]
                h.update(json.dumps(record, sort_keys=True, ensure_ascii=False,
                                    default=str).encode("utf-8"))
                h.update(b"\n")
            self._hash = h.hexdigest()
        return self._hash


# ---- chunking ---------------------------------------------------------------------------------

_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")


def word_windows(words: Sequence[str], size: int, overlap: int) -> list[list[str]]:
    """Windows of ``size`` words, each starting ``size - overlap`` words after the previous one;
    the last window ends at the last word."""
    if size < 1 or not 0 <= overlap < size:
        raise MedgaugeError(f"chunking: need chunk_words >= 1 and 0 <= overlap < chunk_words, "
                            f"got {size} and {overlap}")
    if len(words) <= size:
        return [list(words)]
    step = size - overlap
    out = []
    start = 0
    while True:
        out.append(list(words[start:start + size]))
        if start + size >= len(words):
            return out
        start += step


def _paragraphs(path: Path, markdown: bool) -> Iterator[tuple[int, str | None, str]]:
    """(first line, section heading or None, paragraph text) in file order."""
    heading: str | None = None
    lines: list[str] = []
    start = 0
    last = 0
    for lineno, line in read_lines(path):
        m = _HEADING.match(line) if markdown else None
        if lines and (m or lineno != last + 1):  # a heading or a blank line ends a paragraph
            yield start, heading, " ".join(lines)
            lines = []
        last = lineno
        if m:
            heading = m.group(2) or heading
            continue
        if not lines:
            start = lineno
        lines.append(line.strip())
    if lines:
        yield start, heading, " ".join(lines)


def chunk_document(path: Path, *, chunk_words: int = DEFAULT_CHUNK_WORDS,
                   overlap: int = DEFAULT_OVERLAP_WORDS, doc_id: str | None = None
                   ) -> list[Passage]:
    """Split a plain-text or Markdown file into passages.

    Paragraphs are the runs of non-blank lines.  In Markdown, a heading (``#`` .. ``######``)
    also ends a paragraph and names the section: it becomes the title of the passages after it
    (the file's stem before the first heading).  Consecutive paragraphs of one section are
    packed into a passage while it stays within ``chunk_words`` words; a paragraph longer than
    that is cut into windows of ``chunk_words`` words overlapping by ``overlap`` words.  Words
    are whitespace-separated tokens.  Passage ids are ``<doc_id>#<n>`` (n from 1) with
    ``doc_id`` defaulting to the file name; metadata holds ``source`` and the first ``line``.
    """
    if chunk_words < 1 or not 0 <= overlap < chunk_words:
        raise MedgaugeError(f"chunking: need chunk_words >= 1 and 0 <= overlap < chunk_words, "
                            f"got {chunk_words} and {overlap}")
    markdown = path.suffix.lower() in (".md", ".markdown")
    base = doc_id or path.name
    out: list[Passage] = []
    buf: list[str] = []
    buf_start = 0
    buf_heading: str | None = None

    def emit(words: list[str], line: int, heading: str | None) -> None:
        n = len(out) + 1
        out.append(Passage(f"{base}#{n}", " ".join(words), heading or path.stem,
                           {"source": path.name, "line": line}, f"{path}:{line}"))

    for line, heading, text in _paragraphs(path, markdown):
        words = text.split()
        if buf and (heading != buf_heading or len(buf) + len(words) > chunk_words):
            emit(buf, buf_start, buf_heading)
            buf = []
        if len(words) > chunk_words:
            for window in word_windows(words, chunk_words, overlap):
                emit(window, line, heading)
            continue
        if not buf:
            buf_start, buf_heading = line, heading
        buf.extend(words)
    if buf:
        emit(buf, buf_start, buf_heading)
    return out


# ---- tables -----------------------------------------------------------------------------------

def _text_field(row: dict[str, Any], name: str, where: str) -> str:
    if name not in row:
        raise MedgaugeError(f"{where}: missing field {name!r} (found: {', '.join(row)})")
    value = row[name]
    if value is not None and not isinstance(value, (str, int, float)):
        raise MedgaugeError(f"{where}: field {name!r} must be text, not {type(value).__name__}")
    text = clean_text(value)
    if not text:
        raise MedgaugeError(f"{where}: field {name!r} is empty")
    return text


def detect_layout(row: dict[str, Any], where: str) -> str:
    if "text" in row:
        return "passages"
    if "question" in row and ("answer" in row or "passage_text" in row):
        return "qa"
    raise MedgaugeError(f"{where}: cannot tell the corpus layout: expected a 'text' field "
                        f"(passages) or 'question' with 'answer'/'passage_text' (qa); found "
                        f"{', '.join(row) or 'no fields'}")


def _row_passage(row: dict[str, Any], layout: str, where: str, stem: str) -> Passage:
    line = where.rsplit(":", 1)[-1] if ":" in where else where.rsplit("#", 1)[-1]
    if layout == "passages":
        pid = clean_text(row.get("id")) or f"{stem}:{line}"
        text = _text_field(row, "text", where)
        title = clean_text(row.get("title")) or None
        meta = {k: v for k, v in row.items() if k not in ("id", "text", "title")}
        return Passage(pid, text, title, meta, where)
    question = _text_field(row, "question", where)
    answer = clean_text(row.get("answer"))
    if answer:
        text = f"Question: {question}\nAnswer: {answer}"
    else:
        text = _text_field(row, "passage_text", where)
    pid = clean_text(row.get("qa_id")) or clean_text(row.get("id")) or f"{stem}:{line}"
    title = clean_text(row.get("paper_title")) or clean_text(row.get("title")) or None
    skip = {"qa_id", "id", "question", "answer", "paper_title", "title"}
    if answer:
        skip.add("passage_text")  # long, and not what is retrieved; the source paper names it
    meta = {k: v for k, v in row.items() if k not in skip}
    return Passage(pid, text, title, meta, where)


def read_passages(path: Path, layout: str = "auto", *,
                  chunk_words: int = DEFAULT_CHUNK_WORDS,
                  overlap: int = DEFAULT_OVERLAP_WORDS) -> Iterator[Passage]:
    """The passages of one file (see the module docstring for the layouts)."""
    if layout not in LAYOUTS:
        raise MedgaugeError(f"corpus layout {layout!r}: use one of {', '.join(LAYOUTS)}")
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES or layout == "text":
        if suffix not in TEXT_SUFFIXES:
            raise MedgaugeError(f"{path}: layout text reads {', '.join(TEXT_SUFFIXES)} files")
        yield from chunk_document(path, chunk_words=chunk_words, overlap=overlap)
        return
    if suffix not in TABLE_SUFFIXES:
        raise MedgaugeError(f"{path}: unsupported corpus file type {suffix or '(none)'} "
                            f"(use one of {', '.join(TABLE_SUFFIXES + TEXT_SUFFIXES)})")
    chosen = None if layout == "auto" else layout
    for where, row in read_table(path):
        if chosen is None:
            chosen = detect_layout(row, where)
        yield _row_passage(row, chosen, where, path.stem)


def corpus_files(root: Path) -> list[Path]:
    """``root`` itself, or every corpus file under the folder ``root`` (sorted, recursive;
    hidden files skipped)."""
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise MedgaugeError(f"corpus not found: {root}")
    found = sorted(
        p for p in root.rglob("*")
        if p.is_file() and p.suffix.lower() in TABLE_SUFFIXES + TEXT_SUFFIXES
        and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )
    if not found:
        raise MedgaugeError(f"{root}: no corpus files (expected "
                            f"{', '.join(TABLE_SUFFIXES + TEXT_SUFFIXES)})")
    return found


def load_corpus(paths: str | Path | Sequence[str | Path], layout: str = "auto", *,
                chunk_words: int = DEFAULT_CHUNK_WORDS,
                overlap: int = DEFAULT_OVERLAP_WORDS) -> Corpus:
    """Read one or more files or folders into a :class:`Corpus` (all passages in memory).

    ``chunk_words``/``overlap`` apply to ``.txt``/``.md`` documents (see
    :func:`chunk_document`).  Raises ``MedgaugeError`` naming the file and line of the first bad
    record."""
    items = [paths] if isinstance(paths, (str, Path)) else list(paths)
    if not items:
        raise MedgaugeError("no corpus file given")
    roots = [Path(p).expanduser() for p in items]

    def passages() -> Iterator[Passage]:
        for root in roots:
            for path in corpus_files(root):
                yield from read_passages(path, layout, chunk_words=chunk_words, overlap=overlap)

    return Corpus(passages(), name=", ".join(str(r) for r in roots))


def corpus_from_samples(samples: Iterable[Sample], name: str = "contexts") -> Corpus:
    """A corpus of the samples' own contexts (one passage per sample, id = sample id), e.g. the
    pool of all PubMedQA PQA-L abstracts, where each question's gold passage is its own.
    Samples without a context are skipped."""
    return Corpus((Passage(s.id, s.context, None, {}, f"{name}[{s.id}]")
                   for s in samples if s.context), name=name)
