"""Leaderboard tables: markdown, LaTeX, CSV."""

from __future__ import annotations

import csv
import io

import pytest

from medgauge.report import leaderboard_table
from medgauge.report.tables import latex_escape
from medgauge.types import MedgaugeError
from test_report_html import item, run


def runs() -> list[dict]:
    return [
        run("r1", "gpt_4|x", "med_qa", [item(f"s{i}", i < 7) for i in range(10)]
            + [item("e", None)]),
        run("r2", "=cmd()", "med_qa", [item(f"s{i}", i < 3) for i in range(10)]),
    ]


def test_markdown_long_and_wide() -> None:
    md = leaderboard_table(runs(), "md")
    lines = md.strip().splitlines()
    assert lines[0].startswith("| benchmark | model | accuracy % | 95% CI | n | invalid |")
    assert "| med_qa | gpt_4\\|x | 70.0 | [39.7, 89.2] | 10 | 0 | 1 |" in lines
    wide = leaderboard_table(runs(), "md", "wide")
    assert wide.splitlines()[0] == "| model | med_qa |"


def test_latex_escapes_and_booktabs() -> None:
    tex = leaderboard_table(runs(), "latex")
    assert "\\toprule" in tex and "\\bottomrule" in tex
    assert "med\\_qa & gpt\\_4|x & 70.0 & [39.7, 89.2] & 10 & 0 & 1 \\\\" in tex
    assert "accuracy \\%" in tex
    assert latex_escape("a&b%c$d#e_f{g}~^\\") == (
        "a\\&b\\%c\\$d\\#e\\_f\\{g\\}\\textasciitilde{}\\textasciicircum{}\\textbackslash{}"
    )


def test_csv_round_trip_and_formula_guard() -> None:
    text = leaderboard_table(runs(), "csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 2
    top = rows[0]
    assert top["model"] == "gpt_4|x" and top["metric"] == "accuracy"
    assert float(top["value"]) == pytest.approx(0.7)
    assert (top["n"], top["correct"], top["errors"], top["ci_method"]) == ("10", "7", "1",
                                                                            "wilson")
    assert rows[1]["model"] == "'=cmd()"


def test_unknown_format() -> None:
    with pytest.raises(MedgaugeError, match="choose one of md, latex, csv"):
        leaderboard_table(runs(), "xlsx")
    with pytest.raises(MedgaugeError, match="layout"):
        leaderboard_table(runs(), "md", "tall")
