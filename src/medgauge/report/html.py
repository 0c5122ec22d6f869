"""One self-contained HTML report (inline CSS, JS and SVG; no network, no CDN).

Everything that came from a model or a dataset is untrusted: it is escaped with
``html.escape`` when written as HTML, and the failed-item browser gets its rows as JSON inside a
``<script type="application/json">`` block (with ``<``, ``>``, ``&``, U+2028 and U+2029 escaped)
and inserts them with ``textContent`` only.  A Content-Security-Policy allows only this file's
own script (by hash), inline styles and ``data:`` images, so nothing is fetched over the network
and injected markup could not run even if it slipped through.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import io
import json
import math
import re
from collections import defaultdict
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

from medgauge.metrics import Estimate
from medgauge.report import summary as S
from medgauge.report import svg
from medgauge.report.data import ItemData, RunData, is_failed, normalise_runs, redact
from medgauge.report.terminal import fmt, metric_label
from medgauge.stats import win_tie_loss

MAX_FAILED_ROWS = 2000
MAX_QUESTION_CHARS = 1200
MAX_RESPONSE_CHARS = 2000
THUMB_PX = 192

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1b1b1b;
background:#fff}
header{background:#12355b;color:#fff;padding:14px 24px}header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;opacity:.85}nav{padding:6px 24px;background:#eef2f7;position:sticky;top:0;
z-index:1}nav a{margin-right:14px;color:#12355b}main{padding:8px 24px 40px;max-width:1400px}
h2{border-bottom:2px solid #12355b;padding-bottom:3px;margin-top:30px}h3{margin:18px 0 6px}
table{border-collapse:collapse;margin:6px 0 12px}th,td{border:1px solid #d5dbe3;padding:3px 7px;
text-align:left;vertical-align:top}th{background:#f3f6fa}td.num{text-align:right;
font-variant-numeric:tabular-nums}.note{color:#555;font-size:13px}.grid{stroke:#e3e7ee}
svg text{font-size:11px;fill:#333}svg .ttl{font-size:13px;font-weight:600}
.whisk{stroke:#222;stroke-width:1.4;fill:none}.diag{stroke:#999;stroke-dasharray:4 3}
.conf{stroke:#ee6677;stroke-width:2}.cards{display:flex;flex-wrap:wrap;gap:18px}
.card{border:1px solid #d5dbe3;border-radius:6px;padding:8px}.win{color:#1a7f37;font-weight:600}
.loss{color:#b42318;font-weight:600}.hm td.cell{text-align:center;min-width:90px}
#failed td.txt{white-space:pre-wrap;max-width:420px;word-break:break-word;font-size:13px}
#failed td:not(.txt){white-space:nowrap}
#failed img{display:block;max-width:160px;margin-bottom:4px}.filters{margin:8px 0}
.filters>*{margin-right:10px}pre{white-space:pre-wrap;font-size:12px;max-width:700px}
"""

JS = """(function(){var d=JSON.parse(document.getElementById('failed-data').textContent);
var M=d.models,B=d.benchmarks,tb=document.getElementById('failed-body'),
fm=document.getElementById('f-model'),fb=document.getElementById('f-bench'),
fq=document.getElementById('f-text'),cnt=document.getElementById('f-count'),
more=document.getElementById('f-more'),PAGE=100,limit=PAGE,hits=[];
function opt(s,l){l.forEach(function(v,i){var o=document.createElement('option');
o.value=String(i);o.textContent=v;s.appendChild(o);});}opt(fm,M);opt(fb,B);
var rows=d.rows.map(function(r){var v=[M[r[0]],B[r[1]],r[2],r[3],r[4],r[5],r[6],r[7]];
return {r:r,v:v,s:v.join('\\n').toLowerCase(),tr:null};});
function build(x){var tr=document.createElement('tr');x.v.forEach(function(t,j){
var td=document.createElement('td');td.textContent=t;if(j>=4)td.className='txt';
tr.appendChild(td);});var u=x.r[8];if(u&&u.indexOf('data:image/jpeg;base64,')===0){
var im=document.createElement('img');im.src=u;im.alt='item image';
tr.cells[4].insertBefore(im,tr.cells[4].firstChild);}return tr;}
function show(){var f=document.createDocumentFragment();tb.textContent='';
hits.slice(0,limit).forEach(function(x){if(!x.tr)x.tr=build(x);f.appendChild(x.tr);});
tb.appendChild(f);var n=Math.min(limit,hits.length);
cnt.textContent=n+' of '+hits.length+' matching shown ('+rows.length+' in total)';
more.hidden=hits.length<=limit;}
function apply(){var m=fm.value,b=fb.value,q=fq.value.toLowerCase();
hits=rows.filter(function(x){return (m===''||x.r[0]===+m)&&(b===''||x.r[1]===+b)&&
(!q||x.s.indexOf(q)>=0);});limit=PAGE;show();}
more.addEventListener('click',function(){limit+=PAGE;show();});
fm.addEventListener('change',apply);fb.addEventListener('change',apply);
fq.addEventListener('input',apply);var h=location.hash;if(h.indexOf('#q=')===0){
fq.value=decodeURIComponent(h.slice(3));}apply();})();"""


def _e(x: Any) -> str:
    return escape(str(x), quote=True)


def _pct(x: float) -> str:
    return "–" if x is None or math.isnan(x) else f"{100 * x:.1f}"


def _ci(p: Estimate) -> str:
    return "–" if p.n == 0 else f"[{fmt(p.lo, p)}, {fmt(p.hi, p)}]"


def _val(p: Estimate) -> str:
    return "–" if p.n == 0 or math.isnan(p.value) else fmt(p.value, p)


def _num(x: float | None, fmt: str = ".3f") -> str:
    return "–" if x is None or math.isnan(x) else format(x, fmt)


def _p(x: float | None) -> str:
    if x is None or math.isnan(x):
        return "–"
    return "<0.0001" if x < 1e-4 else f"{x:.4f}"


_NUMERIC = re.compile(r"^(<0\.|[-–+\[]?\d|–$)")


def _table(head: Sequence[str], rows: Sequence[Sequence[str]], cls: str = "") -> str:
    """``rows`` cells are already-safe HTML; numeric-looking cells are right-aligned."""
    th = "".join(f"<th>{_e(h)}</th>" for h in head)
    body = []
    for r in rows:
        tds = []
        for c in r:
            is_num = len(c) < 28 and _NUMERIC.match(c) is not None
            tds.append(f'<td class="num">{c}</td>' if is_num else f"<td>{c}</td>")
        body.append("<tr>" + "".join(tds) + "</tr>")
    c = f' class="{cls}"' if cls else ""
    return f"<table{c}><thead><tr>{th}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{anchor}"><h2>{_e(title)}</h2>{body}</section>'


# ---- sections ---------------------------------------------------------------------------------

def _runs_section(runs: Sequence[RunData]) -> str:
    rows = []
    for r in runs:
        cfg = json.dumps(redact(r["config"]), indent=1, sort_keys=True, default=str)
        rows.append([
            _e(r["run_id"]), _e(r["model"]), _e(r["benchmark"]), _e(r["probe"] or "clean"),
            _e(r["status"]), _e(r["started"]), str(len(r["items"])),
            f"<details><summary>config</summary><pre>{_e(cfg)}</pre></details>",
        ])
    head = ["run", "model", "benchmark", "probe", "status", "started", "items", "config"]
    return _section("runs", "Runs", _table(head, rows))


def _leaderboard_section(runs: Sequence[RunData], board: list[dict[str, Any]]) -> str:
    rows = []
    for r in board:
        p: Estimate = r["est"]
        inv = f"{p.invalid} ({_pct(p.invalid_rate)}%)" if p.n else str(p.invalid)
        rows.append([_e(r["benchmark"]), _e(r["model"]), _e(metric_label(p)), _val(p), _ci(p),
                     str(p.n), inv, str(p.incomplete), str(p.errors), _e(p.method),
                     _e(r["run_id"])])
    head = ["benchmark", "model", "metric", "value", "95% CI", "n", "invalid", "incomplete",
            "errors", "interval", "run"]
    note = ('<p class="note">Each benchmark\'s declared metrics (the first is its headline). '
            "Accuracy = correct / answered items; invalid (unparseable) and incomplete (cut off) "
            "answers count as wrong and are shown beside; request errors are excluded from n and "
            "shown apart. Intervals: Wilson 95% for proportions, or a cluster bootstrap when items "
            "share a cluster (image or case); percentile bootstrap for means and corpus-level "
            "metrics.</p>")
    body = note + _table(head, rows)
    for metric in S.macro_metrics(runs):
        macro = S.macro_by_model(runs, metric)
        if not macro:
            continue
        mrows = [[_e(m), _pct(a.estimate), f"[{100 * a.lo:.1f}, {100 * a.hi:.1f}]",
                  _e(", ".join(sorted(a.per_benchmark)))] for m, a in macro.items()]
        body += (f"<h3>Macro average over benchmarks: {_e(metric)}</h3><p class=\"note\">"
                 "Unweighted mean of per-benchmark values; 95% interval from 10,000 bootstrap "
                 "resamples drawn within each benchmark, then averaged.</p>"
                 + _table(["model", f"macro {metric} %", "95% CI", "benchmarks"], mrows))
    return _section("leaderboard", "Leaderboard", body)


def _graders_section(runs: Sequence[RunData]) -> str:
    """Model-graded runs: graders, their invalid rate, tokens, cost and inter-grader kappa."""
    from medgauge.report.graders import grader_summary

    rows = []
    for run in runs:
        s = grader_summary(run) if run["probe"] is None else None
        if s is None:
            continue
        k = s.kappa
        kap = "-" if k is None else (f"{k.method} {_num(k.value, '.2f')} "
                                     f"[{_num(k.lo, '.2f')}, {_num(k.hi, '.2f')}] n={k.n}")
        rows.append([_e(s.benchmark), _e(run["model"]), _e(s.scorer),
                     _e(", ".join(s.graders.values())), str(s.asked),
                     f"{s.invalid} ({_pct(s.invalid_rate)}%) [{_pct(s.invalid_lo)}, "
                     f"{_pct(s.invalid_hi)}]" if s.asked else "-",
                     f"{s.prompt_tokens} / {s.completion_tokens}",
                     "-" if s.cost_usd is None else f"{s.cost_usd:.4f}", kap, _e(s.run_id)])
    if not rows:
        return ""
    head = ["benchmark", "model", "scorer", "graders", "asked", "grader invalid [95% CI]",
            "tokens in / out", "cost (USD)", "inter-grader kappa [95% CI]", "run"]
    note = ('<p class="note">Answers judged by grader models. Grader invalid: the grader\'s '
            "reply held no readable verdict (counted wrong, never guessed).</p>")
    return _section("graders", "Graders", note + _table(head, rows))


def _charts_section(board: list[dict[str, Any]]) -> str:
    by_chart: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in board:
        if r["est"].scale == 100:  # bars on a 0-100% axis
            by_chart[(r["benchmark"], r["metric"])].append(r)
    models = sorted({r["model"] for r in board})  # one colour per model across charts
    figs = [
        '<div class="card">'
        + svg.bar_chart([r["model"] for r in rs], [r["est"] for r in rs], f"{bench}: {metric}",
                        [svg.colour(models.index(r["model"])) for r in rs])
        + "</div>"
        for (bench, metric), rs in sorted(by_chart.items())
    ]
    if not figs:
        return ""
    return _section("charts", "Metrics by benchmark", f'<div class="cards">{"".join(figs)}</div>')


def _heat_cell(p: Estimate | None) -> str:
    if p is None or p.n == 0:
        errs = "" if p is None else f" ({p.errors} err)"
        return f'<td class="cell">–{errs}</td>'
    shade = min(1.0, max(0.0, p.value)) if p.scale == 100 else 0.5
    light = 96 - 58 * shade
    fg = "#fff" if light < 60 else "#111"
    tip = (f"{fmt(p.value, p)} [{fmt(p.lo, p)}, {fmt(p.hi, p)}] ({p.method}), n={p.n}, "
           f"invalid={p.invalid}")
    return (f'<td class="cell" style="background:hsl(210,65%,{light:.0f}%);color:{fg}" '
            f'title="{_e(tip)}">{fmt(p.value, p)}<br><small>n={p.n}</small></td>')


def _breakdown_section(runs: Sequence[RunData], group_by: Sequence[str] | None) -> str:
    parts = []
    for bd in S.breakdowns(runs, group_by):
        head = "".join(f"<th>{_e(m)}</th>" for m in bd.models)
        rows = "".join(
            f"<tr><th>{_e(g)}</th>" + "".join(_heat_cell(bd.cells.get((g, m))) for m in bd.models)
            + "</tr>" for g in bd.groups
        )
        parts.append(f"<h3>{_e(bd.benchmark)}: {_e(bd.metric)} by {_e(bd.field)}</h3>"
                     "<table class=\"hm\"><thead>"
                     f"<tr><th>{_e(bd.field)}</th>{head}</tr></thead><tbody>{rows}</tbody></table>")
    if not parts:
        return ""
    note = ('<p class="note">The headline metric per metadata group (hover for the 95% '
            "interval, clustered where items share images). Items listing several values count "
            "in each group; items without the field form the (none) group.</p>")
    return _section("breakdowns", "Breakdowns", note + "".join(parts))


def _comparison_section(runs: Sequence[RunData]) -> str:
    comps = S.comparisons(runs)
    if not comps:
        return ""
    rows = []
    for c in comps:
        r = c.result
        cls = {"win": "win", "loss": "loss"}.get(r.outcome, "")
        label = {"win": f"{c.model_a} better", "loss": f"{c.model_b} better"}.get(r.outcome, "tie")
        notes = []
        if r.dropped_a or r.dropped_b:
            notes.append(f"ids only in A: {r.dropped_a}, only in B: {r.dropped_b}")
        if r.excluded:
            notes.append(f"{r.excluded} pairs with a request error excluded")
        if r.n_clusters is not None:
            notes.append(f"{r.n_clusters} clusters")
        if r.p_mcnemar is not None:  # helpful/harmful split: items only one run gets right
            notes.append(f"right only in A: {r.a_only}, only in B: {r.b_only}")
        k = c.scale
        d = ".1f" if k == 100 else ".3f"  # points for percentages, else the metric's own unit
        rows.append([
            _e(c.benchmark), _e(c.metric), _e(c.model_a), _e(c.model_b),
            _num(k * r.mean_a, d), _num(k * r.mean_b, d),
            f"{k * r.diff:+{d}}" if r.n else "–",
            f"[{k * r.lo:+{d}}, {k * r.hi:+{d}}]" if r.n else "–",
            _p(r.p_mcnemar), _p(c.p_holm), f'<span class="{cls}">{_e(label)}</span>', str(r.n),
            _e("; ".join(notes)),
        ])
    head = ["benchmark", "metric", "A", "B", "A", "B", "A − B", "95% CI",
            "McNemar p", "Holm p", "outcome", "pairs", "notes"]
    by_pair: dict[tuple[str, str], list[str]] = defaultdict(list)
    for c in comps:
        by_pair[(c.model_a, c.model_b)].append(c.result.outcome)
    srows = []
    for (a, b), outs in sorted(by_pair.items()):
        s = win_tie_loss(outs)
        srows.append([_e(a), _e(b), str(int(s["win"])), str(int(s["tie"])), str(int(s["loss"]))])
    note = ('<p class="note">Paired by sample id on the clean items both runs answered. '
            "Difference CI: paired percentile bootstrap, 10,000 resamples (clustered when items "
            "carry clusters; corpus metrics recompute the metric on 1,000 shared resamples). "
            "Win if the CI lies above 0, loss if below, else tie (Jeong et al. 2024). McNemar "
            "(binary metrics): exact two-sided binomial test on discordant pairs; Holm-adjusted "
            "across benchmarks and metrics for each model pair. Percent metrics in points.</p>")
    body = (note + _table(head, rows) + "<h3>Win / tie / loss of A against B</h3>"
            + _table(["A", "B", "wins", "ties", "losses"], srows))
    return _section("comparisons", "Paired comparisons", body)


def _headline_table(runs: Sequence[RunData]) -> str:
    """One row per probe run: its headline metric with CI, n and the paired clean score."""
    rows = []
    for run in runs:
        ps = run.get("probe_summary")
        if not ps:
            continue
        interval = ("–" if ps.get("lo") is None or ps.get("hi") is None
                    else f"[{_num(ps['lo'])}, {_num(ps['hi'])}]")
        rows.append([_e(ps.get("model")), _e(ps.get("benchmark")), _e(ps.get("probe")),
                     _e(ps.get("headline")), _num(ps.get("value")), interval,
                     _e(ps.get("n")), _e(ps.get("better")), _num(ps.get("clean"))])
    if not rows:
        return ""
    head = ["model", "benchmark", "probe", "headline metric", "value", "95% CI", "n",
            "better", "clean accuracy"]
    return "<h3>Headline per probe</h3>" + _table(head, rows)


def _trust_section(runs: Sequence[RunData]) -> str:
    rows_data = S.trust_profile(runs)
    if not rows_data:
        return ""
    rows = []
    for t in rows_data:
        d = t.delta
        delta = "–" if d is None or d.n == 0 else f"{100 * d.diff:+.1f}"
        dci = "–" if d is None or d.n == 0 else f"[{100 * d.lo:+.1f}, {100 * d.hi:+.1f}]"
        metrics = "; ".join(f"{k} = {v:.3g} (n={n})" for k, (v, n) in t.metrics.items())
        rows.append([_e(t.model), _e(t.benchmark), _e(t.probe), _e(t.variant), _pct(t.acc.value),
                     _ci(t.acc), str(t.acc.n), str(t.acc.invalid), str(t.acc.errors), delta, dci,
                     _e(metrics)])
    head = ["model", "benchmark", "probe", "variant", "accuracy %", "95% CI", "n", "invalid",
            "errors", "Δ vs clean (pp)", "95% CI (pp)", "mean item metrics"]
    note = ('<p class="note">One row per probe variant. Δ is the paired difference with the '
            "clean answers to the same samples (bootstrap 95% CI).</p>")
    return _section("trust", "Trust profile (probes)",
                    _headline_table(runs) + "<h3>Per variant</h3>" + note + _table(head, rows))


def _calibration_section(runs: Sequence[RunData]) -> str:
    cals = S.calibrations(runs)
    if not cals:
        return ""
    cards = []
    for c in cals:
        title = f"{c.model} · {c.benchmark}" + (f" · {c.probe}" if c.probe else "")
        stats = (f"<p class=\"note\">n={c.n} · ECE {_num(c.ece)} · Brier {_num(c.brier)} · "
                 f"AUROC {_num(c.auroc)} · P(conf≥0.8 | wrong) {_num(c.overconfidence)}</p>")
        cards.append(f'<div class="card">{svg.reliability_diagram(c.bins, title)}{stats}</div>')
    note = ('<p class="note">Answered items that stated a confidence. Bars: accuracy per '
            "confidence bin ([0,0.1], then (l,u]); red ticks: mean confidence in the bin; dashed: "
            "perfect calibration.</p>")
    grid = f'<div class="cards">{"".join(cards)}</div>'
    return _section("calibration", "Calibration", note + grid)


def _phantom_section(runs: Sequence[RunData]) -> str:
    curves = S.size_curves(runs)
    if not curves:
        return ""
    parts = []
    for cv in curves:
        labels = [f"{lo:.1f}–{hi:.1f}" for lo, hi in cv.bins]
        chart = svg.line_chart(labels, cv.per_model, f"{cv.benchmark}: accuracy vs lesion size",
                               "nodule radius (px)")
        head = ["radius bin", *cv.per_model]
        rows = [[_e(lab)] + [f"{_pct(ps[i].value)} {_ci(ps[i])} n={ps[i].n}"
                             for ps in cv.per_model.values()] for i, lab in enumerate(labels)]
        parts.append(f'<div class="card">{chart}{_table(head, rows)}</div>')
    return _section("phantom", "Phantom: accuracy vs lesion size",
                    f'<div class="cards">{"".join(parts)}</div>')


# ---- failed-item browser ----------------------------------------------------------------------

def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f" …[{len(text) - limit} more characters]"


def _image_paths(item: ItemData) -> list[str]:
    md = item["metadata"]
    for key in S.IMAGE_KEYS:
        v = md.get(key)
        if isinstance(v, str):
            return [v]
        if isinstance(v, (list, tuple)):
            return [str(x) for x in v if isinstance(x, str)]
    return []


def _thumbnail(path: str) -> str:
    from PIL import Image

    from medgauge.images import to_rgb

    try:
        with Image.open(path) as im:
            im = to_rgb(im)
            im.thumbnail((THUMB_PX, THUMB_PX))
            buf = io.BytesIO()
            im.save(buf, format="JPEG", quality=70)
    except (OSError, ValueError):
        return ""
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _outcome_text(it: ItemData) -> str:
    if it.errored:
        return f"error: {it.error}"
    if it.incomplete:
        return "incomplete (cut off or only reasoning)"
    if it.invalid:
        return "invalid (no answer extracted)"
    return str(it.extracted)


def failed_rows(
    runs: Sequence[RunData], include_images: bool = False, limit: int = MAX_FAILED_ROWS
) -> tuple[dict[str, Any], int]:
    """Browser payload (interleaved across runs so each is represented) and the total count."""
    models = sorted({r["model"] for r in runs})
    benches = sorted({r["benchmark"] for r in runs})
    per_run = [[(r, it) for it in r["items"] if is_failed(it)] for r in runs]
    total = sum(len(x) for x in per_run)
    picked: list[tuple[RunData, ItemData]] = []
    depth = 0
    while len(picked) < min(limit, total):
        for lst in per_run:
            if depth < len(lst) and len(picked) < limit:
                picked.append(lst[depth])
        depth += 1
    rows = []
    for run, it in picked:
        variant = it["variant"] if run["probe"] is None else f"{run['probe']}:{it['variant']}"
        row: list[Any] = [
            models.index(run["model"]), benches.index(run["benchmark"]), variant, it["sample_id"],
            _clip(it["question"], MAX_QUESTION_CHARS), it["answer"],
            _clip(it["response"], MAX_RESPONSE_CHARS), _outcome_text(it),
        ]
        if include_images:
            paths = _image_paths(it)
            row.append(_thumbnail(paths[0]) if paths else "")
        rows.append(row)
    return {"models": models, "benchmarks": benches, "rows": rows}, total


def safe_json(data: Any) -> str:
    """JSON that is inert inside a ``<script>`` element."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _failed_section(runs: Sequence[RunData], include_images: bool) -> str:
    payload, total = failed_rows(runs, include_images, MAX_FAILED_ROWS)
    shown = len(payload["rows"])
    cap = (f" Showing {shown:,} of {total:,} (capped at {MAX_FAILED_ROWS:,}, interleaved across "
           "runs)." if shown < total else "")
    img = "" if include_images else " Images are not embedded (pass include_images to embed)."
    note = (f'<p class="note">Wrong, invalid and errored items: {total:,}.{cap} Long texts are '
            f"shortened.{img}</p>")
    filters = ('<div class="filters"><label>model <select id="f-model"><option value="">all'
               '</option></select></label><label>benchmark <select id="f-bench"><option value="">'
               'all</option></select></label><label>search <input id="f-text" type="search" '
               'placeholder="text in question, answer, output"></label><span id="f-count"></span>'
               "</div>")
    head = "".join(f"<th>{h}</th>" for h in ("model", "benchmark", "variant", "sample",
                                              "question", "gold", "model output", "extracted"))
    table = (f'<table id="failed"><thead><tr>{head}</tr></thead>'
             '<tbody id="failed-body"></tbody></table>'
             '<button id="f-more" type="button" hidden>show 100 more</button>')
    data = f'<script type="application/json" id="failed-data">{safe_json(payload)}</script>'
    return _section("failed", "Failed items", note + filters + table + data)


# ---- page -------------------------------------------------------------------------------------

def render_html(
    runs: Sequence[RunData],
    *,
    include_images: bool = False,
    comparisons: bool = True,
    group_by: Sequence[str] | None = None,
    title: str = "medgauge report",
) -> str:
    """The report as one HTML string (see :func:`write_html_report`)."""
    runs = normalise_runs(runs)
    board = S.leaderboard(runs)
    sections = [
        ("leaderboard", "Leaderboard", _leaderboard_section(runs, board)),
        ("charts", "Charts", _charts_section(board) if board else ""),
        ("breakdowns", "Breakdowns", _breakdown_section(runs, group_by)),
        ("graders", "Graders", _graders_section(runs)),
        ("comparisons", "Comparisons", _comparison_section(runs) if comparisons else ""),
        ("trust", "Probes", _trust_section(runs)),
        ("calibration", "Calibration", _calibration_section(runs)),
        ("phantom", "Phantom", _phantom_section(runs)),
        ("failed", "Failed items", _failed_section(runs, include_images)),
        ("runs", "Runs", _runs_section(runs)),
    ]
    nav = "".join(f'<a href="#{a}">{_e(t)}</a>' for a, t, body in sections if body)
    script_hash = base64.b64encode(hashlib.sha256(JS.encode()).digest()).decode()
    csp = (f"default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
           f"script-src 'sha256-{script_hash}'; base-uri 'none'; form-action 'none'")
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    models = sorted({r["model"] for r in runs})
    benches = sorted({r["benchmark"] for r in runs})
    subtitle = (f"{len(runs)} runs · {len(models)} models · {len(benches)} benchmarks · "
                f"generated {now}")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        '<meta name="generator" content="medgauge">'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{_e(title)}</h1><p>{_e(subtitle)}</p></header><nav>{nav}</nav><main>"
        + "".join(body for _, _, body in sections)
        + f"</main><script>{JS}</script></body></html>\n"
    )


def write_html_report(
    runs: list[RunData],
    out: Path,
    include_images: bool = False,
    comparisons: bool = True,
    *,
    group_by: Sequence[str] | None = None,
    title: str = "medgauge report",
) -> Path:
    """Write the report to ``out`` (one self-contained file) and return its path."""
    text = render_html(runs, include_images=include_images, comparisons=comparisons,
                       group_by=group_by, title=title)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return out
