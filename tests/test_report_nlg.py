"""Report-generation text metrics (medgauge.metrics.nlg): R2Gen cleaning on real IU X-ray
reports, and every corpus / per-report / resampled value against pycocoevalcap called directly.
METEOR and the PTB tokenizer need Java (CI installs default-jre-headless)."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pytest

from medgauge.metrics import nlg
from medgauge.types import MedgaugeError

coco = pytest.importorskip("pycocoevalcap", reason="needs the report extra (pycocoevalcap)")
from pycocoevalcap.bleu.bleu import Bleu  # noqa: E402
from pycocoevalcap.cider.cider import Cider  # noqa: E402
from pycocoevalcap.rouge.rouge import Rouge  # noqa: E402

needs_java = pytest.mark.skipif(
    shutil.which("java") is None,
    reason="METEOR/PTB need Java (apt-get install default-jre-headless)")

# A small hand-made corpus: paraphrases, a perfect match, an empty output, two references.
PREDS = [
    "The heart is normal in size. The lungs are clear.",
    "No pneumothorax or pleural effusion.",
    "Heart size is enlarged. Small left pleural effusion!",
    "",
    "Mild cardiomegaly; no focal consolidation (stable).",
]
REFS = [
    ["Heart size is normal. Lungs are clear."],
    ["No pneumothorax or pleural effusion."],
    ["Cardiomegaly. Left pleural effusion is small.", "The heart is enlarged with a small "
                                                      "left effusion."],
    ["No acute cardiopulmonary abnormality."],
    ["Stable mild cardiomegaly. No consolidation."],
]


def _direct(preds: list[str], refs: list[list[str]]) -> dict[str, float]:
    """pycocoevalcap's scorers called the way R2Gen calls them."""
    gts = dict(enumerate(refs))
    res = {i: [p] for i, p in enumerate(preds)}
    b, _ = Bleu(4).compute_score(gts, res, verbose=0)
    out = {f"BLEU-{k + 1}": b[k] for k in range(4)}
    out["ROUGE-L"] = Rouge().compute_score(gts, res)[0]
    out["CIDEr"] = Cider().compute_score(gts, res)[0]
    return out


def _cleaned(preds, refs, cleaning="iu_xray"):
    return ([nlg.clean_report(p, cleaning) for p in preds],
            [[nlg.clean_report(r, cleaning) for r in rs] for rs in refs])


@pytest.fixture(scope="module")
def iu_test(shared_data_module) -> list[dict]:
    path = shared_data_module / "iu_xray_reports_text_only" / "r2gen_test_590.json"
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def shared_data_module():
    from conftest import DATA

    if not DATA.exists():
        pytest.skip(f"needs {DATA} (the shared benchmark data beside the checkout); absent here")
    return DATA


# --- cleaning ---------------------------------------------------------------------------------

def test_iu_cleaning_rules_on_crafted_text():
    text = ('1. Heart size normal.. 2. No "focal" consolidation, effusion: or pneumothorax!'
            " 3. Post-surgical changes (left) at T10/T11; x-ray [old].")
    assert nlg.clean_report_iu_xray(text) == (
        "heart size normal . no focal consolidation effusion or pneumothorax"
        " . post-surgical changes left at t10t11 x-ray old ."
    )
    # the hyphen survives (R2Gen's ":-\[" is a range), so do '#' and digits
    assert nlg.clean_report("Level #3 - stable.") == "level #3 - stable ."
    assert nlg.clean_report("") == "."
    with pytest.raises(MedgaugeError, match="unknown report cleaning"):
        nlg.clean_report("x", "chexpert")


def test_mimic_cleaning_differs_from_iu_on_newlines_underscores_and_dots():
    text = "FINDINGS:\nET tube __ cm above the carina.... Lungs clear."
    assert nlg.clean_report_mimic_cxr(text) == (
        "findings et tube  cm above the carina . lungs clear .")
    # IU keeps the newline inside the first "sentence" and only three ".." passes
    assert "\n" in nlg.clean_report_iu_xray(text)
    assert nlg.clean_report(text, "mimic_cxr") == ("findings et tube cm above the carina . "
                                                   "lungs clear .")


def test_cleaning_of_real_iu_xray_reports(iu_test):
    first = iu_test[0]["report"]
    assert first.startswith("Normal cardiomediastinal silhouette.")
    assert nlg.clean_report(first) == (
        "normal cardiomediastinal silhouette . there is no focal consolidation . there are no "
        "xxxx of a large pleural effusion . there is no pneumothorax . there is no acute bony "
        "abnormality seen ."
    )
    for item in iu_test:
        cleaned = nlg.clean_report(item["report"])
        assert cleaned.endswith(" .") or cleaned == "."
        assert not re.search(r"[A-Z,;:()!?\"'/]", cleaned), cleaned
        assert "  " not in cleaned
        words = re.findall(r"[a-z]+", item["report"].lower())
        assert words[:3] == re.findall(r"[a-z]+", cleaned)[:3]  # nothing lost at the start


def test_r2gen_reference_vocabulary_and_truncation(shared_data_module):
    data = json.loads((shared_data_module / "iu_xray_reports_text_only" /
                       "r2gen_annotation.json").read_text())
    vocab = nlg.r2gen_vocabulary([nlg.clean_report(x["report"]) for x in data["train"]], 3)
    assert {"heart", "lungs", "pneumothorax", "."} <= vocab
    test = [nlg.clean_report(x["report"]) for x in data["    "]]
    decoded = [nlg.r2gen_reference(t, vocab, 59) for t in test]
    assert sum(len(t.split()) > 59 for t in test) == 29
    assert max(len(d.split()) for d in decoded) == 59
    assert any("<unk>" in d for d in decoded)


# --- corpus values against pycocoevalcap ------------------------------------------------------

@needs_java
def test_corpus_and_per_item_values_equal_pycocoevalcap_called_directly():
    preds, refs = _cleaned(PREDS, REFS)
    direct = _direct(preds, refs)
    corpus = nlg.CocoCorpus.build(PREDS, REFS)
    for name, value in direct.items():
        assert corpus.corpus[name] == pytest.approx(value, abs=1e-12), name
    from pycocoevalcap.meteor.meteor import Meteor

    gts, res = dict(enumerate(refs)), {i: [p] for i, p in enumerate(preds)}
    meteor = Meteor()
    m_score, m_items = meteor.compute_score(gts, res)
    assert corpus.corpus["METEOR"] == pytest.approx(m_score, abs=1e-12)
    np.testing.assert_allclose(corpus.items["METEOR"], m_items)
    _, bleu_items = Bleu(4).compute_score(gts, res, verbose=0)
    np.testing.assert_allclose(corpus.items["BLEU-4"], bleu_items[3])
    np.testing.assert_allclose(corpus.items["ROUGE-L"], Rouge().compute_score(gts, res)[1])
    np.testing.assert_allclose(corpus.items["CIDEr"], Cider().compute_score(gts, res)[1])
    assert corpus.items["ROUGE-L"][1] == pytest.approx(1.0)  # the perfect match
    assert nlg.coco_scores(PREDS, REFS) == corpus.corpus


@needs_java
def test_ptb_variant_equals_ptb_tokenizer_then_scorers():
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

    raw_gts = {i: [{"caption": r} for r in rs] for i, rs in enumerate(REFS)}
    raw_res = {i: [{"caption": p}] for i, p in enumerate(PREDS)}
    gts, res = PTBTokenizer().tokenize(raw_gts), PTBTokenizer().tokenize(raw_res)
    direct = _direct([res[i][0] for i in range(len(PREDS))], [gts[i] for i in range(len(REFS))])
    got = nlg.coco_scores(PREDS, REFS, cleaning=None, tokenizer="ptb",
                          metrics=("BLEU-1", "BLEU-4", "ROUGE-L", "CIDEr"))
    for name in got:
        assert got[name] == pytest.approx(direct[name], abs=1e-12), name
    assert set(got) == {"BLEU-1", "BLEU-4", "ROUGE-L", "CIDEr"}


@needs_java
def test_resampled_scores_equal_pycocoevalcap_on_the_resampled_corpus(iu_test):
    # a "model" that writes the next study's report; a few exact copies give METEOR's
    # whole-match special case
    refs = [[x["report"]] for x in iu_test[:120]]
    preds = [iu_test[i + 1]["report"] if i % 17 else iu_test[i]["report"] for i in range(120)]
    corpus = nlg.CocoCorpus.build(preds, refs)
    rng = np.random.default_rng(3)
    for _ in range(3):
        idx = rng.integers(0, 120, 120)
        fast = corpus.scores(idx)
        exact = nlg.coco_scores(preds, refs, indexes=idx)
        for name in ("BLEU-1", "BLEU-2", "BLEU-3", "BLEU-4", "METEOR", "ROUGE-L"):
            assert fast[name] == pytest.approx(exact[name], abs=1e-12), name
        # CIDEr keeps the whole corpus's document frequencies: close, not equal
        assert fast["CIDEr"] == pytest.approx(exact["CIDEr"], rel=0.15)
    assert corpus.scores(np.arange(120)) == pytest.approx(corpus.corpus, abs=1e-12)


@needs_java
def test_meteor_aggregation_equals_the_jar(iu_test):
    refs = [[x["report"]] for x in iu_test[:200]]
    preds = [iu_test[i + 1]["report"] if i % 9 else iu_test[i]["report"] for i in range(200)]
    p, r = nlg.prepare_texts(preds, refs)
    with nlg.meteor_process() as proc:
        stats = [proc.statistics(a, b) for a, b in zip(p, r, strict=True)]
        matrix = np.asarray([[float(v) for v in s.split()] for s in stats])
        rng = np.random.default_rng(0)
        for _ in range(5):
            idx = rng.integers(0, 200, 200)
            jar = proc.evaluate([stats[i] for i in idx])[1]
            assert nlg.meteor_from_statistics(matrix[idx]) == pytest.approx(jar, abs=1e-12)


@needs_java
def test_bootstrap_is_seeded_and_paired_differences_cancel():
    corpus = nlg.CocoCorpus.build(PREDS, REFS)
    a = corpus.bootstrap(50, seed=1)
    b = corpus.bootstrap(50, seed=1)
    assert set(a) == set(nlg.COCO_METRICS)
    np.testing.assert_array_equal(a["BLEU-4"], b["BLEU-4"])
    assert a["ROUGE-L"].std() > 0
    same = corpus.bootstrap(20, seed=2, paired_with=corpus)
    assert all(np.all(v == 0) for v in same.values())


def test_bad_inputs_are_one_line_errors():
    with pytest.raises(MedgaugeError, match="2 predictions for 1 reference"):
        nlg.prepare_texts(["a", "b"], [["a"]])
    with pytest.raises(MedgaugeError, match="item 0 needs a non-empty list"):
        nlg.prepare_texts(["a"], [[]])
    with pytest.raises(MedgaugeError, match="unknown report metrics"):
        nlg.CocoCorpus.build(["a"], [["a"]], metrics=("SPICE",))
    with pytest.raises(MedgaugeError, match="unknown tokenizer"):
        nlg.prepare_texts(["a"], [["a"]], tokenizer="nltk")
    corpus = nlg.CocoCorpus.build(["a b c"], [["a b d"]], metrics=("BLEU-1", "ROUGE-L"))
    with pytest.raises(MedgaugeError, match="out of range"):
        corpus.scores([3])
    assert corpus.scores([0, 0]) == pytest.approx(corpus.corpus)
