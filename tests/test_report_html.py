"""HTML report: structure, numbers, escaping of untrusted text, size and caps."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from medgauge.report import html as report_html
from medgauge.report import leaderboard, write_html_report
from medgauge.report.data import normalise_runs
from medgauge.report.synthetic import synthetic_runs
from medgauge.stats import wilson
from medgauge.types import MedgaugeError

SCRIPT = "<script>window.__pwned=1;document.title='pwned'</script>"
IMG = "<img src=x onerror=\"document.title='pwned'\">"
PAYLOAD = f"{SCRIPT}{IMG}</script>&amp;\u2028\u2029"


def item(sid: str, correct: bool | None, **kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "sample_id": sid, "variant": "clean", "correct": correct,
        "extracted": None if correct is None else ("A" if correct else "B"),
        "response": "A", "error": "timeout" if correct is None else None,
        "question": f"q {sid}", "answer": "A", "confidence": None, "metrics": {},
        "metadata": {}, "cluster": None,
    }
    base.update(kw)
    return base


def run(rid: str, model: str, bench: str, items: list[dict[str, Any]], **kw: Any) -> dict[str, Any]:
    base = {"run_id": rid, "model": model, "benchmark": bench, "probe": None, "config": {},
            "started": "2025-01-01T00:00:00", "status": "complete", "items": items}
    base.update(kw)
    return base


def evil_runs() -> list[dict[str, Any]]:
    items_a = [item(f"s{i}", i % 3 == 0, metadata={"organ": ["chest", "head"][i % 2]})
               for i in range(20)]
    items_a[0].update(correct=False, extracted="B", response=PAYLOAD, question=PAYLOAD,
                      answer=PAYLOAD, metadata={"organ": PAYLOAD})
    items_a[1].update(correct=False, extracted=None, response=IMG)  # invalid
    items_b = [item(f"s{i}", i % 2 == 0) for i in range(20)]
    return [
        run("r1", f"model{SCRIPT}", "bench<b>", items_a, config={"api_key": "sk-secret-123",
                                                                 "note": PAYLOAD}),
        run("r2", "plain-model", "bench<b>", items_b),
    ]


def test_untrusted_text_is_escaped_everywhere(tmp_path: Path) -> None:
    out = write_html_report(evil_runs(), tmp_path / "r.html")
    text = out.read_text(encoding="utf-8")
    assert text.count("<script") == 2  # our JSON data block and our own script, nothing else
    assert "<img" not in text and "onerror=\"document" not in text
    assert "window.__pwned=1;document.title=&#x27;pwned&#x27;" in text  # escaped, visible
    assert "sk-secret-123" not in text and "***" in text  # secret-looking config redacted
    assert "\u2028" not in text.split('id="failed-data">')[1].split("</script>")[0]
    # the JSON block holds the payload intact once decoded
    blob = text.split('<script type="application/json" id="failed-data">')[1].split("</script>")[0]
    assert "<" not in blob and ">" not in blob and "&" not in blob
    data = json.loads(blob)
    assert any(PAYLOAD in row for row in data["rows"])
    assert any(row[7] == "invalid (no answer extracted)" for row in data["rows"])
    # CSP pins the only script that may run to ours
    assert "script-src 'sha256-" in text and "default-src 'none'" in text


def test_leaderboard_numbers_and_sections(tmp_path: Path) -> None:
    items = [item(f"s{i}", i < 6) for i in range(10)] + [item("e1", None), item("e2", None)]
    items[9].update(extracted=None)  # an invalid answer, scored wrong
    runs = [run("r1", "m1", "b1", items), run("r2", "m2", "b1", [item(f"s{i}", i < 3)
                                                                   for i in range(10)])]
    rows = leaderboard(normalise_runs(runs))
    top = rows[0]
    assert (top["model"], top["est"].k, top["est"].n) == ("m1", 6, 10)
    assert (top["est"].invalid, top["est"].errors) == (1, 2)
    assert (top["est"].lo, top["est"].hi) == wilson(6, 10)
    text = write_html_report(runs, tmp_path / "x.html").read_text()
    for anchor in ("leaderboard", "charts", "comparisons", "failed", "runs"):
        assert f'<section id="{anchor}">' in text
    for absent in ("trust", "calibration", "phantom"):
        assert f'<section id="{absent}">' not in text
    assert "<td class=\"num\">60.0</td>" in text and "[31.3, 83.2]" in text
    no_cmp = write_html_report(runs, tmp_path / "y.html", comparisons=False).read_text()
    assert '<section id="comparisons">' not in no_cmp


def test_all_sections_on_synthetic_data_and_size(tmp_path: Path) -> None:
    runs = synthetic_runs(n_items=500, probe="blind")
    out = write_html_report(runs, tmp_path / "full.html")
    text = out.read_text(encoding="utf-8")
    size = out.stat().st_size
    assert size < 5_000_000
    for anchor in ("leaderboard", "charts", "breakdowns", "comparisons", "trust", "calibration",
                   "phantom", "failed", "runs"):
        assert f'<section id="{anchor}">' in text, anchor
    assert "phantom_synth: accuracy vs lesion size" in text
    assert "mcq_synth: accuracy by organ" in text and "vqa_synth: accuracy by modality" in text
    assert "flip = " in text  # generic item metrics in the trust profile
    assert "cluster-bootstrap" in text  # vqa_synth items carry clusters
    assert text.count("<svg") >= 3 + 2 + 1  # bars per benchmark, reliability per run, phantom


def test_failed_browser_cap_and_interleaving(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = normalise_runs(synthetic_runs(n_items=60))
    payload, total = report_html.failed_rows(runs, limit=12)
    assert len(payload["rows"]) == 12 and total > 12
    assert len({(r[0], r[1]) for r in payload["rows"]}) == len(runs)  # every run represented
    monkeypatch.setattr(report_html, "MAX_FAILED_ROWS", 25)
    text = write_html_report(runs, tmp_path / "c.html").read_text()
    assert f"Showing 25 of {total:,}" in text


def test_long_texts_are_clipped(tmp_path: Path) -> None:
    long = "x" * 10_000
    runs = [run("r", "m", "b", [item("s", False, response=long, question=long)])]
    payload, _ = report_html.failed_rows(normalise_runs(runs))
    row = payload["rows"][0]
    assert len(row[6]) < 2100 and "more characters" in row[6]
    assert len(row[4]) < 1300


def test_images_only_when_asked(tmp_path: Path) -> None:
    img = tmp_path / "scan_secret_name.png"
    Image.new("RGB", (400, 300), (200, 30, 30)).save(img)
    runs = [run("r", "m", "b", [item(f"s{i}", False, metadata={"images": [str(img)]})
                                for i in range(4)])]
    plain = write_html_report(runs, tmp_path / "a.html").read_text()
    thumb = re.compile(r"data:image/jpeg;base64,[A-Za-z0-9+/=]{20,}")
    assert thumb.search(plain) is None and "scan_secret_name" not in plain
    with_img = write_html_report(runs, tmp_path / "b.html", include_images=True).read_text()
    m = thumb.search(with_img)
    assert m is not None and len(m.group()) < 20_000  # a thumbnail, not the full image


def test_clean_run_repeat_latest_wins_and_probe_rows() -> None:
    old = run("old", "m", "b", [item("s1", False)], started="2025-01-01")
    new = run("new", "m", "b", [item("s1", True)], started="2025-02-01")
    rows = leaderboard(normalise_runs([new, old]))
    assert len(rows) == 1 and rows[0]["run_id"] == "new"


def test_bad_run_data_gives_one_line_errors(tmp_path: Path) -> None:
    bad = run("r9", "m", "b", [item("s1", True), {"variant": "clean"}])
    with pytest.raises(MedgaugeError, match=r"run r9: item 1: missing field 'sample_id'"):
        write_html_report([bad], tmp_path / "z.html")
    with pytest.raises(MedgaugeError, match="missing field 'items'"):
        write_html_report([{"run_id": "x", "model": "m", "benchmark": "b"}], tmp_path / "z.html")
    with pytest.raises(MedgaugeError, match="confidence"):
        write_html_report([run("r", "m", "b", [item("s", True, confidence=1.5)])],
                          tmp_path / "z.html")
    dup = run("r", "m", "b", [item("s", True)])
    with pytest.raises(MedgaugeError, match="given twice"):
        write_html_report([dup, dup], tmp_path / "z.html")
