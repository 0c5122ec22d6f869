"""MediConfusion greedy/prefix modes (solver ``likelihood``) on a tiny random LLaVA through the
real ``hf:`` loading path and a real SQLite store; choices checked against option scores
computed here with plain transformers calls (issue 14, kind 19)."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

import hf_tiny
from medgauge.backends import create_backend
from medgauge.probes.mediconfusion_likelihood import LikelihoodSolver, option_scores
from medgauge.runner.calls import ModelCaller
from medgauge.runner.scoring import score_items
from medgauge.runner.solver import SolveContext
from medgauge.scoring import RuleScorer, ScoreContext, get_scorer
from medgauge.store import Store
from medgauge.types import GenParams, ImageRef, MedgaugeError, Sample

OPTIONS = {"A": "pleural effusion", "B": "a mass in the right upper lobe"}


@pytest.fixture(scope="module")
def llava_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return hf_tiny.cached_model(tmp_path_factory.getbasetemp() / "hf_models", "llava")


def _direct_mean_logprob(path: Path, question: str, image: str, continuation: str) -> float:
    """Mean log-probability of ``continuation`` after the chat prompt (no backend code)."""
    import torch
    from transformers import AutoModelForImageTextToText, AutoProcessor

    from medgauge.backends.hf_inputs import load_image

    proc = AutoProcessor.from_pretrained(path, local_files_only=True)
    model = AutoModelForImageTextToText.from_pretrained(path, local_files_only=True).eval()
    msgs = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": question}]}]
    prompt = proc.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False)
    side = proc.image_processor.size.shortest_edge
    img = load_image(ImageRef(image), min_side=side)
    n_prompt = len(proc.tokenizer(prompt, add_special_tokens=False)["input_ids"])
    cont = proc.tokenizer(prompt + continuation, add_special_tokens=False)["input_ids"][n_prompt:]
    enc = proc(text=[prompt + continuation], images=[img], return_tensors="pt",
               add_special_tokens=False)
    with torch.no_grad():
        logp = model(**enc).logits[0].log_softmax(-1)
    n, m = enc["input_ids"].shape[1], len(cont)
    return sum(float(logp[n - m - 1 + k, cont[k]]) for k in range(m)) / m


def _solve(path: Path, sample: Sample, mode: str, store: Store) -> Any:
    async def go() -> Any:
        backend = create_backend(f"hf:{path}", {"device": "cpu"})
        await backend.start()
        try:
            # the prompt "plain" shows the question text alone, as the direct pass does
            ctx = SolveContext(ModelCaller(backend, store), prompt="{question}",
                               rule=get_scorer("default"), params=GenParams(max_tokens=4), seed=0)
            solver = LikelihoodSolver(mode=mode)
            items = await solver.solve(sample, ctx)
            await score_items(items, solver.scorer(RuleScorer()), ScoreContext())
            return [_Scored(it) for it in items], ctx.sent
        finally:
            await backend.close()
    return asyncio.run(go())


class _Scored:
    """A solved item with its score's fields, as a stored item reads."""

    def __init__(self, item: Any) -> None:
        self.error = item.error
        self.confidence = item.confidence
        self.extracted = item.score.answer
        self.correct = item.score.value == 1.0
        self.metrics = item.score.metrics


@pytest.mark.parametrize("mode", ["greedy", "prefix"])
def test_choice_matches_a_direct_computation(llava_path: Path, vqa_rad: list[dict],
                                             tmp_path: Path, mode: str) -> None:
    item = vqa_rad[0]
    conts = dict(OPTIONS) if mode == "prefix" else {k: k for k in OPTIONS}
    direct = {k: _direct_mean_logprob(llava_path, item["question"], item["image_path"], c)
              for k, c in conts.items()}
    if mode == "greedy":
        z = sum(math.exp(v) for v in direct.values())
        expected = {k: math.exp(v) / z for k, v in direct.items()}
    else:
        expected = {k: math.exp(v) for k, v in direct.items()}
    best = max(expected, key=lambda k: expected[k])
    for gold in OPTIONS:
        sample = Sample(id=f"q-{gold}", question=item["question"], answer=gold,
                        options=dict(OPTIONS), images=(ImageRef(item["image_path"]),))
        store = Store(tmp_path / f"{mode}-{gold}.sqlite")
        [res], sent = _solve(llava_path, sample, mode, store)
        assert sent == 1 and res.error is None
        assert res.extracted == best and res.correct == (gold == best)
        for k in OPTIONS:
            assert res.metrics[f"score_{k}"] == pytest.approx(expected[k], rel=1e-3)
        assert res.confidence == pytest.approx(expected[best], rel=1e-3)
        # the stored response serves a rerun without a new request
        [again], sent = _solve(llava_path, sample, mode, store)
        assert sent == 0 and again.extracted == res.extracted


def test_option_scores_rule_and_bad_options() -> None:
    lp = {"A": math.log(0.2), "B": math.log(0.6)}
    assert option_scores("greedy", {"A": "x", "B": "y"}, lp) == pytest.approx(
        {"A": 0.25, "B": 0.75})
    assert option_scores("prefix", {"A": "A", "B": "B"}, lp) == pytest.approx(
        {"A": 0.2, "B": 0.6})
    with pytest.raises(MedgaugeError, match="mode must be greedy or prefix"):
        LikelihoodSolver(mode="beam")
    with pytest.raises(MedgaugeError, match="unknown option"):
        LikelihoodSolver(modes="greedy")
