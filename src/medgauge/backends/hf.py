"""``hf:<path>``: a local Hugging Face checkpoint (text LLM or vision-language model), batched.

Nothing is downloaded: the model id must be a local folder with ``config.json`` (the backend
loads with ``local_files_only=True`` and sets ``HF_HUB_OFFLINE=1`` unless the user set it).
Concurrent ``generate`` calls are gathered into batches (``hf_batcher``) and run by one worker
thread (``hf_engine``): requests with different GenParams, scoring versus generation, and
requests with versus without images never share a batch.

Options (``--model-opt KEY=VALUE`` or the config file):
  device               auto (cuda, then mps, then cpu) | cuda | cuda:1 | mps | cpu
  dtype                auto (bf16/fp16 on GPU, fp32 on CPU) | float32 | bfloat16 | float16
  attn_implementation  passed to from_pretrained (eager, sdpa, flash_attention_2); default: model's
  batch_size           rows per forward pass (default 8)
  batch_wait_s         how long an idle worker waits to fill a batch (default 0.02)
  max_image_side       shrink images so the longer side is at most this many pixels
  max_new_tokens       used when a request's max_tokens is None (default 512)
  trust_remote_code    run modelling code shipped in the checkpoint folder (default false)
  chat_template        model (the checkpoint's own, default) | chatml | plain | a .jinja file
  concurrency          requests in flight from the runner (default 2 * batch_size)
  scheduling           static (one generate call per batch, default) | continuous (greedy
                       text requests join transformers' continuous batching as rows finish,
                       so one long reply does not hold the others: hf_continuous)
  replicas             N copies as Ray actors, least-loaded dispatch (backends/replicas.py,
                       the ray extra)

torch and transformers are imported only when the backend is created (``pip install
medgauge[hf]``).  See docs/backends-hf.md.
"""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ClassVar

from medgauge.backends.base import Backend, backends, option_help_from_doc
from medgauge.backends.hf_batcher import Batcher
from medgauge.backends.hf_templates import resolve_chat_template
from medgauge.options import as_bool
from medgauge.types import MedgaugeError, Request, Response

_KNOWN = ("device", "dtype", "attn_implementation", "batch_size", "batch_wait_s",
          "max_image_side", "max_new_tokens", "trust_remote_code", "concurrency",
          "chat_template", "scheduling")

_OPTION_HELP = option_help_from_doc(__doc__)  # the Options block above


def _int_opt(options: dict[str, Any], name: str, default: int | None, low: int = 1) -> int | None:
    value = options.get(name, default)
    if value is None:
        return None
    try:
        out = int(value)
    except (TypeError, ValueError):
        raise MedgaugeError(f"hf: option {name} must be an integer, got {value!r}") from None
    if out < low:
        raise MedgaugeError(f"hf: option {name} must be >= {low}, got {out}")
    return out


def _require_extra() -> None:
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as exc:
        raise MedgaugeError(
            f"the hf backend needs torch and transformers ({exc.name or 'a package'} is missing): "
            "install medgauge[hf]"
        ) from None


def _check_path(model: str) -> Path:
    path = Path(model).expanduser()
    if not path.is_dir():
        raise MedgaugeError(
            f"hf: {model!r} is not a local folder; medgauge never downloads weights "
            "(HF_HUB_OFFLINE=1, local_files_only=True): fetch the checkpoint yourself and pass "
            "its path, e.g. hf:/models/Qwen2-VL-2B-Instruct"
        )
    if not (path / "config.json").is_file():
        raise MedgaugeError(f"hf: {path} has no config.json; is it a Hugging Face checkpoint?")
    return path.resolve()


@backends.register("hf")
class HFBackend(Backend):
    """A local Hugging Face checkpoint folder (hf:PATH), text or vision-language, batched."""

    kind = "hf"
    option_help: ClassVar[dict[str, str]] = _OPTION_HELP
    supports_images = True
    supports_continuations = True

    def __init__(self, model: str, options: dict[str, Any] | None = None) -> None:
        opts = dict(options or {})
        unknown = sorted(set(opts) - set(_KNOWN))
        if unknown:
            raise MedgaugeError(f"hf: unknown option(s) {', '.join(unknown)} "
                                f"(known: {', '.join(_KNOWN)})")
        batch_size = _int_opt(opts, "batch_size", 8)
        assert batch_size is not None
        opts.setdefault("concurrency", 2 * batch_size)
        super().__init__(model, opts)
        self.path = _check_path(model)
        _require_extra()
        from medgauge.backends.hf_engine import EngineOptions

        max_new = _int_opt(self.options, "max_new_tokens", 512)
        template_text, self._template_label = resolve_chat_template(
            self.options.get("chat_template"))
        wait = self.take("batch_wait_s", float, 0.02, minimum=0)
        self.scheduling = str(self.take("scheduling", str, "static"))
        if self.scheduling not in ("static", "continuous"):
            raise MedgaugeError(f"hf: option scheduling must be static or continuous, "
                                f"got {self.scheduling!r}")
        self.batch_size = batch_size
        self.engine_options = EngineOptions(
            device=str(self.options.get("device", "auto")),
            dtype=str(self.options.get("dtype", "auto")),
            attn_implementation=self.options.get("attn_implementation") or None,
            max_image_side=_int_opt(self.options, "max_image_side", None),
            max_new_tokens=max_new if max_new is not None else 512,
            trust_remote_code=as_bool(self.options.get("trust_remote_code", False),
                                              "trust_remote_code", "hf"),
            chat_template=template_text,
        )
        try:
            config = json.loads((self.path / "config.json").read_text())
        except (OSError, ValueError) as exc:
            raise MedgaugeError(f"hf: cannot read {self.path / 'config.json'}: {exc}") from None
        self._fingerprint = self._weights_fingerprint(self.path)
        # known before loading, so the runner can skip image benchmarks for text-only models
        self.supports_images = "vision_config" in config  # type: ignore[misc]
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="medgauge-hf")
        self._engine: Any = None
        self._batcher: Batcher[Request, Response] = Batcher(
            self._run_batch, self._executor, batch_size=batch_size, wait_s=wait
        )
        self._continuous: Any = None
        if self.scheduling == "continuous":
            from medgauge.backends.hf_continuous import ContinuousGenerator

            self._continuous = ContinuousGenerator(self._load, batch_size)

    def answer_options(self) -> dict[str, Any]:
        o = self.engine_options
        return {"dtype": o.dtype, "attn_implementation": o.attn_implementation,
                "max_image_side": o.max_image_side, "weights": self._fingerprint,
                "chat_template": self._template_label}

    @staticmethod
    def _weights_fingerprint(path: Path) -> str:
        """config.json's bytes and the weight files' sizes and times: a checkpoint overwritten
        in place gets a new identity (its old answers are not reused)."""
        import hashlib

        h = hashlib.blake2b(digest_size=6)
        h.update((path / "config.json").read_bytes())
        for f in sorted(path.iterdir()):
            if f.suffix in (".safetensors", ".bin", ".pt", ".gguf") and f.is_file():
                st = f.stat()
                h.update(f"{f.name}:{st.st_size}:{st.st_mtime_ns}".encode())
        return h.hexdigest()

    # ------------------------------------------------------------------ lifecycle
    def _load(self) -> Any:
        if self._engine is None:
            from medgauge.backends.hf_engine import HFEngine

            self._engine = HFEngine(str(self.path), self.engine_options, self.batch_size)
        return self._engine

    async def start(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self._load)

    def _unload(self) -> None:
        if self._continuous is not None:
            self._continuous.stop()
        engine, self._engine = self._engine, None
        if engine is not None:
            engine.close()

    async def close(self) -> None:
        await self._batcher.close()
        # in the worker thread, so a batch still running there finishes first; a later
        # request loads the model again
        await asyncio.get_running_loop().run_in_executor(self._executor, self._unload)

    @property
    def batch_sizes(self) -> list[int]:
        """Sizes of the batches run so far."""
        return self._batcher.batch_sizes

    # ------------------------------------------------------------------ requests
    def _run_batch(self, requests: list[Request]) -> list[Response | BaseException]:
        engine = self._load()  # worker thread: loads on first use
        if self._continuous is None:
            return engine.run_batch(requests)
        with self._continuous.paused():  # the continuous loop waits while we use the model
            return engine.run_batch(requests)

    async def generate(self, request: Request) -> Response:
        try:
            return await self._generate(request)
        except MedgaugeError as exc:  # a corrupt image: say which sample holds it
            sample = request.meta.get("sample_id")
            if sample is None or str(exc).startswith("sample "):
                raise
            raise MedgaugeError(f"sample {sample!r}: {exc}") from None

    async def _generate(self, request: Request) -> Response:
        if self._continuous is not None:
            from medgauge.backends.hf_continuous import eligible

            if eligible(request):
                return await self._continuous.generate(request, self._executor)
        has_images = bool(request.images())
        if request.continuations:
            key: tuple[Any, ...] = ("score", has_images)
        else:
            # as JSON: a GenParams built with a list for ``stop`` would not hash
            key = ("generate", json.dumps(request.params.as_dict(), sort_keys=True), has_images)
        return await self._batcher.submit(request, key)
