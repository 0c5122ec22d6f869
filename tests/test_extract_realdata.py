"""Extractors on real benchmark options and gold answers from ../shared/data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medgauge.extract import extract_label, extract_letter, extract_text
from medgauge.extract.options import same_option
from medgauge.metrics.text import normalise


def _medxpert(shared: Path, name: str) -> list[dict[str, str]]:
    items = []
    with open(shared / "medxpertqa" / name, encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if "options" in row:
                items.append({o["letter"]: o["content"] for o in row["options"]})
            else:  # text split: options inline after "Answer Choices:"
                tail = row["question"].split("Answer Choices:")[-1]
                parts = tail.split(" (")
                opts = {}
                for part in parts:
                    part = part.strip()
                    if len(part) > 3 and part[1] == ")" and part[0].isupper():
                        opts[part[0]] = part[3:].strip()
                items.append(opts)
    return items


@pytest.mark.parametrize("name", ["medxpertqa_sampled_mm_input.jsonl",
                                  "medxpertqa_sampled_text_input.jsonl"])
def test_letters_on_real_options(shared_data: Path, name: str) -> None:
    items = _medxpert(shared_data, name)
    assert len(items) > 150
    resolved = total = 0
    for options in items:
        letters = list(options)
        assert len(letters) >= 5
        for letter, content in options.items():
            assert extract_letter(f"The answer is {letter}.", options) == letter
            assert extract_letter(f"Answer: ({letter}) {content}", options) == letter
            assert extract_letter(f"{letter}. {content}", options) == letter
            if len(content.strip()) <= 1:
                continue  # an option whose text is a letter ("E") cannot be told apart
            by_text = extract_letter(content, options)
            # options with identical text ("Swan neck" / "Swan-neck") are one answer
            assert by_text is None or same_option(options, by_text, letter), (content, by_text)
            resolved += by_text is not None
            total += 1
        other = letters[1] if letters[0] != "A" else letters[2]
        assert extract_letter(f"The answer is {letters[0]} or {other}.", options) is None
    assert resolved / total > 0.9


_ZH_PAIRS = [("是的", "不是"), ("包含", "不包含"), ("有", "没有"), ("可以", "不可以"),
             ("正常", "不正常")]


def test_slake_closed_gold_answers_parse_to_themselves(shared_data: Path) -> None:
    rows = json.loads((shared_data / "slake_text_only" / "test.json").read_text("utf-8"))
    checked = 0
    for row in rows:
        if row["answer_type"] != "CLOSED":
            continue
        answer = row["answer"].strip()
        if row["q_lang"] == "en" and answer.lower() in ("yes", "no"):
            assert extract_label(answer, ("yes", "no")) == answer.lower()
            assert extract_label(f"{answer}.", ("yes", "no")) == answer.lower()
            checked += 1
        for pair in _ZH_PAIRS:
            if answer in pair:
                assert extract_label(answer, pair) == answer
                assert extract_label(f"{answer}。", pair) == answer
                checked += 1
    assert checked > 600


def test_vqa_rad_open_answers_survive_text_extraction(shared_data: Path) -> None:
    rows = json.loads((shared_data / "vqa_rad" / "testset.json").read_text("utf-8"))
    opens = [r["answer"] for r in rows if r["answer_type"] == "OPEN"]
    assert len(opens) > 150
    for answer in opens:
        text = str(answer)
        got = extract_text(f"Answer: {text}.")
        assert got is not None and normalise(got) == normalise(text)
