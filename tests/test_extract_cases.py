"""The extraction table: realistic model answers and the parse each must give.

tests/data/extraction_cases.jsonl holds one case per line: ``kind`` (letter / label / number /
text), ``text`` (the model's answer), ``options`` or ``labels`` where relevant, ``expected``
(``null`` = invalid) and a short ``note``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medgauge.extract import extract_label, extract_letter, extract_number, extract_text

CASES = [
    json.loads(line)
    for line in (Path(__file__).parent / "data" / "extraction_cases.jsonl")
    .read_text(encoding="utf-8")
    .splitlines()
    if line.strip()
]


def _id(case: dict) -> str:
    return f"{case['kind']}:{case['text'][:40]!r}"


def test_table_is_large_and_mixed() -> None:
    kinds = {c["kind"] for c in CASES}
    assert len(CASES) >= 150 and kinds == {"letter", "label", "number", "text"}
    assert sum(c["expected"] is None for c in CASES) >= 30  # invalid is a real outcome


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_extraction_case(case: dict) -> None:
    kind, text, expected = case["kind"], case["text"], case["expected"]
    if kind == "letter":
        got = extract_letter(text, case["options"])
    elif kind == "label":
        got = extract_label(text, tuple(case["labels"]))
    elif kind == "number":
        got = extract_number(text)
    else:
        got = extract_text(text)
    assert got == expected, case["note"]
