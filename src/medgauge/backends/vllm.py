"""``vllm:<path>``: a local checkpoint served by vLLM's offline engine (``vllm.LLM``), on GPU.

Concurrent ``generate`` calls are gathered (``hf_batcher``, requests with the same GenParams) and
sent as one ``LLM.chat`` call, which vLLM schedules itself (continuous batching, paged KV cache).
Messages are given to ``LLM.chat`` in OpenAI form: images as ``image_url`` parts holding data
URLs, which vLLM decodes and places with the model's own chat template and processor.  Nothing
is downloaded: the model must be a local folder (``HF_HUB_OFFLINE=1`` is set unless the user
set it).  Continuation scoring is not offered (use ``hf:``).

Options (``--model-opt KEY=VALUE`` or the config file):
  tensor_parallel_size    GPUs one model is split over (default 1); engine argument
  dtype                   auto | float16 | bfloat16 | float32 (default auto); engine argument
  max_model_len           context length the engine reserves (default: the model's)
  gpu_memory_utilization  share of GPU memory vLLM may take (default 0.9)
  enforce_eager           true: no CUDA graphs (slower, starts faster; default false)
  trust_remote_code       run modelling code shipped in the checkpoint folder (default false)
  seed                    engine seed (default 0)
  max_images              images per prompt the engine accepts (limit_mm_per_prompt; default 4)
  max_image_side          shrink images so the longer side is at most this many pixels
  max_new_tokens          used when a request's max_tokens is None (default 512)
  batch_size              requests per LLM.chat call (default 64)
  batch_wait_s            how long to wait to fill a call (default 0.05)
  concurrency             requests in flight from the runner (default 2 * batch_size)

vLLM is an optional extra (``pip install medgauge[vllm]``), imported when the engine loads; it
needs a CUDA GPU.  Greedy replies are compared with the ``hf:`` backend's on the same checkpoint
by ``tests/test_vllm_backend.py`` (skipped without vLLM or a GPU).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ClassVar

from medgauge.backends.base import Backend, backends, option_help_from_doc
from medgauge.backends.hf_batcher import Batcher
from medgauge.images import data_url
from medgauge.options import as_bool, as_number
from medgauge.types import GenParams, MedgaugeError, Message, Request, Response

_OPTION_HELP = option_help_from_doc(__doc__)
#: options passed to ``vllm.LLM(...)`` as they are, with their types
ENGINE_ARGS: dict[str, type] = {"tensor_parallel_size": int, "dtype": str, "max_model_len": int,
                                "gpu_memory_utilization": float, "enforce_eager": bool,
                                "trust_remote_code": bool, "seed": int}


def engine_kwargs(model: str, options: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments for ``vllm.LLM`` from the backend options (typed, validated)."""
    out: dict[str, Any] = {"model": model, "tokenizer": model,
                           "tensor_parallel_size": 1, "seed": 0}
    for name, kind in ENGINE_ARGS.items():
        if name not in options:
            continue
        value = options[name]
        if kind is bool:
            out[name] = as_bool(value, name, "vllm")
            continue
        out[name] = str(value) if kind is str else as_number(value, name, kind, "vllm")
    if out["tensor_parallel_size"] < 1:
        raise MedgaugeError("vllm: option tensor_parallel_size must be >= 1")
    share = out.get("gpu_memory_utilization")
    if share is not None and not 0 < share <= 1:
        raise MedgaugeError(f"vllm: option gpu_memory_utilization must be in (0, 1], got {share}")
    out["limit_mm_per_prompt"] = {"image": as_number(options.get("max_images", 4), "max_images",
                                                     int, "vllm", 0)}
    return out


def to_openai_messages(messages: list[Message], max_image_side: int | None = None
                       ) -> list[dict[str, Any]]:
    """medgauge messages -> the OpenAI chat form ``LLM.chat`` takes: image parts become
    ``{"type": "image_url", "image_url": {"url": "data:image/...;base64,..."}}``."""
    out: list[dict[str, Any]] = []
    for i, m in enumerate(messages):
        role, content = m.get("role"), m.get("content")
        if not isinstance(role, str):
            raise MedgaugeError(f"vllm: message {i} has no role")
        if content is None or isinstance(content, str):
            out.append({"role": role, "content": content or ""})
            continue
        if not isinstance(content, list):
            raise MedgaugeError(f"vllm: message {i} content must be a string or a list of parts")
        parts: list[dict[str, Any]] = []
        for j, p in enumerate(content):
            kind = p.get("type")
            if kind == "text":
                parts.append({"type": "text", "text": str(p.get("text", ""))})
            elif kind == "image":
                parts.append({"type": "image_url",
                              "image_url": {"url": data_url(p["image"], max_image_side)}})
            else:
                raise MedgaugeError(f"vllm: message {i} part {j} has unknown type {kind!r}")
        out.append({"role": role, "content": parts})
    return out


def sampling_kwargs(p: GenParams, max_new_tokens: int) -> dict[str, Any]:
    """``vllm.SamplingParams`` keyword arguments for one GenParams.  Greedy (temperature 0)
    asks for one sequence: greedy choices are all the same and are copied for ``n`` > 1."""
    greedy = p.temperature <= 0
    kw: dict[str, Any] = {"n": 1 if greedy else p.n, "temperature": 0.0 if greedy else
                          p.temperature, "max_tokens": p.max_tokens or max_new_tokens}
    if not greedy:
        if p.top_p is not None:
            kw["top_p"] = p.top_p
        if p.seed is not None:
            kw["seed"] = p.seed
    if p.stop:
        kw["stop"] = list(p.stop)
    if p.logprobs:
        # vLLM returns the sampled token's log-probability plus the top ``logprobs`` ones
        kw["logprobs"] = max(1, p.top_logprobs or 0)
    return kw


def to_response(output: Any, p: GenParams, elapsed: float) -> Response:
    """One ``vllm.RequestOutput`` -> Response (texts, finish reason, usage, log-probs)."""
    choices = list(output.outputs)
    if not choices:
        return Response(error="vllm: the engine returned no output")
    first = choices[0]
    texts = [c.text for c in choices]
    if len(texts) < p.n:  # greedy: one sequence, copied
        texts = texts * p.n
    logprobs = None
    if p.logprobs and first.logprobs is not None:
        k = p.top_logprobs or 0
        logprobs = []
        for tok, dist in zip(first.token_ids, first.logprobs, strict=False):
            chosen = dist[tok]
            ranked = sorted(dist.values(), key=lambda lp: -lp.logprob)[:k]
            logprobs.append({"token": chosen.decoded_token, "logprob": float(chosen.logprob),
                             "top": [{"token": lp.decoded_token, "logprob": float(lp.logprob)}
                                     for lp in ranked]})
    finish = first.finish_reason or "stop"
    return Response(text=texts[0], finish_reason=finish,
                    texts=tuple(texts) if p.n > 1 else (), logprobs=logprobs,
                    usage={"prompt_tokens": len(output.prompt_token_ids or ()),
                           "completion_tokens": sum(len(c.token_ids) for c in choices)},
                    latency_s=elapsed)


def _require_vllm() -> Any:
    try:
        import vllm
    except ImportError:
        raise MedgaugeError("the vllm backend needs vLLM and a CUDA GPU: install "
                            "medgauge[vllm]") from None
    return vllm


@backends.register("vllm")
class VLLMBackend(Backend):
    """A local checkpoint folder run by vLLM's offline engine (vllm:PATH); GPU only."""

    kind = "vllm"
    option_help: ClassVar[dict[str, str]] = _OPTION_HELP
    supports_images = True
    supports_continuations = False

    _KNOWN = (*ENGINE_ARGS, "max_images", "max_image_side", "max_new_tokens", "batch_size",
              "batch_wait_s", "concurrency", "stop_after_failures")

    def __init__(self, model: str, options: dict[str, Any] | None = None) -> None:
        opts = dict(options or {})
        unknown = sorted(set(opts) - set(self._KNOWN))
        if unknown:
            raise MedgaugeError(f"vllm: unknown option(s) {', '.join(unknown)} "
                                f"(known: {', '.join(self._KNOWN)})")
        path = Path(model).expanduser()
        if not (path / "config.json").is_file():
            raise MedgaugeError(f"vllm: {model!r} is not a local checkpoint folder with "
                                "config.json; medgauge never downloads weights")
        self.path = path.resolve()
        self.engine_args = engine_kwargs(str(self.path), opts)
        batch = as_number(opts.pop("batch_size", 64), "batch_size", int, "vllm", 1)
        opts.setdefault("concurrency", 2 * batch)
        super().__init__(model, {k: v for k, v in opts.items()
                                 if k in ("concurrency", "stop_after_failures")})
        self.max_new_tokens = as_number(opts.get("max_new_tokens", 512), "max_new_tokens", int,
                                        "vllm", 1)
        side = opts.get("max_image_side")
        self.max_image_side = None if side is None else as_number(side, "max_image_side", int,
                                                                  "vllm", 1)
        config = json.loads((self.path / "config.json").read_text())
        self.supports_images = "vision_config" in config  # type: ignore[misc]
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="medgauge-vllm")
        self._llm: Any = None
        self._batcher: Batcher[Request, Response] = Batcher(
            self._run_batch, self._executor, batch_size=batch,
            wait_s=as_number(opts.get("batch_wait_s", 0.05), "batch_wait_s", float, "vllm", 0))

    def answer_options(self) -> dict[str, Any]:
        from medgauge.backends.hf import HFBackend

        return {"dtype": self.engine_args.get("dtype", "auto"),
                "max_image_side": self.max_image_side,
                "weights": HFBackend._weights_fingerprint(self.path)}

    # ------------------------------------------------------------------ lifecycle
    def _load(self) -> Any:
        if self._llm is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            vllm = _require_vllm()
            try:
                self._llm = vllm.LLM(**self.engine_args)
            except (ValueError, RuntimeError, OSError) as exc:
                raise MedgaugeError(f"vllm: cannot start the engine for {self.path}: "
                                    f"{' '.join(str(exc).split())[:300]}") from None
        return self._llm

    async def start(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self._load)

    async def close(self) -> None:
        await self._batcher.close()
        self._llm = None

    # ------------------------------------------------------------------ requests
    def _run_batch(self, requests: list[Request]) -> list[Response | BaseException]:
        vllm = _require_vllm()
        llm = self._load()
        p = requests[0].params
        results: list[Response | BaseException | None] = [None] * len(requests)
        chats, index = [], []
        for i, req in enumerate(requests):
            try:
                chats.append(to_openai_messages(req.messages, self.max_image_side))
                index.append(i)
            except MedgaugeError as exc:
                results[i] = exc
        if chats:
            t0 = time.perf_counter()
            params = vllm.SamplingParams(**sampling_kwargs(p, self.max_new_tokens))
            try:
                outputs = llm.chat(chats, sampling_params=params, use_tqdm=False)
            except (ValueError, RuntimeError) as exc:  # e.g. a prompt longer than the context
                err = Response(error=f"vllm: {type(exc).__name__}: "
                                     f"{' '.join(str(exc).split())[:300]}")
                outputs = None
                for i in index:
                    results[i] = err
            if outputs is not None:
                elapsed = time.perf_counter() - t0
                for i, out in zip(index, outputs, strict=True):
                    results[i] = to_response(out, p, elapsed)
        return [r if r is not None else Response(error="vllm: no result") for r in results]

    async def generate(self, request: Request) -> Response:
        key = json.dumps(request.params.as_dict(), sort_keys=True)
        return await self._batcher.submit(request, key)
