"""The ``vllm:`` backend.

Without vLLM (the default install) only what needs no engine is tested: option parsing, the
conversion of medgauge requests into ``LLM.chat`` messages and ``SamplingParams`` arguments, and
the conversion of a vLLM output back into a Response.  That last test builds objects of the
shape ``vllm.RequestOutput`` documents (SimpleNamespace stand-ins; no engine is faked).  The
engine test, greedy replies of ``vllm:`` against ``hf:`` on the same checkpoint, runs only where
vLLM and a CUDA GPU are present and is skipped with the reason elsewhere.
"""

from __future__ import annotations

import asyncio
import base64
import importlib.util
import io
from pathlib import Path
from types import SimpleNamespace

import pytest

from hf_requests import run_all, summary, text_request
from medgauge.backends import create_backend
from medgauge.backends.vllm import (
    engine_kwargs,
    sampling_kwargs,
    to_openai_messages,
    to_response,
)
from medgauge.types import GenParams, ImageRef, MedgaugeError

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT.parent / "shared" / "data" / "vqa_med_2019_test" / "images_partial"
HAS_TORCH = all(importlib.util.find_spec(m) for m in ("torch", "transformers"))


def _checkpoint(tmp_path: Path, vision: bool = False) -> Path:
    config = {"model_type": "llama"}
    if vision:
        config["vision_config"] = {}
    (tmp_path / "config.json").write_text(__import__("json").dumps(config))
    return tmp_path


def test_options_become_typed_engine_arguments(tmp_path: Path) -> None:
    kw = engine_kwargs(str(tmp_path), {"tensor_parallel_size": "2", "dtype": "bfloat16",
                                       "gpu_memory_utilization": "0.5",
                                       "enforce_eager": "true", "max_images": 2})
    assert kw["tensor_parallel_size"] == 2 and kw["dtype"] == "bfloat16"
    assert kw["gpu_memory_utilization"] == 0.5 and kw["enforce_eager"] is True
    assert kw["limit_mm_per_prompt"] == {"image": 2} and kw["model"] == str(tmp_path)
    with pytest.raises(MedgaugeError, match="tensor_parallel_size must be int"):
        engine_kwargs("m", {"tensor_parallel_size": "two"})
    with pytest.raises(MedgaugeError, match=r"gpu_memory_utilization must be in \(0, 1\]"):
        engine_kwargs("m", {"gpu_memory_utilization": 1.5})
    with pytest.raises(MedgaugeError, match="enforce_eager must be true or false"):
        engine_kwargs("m", {"enforce_eager": "maybe"})


def test_backend_checks_its_folder_and_options_without_loading_vllm(tmp_path: Path) -> None:
    with pytest.raises(MedgaugeError, match="not a local checkpoint folder"):
        create_backend(f"vllm:{tmp_path / 'missing'}")
    ckpt = _checkpoint(tmp_path, vision=True)
    with pytest.raises(MedgaugeError, match="unknown option"):
        create_backend(f"vllm:{ckpt}", {"tensor_parallel": 2})
    backend = create_backend(f"vllm:{ckpt}", {"tensor_parallel_size": 2, "batch_size": 16})
    assert backend.supports_images and backend.concurrency == 32
    same = create_backend(f"vllm:{ckpt}", {"tensor_parallel_size": 4})
    # parallelism changes speed, not answers: same identity; dtype changes answers
    assert backend.identity() == same.identity()
    assert create_backend(f"vllm:{ckpt}", {"dtype": "float16"}).identity() != backend.identity()


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vLLM is installed")
def test_missing_vllm_is_a_one_line_error_at_start(tmp_path: Path) -> None:
    backend = create_backend(f"vllm:{_checkpoint(tmp_path)}")
    with pytest.raises(MedgaugeError, match=r"needs vLLM and a CUDA GPU: install medgauge\[vllm\]"):
        asyncio.run(backend.start())


@pytest.mark.skipif(not IMAGES.is_dir(), reason=f"shared data not found at {IMAGES}")
def test_messages_become_openai_chat_with_image_data_urls() -> None:
    image = sorted(IMAGES.glob("*.jpg"))[0]
    messages = [{"role": "system", "content": "You are a radiologist."},
                {"role": "user", "content": [{"type": "image", "image": ImageRef(str(image))},
                                             {"type": "text", "text": "Which organ?"}]}]
    out = to_openai_messages(messages, max_image_side=64)
    assert out[0] == {"role": "system", "content": "You are a radiologist."}
    part, text = out[1]["content"]
    assert text == {"type": "text", "text": "Which organ?"}
    head, _, payload = part["image_url"]["url"].partition(",")
    assert part["type"] == "image_url" and head.startswith("data:image/")
    from PIL import Image

    with Image.open(io.BytesIO(base64.b64decode(payload))) as im:  # the real image, shrunk
        assert max(im.size) == 64
    with pytest.raises(MedgaugeError, match="part 0 has unknown type 'audio'"):
        to_openai_messages([{"role": "user", "content": [{"type": "audio"}]}])


def test_generation_parameters_become_sampling_arguments() -> None:
    greedy = sampling_kwargs(GenParams(max_tokens=None, n=3, stop=("\n",)), 256)
    assert greedy == {"n": 1, "temperature": 0.0, "max_tokens": 256, "stop": ["\n"]}
    sampled = sampling_kwargs(GenParams(temperature=0.7, top_p=0.9, seed=5, n=3, max_tokens=8,
                                        logprobs=True, top_logprobs=3), 256)
    assert sampled == {"n": 3, "temperature": 0.7, "max_tokens": 8, "top_p": 0.9, "seed": 5,
                       "logprobs": 3}


def _lp(logprob: float, token: str) -> SimpleNamespace:
    return SimpleNamespace(logprob=logprob, decoded_token=token)


def test_a_vllm_output_becomes_a_response() -> None:
    # the fields vllm.RequestOutput / CompletionOutput document, as plain objects
    choice = SimpleNamespace(text="B", token_ids=[7, 2], finish_reason="stop",
                             logprobs=[{7: _lp(-0.1, "B"), 9: _lp(-2.5, "C")},
                                       {2: _lp(-0.01, "</s>")}])
    output = SimpleNamespace(outputs=[choice], prompt_token_ids=list(range(11)))
    r = to_response(output, GenParams(n=2, logprobs=True, top_logprobs=1), 0.5)
    assert (r.text, r.texts, r.finish_reason) == ("B", ("B", "B"), "stop")
    assert r.usage == {"prompt_tokens": 11, "completion_tokens": 2}
    assert r.logprobs is not None and r.logprobs[0] == {
        "token": "B", "logprob": -0.1, "top": [{"token": "B", "logprob": -0.1}]}
    empty = to_response(SimpleNamespace(outputs=[], prompt_token_ids=[]), GenParams(), 0.0)
    assert empty.error == "vllm: the engine returned no output"


def _gpu_reason() -> str | None:
    if importlib.util.find_spec("vllm") is None:
        return "vLLM is not installed (pip install medgauge[vllm]; needs a CUDA GPU)"
    import torch

    return None if torch.cuda.is_available() else "vLLM needs a CUDA GPU; none is visible"


@pytest.mark.skipif(not HAS_TORCH or _gpu_reason() is not None,
                    reason=(_gpu_reason() if HAS_TORCH else "needs torch") or "")
def test_vllm_greedy_replies_equal_hf_on_the_same_checkpoint(tmp_path: Path) -> None:
    import hf_tiny

    model = hf_tiny.build_text_model(tmp_path / "tiny-llama")
    questions = ["Is the heart enlarged on this chest x-ray?", "What is the modality?",
                 "How many ribs are visible?", "Is there free air under the diaphragm?"]
    requests = [text_request(q, GenParams(max_tokens=12)) for q in questions]
    hf, _ = run_all(model, requests, dtype="float32")

    async def go() -> list:
        backend = create_backend(f"vllm:{model}", {"dtype": "float32", "enforce_eager": True,
                                                   "gpu_memory_utilization": 0.3})
        await backend.start()
        try:
            return list(await asyncio.gather(*(backend.generate(r) for r in requests)))
        finally:
            await backend.close()

    vl = asyncio.run(go())
    assert [r.text for r in vl] == [summary(r)[0] for r in hf]
