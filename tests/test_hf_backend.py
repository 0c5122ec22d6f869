"""The ``hf:`` backend on tiny random models saved to disk and loaded back by path.

Real loading path (config.json, safetensors, processor/tokenizer files), real VQA-RAD images,
no network.  Batched greedy output must equal one-at-a-time output; continuation scores must
equal a forward pass computed here without the backend.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

import hf_tiny
from hf_requests import image_request, one_by_one, run_all, summary, text_request
from medgauge.backends.hf_inputs import load_image
from medgauge.types import GenParams, ImageRef, Request


@pytest.fixture(scope="session")
def llava_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return hf_tiny.cached_model(tmp_path_factory.getbasetemp() / "hf_models", "llava")


@pytest.fixture(scope="session")
def llama_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return hf_tiny.cached_model(tmp_path_factory.getbasetemp() / "hf_models", "llama")


def test_vlm_batched_greedy_equals_one_at_a_time(llava_path: Path, vqa_rad: list[dict]) -> None:
    reqs = [image_request(item) for item in vqa_rad]
    batched, sizes = run_all(llava_path, reqs, batch_size=4)
    assert max(sizes) == 4 and sum(sizes) == len(reqs)  # really batched
    single = run_all(llava_path, reqs, batch_size=1)[0]
    assert [summary(r) for r in batched] == [summary(r) for r in single]
    prompt_lengths = {r.usage["prompt_tokens"] for r in batched}
    assert len(prompt_lengths) >= 4  # padding mattered: rows of different lengths
    finishes = {r.finish_reason for r in batched}
    assert finishes == {"stop", "length"}  # some rows ended early while others ran on
    assert any(r.text for r in batched)


def test_text_model_batched_equals_single_and_text_only_vlm(llama_path: Path,
                                                             llava_path: Path) -> None:
    questions = ["Yes?", "Is there evidence of a pneumothorax in the left lung on this film?",
                 "What is the modality?", "Which side is the lesion on, left or right? " * 3,
                 "CT or MRI?"]
    reqs = [text_request(q) for q in questions]
    batched, sizes = run_all(llama_path, reqs, batch_size=8, batch_wait_s=0.2)
    assert sizes == [5]
    assert [summary(r) for r in batched] == [summary(r) for r in one_by_one(llama_path, reqs)]
    # a VLM answers text-only requests too (MMStar-style blind runs), batched the same way
    vlm_batched, _ = run_all(llava_path, reqs, batch_size=8)
    assert ([summary(r) for r in vlm_batched]
            == [summary(r) for r in one_by_one(llava_path, reqs)])


def test_images_and_text_only_requests_never_share_a_batch(llava_path: Path,
                                                           vqa_rad: list[dict]) -> None:
    reqs = [image_request(vqa_rad[0]), text_request("Yes?"), image_request(vqa_rad[1]),
            text_request("No?"), image_request(vqa_rad[2], GenParams(max_tokens=5))]
    out, sizes = run_all(llava_path, reqs, batch_size=8, batch_wait_s=0.2)
    assert sorted(sizes) == [1, 2, 2]  # images / text-only / other GenParams
    assert all(r.ok for r in out)
    assert out[4].usage["completion_tokens"] <= 5


def test_multiple_images_in_one_request(llava_path: Path, vqa_rad: list[dict]) -> None:
    two = Request(messages=[{"role": "user", "content": [
        {"type": "image", "image": ImageRef(vqa_rad[0]["image_path"], role="prior")},
        {"type": "image", "image": ImageRef(vqa_rad[1]["image_path"], role="current")},
        {"type": "text", "text": "Has it changed?"}]}], params=GenParams(max_tokens=6))
    one = Request(messages=[{"role": "user", "content": [
        {"type": "image", "image": ImageRef(vqa_rad[0]["image_path"])},
        {"type": "text", "text": "Has it changed?"}]}], params=GenParams(max_tokens=6))
    (r2, r1), _ = run_all(llava_path, [two, one], batch_size=2)
    assert r2.ok and r1.ok
    # the tiny CLIP tower gives 4 tokens per image, plus the template's newline after <image>
    assert r2.usage["prompt_tokens"] - r1.usage["prompt_tokens"] == 5
    assert [summary(r2)] == [summary(r) for r in one_by_one(llava_path, [two])]


def test_stop_strings_cut_each_row(llava_path: Path, vqa_rad: list[dict]) -> None:
    free = run_all(llava_path, [image_request(i, GenParams(max_tokens=16)) for i in vqa_rad],
                   batch_size=8)[0]
    long = [r.text for r in free if len(r.text) >= 4]
    assert long, "no reply long enough to cut"
    text = long[0]
    stop = text[2:4]
    reqs = [image_request(i, GenParams(max_tokens=16, stop=(stop,))) for i in vqa_rad]
    cut = run_all(llava_path, reqs, batch_size=8)[0]
    for before, after in zip(free, cut, strict=True):
        if stop in before.text:
            assert after.text == before.text[: before.text.index(stop)]
            assert after.finish_reason == "stop"
        else:
            assert after.text == before.text
    assert [summary(r) for r in cut] == [summary(r) for r in one_by_one(llava_path, reqs)]


def test_logprobs_of_generated_tokens(llava_path: Path, vqa_rad: list[dict]) -> None:
    params = GenParams(max_tokens=8, logprobs=True, top_logprobs=3)
    out = run_all(llava_path, [image_request(i, params) for i in vqa_rad[:3]], batch_size=4)[0]
    for r in out:
        assert r.logprobs is not None
        assert len(r.logprobs) == r.usage["completion_tokens"]
        for tok in r.logprobs:
            top = tok["top"]
            assert len(top) == 3
            assert top[0]["logprob"] >= top[1]["logprob"] >= top[2]["logprob"]
            assert tok["logprob"] == pytest.approx(top[0]["logprob"], abs=1e-5)  # greedy
            assert sum(math.exp(t["logprob"]) for t in top) <= 1.0 + 1e-5


def test_sampling_is_seeded(llama_path: Path) -> None:
    params = GenParams(temperature=1.0, max_tokens=10, seed=7, n=3)
    reqs = [text_request("Is the heart enlarged?", params), text_request("Modality?", params)]
    first, _ = run_all(llama_path, reqs, batch_size=4)
    again, _ = run_all(llama_path, reqs, batch_size=4)
    assert [r.texts for r in first] == [r.texts for r in again]
    assert all(len(r.texts) == 3 and r.texts[0] == r.text for r in first)
    assert len(set(first[0].texts)) > 1  # three different draws
    other, _ = run_all(llama_path, [text_request("Is the heart enlarged?", GenParams(
        temperature=1.0, max_tokens=10, seed=8, n=3))], batch_size=4)
    assert other[0].texts != first[0].texts


def _direct_logprobs(path: Path, item: dict[str, Any], continuation: str) -> list[float]:
    """Log-probabilities of ``continuation``'s tokens after the chat prompt: one unpadded
    forward pass with plain transformers calls, no backend code."""
    import torch
    from transformers import AutoModelForImageTextToText, AutoProcessor

    proc = AutoProcessor.from_pretrained(path, local_files_only=True)
    model = AutoModelForImageTextToText.from_pretrained(path, local_files_only=True).eval()
    msgs = [{"role": "user", "content": [{"type": "image"},
                                         {"type": "text", "text": item["question"]}]}]
    prompt = proc.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False)
    # decoded as the backend decodes it: a JPEG at the processor's 32 px input side (draft mode)
    side = proc.image_processor.size.shortest_edge
    image = load_image(ImageRef(item["image_path"]), min_side=side)
    prompt_ids = proc.tokenizer(prompt, add_special_tokens=False)["input_ids"]
    full_ids = proc.tokenizer(prompt + continuation, add_special_tokens=False)["input_ids"]
    assert full_ids[: len(prompt_ids)] == prompt_ids
    cont_ids = full_ids[len(prompt_ids):]
    enc = proc(text=[prompt + continuation], images=[image], return_tensors="pt",
               add_special_tokens=False)
    with torch.no_grad():
        logp = model(**enc).logits[0].log_softmax(-1)
    n = enc["input_ids"].shape[1]
    m = len(cont_ids)
    return [float(logp[n - m - 1 + k, cont_ids[k]]) for k in range(m)]


def test_option_letter_logprobs_match_a_direct_forward_pass(llava_path: Path,
                                                            vqa_rad: list[dict]) -> None:
    letters = ("A", "B", "C", "D")
    reqs = [image_request(i, continuations=letters) for i in vqa_rad[:4]]
    batched, sizes = run_all(llava_path, reqs, batch_size=4)
    assert sizes == [4]
    for item, r in zip(vqa_rad[:4], batched, strict=True):
        assert r.ok and r.option_logprobs is not None
        assert list(r.option_logprobs) == list(letters)
        values = r.option_logprobs
        assert all(v < 0 for v in values.values())
        z = sum(math.exp(v) for v in values.values())
        assert sum(math.exp(v) / z for v in values.values()) == pytest.approx(1.0, abs=1e-9)
        assert z < 1  # raw values are over the whole vocabulary, not renormalised
        for letter in letters:
            [direct] = _direct_logprobs(llava_path, item, letter)
            assert values[letter] == pytest.approx(direct, abs=1e-4)
    single = one_by_one(llava_path, reqs)
    for b, s in zip(batched, single, strict=True):
        assert b.option_logprobs == pytest.approx(s.option_logprobs, abs=1e-4)


def test_long_continuations_score_mean_token_logprob(llava_path: Path,
                                                     vqa_rad: list[dict]) -> None:
    options = ("pleural effusion", "no", "a mass in the right upper lobe")
    reqs = [image_request(i, continuations=options) for i in vqa_rad[:2]]
    out, _ = run_all(llava_path, reqs, batch_size=2)
    for item, r in zip(vqa_rad[:2], out, strict=True):
        assert r.option_logprobs is not None
        for option in options:
            direct = _direct_logprobs(llava_path, item, option)
            assert r.option_logprobs[option] == pytest.approx(sum(direct) / len(direct),
                                                              abs=1e-4)
        # MediConfusion "prefix" mode: geometric-mean probability exp(mean log-probability)
        best = max(options, key=lambda o: math.exp(r.option_logprobs[o]))
        assert best in options


def test_max_image_side_shrinks_keeping_aspect(vqa_rad: list[dict]) -> None:
    ref = ImageRef(vqa_rad[0]["image_path"])
    full = load_image(ref)
    small = load_image(ref, max_side=40)
    assert max(small.size) == 40 and small.mode == "RGB"
    assert abs(small.width / small.height - full.width / full.height) < 0.05


def test_jpeg_decoded_no_smaller_than_the_processor_input(vqa_rad: list[dict]) -> None:
    ref = ImageRef(vqa_rad[0]["image_path"])
    full = load_image(ref)
    reduced = load_image(ref, min_side=32)
    assert min(reduced.size) >= 32 and reduced.width < full.width
    assert abs(reduced.width / reduced.height - full.width / full.height) < 0.05
