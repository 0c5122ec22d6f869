"""Probes from the command line, into the trust profile and the HTML report."""

from __future__ import annotations

from test_cli import medgauge


def test_run_with_probes_prints_trust_profile_and_reports_it(shared_data, tmp_path):
    store = tmp_path / "m.db"
    res = medgauge("run", "-b", f"vqa-rad={shared_data / 'vqa_rad'}", "-m", "baseline:random",
                   "--limit", "40", "--probe", "blind,permute", "--probe", "perturb",
                   "--probe-opt", "perturb.severities=[1]", "--store", str(store), "-q")
    assert res.returncode == 0, res.stderr
    assert "Trust profile" in res.stdout
    for probe in ("blind", "permute", "perturb"):
        assert probe in res.stdout
    html = tmp_path / "r.html"
    rep = medgauge("report", "--store", str(store), "-o", str(html))
    assert rep.returncode == 0, rep.stderr
    text = html.read_text()
    assert "Headline per probe" in text and "MG" in text
    bad = medgauge("run", "-b", f"vqa-rad={shared_data / 'vqa_rad'}", "-m", "baseline:random",
                   "--probe", "nosuch", "--store", str(store))
    assert bad.returncode == 2 and "unknown probe 'nosuch'" in bad.stderr
