"""Per-report scoring rule of ``answer_type="report"`` (report generation).

A generated report is judged against the sample's reference report (``Sample.answer``):

- ``extracted``: the report cleaned as R2Gen cleans it (``metadata["cleaning"]``, default
  ``iu_xray``; ``medgauge.metrics.nlg.clean_report``), or ``None`` (invalid) when the response
  holds no words;
- ``metrics``: ``rouge_l`` (pycocoevalcap's ROUGE-L of the cleaned texts, beta 1.2),
  ``ce_f1`` (example-based CheXpert F1 of this report, rule-based labeler, uncertain counted as
  negative; ``medgauge.metrics.clinical``) and ``ce_f1_uncertain_positive``;
- ``correct``: the generated report's 14 CheXpert labels equal the reference's (clinical exact
  match, uncertain as negative).

Corpus metrics (BLEU-1..4, METEOR, CIDEr, corpus CE) are functions of all reports at once; they
are computed from the stored responses by ``medgauge.metrics.nlg.CocoCorpus`` and
``medgauge.metrics.clinical.report_ce`` (see docs/benchmarks.md), not per item here.
"""

from __future__ import annotations

from medgauge.scoring.base import Judgement
from medgauge.types import MedgaugeError, Sample


def _rouge_l(prediction: str, reference: str) -> float:
    try:
        from pycocoevalcap.rouge.rouge import Rouge
    except ImportError:
        raise MedgaugeError("report scoring needs pycocoevalcap: pip install "
                            "'medgauge[report]'") from None
    return float(Rouge().calc_score([prediction], [reference]))


def score_report(sample: Sample, text: str) -> Judgement:
    from medgauge.labelers.chexpert_rules import OBSERVATIONS, label_report
    from medgauge.metrics.clinical import binarise, example_f1
    from medgauge.metrics.nlg import clean_report

    cleaning = sample.metadata.get("cleaning", "iu_xray")
    if not any(ch.isalnum() for ch in text or ""):
        return Judgement(None, False, {"rouge_l": 0.0, "ce_f1": 0.0,
                                       "ce_f1_uncertain_positive": 0.0})
    got = clean_report(text, cleaning)
    gold = clean_report(sample.answer, cleaning)
    labels = [label_report(sample.answer), label_report(text)]
    metrics = {"rouge_l": _rouge_l(got, gold)}
    exact = False
    for convention, name in (("negative", "ce_f1"), ("positive", "ce_f1_uncertain_positive")):
        ref, gen = binarise(labels, OBSERVATIONS, uncertain=convention)[[0]], \
            binarise(labels, OBSERVATIONS, uncertain=convention)[[1]]
        metrics[name] = float(example_f1(ref, gen)[0])
        if convention == "negative":
            exact = bool((ref == gen).all())
    return Judgement(got, exact, metrics)
