"""Leaderboard as Markdown, LaTeX or CSV (``--format md|latex|csv``).

``long`` layout (default): one row per benchmark x model with accuracy, 95% CI, n, invalid and
errors.  ``wide`` layout (md/latex only): models as rows, benchmarks as columns, each cell
``acc [lo, hi]`` (n and invalid counts go in the long table or the CSV).
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Sequence
from typing import Any, Literal

from medgauge.report.data import RunData, normalise_runs
from medgauge.report.summary import leaderboard
from medgauge.stats import Proportion
from medgauge.store.export import spreadsheet_safe
from medgauge.types import MedgaugeError

Format = Literal["md", "latex", "csv"]
FORMATS: tuple[str, ...] = ("md", "latex", "csv")
LONG_HEAD = ("benchmark", "model", "accuracy %", "95% CI", "n", "invalid", "errors")


def _acc(p: Proportion) -> str:
    return "–" if p.n == 0 or math.isnan(p.value) else f"{100 * p.value:.1f}"


def _ci(p: Proportion, sep: str = ", ") -> str:
    return "–" if p.n == 0 else f"[{100 * p.lo:.1f}{sep}{100 * p.hi:.1f}]"


def _md_cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
}
_LATEX_RE = re.compile("|".join(re.escape(k) for k in _LATEX_SPECIAL))


def latex_escape(text: str) -> str:
    text = text.replace("\n", " ")
    return _LATEX_RE.sub(lambda m: _LATEX_SPECIAL[m.group()], text).replace("–", "--")


def _md(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(_md_cell(h) for h in head) + " |",
             "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(_md_cell(c) for c in r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def _latex(head: Sequence[str], rows: Sequence[Sequence[str]], align: str) -> str:
    lines = [f"\\begin{{tabular}}{{{align}}}", "\\toprule",
             " & ".join(latex_escape(h) for h in head) + " \\\\", "\\midrule"]
    lines += [" & ".join(latex_escape(c) for c in r) + " \\\\" for r in rows]
    lines += ["\\bottomrule", "\\end{tabular}"]
    return "\n".join(lines) + "\n"


def render_leaderboard(
    rows: Sequence[dict[str, Any]], fmt: str = "md", layout: str = "long"
) -> str:
    """Render leaderboard rows (``{benchmark, model, run_id, acc: Proportion}``)."""
    if fmt not in FORMATS:
        raise MedgaugeError(f"unknown table format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if layout not in ("long", "wide"):
        raise MedgaugeError(f"unknown table layout {layout!r}; choose long or wide")
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["benchmark", "model", "run_id", "accuracy", "ci_low", "ci_high", "ci_method",
                    "n", "correct", "invalid", "errors"])
        for r in rows:
            p: Proportion = r["acc"]
            w.writerow([spreadsheet_safe(r["benchmark"]), spreadsheet_safe(r["model"]),
                        spreadsheet_safe(r["run_id"]),
                        "" if p.n == 0 else f"{p.value:.6f}", f"{p.lo:.6f}", f"{p.hi:.6f}",
                        p.method, p.n, p.k, p.invalid, p.errors])
        return buf.getvalue()
    if layout == "long":
        body = [[r["benchmark"], r["model"], _acc(r["acc"]), _ci(r["acc"]), str(r["acc"].n),
                 str(r["acc"].invalid), str(r["acc"].errors)] for r in rows]
        if fmt == "md":
            return _md(LONG_HEAD, body)
        return _latex(LONG_HEAD, body, "llrcrrr")
    benches = sorted({r["benchmark"] for r in rows})
    models = sorted({r["model"] for r in rows})
    cell = {(r["model"], r["benchmark"]): r["acc"] for r in rows}
    wide = []
    for m in models:
        line = [m]
        for b in benches:
            p = cell.get((m, b))
            line.append("" if p is None else f"{_acc(p)} {_ci(p)}".strip())
        wide.append(line)
    head = ["model", *benches]
    if fmt == "md":
        return _md(head, wide)
    return _latex(head, wide, "l" + "c" * len(benches))


def leaderboard_table(runs: Sequence[RunData], fmt: str = "md", layout: str = "long") -> str:
    """The leaderboard of clean runs as ``md``, ``latex`` (booktabs) or ``csv`` text."""
    return render_leaderboard(leaderboard(normalise_runs(runs)), fmt, layout)
