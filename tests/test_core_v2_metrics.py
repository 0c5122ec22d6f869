"""Core v2 acceptance: "A toy corpus-level metric and a float per-item metric flow through
leaderboard, `results --by`, `compare` and the HTML report, each with an interval".

The toy corpus metric is registered in this test process, so the commands run in-process
through the functions the CLI calls (``workflow.build_tasks``/``execute``,
``workflow.show_results``, ``workflow.show_comparison``, ``report.html.render_html``); a CLI
subprocess could not see a metric registered here.  Two models answer on a local server.
"""

from __future__ import annotations

import io
import json
import math
import re
from collections import Counter
from collections.abc import Sequence
from fractions import Fraction

import pytest
from rich.console import Console

from core_v2_support import ChatServer, user_text
from medgauge.compare import compare_runs
from medgauge.config import parse_config
from medgauge.metrics import CorpusMetric, get_metric, grouped, metrics, register
from medgauge.report.html import render_html
from medgauge.report.terminal import pct
from medgauge.store import Store
from medgauge.types import Item
from medgauge.workflow import build_tasks, execute, leaderboard_rows, show_comparison, show_results

TOY = "char_overlap_corpus"


def _chars(text: str) -> Counter[str]:
    return Counter(c for c in text.lower() if c.isalnum())


class CharOverlapCorpus(CorpusMetric):
    """Toy corpus metric: letters of the gold answers found in the replies (multiset overlap),
    summed over all items, divided by the summed gold letters -- a ratio of sums, not a mean
    of per-item ratios."""

    name = TOY
    scale = 1.0
    description = "toy: sum of matched gold characters / sum of gold characters"

    def compute(self, items: Sequence[Item]) -> float:
        matched = sum(sum((_chars(it.response) & _chars(it.answer)).values()) for it in items)
        total = sum(sum(_chars(it.answer).values()) for it in items)
        return matched / total if total else math.nan


if TOY not in metrics:
    register(CharOverlapCorpus())

#: id -> (question, gold, organ, reply of "good", reply of "poor")
ITEMS = {
    "i1": ("What organ produces bile?", "liver", "abdomen", "liver", "spleen"),
    "i2": ("What is the largest artery of the body?", "aorta", "vessel", "aorta", "aorta"),
    "i3": ("What bone forms the thigh?", "femur", "limb", "femur", "tibia"),
    "i4": ("What gland makes insulin?", "pancreas", "abdomen", "pancreas", "liver"),
    "i5": ("What nerve is injured in wrist drop?", "radial nerve", "limb", "radial",
           "ulnar nerve"),
    "i6": ("What vessel drains most blood from the brain?", "internal jugular vein", "vessel",
           "jugular vein", "vein"),
    "i7": ("What organ removes old red cells?", "spleen", "abdomen", "kidney", "spleen"),
    "i8": ("What gland makes thyroxine?", "thyroid", "neck", "thyroid gland", "parathyroid"),
}
# By hand (letters of gold found in the reply / letters of gold):
#   good: 5/5 5/5 5/5 8/8 6/11 11/19 2/6 7/7 -> 49/66; abdomen (i1, i4, i7): 15/19
#   poor: 2/5 5/5 0/5 2/8 8/11 4/19 6/6 7/7 -> 34/66
TOY_GOOD, TOY_POOR, TOY_GOOD_ABDOMEN = Fraction(49, 66), Fraction(34, 66), Fraction(15, 19)
# The default open-answer rule: equal texts, or every gold token present with precision >= 0.5.
ACCURACY_GOOD, ACCURACY_POOR = 5 / 8, 2 / 8


@pytest.fixture
def two_runs(tmp_path):
    data = tmp_path / "open.jsonl"
    data.write_text("".join(json.dumps({"id": k, "question": q, "answer": a,
                                        "answer_type": "open", "metadata": {"organ": o}}) + "\n"
                            for k, (q, a, o, _, _) in ITEMS.items()))

    def reply(body: dict, index: int) -> str:
        text = user_text(body)
        row = next(r for r in ITEMS.values() if r[0] in text)
        return row[3] if body["model"] == "good" else row[4]

    server = ChatServer(reply)
    store = tmp_path / "s.db"
    cfg = parse_config({
        "store": str(store),
        "benchmarks": [{"name": "custom", "data": str(data),
                        "metrics": ["accuracy", "token_f1", TOY]}],
        "models": [{"spec": f"openai:{m}", "options": {"base_url": server.url}}
                   for m in ("good", "poor")],
    }, "test")
    out = io.StringIO()
    try:
        code = execute(cfg, build_tasks(cfg), console=Console(file=out, width=250),
                       quiet=True, resume_command="medgauge run ...")
    finally:
        server.close()
    assert code == 0, out.getvalue()
    assert server.count == 16
    s = Store(store)
    ids = {r["model"]: r["run_id"] for r in s.runs()}
    s.close()
    return store, ids, out.getvalue()


def _check(est, *, varies: bool = True) -> None:
    assert est.lo <= est.value <= est.hi, est
    if varies:
        assert est.lo < est.hi, est


def test_toy_corpus_and_float_metrics_flow_everywhere_with_intervals(two_runs):
    store_path, ids, run_output = two_runs
    store = Store(store_path, readonly=True)

    # Leaderboard: one row per declared metric and model, each with an interval.
    rows = leaderboard_rows(store, list(ids.values()))
    by = {(r["model"], r["metric"]): r["est"] for r in rows}
    assert set(by) == {(m, k) for m in ids for k in ("accuracy", "token_f1", TOY)}
    for est in by.values():
        _check(est)
        assert est.n == 8 and est.errors == 0
    assert by[("good", TOY)].value == pytest.approx(float(TOY_GOOD))
    assert by[("poor", TOY)].value == pytest.approx(float(TOY_POOR))
    assert by[("good", "accuracy")].value == pytest.approx(ACCURACY_GOOD)
    assert by[("poor", "accuracy")].value == pytest.approx(ACCURACY_POOR)
    good_items = list(store.items(ids["good"]))
    f1 = [it.metrics["f1"] for it in good_items]
    assert by[("good", "token_f1")].value == pytest.approx(sum(f1) / len(f1))
    # a corpus metric is not the mean of its per-item ratios
    per_item = [CharOverlapCorpus().compute([it]) for it in good_items]
    assert abs(sum(per_item) / len(per_item) - float(TOY_GOOD)) > 0.05  # 0.807 vs 0.742
    # the run's own leaderboard printed all three, with intervals
    for label in ("accuracy %", "token_f1 %", TOY):
        assert label in run_output
    assert f"{float(TOY_GOOD):.3f} [" in run_output

    # `results --by organ`: one breakdown table per declared metric and run.
    out = io.StringIO()
    show_results(store_path, [], ["organ"], None, Console(file=out, width=250))
    text = out.getvalue()
    for model, run_id in ids.items():
        items = list(store.items(run_id))
        for name in ("accuracy", "token_f1", TOY):
            title = f"custom | {model} | {name} by organ"
            assert title in text, text
            table = text.split(title, 1)[1]
            groups = grouped(get_metric(name), items, "organ")
            assert set(groups) == {"abdomen", "vessel", "limb", "neck"}
            for group, est in groups.items():
                _check(est, varies=False)
                assert re.search(rf"{group}\s+{re.escape(pct(est))}\s+{est.n}\s", table), table
    toy_abdomen = grouped(get_metric(TOY), good_items, "organ")["abdomen"]
    assert toy_abdomen.value == pytest.approx(float(TOY_GOOD_ABDOMEN))
    _check(toy_abdomen)

    # compare: a paired difference with its interval for each metric; McNemar for accuracy only.
    runs = [store.run_data(ids["good"]), store.run_data(ids["poor"])]
    comparisons = {c.metric: c for c in compare_runs(runs, n_resamples=1000)}
    assert set(comparisons) == {"accuracy", "token_f1", TOY}
    for name, c in comparisons.items():
        r = c.result
        assert r.n == 8 and r.lo <= r.diff <= r.hi and r.lo < r.hi
        assert (r.p_mcnemar is not None) == (name == "accuracy")
    assert comparisons[TOY].result.diff == pytest.approx(float(TOY_GOOD - TOY_POOR))
    assert comparisons["accuracy"].result.diff == pytest.approx(ACCURACY_GOOD - ACCURACY_POOR)
    out = io.StringIO()
    show_comparison(store_path, [ids["good"], ids["poor"]], False, 1000, 0, True,
                    Console(file=out, width=250))
    shown = out.getvalue()
    for name, c in comparisons.items():
        line = next(ln for ln in shown.splitlines() if f" {name} " in ln)
        k, d = c.scale, (".1f" if c.scale == 100 else ".3f")
        assert f"{k * c.result.diff:+{d}} [{k * c.result.lo:+{d}}, {k * c.result.hi:+{d}}]" \
            in line, shown
        cells = [cell.strip() for cell in line.split("\u2502")[1:-1]]
        mcnemar, holm_p = cells[8], cells[9]
        if name == "accuracy":
            assert (mcnemar, holm_p) == (f"{c.result.p_mcnemar:.3g}", f"{c.p_holm:.3g}")
        else:
            assert (mcnemar, holm_p) == ("-", "-"), line

    # The HTML report: each metric's value and interval in the leaderboard and comparisons.
    html = render_html(runs)
    for (model, name), est in by.items():
        value = f"{est.value:.3f}" if est.scale == 1 else f"{100 * est.value:.1f}"
        lo, hi = ((f"{est.lo:.3f}", f"{est.hi:.3f}") if est.scale == 1
                  else (f"{100 * est.lo:.1f}", f"{100 * est.hi:.1f}"))
        assert re.search(rf"<td>{model}</td><td>{re.escape(name)}( %)?</td>"
                         rf'<td class="num">{value}</td><td class="num">\[{lo}, {hi}\]</td>',
                         html), (model, name)
    for name in comparisons:
        assert f"<td>{name}</td><td>good</td><td>poor</td>" in html
    store.close()
