"""Report-generation benchmarks end to end: the IU X-ray loaders on the real OpenI/R2Gen files
(../shared/data, text only), the MIMIC-CXR R2Gen fixture (tests/data, written by us; stand-in
images generated where a check needs image files), the phantom report task, the per-report
scoring rule and `medgauge score` with a predictions file of generated reports."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from medgauge.benchmarks import create_benchmark
from medgauge.labelers.chexpert_rules import OBSERVATIONS, label_reports
from medgauge.metrics.clinical import binarise, ce_scores
from medgauge.scoring import get_scorer
from medgauge.store import Store
from medgauge.types import MedgaugeError
from test_cli import one_line_error

MIMIC = Path(__file__).parent / "data" / "mimic_cxr_r2gen"
SRC = Path(__file__).resolve().parents[1] / "src"


def medgauge(*args: str) -> subprocess.CompletedProcess[str]:
    """The CLI of this checkout (its sources first on the path, as an installed copy would be)."""
    env = {**os.environ, "PYTHONPATH": str(SRC), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "medgauge.cli", *args], capture_output=True,
                          text=True, timeout=300, env=env)
pytest.importorskip("pycocoevalcap", reason="needs the report extra (pycocoevalcap)")


@pytest.fixture
def iu(shared_data: Path) -> Path:
    return shared_data / "iu_xray_reports_text_only"


def test_iu_xray_r2gen_layout_reads_the_590_test_studies(iu):
    samples = list(create_benchmark("iu-xray", iu).samples())
    assert len(samples) == 590  # the test key is blank in this copy: matched by 'split'
    first = samples[0]
    assert first.id == "CXR3030_IM-1405" and first.answer_type == "report"
    assert first.answer.startswith("Normal cardiomediastinal silhouette.")
    assert first.images == ()  # no image folder: images=auto loads the text only
    assert first.metadata["cleaning"] == "iu_xray" and first.metadata["n_images"] == 2
    assert len(list(create_benchmark("iu-xray", iu, split="train").samples())) == 2069
    with pytest.raises(MedgaugeError, match="no image folder"):
        list(create_benchmark("iu-xray", iu, images="check").samples())


def test_iu_xray_openi_layout_sections_and_views(iu, tmp_path):
    findings = list(create_benchmark("iu-xray", iu, layout="openi").samples())
    both = list(create_benchmark("iu-xray", iu, layout="openi", section="both").samples())
    impression = list(create_benchmark("iu-xray", iu, layout="openi",
                                       section="impression").samples())
    assert 3000 < len(findings) < len(both) <= 3851
    assert len(impression) > len(findings)
    s = next(x for x in both if x.id == "openi-1")
    assert s.answer.endswith("Normal chest x-XXXX.") and "no pulmonary edema" in s.answer
    assert s.metadata["problems"] == "normal"
    # with an image folder holding stand-ins for study 1's two PNGs, views filter them
    data = tmp_path / "iu"
    data.mkdir()
    for name in ("indiana_reports.csv", "indiana_projections.csv"):
        shutil.copy(iu / name, data / name)
    (data / "images").mkdir()
    for name in ("1_IM-0001-4001.dcm.png", "1_IM-0001-3001.dcm.png"):
        Image.new("L", (8, 8)).save(data / "images" / name)
    frontal = create_benchmark("iu-xray", data, section="both", views="frontal",
                               images="lazy").samples()
    s1 = next(frontal)
    assert s1.id == "openi-1" and [i.role for i in s1.images] == ["frontal"]
    with pytest.raises(MedgaugeError, match="image not found"):
        list(create_benchmark("iu-xray", data, section="both").samples())


def test_mimic_cxr_fixture_clusters_by_patient_and_checks_images(tmp_path):
    samples = list(create_benchmark("mimic-cxr", MIMIC).samples())
    assert [s.id for s in samples] == ["dicom003", "dicom004", "dicom005", "dicom006"]
    assert samples[0].cluster == samples[1].cluster == "10000003"
    assert samples[0].metadata["cleaning"] == "mimic_cxr"
    data = tmp_path / "mimic"
    data.mkdir()
    shutil.copy(MIMIC / "annotation.json", data / "annotation.json")
    ann = json.loads((MIMIC / "annotation.json").read_text())
    for entry in ann["test"]:
        for rel in entry["image_path"]:
            (data / "files" / rel).parent.mkdir(parents=True, exist_ok=True)
            Image.new("L", (8, 8)).save(data / "files" / rel)
    with_images = list(create_benchmark("mimic-cxr", data).samples())
    assert [len(s.images) for s in with_images] == [2, 1, 1, 1]
    (data / "files" / ann["test"][2]["image_path"][0]).unlink()
    with pytest.raises(MedgaugeError, match=r"test\[2\]: image not found"):
        list(create_benchmark("mimic-cxr", data).samples())


def test_malformed_annotation_is_a_one_line_error(tmp_path):
    (tmp_path / "annotation.json").write_text(json.dumps({"test": [{"id": "a", "report": ""}]}))
    with pytest.raises(MedgaugeError, match=r"annotation.json: test\[0\]: field 'report'"):
        list(create_benchmark("mimic-cxr", tmp_path).samples())
    with pytest.raises(MedgaugeError, match="no split 'val'"):
        list(create_benchmark("mimic-cxr", tmp_path, split="val").samples())


def test_report_scoring_rule(iu):
    sample = next(iter(create_benchmark("iu-xray", iu).samples()))
    score = get_scorer("default")
    same = score(sample, sample.answer)
    assert same.correct and same.metrics["rouge_l"] == pytest.approx(1.0)
    assert same.metrics["ce_f1"] == 1.0
    other = score(sample, "Large right pleural effusion. Cardiomegaly.")
    assert not other.correct and other.metrics["ce_f1"] < 1 and other.metrics["rouge_l"] < 0.5
    empty = score(sample, "  ...  ")
    assert empty.extracted is None and not empty.correct


def test_score_command_with_generated_reports(iu, tmp_path):
    samples = list(create_benchmark("iu-xray", iu).samples())
    # a "model" that copies the next study's report; the reference itself for every 5th study
    preds = [{"id": s.id, "report": s.answer if i % 5 == 0 else samples[(i + 1) % 590].answer}
             for i, s in enumerate(samples)]
    pred_file = tmp_path / "gen.jsonl"
    pred_file.write_text("".join(json.dumps(p) + "\n" for p in preds))
    store = tmp_path / "score.db"
    res = medgauge("score", "-b", f"iu-xray={iu}", "--predictions", str(pred_file),
                   "--store", str(store))
    assert res.returncode == 0, res.stderr
    assert "iu-xray" in res.stdout and "590" in res.stdout
    db = Store(store)
    rows = list(db.items(db.runs()[0]["run_id"]))
    db.close()
    assert len(rows) == 590 and all(r["error"] is None for r in rows)
    # the corpus metrics of the stored responses: what Core v2 will report with intervals
    from medgauge.metrics.nlg import CocoCorpus

    corpus = CocoCorpus.build([r["response"] for r in rows], [[r["answer"]] for r in rows],
                              metrics=("BLEU-1", "BLEU-4", "ROUGE-L", "CIDEr"))
    assert 0.2 < corpus.corpus["BLEU-4"] < corpus.corpus["BLEU-1"] < 1
    assert corpus.corpus["ROUGE-L"] == pytest.approx(
        np.mean([r["metrics"]["rouge_l"] for r in rows]), abs=1e-9)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "x", "findings": "..."}) + "\n")
    res = medgauge("score", "-b", f"iu-xray={iu}", "--predictions", str(bad))
    assert res.returncode == 2 and "no response column" in one_line_error(res)


def _phantom_ce(samples, texts):
    gold = binarise(label_reports([s.answer for s in samples]), OBSERVATIONS)
    pred = binarise(label_reports(texts), OBSERVATIONS)
    # macro F1 averages over observations; absent ones (no gold, no predicted positive) score 0
    # as in scikit-learn/R2Gen, so the phantom's macro average is taken over the present ones
    present = (gold | pred).any(axis=0)
    macro = ce_scores(gold[:, present], pred[:, present])["CE-F1-macro"]
    return {**ce_scores(gold, pred), "CE-F1-macro-present": macro}


def test_phantom_report_reference_scores_one_and_no_nodule_scores_the_truth():
    samples = list(create_benchmark("phantom-report", n_cases=40, size=64).samples())
    assert len(samples) == 24  # the standard cases (3 of every 5)
    assert all(s.answer_type == "report" and len(s.images) == 1 for s in samples)
    ref = _phantom_ce(samples, [s.answer for s in samples])
    assert ref["CE-F1-micro"] == ref["CE-F1-macro-present"] == ref["CE-F1-example"] == 1.0
    with_nodules = sum(s.metadata["n_nodules"] > 0 for s in samples)
    without = len(samples) - with_nodules
    assert with_nodules and without
    got = _phantom_ce(samples, ["No nodule."] * len(samples))
    # truth: gold Lung Lesion for each case with nodules, No Finding for each without;
    # "No nodule." gives No Finding everywhere: TP = without, FP = FN = with_nodules
    assert got["CE-P-micro"] == pytest.approx(without / len(samples))
    assert got["CE-R-micro"] == pytest.approx(without / len(samples))
    assert got["CE-F1-example"] == pytest.approx(without / len(samples))
    for s in samples:
        n = s.metadata["n_nodules"]
        expected = {0: "No pulmonary nodule is seen", 1: "There is one pulmonary nodule.",
                    2: "There are two pulmonary nodules.", 3: "There are three pulmonary nodules."}
        assert expected[n] in s.answer
        for nodule in s.metadata["nodules"]:
            assert f"{nodule['side']} lung" in s.answer


def test_r2gen_reference_option_and_scoring_decoded_references(iu):
    from medgauge.metrics.nlg import clean_report, coco_scores

    samples = list(create_benchmark("iu-xray", iu, r2gen_reference="true").samples())
    decoded = [s.metadata["r2gen_reference"] for s in samples]
    assert max(len(d.split()) for d in decoded) == 59
    unk = [d for d in decoded if "<unk>" in d]
    assert unk and all(len(d.split()) == len(clean_report(s.answer).split())
                       for s, d in zip(samples, decoded, strict=True) if len(d.split()) < 59)
    refs = [[d] for d in decoded[:40]]
    # an R2Gen-family model writes "<unk>" too: cleaning keeps the token on both sides
    assert coco_scores(decoded[:40], refs, metrics=("BLEU-4", "ROUGE-L")) == pytest.approx(
        {"BLEU-4": 1.0, "ROUGE-L": 1.0})
    preds = [d.replace("<unk>", "word") for d in decoded[:40]]
    as_given = coco_scores(preds, refs, references_cleaned=True, metrics=("BLEU-1",))
    assert as_given["BLEU-1"] < 1.0
    with pytest.raises(MedgaugeError, match="r2gen_reference"):
        list(create_benchmark("mimic-cxr", MIMIC, r2gen_reference="maybe").samples())


def test_report_metrics_with_intervals_and_paired_differences(iu):
    from medgauge.metrics.nlg import COCO_METRICS, coco_scores
    from medgauge.metrics.report_gen import CE_METRICS, paired_report_metrics, report_metrics

    samples = list(create_benchmark("iu-xray", iu).samples())[:150]
    refs = [[s.answer] for s in samples]
    shifted = [samples[(i + 1) % 150].answer for i in range(150)]
    mixed = [s.answer if i % 3 == 0 else shifted[i] for i, s in enumerate(samples)]
    est = report_metrics(mixed, refs, n_resamples=200, seed=1)
    assert set(est) == set(COCO_METRICS) | set(CE_METRICS)
    direct = coco_scores(mixed, refs)
    for name, e in est.items():
        assert e.lo <= e.value <= e.hi and e.n == 150 and e.method == "bootstrap", name
        if name in direct:
            assert e.value == pytest.approx(direct[name], abs=1e-12)
    assert est["BLEU-4"].hi - est["BLEU-4"].lo > 0.01
    # clusters: pairs of studies resampled together
    clustered = report_metrics(mixed, refs, clusters=[i // 2 for i in range(150)],
                               n_resamples=100)
    assert clustered["ROUGE-L"].method == "cluster-bootstrap"
    diff = paired_report_metrics(mixed, shifted, refs, n_resamples=200)
    # copying the reference for a third of the studies is better on every metric
    for name in ("BLEU-4", "METEOR", "ROUGE-L", "CIDEr", "CE-F1-micro"):
        assert diff[name].lo > 0, (name, diff[name])
    same = paired_report_metrics(mixed, mixed, refs, n_resamples=20)
    assert all(e.value == e.lo == e.hi == 0 for e in same.values())
