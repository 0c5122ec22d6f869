"""Open-ended text metrics: argument order, empty answers, BLEU-1 brevity penalty."""

from __future__ import annotations

import math

import pytest

from medgauge.metrics.text import (
    bleu1,
    exact_match,
    normalise,
    text_scores,
    token_f1,
    token_precision,
    token_recall,
    tokens,
)


def test_normalise_drops_case_punctuation_articles_keeps_decimals() -> None:
    assert normalise("The Right Lung.") == "right lung"
    assert normalise("2.5 cm") == "2.5 cm"
    assert normalise("Posterior-Anterior") == "posterior anterior"
    assert tokens("右肺上叶") == ["右", "肺", "上", "叶"]


def test_exact_match_is_normalised() -> None:
    assert exact_match("  the right lung. ", "Right lung") == 1.0
    assert exact_match("left lung", "Right lung") == 0.0


def test_argument_order_prediction_then_reference() -> None:
    pred, ref = "multiple pulmonary nodules", "pulmonary nodules"
    assert token_precision(pred, ref) == pytest.approx(2 / 3)
    assert token_recall(pred, ref) == 1.0
    assert token_precision(ref, pred) == 1.0
    assert token_recall(ref, pred) == pytest.approx(2 / 3)
    assert token_f1(pred, ref) == pytest.approx(0.8)
    assert token_f1(pred, ref) == token_f1(ref, pred)


@pytest.mark.parametrize("metric", [exact_match, token_precision, token_recall, token_f1, bleu1])
def test_empty_answers(metric) -> None:
    assert metric("", "") == 1.0
    assert metric(None, "") == 1.0
    assert metric("", "free air") == 0.0
    assert metric("free air", "") == 0.0
    assert metric("...", "free air") == 0.0  # punctuation only normalises to empty


def test_overlap_counts_repeated_tokens_once_each() -> None:
    assert token_precision("no no", "no") == 0.5
    assert token_recall("no", "no no") == 0.5


def test_bleu1_brevity_penalty_and_precision() -> None:
    assert bleu1("nodules", "pulmonary nodules") == pytest.approx(math.exp(1 - 2 / 1))
    assert bleu1("multiple pulmonary nodules", "pulmonary nodules") == pytest.approx(2 / 3)
    assert bleu1("pulmonary nodules", "pulmonary nodules") == 1.0
    assert bleu1("liver", "pulmonary nodules") == 0.0


def test_chinese_answers_get_character_credit() -> None:
    assert token_recall("右肺", "右肺上叶") == 0.5
    assert exact_match("腹部。", "腹部") == 1.0


def test_text_scores_keys() -> None:
    scores = text_scores("Free air under the diaphragm", "free air")
    assert set(scores) == {"exact", "precision", "recall", "f1", "bleu1"}
    assert scores["exact"] == 0.0 and scores["recall"] == 1.0
