"""The ``hf:`` backend on a tiny random Qwen2-VL-style model saved to disk and loaded back by path.

Qwen2-VL differs from LLaVA in what the backend must get right: dynamic image resolution (each
image gives as many tokens as its pixel budget allows, so rows differ in length by image as well
as by question), M-RoPE 3-D positions computed from ``mm_token_type_ids`` and the attention
mask (left padding must not shift them), a ChatML template without BOS, and no BOS token at all.
Real VQA-RAD images and questions, no network.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip(
    "torchvision",
    reason="transformers 5's Qwen2-VL image and video processors need torchvision",
)

import hf_tiny
from hf_requests import image_request, run_all, summary, text_request
from medgauge.backends.hf_engine import _input_side
from medgauge.backends.hf_inputs import load_image
from medgauge.types import GenParams, ImageRef, Request


@pytest.fixture(scope="module")
def qwen_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return hf_tiny.cached_model(tmp_path_factory.getbasetemp() / "hf_models", "qwen2vl")


class Direct:
    """The tiny model and its processor loaded with plain transformers calls (no backend code),
    for reference numbers."""

    def __init__(self, path: Path) -> None:
        from transformers import AutoModelForImageTextToText, AutoProcessor

        self.proc = AutoProcessor.from_pretrained(path, local_files_only=True)
        self.model = AutoModelForImageTextToText.from_pretrained(path,
                                                                 local_files_only=True).eval()

    def image(self, item: dict[str, Any]) -> Any:
        # decoded as the backend decodes it: Qwen2-VL resizes to a pixel budget, not to a fixed
        # side, so the backend decodes the JPEG at full size (no draft-mode reduction)
        assert _input_side(self.proc) is None
        return load_image(ImageRef(item["image_path"]))

    def image_tokens(self, item: dict[str, Any]) -> int:
        grid = self.proc.image_processor(images=[self.image(item)],
                                         return_tensors="pt")["image_grid_thw"]
        return int(grid.prod()) // hf_tiny.QWEN_MERGE ** 2

    def logprobs(self, item: dict[str, Any], continuation: str) -> list[float]:
        """Log-probabilities of ``continuation``'s tokens after the chat prompt: one unpadded
        forward pass."""
        import torch

        msgs = [{"role": "user", "content": [{"type": "image"},
                                             {"type": "text", "text": item["question"]}]}]
        prompt = self.proc.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False)
        tok = self.proc.tokenizer
        prompt_ids = tok(prompt, add_special_tokens=False)["input_ids"]
        full_ids = tok(prompt + continuation, add_special_tokens=False)["input_ids"]
        assert full_ids[: len(prompt_ids)] == prompt_ids
        cont_ids = full_ids[len(prompt_ids):]
        enc = self.proc(text=[prompt + continuation], images=[self.image(item)],
                        return_tensors="pt", add_special_tokens=False)
        assert "mm_token_type_ids" in enc  # what M-RoPE needs
        with torch.no_grad():
            logp = self.model(**enc).logits[0].log_softmax(-1)
        n = enc["input_ids"].shape[1]
        m = len(cont_ids)
        return [float(logp[n - m - 1 + k, cont_ids[k]]) for k in range(m)]


@pytest.fixture(scope="module")
def direct(qwen_path: Path) -> Direct:
    return Direct(qwen_path)


def test_tiny_qwen2vl_loads_as_a_vlm_with_its_chat_format(qwen_path: Path,
                                                          direct: Direct) -> None:
    from medgauge.backends.hf_engine import EngineOptions, HFEngine

    engine = HFEngine(str(qwen_path), EngineOptions(device="cpu"), batch_size=2)
    try:
        assert engine.multimodal
        assert type(engine.model).__name__ == "Qwen2VLForConditionalGeneration"
        assert type(engine.processor).__name__ == "Qwen2VLProcessor"
        assert engine.input_side is None  # dynamic resolution: full-size decode
        tok = engine.tokenizer
        assert engine.eos_ids == {tok.convert_tokens_to_ids("<|im_end|>")}
        assert engine.pad_id == tok.convert_tokens_to_ids("<|endoftext|>")
    finally:
        engine.close()
    msgs = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Q?"}]}]
    text = direct.proc.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False)
    assert text == ("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
                    "<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>Q?<|im_end|>\n"
                    "<|im_start|>assistant\n")


def test_batched_greedy_equals_one_at_a_time(qwen_path: Path, vqa_rad: list[dict],
                                             direct: Direct) -> None:
    reqs = [image_request(item) for item in vqa_rad]
    batched, sizes = run_all(qwen_path, reqs, batch_size=4)
    assert sizes == [4, 2]  # really batched
    single, single_sizes = run_all(qwen_path, reqs, batch_size=1)
    assert single_sizes == [1] * len(reqs)
    assert [summary(r) for r in batched] == [summary(r) for r in single]
    prompt_lengths = {r.usage["prompt_tokens"] for r in batched}
    assert len(prompt_lengths) >= 4  # padding mattered: rows of different lengths
    assert {r.finish_reason for r in batched} == {"stop", "length"}  # rows end at different steps
    assert any(r.text for r in batched)
    # the small pixel budget: every image gives a few tokens (at most 24x24 px / 8x8 px cells)
    counts = [direct.image_tokens(item) for item in vqa_rad]
    assert all(1 <= c <= 9 for c in counts)


def test_two_images_prior_and_current(qwen_path: Path, vqa_rad: list[dict],
                                      direct: Direct) -> None:
    prior, current = vqa_rad[0], vqa_rad[1]
    two = Request(messages=[{"role": "user", "content": [
        {"type": "text", "text": "Prior study:"},
        {"type": "image", "image": ImageRef(prior["image_path"], role="prior")},
        {"type": "text", "text": "Current study:"},
        {"type": "image", "image": ImageRef(current["image_path"], role="current")},
        {"type": "text", "text": "Has it changed?"}]}], params=GenParams(max_tokens=6))
    one = Request(messages=[{"role": "user", "content": [
        {"type": "text", "text": "Prior study:"},
        {"type": "image", "image": ImageRef(prior["image_path"])},
        {"type": "text", "text": "Current study:"},
        {"type": "text", "text": "Has it changed?"}]}], params=GenParams(max_tokens=6))
    (r2, r1), sizes = run_all(qwen_path, [two, one], batch_size=2)
    assert sizes == [2]
    assert r2.ok and r1.ok
    # the second image adds its own tokens plus <|vision_start|> and <|vision_end|>
    assert (r2.usage["prompt_tokens"] - r1.usage["prompt_tokens"]
            == direct.image_tokens(current) + 2)
    (alone,), _ = run_all(qwen_path, [two], batch_size=1)
    assert summary(r2) == summary(alone)


def test_text_only_requests_to_the_vlm(qwen_path: Path, vqa_rad: list[dict]) -> None:
    questions = ["Yes?", "Is there evidence of a pneumothorax in the left lung on this film?",
                 "What is the modality?", "Which side is the lesion on, left or right? " * 3]
    texts = [text_request(q) for q in questions]
    images = [image_request(item) for item in vqa_rad[:2]]
    # text-only and image requests in one run go to separate batches; the model's M-RoPE state
    # from an image batch must not leak into a text batch (or back)
    mixed = [texts[0], images[0], texts[1], texts[2], images[1], texts[3]]
    out, sizes = run_all(qwen_path, mixed, batch_size=8, batch_wait_s=0.2)
    assert sorted(sizes) == [2, 4]
    single, _ = run_all(qwen_path, mixed, batch_size=1)
    assert [summary(r) for r in out] == [summary(r) for r in single]
    text_out = [out[i] for i in (0, 2, 3, 5)]
    assert len({r.usage["prompt_tokens"] for r in text_out}) == 4
    assert all(r.usage["completion_tokens"] >= 1 for r in text_out)


def test_option_letter_logprobs_match_a_direct_forward_pass(qwen_path: Path,
                                                            vqa_rad: list[dict],
                                                            direct: Direct) -> None:
    letters = ("A", "B", "C", "D")
    items = vqa_rad[:4]
    reqs = [image_request(i, continuations=letters) for i in items]
    reqs.append(image_request(items[0], continuations=("pleural effusion", "no")))
    batched, sizes = run_all(qwen_path, reqs, batch_size=4)
    assert sizes == [4, 1]
    for item, r in zip(items, batched[:4], strict=True):
        assert r.ok and r.option_logprobs is not None
        assert list(r.option_logprobs) == list(letters)
        values = r.option_logprobs
        assert all(v < 0 for v in values.values())
        z = sum(math.exp(v) for v in values.values())
        assert z < 1  # raw values are over the whole vocabulary, not renormalised
        # MediConfusion "greedy" mode: softmax over the letters
        assert sum(math.exp(v) / z for v in values.values()) == pytest.approx(1.0, abs=1e-9)
        for letter in letters:
            [ref] = direct.logprobs(item, letter)
            assert values[letter] == pytest.approx(ref, abs=1e-4)
    # multi-token options: the mean log-probability of their tokens
    long = batched[4]
    assert long.option_logprobs is not None
    for option in ("pleural effusion", "no"):
        ref_tokens = direct.logprobs(items[0], option)
        assert long.option_logprobs[option] == pytest.approx(
            sum(ref_tokens) / len(ref_tokens), abs=1e-4)
    single, _ = run_all(qwen_path, reqs, batch_size=1)
    for b, s in zip(batched, single, strict=True):
        assert b.option_logprobs == pytest.approx(s.option_logprobs, abs=1e-4)


def test_missing_torchvision_is_a_one_line_error(qwen_path: Path) -> None:
    """torchvision made unimportable in a child interpreter: loading the checkpoint fails with
    a MedgaugeError that names the missing package, not a traceback from deep in transformers."""
    code = (
        "import asyncio, sys; sys.modules['torchvision'] = None\n"
        "from medgauge.backends import create_backend\n"
        "from medgauge.types import MedgaugeError\n"
        f"backend = create_backend({'hf:' + str(qwen_path)!r}, {{'device': 'cpu'}})\n"
        "try:\n"
        "    asyncio.run(backend.start())\n"
        "except MedgaugeError as exc:\n"
        "    print('ERR', exc)\n"
    )
    src = Path(__file__).resolve().parents[1] / "src"
    env = dict(os.environ, PYTHONPATH=str(src))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    [line] = [x for x in out.stdout.splitlines() if x.startswith("ERR")]
    assert "needs a package that is not installed" in line
    assert "torchvision" in line.lower()
