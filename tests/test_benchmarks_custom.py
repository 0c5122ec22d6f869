"""The ``custom`` loader on small files written here (CSV, JSONL, parquet, canonical JSONL)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from medgauge.benchmarks import create_benchmark
from medgauge.types import MedgaugeError


def png(path: Path) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (4, 4), (255, 0, 0)).save(path)


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def test_csv_with_choice_columns_and_images(tmp_path: Path) -> None:
    png(tmp_path / "scans" / "a.png")
    path = write_csv(tmp_path / "mine.csv",
                     ["Prompt", "A", "B", "C", "Gold", "scan", "site", "patient"],
                     [["Which lobe?", "upper", "middle", "lower", "middle", "a.png", "X", "p1"],
                      ["Which side?", "left", "right", "", "A", "a.png", "Y", "p1"]])
    bench = create_benchmark("custom", path, question="Prompt", answer="Gold", choices="A,B,C",
                             image="scan", image_root="scans", group_by="site",
                             cluster="patient")
    items = list(bench.samples())
    assert [s.answer for s in items] == ["B", "A"]  # option text or letter both accepted
    assert items[1].options == {"A": "left", "B": "right"}  # empty choice cells dropped
    assert items[0].metadata == {"site": "X"} and bench.group_by == ("site",)
    assert items[0].cluster == "p1" and items[0].id == "mine-1"
    assert Path(items[0].images[0].path) == (tmp_path / "scans" / "a.png").resolve()


def test_inferred_answer_types_and_labels(tmp_path: Path) -> None:
    path = tmp_path / "qa.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in [
        {"qid": "1", "q": "Is it benign?", "a": "Yes"},
        {"qid": "2", "q": "Which organ?", "a": "liver"},
        {"qid": "3", "q": "Pick", "a": "b", "opts": ["x", "y"]},
    ]) + "\n")
    items = list(create_benchmark("custom", path, id="qid", question="q", answer="a",
                                  options="opts").samples())
    assert [(s.id, s.answer_type, s.answer) for s in items] == [
        ("1", "yesno", "yes"), ("2", "open", "liver"), ("3", "mcq", "B")]
    trio = tmp_path / "trio.csv"
    write_csv(trio, ["question", "answer"], [["Q?", "Maybe"]])
    item = next(iter(create_benchmark("custom", trio, labels="yes,no,maybe").samples()))
    assert item.answer_type == "yesno" and item.answer == "maybe"
    assert item.labels == ("yes", "no", "maybe")


def test_parquet_with_embedded_images(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    png(tmp_path / "x.png")
    raw = (tmp_path / "x.png").read_bytes()
    table = pa.table({"question": ["Abnormal?"], "answer": ["no"],
                      "image": [{"bytes": raw, "path": None}]})
    pq.write_table(table, tmp_path / "data.parquet")
    item = next(iter(create_benchmark("custom", tmp_path).samples()))  # the folder's one file
    assert item.answer_type == "yesno" and item.images[0].read_bytes() == raw


def test_no_mapping_reads_canonical_jsonl(tmp_path: Path) -> None:
    png(tmp_path / "img" / "1.png")
    (tmp_path / "bench.jsonl").write_text(json.dumps({
        "id": "c1", "question": "Q?", "answer": "A", "answer_type": "mcq",
        "options": {"A": "x", "B": "y"}, "images": ["img/1.png"], "cluster": "case1",
        "metadata": {"organ": "lung"}}) + "\n")
    item = next(iter(create_benchmark("custom", tmp_path / "bench.jsonl").samples()))
    assert item.id == "c1" and item.cluster == "case1" and item.metadata == {"organ": "lung"}
    assert item.images[0].path.endswith("img/1.png")


def test_unknown_column_lists_available(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "mine.csv", ["Prompt", "Gold"], [["Q?", "yes"]])
    with pytest.raises(MedgaugeError) as err:
        list(create_benchmark("custom", path, question="Prompt", answer="Answer").samples())
    msg = str(err.value)
    assert "'Answer'" in msg and str(path) in msg and "available: Prompt, Gold" in msg
    with pytest.raises(MedgaugeError, match=r"column 'D' .*choices"):
        list(create_benchmark("custom", path, question="Prompt", answer="Gold",
                              choices="D").samples())
    with pytest.raises(MedgaugeError, match="column 'question'"):
        list(create_benchmark("custom", path).samples())  # default column absent


def test_folder_with_several_files_needs_file_option(tmp_path: Path) -> None:
    write_csv(tmp_path / "a.csv", ["question", "answer"], [["Q?", "yes"]])
    write_csv(tmp_path / "b.csv", ["question", "answer"], [["Q?", "no"]])
    with pytest.raises(MedgaugeError, match=r"file=.*a\.csv, b\.csv"):
        list(create_benchmark("custom", tmp_path).samples())
    item = next(iter(create_benchmark("custom", tmp_path, file="b.csv").samples()))
    assert item.answer == "no"


def test_yesno_answer_outside_labels(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "m.csv", ["question", "answer"], [["Q?", "perhaps"]])
    with pytest.raises(MedgaugeError, match=r"m\.csv:2: answer 'perhaps' is not one of yes, no"):
        list(create_benchmark("custom", path, answer_type="yesno").samples())
