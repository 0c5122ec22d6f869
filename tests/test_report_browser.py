"""Open the HTML report in headless Chromium: untrusted text must show as text and never run.

Needs a Chromium binary (CI: ``apt-get install -y chromium``); skips with the reason otherwise.
Set ``MEDGAUGE_CHROMIUM`` to point at a specific binary.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from medgauge.report import write_html_report
from medgauge.report.data import normalise_runs
from medgauge.report.html import failed_rows
from test_report_html import IMG, SCRIPT, evil_runs

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


def find_chromium() -> str | None:
    env = os.environ.get("MEDGAUGE_CHROMIUM")
    if env:
        return env if Path(env).exists() else shutil.which(env)
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


def chromium_cmd(binary: str, profile: Path, *extra: str) -> list[str]:
    return [
        binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
        f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *extra,
    ]


def run_chromium(binary: str, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(chromium_cmd(binary, profile, *extra), capture_output=True, text=True,
                          timeout=120, check=False)


def console_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


@pytest.fixture(scope="module")
def chromium() -> str:
    binary = find_chromium()
    if binary is None:
        pytest.skip("no Chromium binary found (install with `apt-get install -y chromium` "
                    "or set MEDGAUGE_CHROMIUM)")
    return binary


def _dump(
    chromium: str, page: Path, profile: Path, fragment: str = ""
) -> tuple[str, list[str]]:
    proc = run_chromium(chromium, profile, "--dump-dom", page.as_uri() + fragment)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout, console_lines(proc.stderr)


def _check_inert(dom: str) -> None:
    head_title = re.search(r"<title>([^<]*)</title>", dom)
    assert head_title is not None and head_title.group(1) == "medgauge report"
    assert "pwned</title>" not in dom.split("</head>")[0]
    assert re.search(r"<img\b", dom) is None  # the payload never became an element
    assert dom.count("<script") == 2  # only our JSON block and our script are elements
    # the payload is visible as text in the failed-item browser (rendered by our script)
    assert "&lt;script&gt;window.__pwned=1;document.title='pwned'&lt;/script&gt;" in dom
    assert "&lt;img src=x onerror=" in dom
    assert re.search(r"\d+ of \d+ matching shown", dom) is not None  # our script ran to the end


def test_payload_shown_as_text_and_not_executed(chromium: str, tmp_path: Path) -> None:
    page = write_html_report(evil_runs(), tmp_path / "report.html")
    dom, console = _dump(chromium, page, tmp_path / "profile")
    assert console == [], console  # no script errors, no CSP violations
    _check_inert(dom)


def test_escaping_holds_without_the_csp(chromium: str, tmp_path: Path) -> None:
    """Defence in depth: remove the Content-Security-Policy and the payload still stays text."""
    page = write_html_report(evil_runs(), tmp_path / "report.html")
    text = page.read_text(encoding="utf-8")
    stripped = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", text)
    assert stripped != text
    page.write_text(stripped, encoding="utf-8")
    dom, console = _dump(chromium, page, tmp_path / "profile")
    assert console == [], console
    _check_inert(dom)


def test_text_filter_from_url_fragment(chromium: str, tmp_path: Path) -> None:
    """``#q=text`` pre-fills the search box; the shown count must match a Python recount."""
    runs = normalise_runs(evil_runs())
    payload, total = failed_rows(runs)
    expected = sum(
        1 for r in payload["rows"]
        if "__pwned" in "\n".join([payload["models"][r[0]], payload["benchmarks"][r[1]],
                                   *map(str, r[2:8])]).lower()
    )
    assert 0 < expected < total
    page = write_html_report(runs, tmp_path / "report.html")
    dom, console = _dump(chromium, page, tmp_path / "profile", "#q=__PWNED")
    assert console == []
    assert f"{expected} of {expected} matching shown ({total} in total)" in dom


def test_screenshot_is_not_blank(chromium: str, tmp_path: Path) -> None:
    page = write_html_report(evil_runs(), tmp_path / "report.html")
    png = tmp_path / "shot.png"
    proc = run_chromium(chromium, tmp_path / "profile", f"--screenshot={png}",
                        "--window-size=1280,2000", page.as_uri())
    assert proc.returncode == 0 and png.exists(), proc.stderr[-2000:]
    assert console_lines(proc.stderr) == []
    with Image.open(png) as im:
        rgb = im.convert("RGB")
        colours = rgb.getcolors(maxcolors=1 << 20)
        assert colours is not None and len(colours) > 50
        lo, hi = zip(*rgb.getextrema(), strict=True)
        assert max(hi) - min(lo) > 100  # dark header text on a light page


def test_helpers_know_the_payloads() -> None:
    # keeps the payload definitions honest: both reach the page as data
    assert "<script>" in SCRIPT and "onerror" in IMG
