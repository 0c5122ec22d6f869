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

from medgauge.metrics import Estimate
from medgauge.report.data import RunData, normalise_runs
from medgauge.report.summary import leaderboard
from medgauge.report.terminal import fmt as fmt_value
from medgauge.report.terminal import metric_label
from medgauge.store.export import spreadsheet_safe
from medgauge.types import MedgaugeError

Format = Literal["md", "latex", "csv"]
FORMATS: tuple[str, ...] = ("md", "latex", "csv")
LONG_HEAD = ("benchmark", "model", "metric", "value", "95% CI", "n", "invalid", "errors")


def _acc(p: Estimate) -> str:
    return "–" if p.n == 0 or math.isnan(p.value) else fmt_value(p.value, p)


def _ci(p: Estimate, sep: str = ", ") -> str:
    return "–" if p.n == 0 else f"[{fmt_value(p.lo, p)}{sep}{fmt_value(p.hi, p)}]"


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
    """Render leaderboard rows (``{benchmark, model, run_id, metric, est: Estimate}``)."""
    if fmt not in FORMATS:
        raise MedgaugeError(f"unknown table format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if layout not in ("long", "wide"):
        raise MedgaugeError(f"unknown table layout {layout!r}; choose long or wide")
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["benchmark", "model", "run_id", "metric", "value", "ci_low", "ci_high",
                    "ci_method", "n", "correct", "invalid", "incomplete", "errors"])
        for r in rows:
            p: Estimate = r["est"]
            w.writerow([spreadsheet_safe(r["benchmark"]), spreadsheet_safe(r["model"]),
                        spreadsheet_safe(r["run_id"]),
                        spreadsheet_safe(p.metric), "" if p.n == 0 else f"{p.value:.6f}",
                        f"{p.lo:.6f}", f"{p.hi:.6f}", p.method, p.n,
                        "" if p.k is None else p.k, p.invalid, p.incomplete, p.errors])
        return buf.getvalue()
    if layout == "long":
        labels = {metric_label(r["est"]) for r in rows}
        one = len(labels) <= 1  # one metric throughout: it heads the value column
        head = ([*LONG_HEAD[:2], next(iter(labels), "value"), *LONG_HEAD[4:]] if one
                else list(LONG_HEAD))
        body = [[r["benchmark"], r["model"], *([] if one else [metric_label(r["est"])]),
                 _acc(r["est"]), _ci(r["est"]), str(r["est"].n), str(r["est"].invalid),
                 str(r["est"].errors)] for r in rows]
        if fmt == "md":
            return _md(head, body)
        return _latex(head, body, "llrcrrr" if one else "lllrcrrr")
    rows = [r for r in rows if r.get("headline", True)]  # wide: the headline metric per cell
    benches = sorted({r["benchmark"] for r in rows})
    models = sorted({r["model"] for r in rows})
    cell = {(r["model"], r["benchmark"]): r["est"] for r in rows}
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
