"""Corpora from real files: passage tables, the MIRIAD QA layout, chunked documents, bad lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medgauge.retrieval.cache import index_dir, is_complete, open_index
from medgauge.retrieval.corpus import (
    Corpus,
    Passage,
    chunk_document,
    load_corpus,
    word_windows,
)
from medgauge.types import MedgaugeError

ROWS = [
    {"id": "p1", "text": "Metformin is first-line therapy for type 2 diabetes.",
     "title": "Diabetes", "source": "guideline"},
    {"id": "p2", "text": "Lung nodules under 6 mm need no routine follow-up.",
     "source": "fleischner"},
    {"id": "p3", "text": "Stage IA lung cancer: tumour 3 cm or less, no nodes.", "title": "TNM"},
]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_jsonl_csv_and_parquet_passages_share_one_content_hash(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    jsonl = load_corpus(write_jsonl(tmp_path / "c.jsonl", ROWS))
    assert [p.id for p in jsonl] == ["p1", "p2", "p3"]
    assert jsonl.get("p1").title == "Diabetes"
    assert jsonl.get("p2").title is None
    assert jsonl.get("p2").metadata == {"source": "fleischner"}
    assert jsonl.get("p1").indexed_text() == "Diabetes\n" + ROWS[0]["text"]
    assert jsonl.get("p3").where == f"{tmp_path / 'c.jsonl'}:3"

    cols = {k: [r.get(k) for r in ROWS] for k in ("id", "text", "title", "source")}
    pq.write_table(pa.table(cols), tmp_path / "c.parquet")
    parquet = load_corpus(tmp_path / "c.parquet")
    # parquet fills missing cells with None: same passages except metadata nulls
    assert [p.text for p in parquet] == [p.text for p in jsonl]

    csv = tmp_path / "c.csv"
    csv.write_text("id,text,title\n" + "".join(
        f'{r["id"]},"{r["text"]}",{r.get("title", "")}\n' for r in ROWS), encoding="utf-8")
    a = load_corpus(csv)
    b = Corpus([Passage(r["id"], r["text"], r.get("title")) for r in ROWS])
    assert a.content_hash == b.content_hash
    changed = Corpus([Passage("p1", "Metformin is second-line."), *list(b)[1:]])
    assert changed.content_hash != b.content_hash


def test_miriad_qa_layout(tmp_path: Path) -> None:
    rows = [
        {"qa_id": "q1", "paper_id": "W1", "question": "What is first-line for T2DM?",
         "answer": "Metformin.", "passage_text": "Long passage ...", "paper_title": "ADA 2024",
         "year": 2024, "specialty": "Endocrinology"},
        {"question": "Which nodules need no follow-up?", "passage_text": "Nodules < 6 mm."},
    ]
    corpus = load_corpus(write_jsonl(tmp_path / "miriad.jsonl", rows))
    first, second = corpus.passages
    assert first.id == "q1"
    assert first.text == "Question: What is first-line for T2DM?\nAnswer: Metformin."
    assert first.title == "ADA 2024"
    assert first.metadata == {"paper_id": "W1", "year": 2024, "specialty": "Endocrinology"}
    assert second.id == "miriad:2"  # no id: file stem and line
    assert second.text == "Nodules < 6 mm."


def test_markdown_chunking_by_sections_paragraphs_and_windows(tmp_path: Path) -> None:
    long_par = " ".join(f"w{i}" for i in range(25))
    doc = tmp_path / "guide.md"
    doc.write_text(
        "Intro line one\nintro line two.\n\n"       # lines 1-2: one paragraph, 6 words
        "# Staging\n\n"                              # line 4: heading
        "T1 tumour.\n\nT2 tumour.\n\n"               # lines 6, 8: packed together
        f"{long_par}\n"                              # line 10: 25 words -> windows
        "## Nodes\n"                                 # line 11
        "N0 no nodes.\n", encoding="utf-8")
    passages = chunk_document(doc, chunk_words=10, overlap=3)
    got = [(p.id, p.title, p.metadata["line"], p.text) for p in passages]
    assert got == [
        ("guide.md#1", "guide", 1, "Intro line one intro line two."),
        ("guide.md#2", "Staging", 6, "T1 tumour. T2 tumour."),
        ("guide.md#3", "Staging", 10, " ".join(f"w{i}" for i in range(0, 10))),
        ("guide.md#4", "Staging", 10, " ".join(f"w{i}" for i in range(7, 17))),
        ("guide.md#5", "Staging", 10, " ".join(f"w{i}" for i in range(14, 24))),
        ("guide.md#6", "Staging", 10, " ".join(f"w{i}" for i in range(21, 25))),
        ("guide.md#7", "Nodes", 12, "N0 no nodes."),
    ]
    assert word_windows(list("abc"), 5, 1) == [list("abc")]
    with pytest.raises(MedgaugeError, match="overlap"):
        chunk_document(doc, chunk_words=10, overlap=10)


def test_folder_reads_every_file_in_order(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "a.jsonl", ROWS[:1])
    (tmp_path / "b.txt").write_text("Plain text paragraph.\n", encoding="utf-8")
    (tmp_path / ".hidden.jsonl").write_text("not json\n", encoding="utf-8")
    corpus = load_corpus(tmp_path)
    assert corpus.ids == ["p1", "b.txt#1"]


@pytest.mark.parametrize(("content", "expected"), [
    ('{"id": "a", "text": "ok"}\n{"id": "b", "text": "ok"\n', r"c\.jsonl:2: malformed JSON line"),
    ('{"id": "a", "text": "ok"}\n\n{"id": "b", "txt": "x"}\n', r"c\.jsonl:3: missing field 'text'"),
    ('{"id": "a", "text": "ok"}\n{"id": "b", "text": "  "}\n',
     r"c\.jsonl:2: field 'text' is empty"),
    ('{"id": "a", "text": "ok"}\n{"id": "a", "text": "again"}\n',
     r"c\.jsonl:2: passage id 'a' already used at .*c\.jsonl:1"),
    ('{"id": "a", "body": "ok"}\n', r"c\.jsonl:1: cannot tell the corpus layout"),
])
def test_bad_line_is_one_line_error_naming_file_and_line(tmp_path: Path, content: str,
                                                          expected: str) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(MedgaugeError, match=expected) as info:
        load_corpus(path)
    assert "\n" not in str(info.value)


def test_bad_line_loses_nothing_stored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDGAUGE_CACHE", str(tmp_path / "cache"))
    path = write_jsonl(tmp_path / "c.jsonl", ROWS)
    corpus = load_corpus(path)
    retriever = open_index(corpus, "bm25")
    folder = index_dir(corpus, retriever)
    manifest = (folder / "manifest.json").read_bytes()
    with open(path, "a", encoding="utf-8") as fh:
        fh.write('{"id": "p4", "text": "broken"\n')
    with pytest.raises(MedgaugeError, match=r"c\.jsonl:4: malformed JSON line"):
        load_corpus(path)
    assert (folder / "manifest.json").read_bytes() == manifest
    again = open_index(Corpus(corpus.passages), "bm25")
    assert again.search(["lung nodules follow-up"], 1)[0][0].id == "p2"
    assert is_complete(folder, json.loads(manifest))
