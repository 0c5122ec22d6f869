"""Bad input gives one-line MedgaugeErrors that name the file and line or item."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medgauge.benchmarks import create_benchmark
from medgauge.benchmarks.io import parse_inline_choices, read_csv
from medgauge.types import MedgaugeError


def slake(tmp_path: Path, items: list[dict]) -> Path:
    (tmp_path / "test.json").write_text(json.dumps(items))
    return tmp_path


ITEM = {"img_id": 1, "img_name": "xmlab1/source.jpg", "question": "Is this a CT?",
        "answer": "Yes", "q_lang": "en", "location": "Lung", "modality": "CT",
        "answer_type": "CLOSED", "base_type": "vqa", "qid": 7, "content_type": "Modality"}


def test_missing_image_names_file_and_item(tmp_path: Path) -> None:
    (tmp_path / "imgs").mkdir()
    bench = create_benchmark("slake", slake(tmp_path, [ITEM]))
    with pytest.raises(MedgaugeError) as err:
        list(bench.samples())
    msg = str(err.value)
    assert "test.json[0]" in msg and "image not found" in msg and "xmlab1/source.jpg" in msg
    assert "\n" not in msg


def test_image_path_escaping_root_is_refused(tmp_path: Path) -> None:
    (tmp_path / "imgs").mkdir()
    (tmp_path / "secret.jpg").write_bytes(b"x")
    bad = {**ITEM, "img_name": "../secret.jpg"}
    for mode in ("check", "lazy"):
        bench = create_benchmark("slake", slake(tmp_path, [bad]), images=mode)
        with pytest.raises(MedgaugeError, match=r"test\.json\[0\]: .*escapes the dataset root"):
            list(bench.samples())


def test_custom_escaping_image_is_refused(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("question,answer,image\nQ?,yes,/etc/passwd\n")
    with pytest.raises(MedgaugeError, match=r"d\.csv:2: image.*escapes the dataset root"):
        list(create_benchmark("custom", tmp_path / "d.csv").samples())


def test_malformed_json_line(tmp_path: Path) -> None:
    good = json.dumps({"id": "MM-1", "question": "Q", "options": {"A": "x", "B": "y"},
                       "label": "A", "images": []})
    (tmp_path / "test.jsonl").write_text(good + "\n" + '{"id": "MM-2", "question": \n')
    bench = create_benchmark("medxpertqa-mm", tmp_path, images="skip")
    it = iter(bench.samples())
    assert next(it).id == "MM-1"  # lazy: the first line loads before the bad one is read
    with pytest.raises(MedgaugeError, match=r"test\.jsonl:2: malformed JSON line"):
        next(it)


def test_missing_field_names_line(tmp_path: Path) -> None:
    (tmp_path / "medqa_input.jsonl").write_text(json.dumps({"id": "x", "label": ["A"]}) + "\n")
    with pytest.raises(MedgaugeError, match=r"medqa_input\.jsonl:1: missing field 'question'"):
        list(create_benchmark("medqa", tmp_path).samples())


def test_answer_not_an_option(tmp_path: Path) -> None:
    row = {"id": "x", "question": "Q?\nAnswer Choices: (A) one (B) two", "label": ["E"]}
    (tmp_path / "medqa_input.jsonl").write_text(json.dumps(row) + "\n")
    with pytest.raises(MedgaugeError, match=r":1: answer 'E' is neither an option letter"):
        list(create_benchmark("medqa", tmp_path).samples())


def test_unknown_option_and_bad_choice(tmp_path: Path) -> None:
    root = slake(tmp_path, [ITEM])
    with pytest.raises(MedgaugeError, match=r"unknown option 'langauge'.*known: "):
        create_benchmark("slake", root, langauge="en")
    with pytest.raises(MedgaugeError, match="lang='fr': use one of en, zh, all"):
        list(create_benchmark("slake", root, lang="fr", images="skip").samples())
    with pytest.raises(MedgaugeError, match="images='maybe'"):
        list(create_benchmark("slake", root, images="maybe").samples())


def test_missing_data_folder_and_file(tmp_path: Path) -> None:
    with pytest.raises(MedgaugeError, match="data path not found"):
        create_benchmark("pubmedqa", tmp_path / "nope")
    with pytest.raises(MedgaugeError, match=r"no data file under .*ori_pqal\.json"):
        list(create_benchmark("pubmedqa", tmp_path).samples())


def test_csv_row_with_wrong_cell_count(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,2\n1,2,3\n")
    rows = read_csv(path)
    assert next(rows) == (2, {"a": "1", "b": "2"})
    with pytest.raises(MedgaugeError, match=r"t\.csv:3: expected 2 columns, found 3"):
        next(rows)


@pytest.mark.parametrize(("text", "stem", "options"), [
    ("Q?\nAnswer Choices: (A) x (B) y", "Q?", {"A": "x", "B": "y"}),
    ("Q?\nAnswer Choices: (A) Rh(D) positive. (B) none (C) (D) too",
     "Q?", {"A": "Rh(D) positive.", "B": "none", "C": "(D) too"}),
    ("Q? (A) inside stem\nAnswer Choices: (A) a (B) Both (A) & (B)", "Q? (A) inside stem",
     {"A": "a", "B": "Both (A) & (B)"}),
    ("No choices here", "No choices here", {}),
])
def test_parse_inline_choices(text: str, stem: str, options: dict[str, str]) -> None:
    assert parse_inline_choices(text) == (stem, options)
