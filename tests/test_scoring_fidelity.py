"""Scoring rules for closed, multi-reference and lettered answers; probes that cannot apply
(issue 14, kinds 11-15 and 17)."""

from __future__ import annotations

import random

import pytest

from medgauge.benchmarks.vqa import vqa_sample
from medgauge.extract.closed import either_or_alternatives, question_form
from medgauge.probes.blind import BlindProbe
from medgauge.probes.common import SummaryContext
from medgauge.probes.confidence import ConfidenceProbe
from medgauge.probes.leading import LeadingProbe
from medgauge.probes.mismatch import MismatchProbe
from medgauge.scoring import get_scorer
from medgauge.types import Sample

SCORE = get_scorer("default")
LOBE = "Is the mass in the left or the right lobe?"


@pytest.mark.parametrize(("reply", "correct", "extracted"), [
    ("It is in the left lobe.", True, "left"),
    ("Left.", True, "left"),
    ("The mass is not in the right lobe; it is in the left lobe.", True, "left"),
    ("Right lobe.", False, "right"),
    ("It could be left or right.", False, None),
    ("I cannot tell.", False, None),
])
def test_either_or_closed_question(reply: str, correct: bool, extracted: str | None) -> None:
    sample = vqa_sample("x", LOBE, "left", True, (), {}, None)
    got = SCORE(sample, reply)
    assert (got.correct, got.extracted) == (correct, extracted)


@pytest.mark.parametrize(("question", "gold", "alternatives"), [
    (LOBE, "left", ("left", "right")),
    ("Is this a CT or an MRI?", "MRI", ("mri", "ct")),
    ("Is the lesion in the left upper lobe or right upper lobe?", "right", ("right", "left")),
    ("Is the lesion in the left upper lobe or right upper lobe?", "left upper lobe",
     ("left upper lobe", "right upper lobe")),
    ("What is the modality?", "CT", None),
])
def test_either_or_alternatives(question: str, gold: str, alternatives: tuple | None) -> None:
    assert either_or_alternatives(question, (gold,)) == alternatives


def test_question_form_decides_closed_without_a_flag() -> None:
    assert question_form(LOBE) == "either_or"
    assert question_form("心脏正常吗?") == "polar"
    assert question_form("Is the heart normal?") == "polar"
    assert question_form("What organ is shown?") == "open"
    # no closed flag (a Hugging Face dump): the form decides, not whether the gold is yes/no
    sample = vqa_sample("x", LOBE, "left", None, (), {}, None)
    assert sample.metadata["answer_type_group"] == "closed"
    assert SCORE(sample, "It is in the left lobe.").correct
    # an open flag keeps the open-text rule
    open_flag = vqa_sample("x", LOBE, "left", False, (), {}, None)
    assert not SCORE(open_flag, "It is in the left lobe.").correct


@pytest.mark.parametrize("closed", [True, None])
def test_chinese_polar_golds_agree(closed: bool | None) -> None:
    reply = "是的，心脏是正常的。"
    for gold in ("正常", "是的"):
        sample = vqa_sample("x", "心脏正常吗?", gold, closed, (), {}, None)
        assert SCORE(sample, reply).correct, gold
    for gold in ("不正常", "不是"):
        sample = vqa_sample("x", "心脏正常吗?", gold, closed, (), {}, None)
        assert not SCORE(sample, reply).correct, gold
        assert SCORE(sample, "不，心脏不正常。").correct, gold


@pytest.mark.parametrize(("gold", "reply", "correct"), [
    ("normal", "Yes, the heart is normal.", True),
    ("normal", "Normal.", True),
    ("normal", "No, it is enlarged.", False),
    ("abnormal", "No, the heart is not normal.", True),
    ("abnormal", "Yes.", False),
])
def test_english_polar_golds(gold: str, reply: str, correct: bool) -> None:
    sample = vqa_sample("x", "Is the heart normal?", gold, True, (), {}, None)
    assert SCORE(sample, reply).correct is correct


def test_several_reference_answers() -> None:
    sample = vqa_sample("x", "what imaging modality was used?", "mr - flair#mri flair", None,
                        (), {}, None, ("mr - flair", "mri flair"))
    assert sample.answers == ("mr - flair", "mri flair")
    for reply in ("MR - FLAIR", "mri flair", "Answer: MRI FLAIR"):
        assert SCORE(sample, reply).correct, reply
    assert not SCORE(sample, "CT").correct
    mcq = Sample("m", "q", "A", options={"A": "x", "B": "y", "C": "z"}, answers=("C",))
    assert SCORE(mcq, "C").correct and SCORE(mcq, "A").correct and not SCORE(mcq, "B").correct


def test_identical_options_are_one_answer() -> None:
    opts = {"A": "Maculopapular rash", "B": "Petechial rash", "C": "Vesicular rash",
            "D": "Petechial rash"}
    sample = Sample("m", "Which rash?", "D", options=opts)
    for reply in ("B", "D", "Petechial rash", "The answer is B (petechial rash)."):
        assert SCORE(sample, reply).correct, reply
    assert not SCORE(sample, "A").correct


@pytest.mark.parametrize(("reply", "extracted", "correct"), [
    ("A", "yes", True), ("The answer is (A).", "yes", True), ("B. no", "no", False),
    ("A. no", None, False), ("Yes.", "yes", True), ("C", "maybe", False),
])
def test_yes_no_maybe_as_lettered_options(reply: str, extracted: str | None,
                                          correct: bool) -> None:
    sample = Sample("p", "Does X cause Y?", "yes", "yesno", labels=("yes", "no", "maybe"),
                    options={"A": "yes", "B": "no", "C": "maybe"})
    got = SCORE(sample, reply)
    assert (got.extracted, got.correct) == (extracted, correct)


def _row(variant: str, extracted: str | None, correct: bool, **meta: object) -> dict:
    return {"sample_id": f"s{random.random()}", "variant": variant, "extracted": extracted,
            "correct": correct, "error": None, "confidence": 0.0, "metadata": meta,
            "response": "", "cluster": None}


def test_confidence_probe_says_na_when_every_confidence_is_invalid() -> None:
    rows = [_row("verbal", None, False, verbal_confidence=None) for _ in range(5)]
    res = ConfidenceProbe.summarize(rows, None, {}, SummaryContext())
    assert res.value != res.value and res.lo != res.lo  # nan, shown as n/a
    assert res.details["invalid_rate"] == 1.0
    assert "invalid rate 100%" in res.details["not_applicable"]
    from medgauge.probes.summary import _value_text
    assert _value_text({"value": None, "lo": None, "hi": None,
                        "details": res.details}).startswith("n/a (no valid confidence")
    ok = [{**_row("verbal", "A", True, verbal_confidence=0.9), "confidence": 0.9}
          for _ in range(5)]
    assert ConfidenceProbe.summarize(ok, None, {}, SummaryContext()).value == pytest.approx(0.1)


def test_blind_and_mismatch_say_when_they_cannot_apply() -> None:
    rows = [_row("blind", "A", True, images_removed=0) for _ in range(3)]
    res = BlindProbe.summarize(rows, None, {}, SummaryContext())
    assert res.value != res.value and "text-only" in res.details["not_applicable"]
    res = MismatchProbe.summarize([], None, {}, SummaryContext())
    assert res.n == 0 and "n = 0" in res.details["not_applicable"]


def test_leading_templates_on_text_only_items_do_not_speak_of_an_image() -> None:
    probe = LeadingProbe()

    class _Ctx:  # only the seeded generator pick() needs
        @staticmethod
        def rng(sample: Sample, salt: str = "") -> random.Random:
            return random.Random(sample.id)

    opts = {"A": "a", "B": "b", "C": "c", "D": "d"}
    for i in range(40):
        text_only = probe.pick(Sample(str(i), "Q?", "B", "mcq", options=opts), _Ctx())
        assert text_only is not None and "image" not in text_only[0]["text"].lower()
        yn = probe.pick(Sample(str(i), "Q?", "yes", "yesno"), _Ctx())
        assert yn is not None and "image" not in yn[0]["text"].lower()
