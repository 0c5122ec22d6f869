"""RadGraph F1 (labelers/radgraph.py) on hand-made graphs whose set sizes give the F1 by hand,
and the extractor's loading path as far as it goes without a RadGraph model on disk."""

from __future__ import annotations

import importlib.util
import json

import pytest

from medgauge.labelers.radgraph import (
    RadGraphExtractor,
    corpus_radgraph,
    load_graphs,
    radgraph_scores,
)
from medgauge.types import MedgaugeError

OP, OA, AN = "Observation::definitely present", "Observation::definitely absent", \
    "Anatomy::definitely present"
# reference: "Small left pleural effusion. No pneumothorax."
REF = {
    "1": {"tokens": "small", "label": OP, "relations": [["modify", "2"]]},
    "2": {"tokens": "effusion", "label": OP, "relations": [["located_at", "3"]]},
    "3": {"tokens": "pleural", "label": AN, "relations": [["modify", "4"]]},
    "4": {"tokens": "left", "label": AN, "relations": []},
    "5": {"tokens": "pneumothorax", "label": OA, "relations": []},
}
# hypothesis: "Left pleural effusion. Pneumothorax." -- "small" missing, pneumothorax present
HYP = {
    "1": {"tokens": "Effusion", "label": OP, "relations": [["located_at", "2"]]},
    "2": {"tokens": "pleural", "label": AN, "relations": [["modify", "3"]]},
    "3": {"tokens": "left", "label": AN, "relations": []},
    "4": {"tokens": "pneumothorax", "label": OP, "relations": []},
}


def f1(common, n_hyp, n_ref):
    p, r = common / n_hyp, common / n_ref
    return 2 * p * r / (p + r)


def test_scores_of_hand_made_graphs():
    s = radgraph_scores(HYP, REF)
    # entities: shared effusion, pleural, left (case ignored) = 3 of 4 hyp and 5 ref
    assert s["entity_f1"] == pytest.approx(f1(3, 4, 5)) and s["rg_e"] == s["entity_f1"]
    # relations: effusion-located_at-pleural and pleural-modify-left shared; 2 of 2 and 3
    assert s["relation_f1"] == pytest.approx(f1(2, 2, 3))
    # (tokens, label, has relation): effusion T, pleural T, left F shared = 3 of 4 and 5
    assert s["rg_er"] == pytest.approx(f1(3, 4, 5))
    # complete: effusion and pleural keep the same relations; left (none) too; 3 of 4, 5
    assert s["rg_er_bar"] == pytest.approx(f1(3, 4, 5))
    moved = {**HYP, "1": {"tokens": "effusion", "label": OP, "relations": [["located_at", "3"]]}}
    m = radgraph_scores(moved, REF)  # effusion now located at "left": its relation is wrong
    assert m["entity_f1"] == s["entity_f1"] and m["rg_er"] == s["rg_er"]
    assert m["relation_f1"] == pytest.approx(f1(1, 2, 3))
    assert m["rg_er_bar"] == pytest.approx(f1(2, 4, 5))
    same = radgraph_scores(REF, {"entities": REF})
    assert all(v == 1.0 for v in same.values())
    assert radgraph_scores({}, {}) == dict.fromkeys(same, 1.0)
    assert radgraph_scores({}, REF)["entity_f1"] == 0.0
    corpus = corpus_radgraph([HYP, REF], [REF, REF])
    assert corpus["entity_f1"] == pytest.approx((f1(3, 4, 5) + 1) / 2)


def test_bad_graphs_and_files_are_one_line_errors(tmp_path):
    with pytest.raises(MedgaugeError, match="entity '1': field 'label'"):
        radgraph_scores({"1": {"tokens": "x"}}, REF)
    with pytest.raises(MedgaugeError, match="relation to unknown entity '9'"):
        radgraph_scores({"1": {"tokens": "x", "label": OP, "relations": [["modify", "9"]]}},
                        REF)
    with pytest.raises(MedgaugeError, match="1 hypothesis graphs for 2"):
        corpus_radgraph([HYP], [REF, REF])
    good = tmp_path / "graphs.json"
    good.write_text(json.dumps({"0": {"text": "…", "entities": REF}}))
    assert load_graphs(good)["0"]["5"]["tokens"] == "pneumothorax"
    bad = tmp_path / "bad.json"
    bad.write_text('{"0": {"entities": {"1": {"tokens": 3, "label": "x"}}}}')
    with pytest.raises(MedgaugeError, match=r"bad.json: 0: entity '1': field 'tokens'"):
        load_graphs(bad)
    with pytest.raises(MedgaugeError, match="not found"):
        load_graphs(tmp_path / "none.json")


def test_extractor_without_a_model_on_disk(tmp_path):
    # No RadGraph checkpoint exists on this machine: the loading path is tested up to the
    # checks that need none (missing folder; missing package, or a folder without the model).
    with pytest.raises(MedgaugeError, match="RadGraph model folder not found"):
        RadGraphExtractor(tmp_path / "absent")
    if importlib.util.find_spec("radgraph") is None:
        with pytest.raises(MedgaugeError, match="pip install radgraph"):
            RadGraphExtractor(tmp_path)
    else:
        with pytest.raises(MedgaugeError, match="could not be loaded"):
            RadGraphExtractor(tmp_path)
