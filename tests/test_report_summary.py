"""Report numbers: comparisons, probes, calibration, breakdowns, lesion-size curves."""

from __future__ import annotations

import pytest

from medgauge.metrics import ACCURACY, grouped
from medgauge.report import summary as S
from medgauge.report.data import normalise_runs
from medgauge.stats import holm, mcnemar_exact
from test_report_html import item, run


def test_comparisons_pair_by_id_holm_across_benchmarks() -> None:
    a1 = [item(f"s{i}", True) for i in range(30)]
    b1 = [item(f"s{i}", i % 2 == 0) for i in range(28)] + [item("extra", True)]
    a2 = [item(f"t{i}", i % 3 == 0) for i in range(30)]
    b2 = [item(f"t{i}", i % 3 == 0) for i in range(30)]
    runs = normalise_runs([run("1", "A", "b1", a1), run("2", "B", "b1", b1),
                           run("3", "A", "b2", a2), run("4", "B", "b2", b2)])
    comps = S.comparisons(runs, n_resamples=2000)
    assert [(c.benchmark, c.model_a, c.model_b) for c in comps] == [("b1", "A", "B"),
                                                                    ("b2", "A", "B")]
    c1, c2 = comps
    assert c1.result.n == 28 and (c1.result.dropped_a, c1.result.dropped_b) == (2, 1)
    assert c1.result.p_mcnemar == pytest.approx(mcnemar_exact(14, 0))
    assert c1.result.outcome == "win"
    assert c2.result.diff == 0 and c2.result.p_mcnemar == 1.0 and c2.result.outcome == "tie"
    assert [c1.p_holm, c2.p_holm] == pytest.approx(holm([c1.result.p_mcnemar, 1.0]))


def test_trust_profile_delta_against_clean_variant() -> None:
    items = []
    for i in range(40):
        items.append(item(f"s{i}", True))
        items.append(item(f"s{i}", i < 10, variant="blind", metrics={"flip": float(i >= 10)}))
    rows = S.trust_profile(normalise_runs([run("p", "m", "b", items, probe="blind")]),
                           n_resamples=1000)
    clean, blind = rows
    assert (clean.variant, blind.variant) == ("clean", "blind")
    assert clean.delta is None and clean.acc.value == 1.0
    assert blind.acc.value == 0.25 and blind.delta is not None
    assert blind.delta.diff == pytest.approx(-0.75) and blind.delta.outcome == "loss"
    assert blind.metrics["flip"] == (pytest.approx(0.75), 40)


def test_trust_profile_uses_clean_run_when_probe_has_no_clean_variant() -> None:
    clean = run("c", "m", "b", [item(f"s{i}", True) for i in range(10)])
    probe = run("p", "m", "b", [item(f"s{i}", False, variant="swap") for i in range(10)],
                probe="swap")
    rows = S.trust_profile(normalise_runs([clean, probe]), n_resamples=500)
    assert len(rows) == 1 and rows[0].delta is not None and rows[0].delta.diff == -1.0


def test_calibration_only_for_confident_answered_items() -> None:
    items = [item("a", True, confidence=0.9), item("b", False, confidence=0.85),
             item("c", None, confidence=None), item("d", True)]
    cals = S.calibrations(normalise_runs([run("r", "m", "b", items),
                                          run("r2", "m", "b2", [item("x", True)])]))
    assert len(cals) == 1
    c = cals[0]
    assert c.n == 2 and c.overconfidence == 1.0 and c.auroc == 1.0
    assert sum(b.count for b in c.bins) == 2


def test_group_fields_generic_and_skip_ids_and_images() -> None:
    items = [item(f"s{i}", i % 2 == 0, metadata={
        "organ": ["chest", "head", "abd"][i % 3], "uid": f"u{i}", "images": [f"im{i % 2}.png"],
        "cats": ["x", "y"] if i % 2 else ["x"], "rare": "r" if i == 0 else None,
    }) for i in range(12)]
    runs = normalise_runs([run("r", "m", "b", items)])
    fields = S.group_fields(runs[0]["items"])
    assert fields == ["cats", "organ"]
    bd = grouped(ACCURACY, runs[0]["items"], "cats")
    assert bd["x"].n == 12 and bd["y"].n == 6  # list values count the item in each group
    only = S.breakdowns(runs, group_by=["organ", "missing"])
    assert [b.field for b in only] == ["organ"]


def test_size_curves_bins_radius() -> None:
    items = [item(f"s{i}", i >= 10, metadata={"nodule_radius": float(i)}) for i in range(20)]
    curves = S.size_curves(normalise_runs([run("r", "m", "phantom", items)]), n_bins=4)
    (cv,) = curves
    assert cv.bins[0][0] == 0.0 and cv.bins[-1][1] == 19.0 and len(cv.bins) == 4
    accs = [p.value for p in cv.per_model["m"]]
    assert accs[0] == 0.0 and accs[-1] == 1.0
    assert sum(p.n for p in cv.per_model["m"]) == 20


def test_macro_by_model_needs_two_benchmarks() -> None:
    runs = normalise_runs([
        run("1", "A", "b1", [item(f"s{i}", i < 5) for i in range(10)]),
        run("2", "A", "b2", [item(f"s{i}", i < 9) for i in range(10)]),
        run("3", "B", "b1", [item(f"s{i}", True) for i in range(10)]),
    ])
    macro = S.macro_by_model(runs)
    assert list(macro) == ["A"] and macro["A"].estimate == pytest.approx(0.7)
