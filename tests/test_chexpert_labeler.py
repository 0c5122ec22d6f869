"""The rule-based CheXpert labeler (medgauge.labelers.chexpert_rules) and the clinical-efficacy
metrics (medgauge.metrics.clinical): the CheXpert labeler's own labelled examples
(../shared/data), our hand-labelled reports (tests/data), the IU X-ray MeSH terms, and CE values
against scikit-learn where it is installed."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from medgauge.labelers.chexpert_rules import OBSERVATIONS, label_report, mentions
from medgauge.metrics.clinical import binarise, ce_scores, example_f1, report_ce
from medgauge.types import MedgaugeError

HAND = Path(__file__).parent / "data" / "chexpert_hand_labelled.csv"


def _labelled(path: Path) -> list[tuple[str, dict[str, int | None]]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return [(row["Reports"], {o: None if row[o] == "" else int(float(row[o]))
                                  for o in OBSERVATIONS}) for row in csv.DictReader(fh)]


def _agreement(rows) -> dict[str, float]:
    got = [label_report(text) for text, _ in rows]
    return {o: sum(g[o] == gold[o] for g, (_, gold) in zip(got, rows, strict=True)) / len(rows)
            for o in OBSERVATIONS}


def test_chexpert_sample_reports_agree_on_every_observation(shared_data):
    rows = _labelled(shared_data / "chexpert_labeler_samples" / "labeled_reports.csv")
    assert len(rows) == 4
    assert _agreement(rows) == {o: 1.0 for o in OBSERVATIONS}


def test_hand_labelled_reports_agree_per_observation():
    rows = _labelled(HAND)
    assert len(rows) == 30
    agreement = _agreement(rows)
    assert min(agreement.values()) >= 29 / 30, agreement
    # the one known disagreement: "vascular congestion" counts as edema for the rules
    assert agreement["Edema"] == 29 / 30


@pytest.mark.parametrize(("text", "observation", "label"), [
    ("No pneumothorax.", "Pneumothorax", 0),
    ("Small left pneumothorax.", "Pneumothorax", 1),
    ("Pneumothorax cannot be excluded.", "Pneumothorax", -1),
    ("There is no focal air space opacity to suggest a pneumonia.", "Pneumonia", 0),
    ("Opacity which may represent pneumonia.", "Pneumonia", -1),
    ("No effusion, but there is right lower lobe consolidation.", "Consolidation", 1),
    ("No effusion, but there is right lower lobe consolidation.", "Pleural Effusion", 0),
    ("Heart size is normal.", "Cardiomegaly", 0),
    ("The heart is mildly enlarged.", "Cardiomegaly", 1),
    ("Findings suggest congestive heart failure.", "Cardiomegaly", -1),
    ("Small pericardial effusion.", "Pleural Effusion", None),
])
def test_negation_uncertainty_and_scope(text, observation, label):
    assert label_report(text)[observation] == label, [m for m in mentions(text)]


def test_no_finding_is_blank_with_other_abnormalities_and_kept_with_devices():
    assert label_report("Lungs are clear. Pacemaker in place.")["No Finding"] == 1
    assert label_report("Lungs are clear. Mild scoliosis.")["No Finding"] is None
    assert label_report("Lungs are clear. No emphysema.")["No Finding"] == 1


def test_iu_xray_mesh_terms_are_found(shared_data):
    """Sensitivity against the OpenI indexers' MeSH problems (an independent human labelling)."""
    terms = {"normal": "No Finding", "Cardiomegaly": "Cardiomegaly",
             "Pleural Effusion": "Pleural Effusion", "Pulmonary Atelectasis": "Atelectasis"}
    hits = dict.fromkeys(terms, 0)
    totals = dict.fromkeys(terms, 0)
    path = shared_data / "iu_xray_reports_text_only" / "indiana_reports.csv"
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            text = f"{row['findings']} {row['impression']}".strip()
            problems = {p.strip() for p in row["Problems"].split(";")}
            if not text or not problems & set(terms):
                continue
            labels = label_report(text)
            for term, obs in terms.items():
                if term in problems:
                    totals[term] += 1
                    hits[term] += labels[obs] in (1, -1)
    sensitivity = {t: hits[t] / totals[t] for t in terms}
    assert totals["normal"] > 1300 and totals["Cardiomegaly"] > 300
    assert min(sensitivity.values()) >= 0.9, sensitivity


# --- clinical efficacy ------------------------------------------------------------------------

GOLD = np.array([[1, 0, 1], [0, 0, 0], [1, 1, 0], [0, 1, 1]])
PRED = np.array([[1, 0, 0], [0, 0, 0], [1, 0, 1], [0, 1, 1]])


def test_ce_scores_by_hand():
    s = ce_scores(GOLD, PRED, ("a", "b", "c"))
    # micro: TP 4, FP 1, FN 2
    assert s["CE-P-micro"] == pytest.approx(4 / 5)
    assert s["CE-R-micro"] == pytest.approx(4 / 6)
    assert s["CE-F1-micro"] == pytest.approx(2 * 4 / (2 * 4 + 1 + 2))
    # per observation F1: a 1, b 2/3 (P 1, R 1/2), c 1/2 (TP 1, FP 1, FN 1)
    assert s["CE-F1/a"] == 1.0 and s["CE-F1/b"] == pytest.approx(2 / 3)
    assert s["CE-F1/c"] == pytest.approx(1 / 2)
    assert s["CE-F1-macro"] == pytest.approx((1 + 2 / 3 + 1 / 2) / 3)
    # per report F1: 2/3, 1 (both empty), 1/2, 1
    np.testing.assert_allclose(example_f1(GOLD, PRED), [2 / 3, 1, 1 / 2, 1])
    assert s["CE-F1-example"] == pytest.approx((2 / 3 + 1 + 1 / 2 + 1) / 4)


def test_ce_micro_macro_equal_scikit_learn():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    gold = rng.integers(0, 2, (50, 14))
    pred = rng.integers(0, 2, (50, 14))
    pred[:, 3] = 0  # an observation never predicted: precision 0 (zero_division=0)
    s = ce_scores(gold, pred)
    for avg in ("micro", "macro"):
        assert s[f"CE-F1-{avg}"] == pytest.approx(
            metrics.f1_score(gold, pred, average=avg, zero_division=0))
        assert s[f"CE-P-{avg}"] == pytest.approx(
            metrics.precision_score(gold, pred, average=avg, zero_division=0))
        assert s[f"CE-R-{avg}"] == pytest.approx(
            metrics.recall_score(gold, pred, average=avg, zero_division=0))
    assert s["CE-F1-example"] == pytest.approx(
        metrics.f1_score(gold, pred, average="samples", zero_division=1.0))


def test_uncertain_convention_is_selectable():
    labels = [{"Edema": -1, "Cardiomegaly": 1}, {"Edema": 0}]
    assert binarise(labels, ("Edema", "Cardiomegaly")).tolist() == [[0, 1], [0, 0]]
    assert binarise(labels, ("Edema", "Cardiomegaly"),
                    uncertain="positive").tolist() == [[1, 1], [0, 0]]
    with pytest.raises(MedgaugeError, match="uncertain must be one of"):
        binarise(labels, ("Edema",), uncertain="ignore")
    with pytest.raises(MedgaugeError, match="must both be"):
        ce_scores(GOLD, PRED[:, :2])


def test_report_ce_of_identical_reports_is_perfect():
    reports = [text for text, _ in _labelled(HAND)]
    scores, gold, pred = report_ce(reports, reports)
    assert (gold == pred).all()
    assert scores["CE-F1-micro"] == 1.0 and scores["CE-F1-example"] == 1.0
    assert gold.shape == (30, 14)
