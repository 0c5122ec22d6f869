"""`medgauge report` from a real store: HTML and the paper/spreadsheet formats."""

from __future__ import annotations

from medgauge.phantom import generate_phantom
from test_cli import medgauge


def test_report_from_a_store_in_every_format(tmp_path):
    generate_phantom(tmp_path / "ph", n_cases=10, seed=5)
    store = tmp_path / "m.db"
    res = medgauge("run", "-b", f"phantom={tmp_path / 'ph'}", "-m", "baseline:random", "-m",
                   "baseline:constant", "--store", str(store), "-q")
    assert res.returncode == 0, res.stderr
    html = tmp_path / "r.html"
    assert medgauge("report", "--store", str(store), "-o", str(html)).returncode == 0
    text = html.read_text()
    assert "random" in text and "constant" in text and "<svg" in text
    assert "http://" not in text.replace("http://www.w3.org", "")  # self-contained
    assert "base64,iVBOR" not in text and "base64,/9j/" not in text  # no images unless asked
    with_images = tmp_path / "ri.html"
    assert medgauge("report", "--store", str(store), "-o", str(with_images),
                    "--include-images").returncode == 0
    assert "base64,/9j/" in with_images.read_text()  # thumbnails (JPEG)
    for fmt, marker in (("md", "| phantom |"), ("latex", "\\begin{tabular}"),
                        ("csv", "benchmark,model")):
        out = tmp_path / f"board.{fmt}"
        r = medgauge("report", "--store", str(store), "-o", str(out), "--format", fmt)
        assert r.returncode == 0, r.stderr
        assert marker in out.read_text()
