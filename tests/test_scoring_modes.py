"""Scoring modes: the default dispatcher and each named compatibility mode."""

from __future__ import annotations

import pytest

from medgauge.scoring import Judgement, default_scorer, describe, get_scorer, scorers
from medgauge.types import MedgaugeError, Sample

OPTS = {"A": "Pneumonia", "B": "Pulmonary embolism", "C": "Congestive heart failure",
        "D": "Pneumothorax"}
MCQ = Sample(id="q1", question="Diagnosis?", answer="B", answer_type="mcq", options=OPTS)
YES = Sample(id="q2", question="Is there an effusion?", answer="Yes", answer_type="yesno")
NO = Sample(id="q3", question="Is there an effusion?", answer="no", answer_type="yesno")
OPEN = Sample(id="q4", question="What is abnormal?", answer="Pulmonary nodules",
              answer_type="open")
NUM = Sample(id="q5", question="How many lesions?", answer="two", answer_type="number")
PUBMED = Sample(id="q6", question="Does X help?", answer="maybe", answer_type="yesno",
                labels=("yes", "no", "maybe"))
ZH = Sample(id="q7", question="图像中包含肝脏吗?", answer="不包含", answer_type="yesno",
            labels=("包含", "不包含"))
MEDICONF = Sample(id="q8", question="Which?", answer="A", answer_type="mcq",
                  options={"A": "left kidney", "B": "right kidney"})
ALL = [MCQ, YES, NO, OPEN, NUM, PUBMED, ZH, MEDICONF]


def test_registry_and_descriptions() -> None:
    names = set(scorers.names())
    assert {"default", "medevalkit", "vlmevalkit", "mediconfusion", "mmstar",
            "multimedeval"} <= names
    assert set(describe) == names and all(describe[n].strip() for n in names)
    assert get_scorer(None) is default_scorer and get_scorer("default") is default_scorer
    with pytest.raises(MedgaugeError, match="unknown scoring mode 'nope'"):
        get_scorer("nope")


@pytest.mark.parametrize("mode", ["default", "medevalkit", "vlmevalkit", "mediconfusion",
                                  "mmstar", "multimedeval"])
@pytest.mark.parametrize("sample", ALL, ids=lambda s: s.id)
def test_every_mode_handles_every_type_and_empty_text(mode: str, sample: Sample) -> None:
    judged = get_scorer(mode)(sample, "")
    assert isinstance(judged, Judgement)
    if mode == "medevalkit" and sample.answer_type == "mcq":
        assert judged.extracted == next(iter(sample.options))  # difflib fallback, never invalid
    else:
        assert judged.correct is False
    assert all(isinstance(v, float) for v in judged.metrics.values())


# --- default -------------------------------------------------------------------------------

def test_default_mcq() -> None:
    assert default_scorer(MCQ, "The answer is B.") == Judgement("B", True)
    assert default_scorer(MCQ, "Answer: D") == Judgement("D", False)
    assert default_scorer(MCQ, "A or B") == Judgement(None, False)


def test_default_yesno_case_insensitive_gold_and_chinese() -> None:
    assert default_scorer(YES, "Yes, a small one.") == Judgement("yes", True)
    assert default_scorer(NO, "The heart is normal.").extracted is None
    assert default_scorer(ZH, "图像中没有肝脏。") == Judgement("不包含", True)
    assert default_scorer(PUBMED, "Maybe; the data are mixed.").correct


def test_default_open_rule_and_metrics() -> None:
    exact = default_scorer(OPEN, "Pulmonary nodules.")
    assert exact.correct and exact.extracted == "Pulmonary nodules"
    assert exact.metrics["exact"] == 1.0
    superset = default_scorer(OPEN, "Multiple pulmonary nodules")
    assert superset.correct and superset.metrics["recall"] == 1.0
    listing = default_scorer(OPEN, "Could be nodules, masses, pulmonary edema or effusion")
    assert not listing.correct
    wrong = default_scorer(OPEN, "Pleural effusion")
    assert not wrong.correct and wrong.metrics["f1"] == 0.0
    assert set(wrong.metrics) == {"exact", "precision", "recall", "f1", "bleu1"}


def test_default_number_tolerance_and_bad_gold() -> None:
    assert default_scorer(NUM, "There are 2 lesions.") == Judgement("2", True, {"abs_error": 0.0})
    assert not default_scorer(NUM, "3").correct
    size = Sample(id="s", question="Size?", answer="3.0", answer_type="number",
                  metadata={"tolerance": 0.25})
    assert default_scorer(size, "About 3.2 cm").correct
    assert not default_scorer(size, "3.5 cm").correct
    bad = Sample(id="bad", question="?", answer="several", answer_type="number")
    with pytest.raises(MedgaugeError, match="sample bad: answer 'several' is not a number"):
        default_scorer(bad, "3")


def test_default_unknown_type() -> None:
    odd = Sample(id="x", question="?", answer="a", answer_type="essay")  # type: ignore[arg-type]
    with pytest.raises(MedgaugeError, match="unknown answer_type 'essay'"):
        default_scorer(odd, "text")


# --- medevalkit ----------------------------------------------------------------------------

def test_medevalkit_yesno_substring_bug_reproduced() -> None:
    mek = get_scorer("medevalkit")
    assert mek(NO, "The heart size is normal.") == Judgement("no", True)  # 'no' in 'normal'
    assert default_scorer(NO, "The heart size is normal.").correct is False
    both = mek(YES, "Yes, the heart is normal.")
    assert both == Judgement(None, False)  # 'yes' and 'no' (in 'normal') both present
    assert mek(YES, "The answer is yes.").correct


def test_medevalkit_open_exact_with_leading_space_quirk() -> None:
    mek = get_scorer("medevalkit")
    assert mek(OPEN, "Pulmonary nodules").correct
    assert not mek(OPEN, "Answer: pulmonary nodules").correct  # split leaves " pulmonary..."
    assert mek(OPEN, "Answer: pulmonary nodules").metrics["recall"] == 1.0


def test_medevalkit_mcq_never_invalid() -> None:
    mek = get_scorer("medevalkit")
    assert mek(MCQ, "B") == Judgement("B", True)
    assert mek(MCQ, "pulmonary embolism") == Judgement("B", True)
    fallback = mek(MCQ, "I think it is an embolism of the lung")
    assert fallback.extracted in OPTS
    assert default_scorer(MCQ, "I think it is an embolism of the lung").extracted is None


# --- vlmevalkit ----------------------------------------------------------------------------

def test_vlmevalkit_option_text_and_z() -> None:
    vek = get_scorer("vlmevalkit")
    assert vek(MCQ, "B") == Judgement("B", True)
    assert vek(MCQ, "The answer is (B).") == Judgement("B", True)
    assert vek(MCQ, "pulmonary embolism") == Judgement("B", True)
    assert vek(MCQ, "A chest film shows B lines") == Judgement("Z", False)  # two letter tokens
    assert vek(MCQ, "Cannot determine the answer") == Judgement("Z", False)
    assert vek(MCQ, "Failed to obtain answer via API.") == Judgement("Z", False)
    assert vek(YES, "Yes.") == default_scorer(YES, "Yes.")


# --- mmstar --------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "got"), [
    ("B", "B"), ("b. pulmonary embolism", "B"), ("(B) Pulmonary embolism", "B"),
    ("Option B", "B"), ("The answer is B", "B"), ("Answer: B", "A"), ("Pulmonary embolism", None),
])
def test_mmstar_hit_rule(text: str, got: str | None) -> None:
    judged = get_scorer("mmstar")(MCQ, text)
    assert judged.extracted == got and judged.correct == (got == "B")


# --- mediconfusion -------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "got"), [
    ("A", "A"), ('A")', "A"), ("A.", "A"), ('("A")', "A"), ("B:", "B"), ("Answer: B.", "B"),
    ("Both A and B", None), ("(A)", None), ("left kidney", None),
])
def test_mediconfusion_clean_up_manual(text: str, got: str | None) -> None:
    judged = get_scorer("mediconfusion")(MEDICONF, text)
    assert judged.extracted == got and judged.correct == (got == "A")


# --- multimedeval --------------------------------------------------------------------------

def test_multimedeval_mcq_bleu_argmax() -> None:
    mme = get_scorer("multimedeval")
    assert mme(MCQ, "Pulmonary embolism").extracted == "B"
    assert mme(MCQ, "B: pulmonary embolism.").correct
    assert mme(MCQ, "xyzzy").extracted is None


def test_multimedeval_closed_recall_rule() -> None:
    mme = get_scorer("multimedeval")
    assert mme(NO, "There is no effusion.").correct  # 'no' recalled
    assert mme(NO, "Not that I can see.").correct  # 'not' is added to the gold 'no'
    assert not mme(YES, "No.").correct
    assert mme(YES, "Yes, there is.").correct
    assert mme(PUBMED, "Maybe, maybe not; yes in one subgroup.").extracted == "maybe"


def test_multimedeval_open_recall_075() -> None:
    mme = get_scorer("multimedeval")
    assert mme(OPEN, "There are multiple pulmonary nodules").correct
    assert not mme(OPEN, "nodules").correct  # recall 0.5
