"""Loaders for layouts whose data is not in ../shared/data.

Each test writes a small fixture in exactly the published layout (file names, columns, cell
formats) into tmp_path: images are generated with Pillow, parquet/arrow files with pyarrow.
Layouts: PathVQA and VQA-RAD hub dumps, PMC-VQA test_2.csv, OmniMedVQA QA_information, MMMU
subject parquet, GMAI-MMBench TSV, MMLU CSVs, original MedQA and MedMCQA files.
"""

from __future__ import annotations

import base64
import csv
import io
import json
from pathlib import Path

import pytest

from medgauge.benchmarks import create_benchmark
from medgauge.prompts.templates import render, resolve
from medgauge.types import MedgaugeError

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")


def png(shade: int, path: Path | None = None) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (8, 8), color=shade).save(buf, format="PNG")
    data = buf.getvalue()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return data


IMAGE_TYPE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])


def hf_vqa_table(rows: list[tuple[bytes, str, str]]) -> object:
    return pa.table({
        "image": pa.array([{"bytes": b, "path": None} for b, _, _ in rows], type=IMAGE_TYPE),
        "question": [q for _, q, _ in rows],
        "answer": [a for _, _, a in rows],
    })


PATH_ROWS = [(png(10), "is this tissue necrotic?", "yes"),
             (png(10), "what is present?", "granuloma"),
             (png(200), "Is there fibrosis?", "No")]


def test_pathvqa_parquet(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    pq.write_table(hf_vqa_table(PATH_ROWS), tmp_path / "data" / "test-00000-of-00001.parquet")
    pq.write_table(hf_vqa_table(PATH_ROWS[:1]), tmp_path / "data" / "train-00000-of-00001.parquet")
    bench = create_benchmark("pathvqa", tmp_path)
    items = list(bench.samples())
    assert [s.id for s in items] == ["test-0", "test-1", "test-2"]
    assert [(s.answer, s.answer_type) for s in items] == [
        ("yes", "yesno"), ("granuloma", "open"), ("no", "yesno")]
    assert [s.metadata["answer_type_group"] for s in items] == ["closed", "open", "closed"]
    assert items[0].cluster == items[1].cluster != items[2].cluster  # same picture, same cluster
    assert items[0].images[0].read_bytes() == PATH_ROWS[0][0]
    assert sum(1 for _ in bench.reference_samples() or []) == 1


def test_vqa_rad_save_to_disk(tmp_path: Path) -> None:
    """``datasets.save_to_disk`` writes Arrow IPC stream files per split folder."""
    (tmp_path / "test").mkdir()
    table = hf_vqa_table(PATH_ROWS)
    with pa.OSFile(str(tmp_path / "test" / "data-00000-of-00001.arrow"), "wb") as sink:
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
    (tmp_path / "dataset_dict.json").write_text('{"splits": ["test"]}')
    bench = create_benchmark("vqa-rad", tmp_path)
    items = list(bench.samples())
    assert len(items) == 3 and items[2].answer == "no"
    assert bench.reference_samples() is None  # no train split saved
    assert items[0].images[0].b64 is not None


def test_pmc_vqa_test2(tmp_path: Path) -> None:
    png(30, tmp_path / "figures" / "PMC1_fig1.jpg")
    with open(tmp_path / "test_2.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["index", "Figure_path", "Caption", "Question", "Choice A", "Choice B",
                    "Choice C", "Choice D", "Answer", "split"])
        w.writerow([0, "PMC1_fig1.jpg", "A CT", "What modality is shown?", "A:CT",
                    " B:MRI", " C:Ultrasound ", " D:PET", "B", "test"])
    item = next(iter(create_benchmark("pmc-vqa", tmp_path).samples()))
    assert item.options == {"A": "CT", "B": "MRI", "C": "Ultrasound", "D": "PET"}
    assert item.answer == "B" and item.id == "0" and item.cluster == "PMC1_fig1.jpg"
    assert Path(item.images[0].path) == (tmp_path / "figures" / "PMC1_fig1.jpg").resolve()


def test_pmc_vqa_v1_layout(tmp_path: Path) -> None:
    png(30, tmp_path / "images" / "x.jpg")
    with open(tmp_path / "test.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["Figure_path", "Question", "Answer", "Choice A", "Choice B", "Choice C",
                    "Choice D", "Answer_label"])
        w.writerow(["x.jpg", "Which organ?", "Liver", "A:Liver", "B:Lung", "C:Heart",
                    "D:Brain", "A"])
    item = next(iter(create_benchmark("pmc-vqa", tmp_path).samples()))
    assert item.answer == "A" and item.options["A"] == "Liver"


def test_omnimedvqa(tmp_path: Path) -> None:
    png(50, tmp_path / "Images" / "ACRIMA" / "Im1.png")
    qa = tmp_path / "QA_information" / "Open-access"
    qa.mkdir(parents=True)
    records = [
        {"dataset": "ACRIMA", "question_id": "ACRIMA_0001", "question_type": "Disease Diagnosis",
         "question": "Is there glaucoma?", "gt_answer": "No, It's normal.",
         "image_path": "Images/ACRIMA/Im1.png", "option_A": "Glaucoma",
         "option_B": "No, It's normal.", "modality_type": "Fundus Photography"},
        {"dataset": "ACRIMA", "question_id": "ACRIMA_0002", "question_type": "Modality",
         "question": "What imaging?", "gt_answer": "Fundus photography",
         "image_path": "Images/ACRIMA/Im1.png", "option_A": "CT", "option_B": "MR",
         "option_C": "Fundus photography", "option_D": "X-ray",
         "modality": "Fundus Photography"},  # the field name one release file uses
    ]
    (qa / "ACRIMA.json").write_text(json.dumps(records))
    items = list(create_benchmark("omnimedvqa", tmp_path).samples())
    assert [s.answer for s in items] == ["B", "C"]
    assert list(items[0].options) == ["A", "B"]  # only the options present
    assert items[1].metadata["modality_type"] == "Fundus Photography"
    assert items[0].cluster == items[1].cluster == "Images/ACRIMA/Im1.png"
    records[0]["gt_answer"] = "Maybe"
    (qa / "ACRIMA.json").write_text(json.dumps(records))
    with pytest.raises(MedgaugeError, match=r"ACRIMA\.json\[0\]: gt_answer 'Maybe' matches 0"):
        list(create_benchmark("omnimedvqa", tmp_path).samples())


def mmmu_table(subject: str) -> object:
    image_cols = {f"image_{n}": pa.array([None, None], type=IMAGE_TYPE) for n in range(1, 8)}
    image_cols["image_1"] = pa.array([{"bytes": png(1), "path": "a.png"},
                                      {"bytes": png(2), "path": "b.png"}], type=IMAGE_TYPE)
    image_cols["image_2"] = pa.array([{"bytes": png(3), "path": "c.png"}, None],
                                     type=IMAGE_TYPE)
    return pa.table({
        "id": [f"validation_{subject}_1", f"validation_{subject}_2"],
        "question": ["Compare <image 1> with <image 2>. Which is abnormal?",
                     "What dose in mg is shown in <image 1>?"],
        "options": ["['<image 1>', '<image 2>', 'Neither']", "[]"],
        "explanation": ["", ""],
        **image_cols,
        "img_type": ["['CT']", "['Label']"],
        "answer": ["B", "25"],
        "topic_difficulty": ["Easy", "Hard"],
        "question_type": ["multiple-choice", "open"],
        "subfield": ["Radiology", "Pharmacology"],
    })


def test_mmmu_med_parquet(tmp_path: Path) -> None:
    for subject in ("Clinical_Medicine", "Pharmacy"):
        (tmp_path / subject).mkdir()
        pq.write_table(mmmu_table(subject),
                       tmp_path / subject / "validation-00000-of-00001.parquet")
    bench = create_benchmark("mmmu-med", tmp_path, subjects="Clinical_Medicine,Pharmacy")
    items = list(bench.samples())
    assert len(items) == 4
    mcq, open_ = items[0], items[1]
    assert mcq.options == {"A": "<image 1>", "B": "<image 2>", "C": "Neither"}
    assert mcq.answer == "B" and len(mcq.images) == 2
    assert open_.answer_type == "open" and open_.answer == "25" and len(open_.images) == 1
    assert mcq.metadata["subject"] == "Clinical_Medicine"
    assert bench.reference_samples() is None  # no dev-*.parquet here
    content = render(mcq, resolve(bench.prompt, mcq))[-1]["content"]
    kinds = [part["type"] for part in content]
    assert kinds[:4] == ["text", "image", "text", "image"]  # placed at <image n>
    with pytest.raises(MedgaugeError, match="subject folder not found"):
        list(create_benchmark("mmmu-med", tmp_path).samples())  # all five by default


def write_gmai(path: Path, rows: list[dict[str, str]]) -> None:
    cols = ["index", "question", "A", "B", "C", "D", "E", "answer", "image", "modality",
            "clinical vqa task", "department", "perceptual granularity", "split"]
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=cols, delimiter="\t")
        w.writeheader()
        for row in rows:
            w.writerow({c: row.get(c, "") for c in cols})


def test_gmai_mmbench_tsv(tmp_path: Path) -> None:
    big = base64.b64encode(png(7) + b"\0" * 200_000).decode()  # > csv's default field limit
    tree = {"modality": "CT", "clinical vqa task": "Disease Diagnosis",
            "department": "Oncology", "perceptual granularity": "Image Level"}
    write_gmai(tmp_path / "GMAI-MMBench_VAL.tsv", [
        {"index": "1", "question": "Which disease?", "A": "Tumour", "B": "Cyst", "C": "Normal",
         "answer": "A", "image": big, "split": "VAL", **tree},
        {"index": "2", "question": "Which organ?", "A": "Liver", "B": "Kidney",
         "answer": "B", "image": "1", "split": "VAL", **tree},  # image shared with row 1
        {"index": "3", "question": "Hidden", "A": "x", "B": "y", "answer": "",
         "image": big, "split": "TEST", **tree},
    ])
    bench = create_benchmark("gmai-mmbench", tmp_path)
    items = list(bench.samples())
    assert [s.id for s in items] == ["1", "2"]
    assert list(items[0].options) == ["A", "B", "C"] and items[1].answer == "B"
    assert items[1].images[0].b64 == big and items[0].images[0].path.endswith("VAL.tsv#1")
    assert items[0].metadata == tree
    text = render(items[0], resolve(bench.prompt, items[0]))[-1]["content"][-1]["text"]
    assert text.startswith("Question: Which disease?\nOptions:\nA. Tumour")
    with pytest.raises(MedgaugeError, match="TEST split's answers are not public"):
        list(create_benchmark("gmai-mmbench", tmp_path, split="TEST").samples())


def test_mmlu_med(tmp_path: Path) -> None:
    for split in ("test", "dev"):
        folder = tmp_path / "data" / split
        folder.mkdir(parents=True)
        for subject in ("anatomy", "medical_genetics"):
            with open(folder / f"{subject}_{split}.csv", "w", newline="") as fh:
                w = csv.writer(fh)  # no header, as released
                w.writerow([f"{subject} question, with a comma?", "a", "b", "c", "d", "C"])
                w.writerow([f"{subject} second?", "1", "2", "3", "4", "A"])
    bench = create_benchmark("mmlu-med", tmp_path, subjects="anatomy,medical_genetics")
    items = list(bench.samples())
    assert len(items) == 4 and items[0].answer == "C" and items[0].options["A"] == "a"
    assert items[0].question == "anatomy question, with a comma?"
    assert {s.metadata["subject"] for s in items} == {"anatomy", "medical_genetics"}
    assert sum(1 for _ in bench.reference_samples() or []) == 4
    with pytest.raises(MedgaugeError, match=r"clinical_knowledge_test\.csv"):
        list(create_benchmark("mmlu-med", tmp_path).samples())


def test_medqa_original_layout(tmp_path: Path) -> None:
    folder = tmp_path / "data_clean" / "questions" / "US" / "4_options"
    folder.mkdir(parents=True)
    row = {"question": "A 23-year-old ...?", "answer": "Nitrofurantoin",
           "options": {"A": "Ampicillin", "B": "Ceftriaxone", "C": "Doxycycline",
                       "D": "Nitrofurantoin"},
           "meta_info": "step2&3", "answer_idx": "D", "metamap_phrases": ["x"]}
    lines = "\n".join(json.dumps(r) for r in (row, {**row, "answer_idx": "B"}))
    (folder / "phrases_no_exclude_test.jsonl").write_text(lines + "\n")
    (folder / "phrases_no_exclude_train.jsonl").write_text(json.dumps(row) + "\n")
    bench = create_benchmark("medqa", tmp_path)
    items = list(bench.samples())
    assert [s.answer for s in items] == ["D", "B"]
    assert items[0].options["D"] == "Nitrofurantoin" and items[0].metadata["meta_info"] == "step2&3"
    assert sum(1 for _ in bench.reference_samples() or []) == 1


MEDMCQA_ROWS = [
    {"id": "q1", "question": "Q1?", "opa": "a", "opb": "b", "opc": "c", "opd": "d", "cop": 1,
     "choice_type": "single", "exp": "", "subject_name": "Anatomy", "topic_name": None},
    {"id": "q2", "question": "Q2?", "opa": "a", "opb": "b", "opc": "c", "opd": "d", "cop": 4,
     "choice_type": "single", "exp": "", "subject_name": "Pharmacology", "topic_name": "x"},
]


def test_medmcqa_ambiguous_cop_refused_and_duplicates_flagged(tmp_path: Path) -> None:
    rows = [{**MEDMCQA_ROWS[0], "cop": 2, "opb": "Petechial rash", "opd": "Petechial rash"},
            {**MEDMCQA_ROWS[1], "cop": 3}]
    (tmp_path / "dev.json").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    with pytest.raises(MedgaugeError, match=r"dev.json: cop holds neither 0 nor 4"):
        list(create_benchmark("medmcqa", tmp_path).samples())
    items = list(create_benchmark("medmcqa", tmp_path, cop_base=1).samples())
    assert [s.answer for s in items] == ["B", "C"]
    assert items[0].metadata["duplicate_options"] == "B=D"
    assert "duplicate_options" not in items[1].metadata


def test_medmcqa_original_json_is_one_based(tmp_path: Path) -> None:
    (tmp_path / "dev.json").write_text("\n".join(json.dumps(r) for r in MEDMCQA_ROWS) + "\n")
    items = list(create_benchmark("medmcqa", tmp_path).samples())
    assert [s.answer for s in items] == ["A", "D"]
    assert items[1].metadata["subject_name"] == "Pharmacology"


def test_medmcqa_hf_parquet_is_zero_based(tmp_path: Path) -> None:
    rows = [{**r, "cop": r["cop"] - 1} for r in MEDMCQA_ROWS]  # ClassLabel 0..3 on the hub
    (tmp_path / "data").mkdir()
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "data" / "validation-00000.parquet")
    assert [s.answer for s in create_benchmark("medmcqa", tmp_path).samples()] == ["A", "D"]
    # only 1..3 present: ambiguous (a small export came out shifted by one when this was
    # guessed), so the loader refuses with one line until cop_base says which
    pq.write_table(pa.Table.from_pylist([{**MEDMCQA_ROWS[0], "cop": 1}]),
                   tmp_path / "data" / "validation-00000.parquet")
    with pytest.raises(MedgaugeError, match=r"neither 0 nor 4.*cop_base"):
        next(iter(create_benchmark("medmcqa", tmp_path).samples()))
    assert next(iter(create_benchmark("medmcqa", tmp_path, cop_base="1").samples())).answer \
        == "A"
    assert next(iter(create_benchmark("medmcqa", tmp_path, cop_base=1).samples())).answer \
        == "A"  # YAML-parsed `--opt cop_base=1`
