"""Probe metrics against hand computations on small constructed cases (store-shaped item rows),
including invalid answers, request errors, ties and pairs with one side missing."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from medgauge.probes import summarize_items
from medgauge.probes.common import SummaryContext
from medgauge.probes.confidence import (
    aligned_score,
    confidence_scores,
    elicitation,
    logprob_confidence,
    parse_verbal,
)
from medgauge.probes.followup import followup_scores
from medgauge.probes.leading import leading_scores
from medgauge.probes.mismatch import FlagDetector, mismatch_scores
from medgauge.probes.pairs import match_pairs, pair_scores
from medgauge.probes.permute import permute_scores, rotate
from medgauge.probes.perturb import perturb_scores
from medgauge.types import ImageRef, MedgaugeError, Response, Sample


def row(sid: str, variant: str, correct: bool | None, extracted: str | None = "x", *,
        error: str | None = None, confidence: float | None = None, response: str = "",
        **meta: Any) -> dict[str, Any]:
    if error is not None:
        correct, extracted = None, None
    if extracted is None and error is None:
        correct = False
    return {"sample_id": sid, "variant": variant, "correct": correct, "extracted": extracted,
            "error": error, "confidence": confidence, "metadata": meta, "response": response,
            "metrics": {}, "question": "q", "answer": "a", "cluster": None}


# ---- pairs (MediConfusion) -----------------------------------------------------------------

def pair_rows() -> list[dict[str, Any]]:
    """Five complete pairs, one with a missing side, one errored."""
    def p(pid: str, m: int, ok: bool, ext: str | None, cats: str) -> dict[str, Any]:
        return row(f"{pid}_{m}", "pair", ok, ext, pair_id=pid, pair_member=m, category=cats)

    return [
        p("1", 1, True, "A", "Cardiac"), p("1", 2, True, "B", "Cardiac"),   # set right
        p("2", 1, True, "A", "Spinal"), p("2", 2, False, "A", "Cardiac"),   # confused
        p("3", 1, False, "B", "Spinal"), p("3", 2, False, "B", "Spinal"),   # confused, both wrong
        p("4", 1, True, "A", "Cardiac, Spinal"), p("4", 2, False, None, "Spinal"),  # invalid
        p("5", 1, False, "B", "Pulmonary"), p("5", 2, False, "A", "Pulmonary"),  # swapped
        p("6", 1, True, "A", "Cardiac"),                                       # side missing
        p("7", 1, True, "A", "Cardiac"),
        row("7_2", "pair", None, error="HTTP 500", pair_id="7", pair_member=2, category="Cardiac"),
    ]


def test_pair_metrics_equal_the_mediconfusion_formulas() -> None:
    s = pair_scores(pair_rows())
    n = 5
    assert s["pairs"] == n and s["incomplete_pairs"] == 1 and s["errored_pairs"] == 1
    assert s["set_acc"] == 1 / n                       # pair 1 only
    assert s["individual_acc"] == 4 / (2 * n)          # 1_1 1_2 2_1 4_1
    assert s["invalid"] == 1 / (2 * n)                 # 4_2
    assert s["valid_pairs"] == 4                       # pairs 1 2 3 5
    assert s["confused"] == 2 / 4                      # pairs 2 and 3 gave the same letter twice
    assert s["precision"] == 1 / 2                     # set right / valid non-confused (1, 5)
    cats = s["per_category"]
    # Cardiac images: 1_1 1_2 2_2 4_1 -> 3 right of 4; pairs counted per member: 1,1,2,4 -> 2/4
    assert cats["Cardiac"] == {"individual_acc": 3 / 4, "set_acc": 2 / 4, "images": 4}
    # Spinal images: 2_1 3_1 3_2 4_1 4_2 -> right 2_1 4_1
    assert cats["Spinal"]["individual_acc"] == 2 / 5 and cats["Spinal"]["set_acc"] == 0.0
    assert cats["Pulmonary"] == {"individual_acc": 0.0, "set_acc": 0.0, "images": 2}


def test_pairs_summary_headline_is_set_accuracy_with_clean_pairing() -> None:
    clean = [row(f"{p}_{m}", "clean", True) for p in "12345" for m in (1, 2)]
    res = summarize_items("pairs", pair_rows(), clean, {})
    assert (res.headline, res.value, res.n, res.better) == ("set accuracy", 0.2, 5, "higher")
    assert 0 < res.lo < 0.2 < res.hi < 1
    assert res.clean == 1.0 and res.clean_n == 10  # only the probe's samples (6_1, 7_1 too)


def test_mediconfusion_metrics_on_the_real_pairs(shared_data) -> None:
    """A constructed answer for every image of the real 176 pairs; medgauge's numbers equal
    PROTOCOLS.md section 1 computed here straight from dataset.json."""
    from medgauge.benchmarks import create_benchmark

    path = shared_data / "mediconfusion_text_only"
    raw = json.loads((path / "dataset.json").read_text())
    bench = create_benchmark("mediconfusion", path, images="skip")
    answers = {}
    rows = []
    for i, s in enumerate(bench.samples()):
        # a fixed pattern: right, always-A, invalid every 7th, the other letter otherwise
        choice = [s.answer, "A", None, "B" if s.answer == "A" else "A"][i % 4 if i % 7 else 2]
        answers[s.id] = choice
        rows.append(row(s.id, "pair", choice == s.answer, choice, **s.metadata))
    got = pair_scores(rows)
    n = len(raw)
    ind = sum(answers[f"{k}_{m}"] == p[f"im_{m}_correct"] for k, p in raw.items() for m in (1, 2))
    set_ok = sum(all(answers[f"{k}_{m}"] == p[f"im_{m}_correct"] for m in (1, 2))
                 for k, p in raw.items())
    inv = sum(answers[f"{k}_{m}"] is None for k in raw for m in (1, 2))
    valid = [k for k in raw if None not in (answers[f"{k}_1"], answers[f"{k}_2"])]
    conf = sum(answers[f"{k}_1"] == answers[f"{k}_2"] for k in valid)
    assert n == 176 == got["pairs"]
    assert got["individual_acc"] == ind / (2 * n)
    assert got["set_acc"] == set_ok / n
    assert got["invalid"] == inv / (2 * n)
    assert got["confused"] == conf / len(valid)
    assert got["precision"] == set_ok / (len(valid) - conf)
    # categories: each image's memberships; a category in both lists counts the pair twice
    for cat in ("Cerebral", "Vascular", "Pulmonary"):
        imgs = [(k, m) for k, p in raw.items() for m in (1, 2) if cat in p[f"category_{m}"]]
        right = sum(answers[f"{k}_{m}"] == raw[k][f"im_{m}_correct"] for k, m in imgs)
        sets = sum(all(answers[f"{k}_{x}"] == raw[k][f"im_{x}_correct"] for x in (1, 2))
                   for k, _ in imgs)
        assert got["per_category"][cat]["images"] == len(imgs)
        assert got["per_category"][cat]["individual_acc"] == right / len(imgs)
        assert got["per_category"][cat]["set_acc"] == sets / len(imgs)
    assert sum(c["images"] for c in got["per_category"].values()) == 441  # statistics.json


def test_match_pairs_greedy_by_question_with_different_image_and_answer() -> None:
    def s(sid: str, q: str, a: str, img: str) -> Sample:
        return Sample(sid, q, a, "yesno", images=(ImageRef(img),))

    samples = [s("1", "Is there a fracture?", "yes", "a"), s("2", "is there a  fracture", "yes",
               "b"), s("3", "Is there a fracture?", "no", "c"), s("4", "Is there a fracture?",
               "no", "a"), s("5", "Is this an MRI?", "no", "d"), s("6", "Is there a fracture?",
               "no", "b")]
    got = match_pairs(samples)
    # 1 (yes, a) pairs with 3 (no, c); 2 (yes, b) with 4 (no, a); 6 and 5 stay alone
    assert got["1"][0] == got["3"][0] and {got["1"][1], got["3"][1]} == {1, 2}
    assert got["2"][0] == got["4"][0] and got["1"][0] != got["2"][0]
    assert "5" not in got and "6" not in got


# ---- leading (MMR) -----------------------------------------------------------------------

def test_leading_ra_and_mr_by_hand() -> None:
    items = []
    outcome = {"a": (True, True), "b": (True, False), "c": (True, False), "d": (False, True),
               "e": (False, False)}
    for sid, (pos, neg) in outcome.items():
        items += [row(sid, "positive", pos), row(sid, "leading", neg, template="t1")]
    items += [row("f", "positive", True), row("f", "leading", None, None, template="t2")]  # invalid
    items += [row("g", "positive", True), row("g", "leading", None, error="timeout")]
    items += [row("h", "positive", True)]  # the leading side is missing
    s = leading_scores(items)
    assert s["pairs"] == 6 and s["errored_pairs"] == 1 and s["unpaired"] == 1
    assert s["RA"] == 1 / 6                    # only a
    assert s["pos_right"] == 4                 # a b c f
    assert s["MR"] == 3 / 4                    # b c f (invalid counts as wrong)
    assert s["MR_by_template"] == {"t1": 2 / 3, "t2": 1.0}
    res = summarize_items("leading", items, None, {})
    assert (res.value, res.n, res.better, res.clean) == (0.75, 4, "lower", None)


# ---- followup ----------------------------------------------------------------------------

def test_followup_flip_rates_and_worst_intervention_tie() -> None:
    first = {"a": True, "b": True, "c": False, "d": True}
    items = [row(k, "initial", v) for k, v in first.items()]
    after = {"insist": {"a": False, "b": True, "c": True, "d": True},
             "authority": {"a": True, "b": False, "c": False, "d": True},
             "passage": {"a": True, "b": True, "c": False, "d": True}}
    for index, (name, outs) in enumerate(after.items()):  # template order, as the solver stores
        items += [row(k, name, v, kind="direct", template_index=index) for k, v in outs.items()]
    items.append(row("e", "initial", None, error="HTTP 500"))
    items.append(row("e", "insist", None, error="HTTP 500"))
    s = followup_scores(items)
    ins = s["interventions"]["insist"]
    assert (ins["n"], ins["acc_before"], ins["acc_after"]) == (4, 0.75, 0.75)
    assert ins["flip_right_to_wrong"] == 1 / 3 and ins["flip_wrong_to_right"] == 1.0
    assert s["interventions"]["authority"]["flip_right_to_wrong"] == 1 / 3
    assert s["interventions"]["passage"]["flip_right_to_wrong"] == 0.0
    assert s["worst_intervention"] == "insist"  # tie with authority: the first template wins
    assert list(s["interventions"]) == ["insist", "authority", "passage"]
    assert s["worst_delta"] == pytest.approx(-0.25) and s["acc_before"] == 0.75
    res = summarize_items("followup", items, None, {})
    assert (res.value, res.n) == (pytest.approx(1 / 3), 3)


# ---- permute -----------------------------------------------------------------------------

def test_rotation_maps_gold_and_options() -> None:
    s = Sample("q", "Which?", "B", "mcq", options={"A": "x", "B": "y", "C": "z"})
    v, facts = rotate(s, 1)
    assert v.options == {"A": "y", "B": "z", "C": "x"} and v.answer == "A"
    assert facts["gold_position"] == 0 and facts["origin"] == {"A": "B", "B": "C", "C": "A"}
    y = Sample("y", "Is it?", "no", "yesno")
    v, facts = rotate(y, 1)
    assert v.labels == ("no", "yes") and facts["gold_position"] == 0


def perm_rows(sid: str, picks: list[int | None], k: int = 2) -> list[dict[str, Any]]:
    """Item whose gold starts at position 0; ``picks`` = chosen position per rotation."""
    out = []
    for r, pick in enumerate(picks):
        gold = (-r) % k
        orig = None if pick is None else (pick + r) % k
        out.append(row(sid, f"rot{r}", pick == gold, None if pick is None else str(pick),
                       rotation=r, k=k, gold_position=gold, chosen_position=pick,
                       chosen_original=orig))
    return out


def test_circular_accuracy_position_bias_and_ties() -> None:
    items = (perm_rows("a", [0, 1]) + perm_rows("b", [0, 0]) + perm_rows("c", [None, 1])
             + perm_rows("d", [0]))  # d lacks a rotation
    s = permute_scores(items)
    assert s["items"] == 3 and s["incomplete_or_errored"] == 1
    assert s["circular_acc"] == 1 / 3 and s["rotation0_acc"] == 2 / 3
    assert s["consistency"] == 1 / 3           # only a picked the same original option
    # valid answers: a0 a1 b0 b0 c1 -> position 0 chosen 3/5, position 1 2/5; gold 3/6 each
    assert s["position_bias"]["0"]["chosen_share"] == 3 / 5
    assert s["position_bias"]["1"]["gold_share"] == 3 / 6
    assert s["favoured_position"] == 0
    tie = permute_scores(perm_rows("a", [0, 1]) + perm_rows("b", [1, 0]))
    assert tie["position_bias"]["0"]["chosen_share"] == 0.5
    assert tie["favoured_position"] == 0       # a tie goes to the lowest position
    assert tie["circular_acc"] == 0.5


# ---- blind (MMStar) ----------------------------------------------------------------------

def test_multimodal_gain_and_leakage() -> None:
    clean = [row(str(i), "clean", c) for i, c in enumerate([1, 1, 1, 1, 0, 0, 1, 0])]
    blind = [row(str(i), "blind", c) for i, c in enumerate([1, 0, 0, 1, 0, 1, 0, 0])]
    text = [row(str(i), "clean", c) for i, c in enumerate([1, 0, 0, 0, 0, 0, 0, 0])]
    ctx = SummaryContext(lambda rid: {"t1": text, "t0": [row(str(i), "clean", True)
                                                          for i in range(8)]}[rid])
    res = summarize_items("blind", blind, clean, {"text_run": "t1"}, ctx)
    assert res.value == pytest.approx(5 / 8 - 3 / 8)       # S_v - S_wv
    assert res.details["S_v"]["value"] == 5 / 8 and res.details["S_wv"]["value"] == 3 / 8
    assert res.details["ML"] == pytest.approx(3 / 8 - 1 / 8)
    assert res.details["right_without_image"] == 3
    assert res.details["right_without_image_wrong_with"] == 1  # item 5
    assert res.lo <= res.value <= res.hi and res.clean == 5 / 8
    # S_t above S_wv: leakage is clipped at 0
    res0 = summarize_items("blind", blind, clean, {"text_run": "t0"}, ctx)
    assert res0.details["ML"] == 0.0
    alone = summarize_items("blind", blind, None, {})
    assert alone.value == 3 / 8 and alone.clean is None


# ---- perturb -----------------------------------------------------------------------------

def test_perturb_cells_and_answer_changes_on_clean_right_items() -> None:
    clean = [row("a", "clean", True, "yes"), row("b", "clean", True, "no"),
             row("c", "clean", False, "yes")]
    items = [
        row("a", "blur@1", True, "Yes", corruption="blur", severity=1),       # same answer
        row("b", "blur@1", False, "yes", corruption="blur", severity=1),      # changed
        row("c", "blur@1", True, "no", corruption="blur", severity=1),        # clean was wrong
        row("a", "blur@5", False, None, corruption="blur", severity=5),       # invalid = change
        row("b", "blur@5", None, error="timeout", corruption="blur", severity=5),
        row("a", "jpeg@3", True, "yes", corruption="jpeg", severity=3),
    ]
    s = perturb_scores(items, clean)
    assert s["cells"]["blur@1"]["accuracy"]["value"] == 2 / 3
    assert (s["cells"]["blur@1"]["clean_right"], s["cells"]["blur@1"]["changed"]) == (2, 1)
    assert s["cells"]["blur@5"]["change_rate"] == 1.0 and s["cells"]["jpeg@3"]["changed"] == 0
    assert (s["clean_right_items"], s["changed"]) == (4, 2)
    assert s["accuracy_by_corruption"]["blur"] == {"1": 2 / 3, "5": 0.0}
    res = summarize_items("perturb", items, clean, {})
    assert (res.value, res.n, res.better) == (0.5, 4, "lower")
    assert res.clean == 2 / 3


# ---- mismatch ----------------------------------------------------------------------------

def test_flag_detector_and_rates() -> None:
    det = FlagDetector()
    assert det.match("This image does not show the abdomen; it is a chest X-ray.")
    assert det.match("I'm sorry, but I cannot determine that from this image.")
    assert det.match("The image appears to be a head CT rather than a chest film.")
    assert det.match("yes") is None and det.match("No, there is no fracture.") is None
    rows = [row("a", "mismatch", True, "yes", flagged=False, original_value="CHEST",
                swapped_value="HEAD"),
            row("b", "mismatch", False, "no", flagged=True, original_value="CHEST",
                swapped_value="HEAD"),
            row("c", "mismatch", False, None, flagged=False, original_value="HEAD",
                swapped_value="ABD"),
            row("d", "mismatch", None, error="HTTP 500")]
    s = mismatch_scores(rows)
    assert (s["answered"], s["flagged"], s["confident"], s["invalid_unflagged"]) == (3, 1, 1, 1)
    assert s["per_swap"]["CHEST -> HEAD"] == {"flag_rate": 0.5, "confident_rate": 0.5, "n": 2}
    clean = [row("a", "clean", True, "yes", response="yes"),
             row("b", "clean", True, "no", response="I cannot tell.")]
    res = summarize_items("mismatch", rows, clean, {})
    assert res.value == 1 / 3 and res.details["clean_flag_rate"] == 0.5


def test_user_flag_file_extends_the_detector(tmp_path) -> None:
    f = tmp_path / "flags.yaml"
    f.write_text("templates:\n  - {name: odd, text: 'not a knee'}\n")
    assert FlagDetector(str(f)).match("This is not a knee film.") == "odd"
    bad = tmp_path / "bad.yaml"
    bad.write_text("templates:\n  - {name: odd, text: '(unclosed'}\n")
    with pytest.raises(MedgaugeError, match="bad regular expression"):
        FlagDetector(str(bad))


# ---- confidence (Prompt4Trust) -----------------------------------------------------------

def test_prompt4trust_prompt_and_parser() -> None:
    s = Sample("q", "Which?", "C", "mcq", options={"A": "a", "B": "b", "C": "c", "D": "d"})
    prompt = elicitation(s)
    assert prompt.startswith("You are answering a multiple-choice question with four options "
                             "(A, B, C, or D). Clearly state your final answer and confidence in "
                             "the following format only: 'In conclusion, the answer is {LETTER} "
                             "with confidence {CONFIDENCE}.'")
    assert "\nQuestion:\nWhich?\nOptions:\nA. a" in prompt and prompt.endswith("\n\nAnswer:")
    cs = list(s.options)
    assert parse_verbal("In conclusion, the answer is C with confidence 85.", cs) == ("C", 0.85)
    assert parse_verbal("the answer is B with confidence 140", cs) == ("B", 1.0)
    assert parse_verbal("Answer: D\nConfidence: 30", cs) == ("D", 0.3)
    assert parse_verbal("the answer is C", cs) == (None, None)       # no confidence: invalid
    assert parse_verbal("In conclusion, the answer is yes with confidence 70.", ["yes", "no"]) \
        == ("yes", 0.7)


def test_calibration_metrics_by_hand() -> None:
    rows = [row("a", "verbal", True, "A", confidence=0.9, verbal_confidence=0.9),
            row("b", "verbal", False, "B", confidence=0.9, verbal_confidence=0.9),
            row("c", "verbal", True, "A", confidence=0.6, verbal_confidence=0.6),
            row("d", "verbal", False, "C", confidence=0.3, verbal_confidence=0.3),
            row("e", "verbal", False, None, confidence=0.0, verbal_confidence=None)]
    s = confidence_scores(rows)
    a = s["all"]
    # bins: (0.8,0.9] conf .9 acc .5 (2 items); (0.5,0.6] .6/1; (0.2,0.3] .3/0; [0,0.1] 0/0
    assert a["ece"] == pytest.approx((2 * 0.4 + 0.4 + 0.3 + 0) / 5)
    assert a["brier"] == pytest.approx((0.01 + 0.81 + 0.16 + 0.09 + 0) / 5)
    # AUROC: right {.9,.6} vs wrong {.9,.3,0}: pairs won 1 .5 1 / 1 0 1 ... = (0.5+1+1 + 0+1+1)/6
    assert a["auroc"] == pytest.approx(4.5 / 6)
    assert a["overconfidence"] == pytest.approx(1 / 3)  # wrong: .9 .3 0
    assert s["valid"]["n"] == 4 and s["invalid"] == 1
    expected = (math.log(0.9) + math.log(0.1) - 1 + math.log(0.6) + math.log(0.7) - 1
                + math.log(1e-12)) / 5
    assert s["aligned_log_score"] == pytest.approx(expected)
    assert aligned_score(1.0, False) == pytest.approx(math.log(1e-10) - 1)
    res = summarize_items("confidence", rows, None, {})
    assert res.value == pytest.approx(a["ece"]) and res.lo <= res.value <= res.hi


def test_logprob_confidence_renormalises_over_the_options() -> None:
    lp = [{"token": "In conclusion, the answer is", "logprob": -0.1, "top": []},
          {"token": " B", "logprob": math.log(0.6),
           "top": [{"token": " B", "logprob": math.log(0.6)},
                   {"token": " A", "logprob": math.log(0.2)},
                   {"token": "The", "logprob": math.log(0.1)}]},
          {"token": " with confidence 80", "logprob": -0.2, "top": []}]
    got = logprob_confidence(Response(text="x", logprobs=lp), "B", ["A", "B", "C", "D"])
    assert got == pytest.approx(0.6 / 0.8)
    assert logprob_confidence(Response(text="x"), "B", ["A", "B"]) is None


def test_a_solver_that_is_not_a_probe_gets_plain_accuracy() -> None:
    items = [row("a", "clean", True), row("b", "clean", False), row("c", "clean", None, None)]
    res = summarize_items("some-strategy", items, [row("a", "clean", True)], {})
    assert (res.headline, res.value, res.n, res.clean) == ("accuracy", 1 / 3, 3, 1.0)
    assert res.details["note"].startswith("not a probe")


def test_logprob_confidence_without_other_options_is_the_token_probability() -> None:
    lp = [{"token": "The answer is", "logprob": -0.1, "top": []},
          {"token": " B", "logprob": math.log(0.1), "top": []},
          {"token": " with confidence 70", "logprob": -0.2, "top": []}]
    got = logprob_confidence(Response(text="", logprobs=lp), "B", ["A", "B"])
    assert got == pytest.approx(0.1)  # not 1.0: no alternative to renormalise over


def test_logprob_confidence_reads_the_answer_token_not_an_article() -> None:
    lp = [{"token": "This is", "logprob": -0.1, "top": []},
          {"token": " a", "logprob": math.log(0.9), "top": [
              {"token": " a", "logprob": math.log(0.9)}, {"token": " B", "logprob": -5.0}]},
          {"token": " scan. Answer:", "logprob": -0.1, "top": []},
          {"token": " A", "logprob": math.log(0.33), "top": [
              {"token": " A", "logprob": math.log(0.33)},
              {"token": " B", "logprob": math.log(0.66)}]},
          {"token": " Confidence: 70", "logprob": -0.2, "top": []}]
    got = logprob_confidence(Response(text="", logprobs=lp), "A", ["A", "B"])
    assert got == pytest.approx(0.33 / 0.99)


def test_followup_accuracy_before_is_undefined_when_every_first_turn_failed() -> None:
    items = [row("a", "initial", None, error="HTTP 500"),
             row("a", "insist", None, error="HTTP 500", template_index=0)]
    assert math.isnan(followup_scores(items)["acc_before"])


def test_template_names_may_not_repeat_or_take_a_probe_variant(tmp_path) -> None:
    from medgauge.probes.followup import FollowupProbe
    from medgauge.types import MedgaugeError

    for names, reason in ((["dup", "dup"], "used twice"), (["initial"], "reserved")):
        f = tmp_path / "t.yaml"
        f.write_text("templates:\n" + "".join(
            f"  - {{name: {n}, kind: direct, text: 'I think it is {{wrong}}.'}}\n" for n in names))
        with pytest.raises(MedgaugeError, match=reason):
            FollowupProbe(templates=str(f))


def test_question_pairs_of_long_questions_with_a_shared_start_get_distinct_ids() -> None:
    from medgauge.probes.pairs import match_pairs
    from medgauge.types import ImageRef, Sample

    stem = "Which organ in this image is responsible for " + "x" * 40
    samples = [Sample(f"{q}{m}", stem + q, ans, "open", images=(ImageRef(f"/img/{q}{m}.jpg"),))
               for q in ("detox", "waste") for m, ans in ((1, "liver"), (2, "kidney"))]
    ids = match_pairs(samples)
    assert len(ids) == 4 and len({pid for pid, _ in ids.values()}) == 2
