"""Evidence prompts, over-reliance counterfactuals (RULE) and the paired effects of retrieval."""

from __future__ import annotations

import json
import random
import re
from itertools import chain
from pathlib import Path

import pytest

from medgauge.benchmarks.base import benchmarks
from medgauge.probes.common import pick_wrong
from medgauge.retrieval import Passage, corpus_from_samples, open_index
from medgauge.retrieval.counterfactual import counterfactual_evidence
from medgauge.retrieval.effect import flip_rate, retrieval_effect
from medgauge.retrieval.prompt import evidence_block, format_prompt
from medgauge.stats import mcnemar_exact, wilson
from medgauge.types import MedgaugeError, Sample

MCQ = Sample("m1", "Which drug is first-line for type 2 diabetes?", "B",
             options={"A": "Insulin", "B": "Metformin", "C": "Sulfonylurea"})
PASSAGES = [Passage("p1", "Metformin remains first-line; metformin lowers HbA1c.", "ADA"),
            Passage("p2", "Insulin is added when targets are missed.")]


def test_prompt_numbers_the_evidence_and_fills_the_template() -> None:
    text = format_prompt(MCQ, PASSAGES)
    assert text == (
        "Use the evidence below if it is relevant to the question.\n\nEvidence:\n"
        "[1] ADA. Metformin remains first-line; metformin lowers HbA1c.\n\n"
        "[2] Insulin is added when targets are missed.\n\n"
        "Question: Which drug is first-line for type 2 diabetes?\n"
        "A. Insulin\nB. Metformin\nC. Sulfonylurea\n"
        "Answer with the option's letter from the given choices directly.")
    own = format_prompt(MCQ, PASSAGES[1:], "{evidence} | {question} ({letters})", max_chars=12)
    assert own == "[1] Insulin is ... | Which drug is first-line for type 2 diabetes? (A, B or C)"
    assert evidence_block([]) == "(no evidence retrieved)"
    with pytest.raises(MedgaugeError, match=r"unknown placeholder \{context\}"):
        format_prompt(MCQ, PASSAGES, "{context} {evidence}")
    with pytest.raises(MedgaugeError, match=r"must contain \{evidence\}"):
        format_prompt(MCQ, PASSAGES, "{question}")


def test_counterfactuals_support_the_seeded_wrong_option() -> None:
    wrong = pick_wrong(MCQ, random.Random(7))
    cf = counterfactual_evidence(MCQ, PASSAGES, random.Random(7), "statement")
    assert cf is not None and cf.wrong == wrong and cf.how == "statement"
    assert [p.text for p in cf.passages] == [
        f'The answer to the question "{MCQ.question}" is {MCQ.options[wrong]}.']
    edit = counterfactual_evidence(MCQ, PASSAGES, random.Random(7), "edit")
    assert edit is not None and edit.how == "substituted"
    assert edit.passages[0].text == (f"{MCQ.options[wrong]} remains first-line; "
                                     f"{MCQ.options[wrong]} lowers HbA1c.")
    assert edit.passages[0].id == "p1#counterfactual"
    assert edit.passages[0].metadata["edited_from"] == "p1"
    assert edit.passages[1] == PASSAGES[1]  # the other evidence is kept
    yesno = Sample("y1", "Is metformin first-line?", "yes", answer_type="yesno")
    appended = counterfactual_evidence(yesno, PASSAGES, random.Random(0), "edit")
    assert appended is not None and appended.how == "appended" and appended.wrong == "no"
    assert appended.passages[0].text.endswith('The answer to the question '
                                              '"Is metformin first-line?" is no.')
    assert counterfactual_evidence(Sample("o", "Name it.", "x", answer_type="open"), PASSAGES,
                                   random.Random(0)) is None
    with pytest.raises(MedgaugeError, match="counterfactual kind 'swap'"):
        counterfactual_evidence(MCQ, PASSAGES, random.Random(0), "swap")
    with pytest.raises(MedgaugeError, match="needs a retrieved passage"):
        counterfactual_evidence(MCQ, [], random.Random(0), "edit")


def test_effect_and_flip_rate_by_hand() -> None:
    without = {"a": False, "b": True, "c": True, "d": False, "e": True, "f": None, "g": True}
    with_ = {"a": True, "b": True, "c": False, "d": True, "e": True, "f": True, "h": False}
    eff = retrieval_effect(without, with_)
    # paired: a b c d e (f errored, g/h unpaired); helped a, d; harmed c; both right b, e
    assert (eff.helped, eff.harmed, eff.unchanged_right, eff.unchanged_wrong) == (2, 1, 2, 0)
    assert (eff.n, eff.errored, eff.unpaired) == (5, 1, 2)
    assert eff.comparison.diff == pytest.approx(4 / 5 - 3 / 5)
    assert eff.comparison.p_mcnemar == mcnemar_exact(2, 1)
    assert (eff.helped_rate.lo, eff.helped_rate.hi) == pytest.approx(wilson(2, 5))
    assert eff.outcome in ("win", "tie", "loss")
    flips = flip_rate(with_, {"a": False, "b": True, "c": True, "d": False, "e": False})
    # right before: a b d e -> wrong after: a d e; c fixed
    assert (flips.flipped, flips.base_correct, flips.fixed) == (3, 4, 1)
    assert flips.rate.value == 0.75
    assert (flips.rate.lo, flips.rate.hi) == pytest.approx(wilson(3, 4))
    with pytest.raises(MedgaugeError, match="no item answered both"):
        retrieval_effect({"a": True}, {"b": True})


CLAIM = re.compile(r'The answer to the question ".*?" is (\w+)\.')


def follow_context(prompt: str) -> str:
    """A context-following baseline: the answer the evidence asserts; with no assertion, "no"
    when the evidence holds a negation word, else "yes"."""
    evidence = prompt.split("Question:", 1)[0].replace("(no evidence retrieved)", "")
    claims = CLAIM.findall(evidence)
    if claims:
        return claims[-1]
    return "no" if re.search(r"\b(no|not)\b", evidence, re.IGNORECASE) else "yes"


@pytest.mark.parametrize("kind", ["statement", "edit"])
def test_over_reliance_on_pubmedqa_with_a_context_following_baseline(
        shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    monkeypatch.setenv("MEDGAUGE_CACHE", str(tmp_path))
    bench = benchmarks.get("pubmedqa")(shared_data / "pubmedqa")
    test = list(bench.samples())
    pool = corpus_from_samples(chain(test, bench.reference_samples()), "pubmedqa")
    items = test[::8][:60]  # the test file is ordered by label: spread the picks
    hits = open_index(pool, "bm25").search([s.question for s in items], 3)
    before, after, none = {}, {}, {}
    for s, h in zip(items, hits, strict=True):
        passages = [pool.get(x.id) for x in h]
        before[s.id] = follow_context(format_prompt(s, passages)) == s.answer
        none[s.id] = follow_context(format_prompt(s, [])) == s.answer
        cf = counterfactual_evidence(s, passages, random.Random(f"0:{s.id}"), kind)
        assert cf is not None
        after[s.id] = follow_context(format_prompt(s, cf.passages)) == s.answer
    # by hand, from the raw file: the baseline is right before exactly where the top-3
    # abstracts' negation cue agrees with the label; every such answer must flip, none is fixed
    raw = json.loads((shared_data / "pubmedqa" / "ori_pqal.json").read_text())
    expected_right = 0
    for s, h in zip(items, hits, strict=True):
        text = " ".join(" ".join(raw[x.id]["CONTEXTS"]) for x in h)
        cue = "no" if re.search(r"\b(no|not)\b", text, re.IGNORECASE) else "yes"
        expected_right += cue == raw[s.id]["final_decision"]
    flips = flip_rate(before, after)
    assert flips.base_correct == expected_right > 0
    assert (flips.flipped, flips.fixed, flips.pairs) == (expected_right, 0, 60)
    assert flips.rate.value == 1.0
    # without evidence the baseline says "yes": retrieval helps on "no" items and harms "yes"
    eff = retrieval_effect(none, before)
    labels = [raw[s.id]["final_decision"] for s in items]
    assert eff.unchanged_right + eff.harmed == labels.count("yes")
