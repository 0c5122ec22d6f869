"""The torch side of the ``hf:`` backend: load a local checkpoint, run batches.

Everything here runs in the backend's single worker thread.  ``HFEngine.run_batch`` takes
requests that share one batch key (same GenParams, same mode, all with or all without images)
and returns one Response (or a MedgaugeError for that request alone) per request.

Generation: prompts are left-padded, ``model.generate`` runs once for the batch, each row stops
at its own end-of-sequence token or stop string, and only the new tokens are decoded.

Continuation scoring (``Request.continuations``): each continuation is appended, as text, to the
prompt that the chat template renders with its generation prompt.  Its score is the mean
log-probability of its tokens given everything before them; for a continuation of one token
(an option letter) that is the log-probability of that token at the answer position.  The
scored tokens are those of ``tokenize(prompt + continuation)`` past its longest common prefix
with ``tokenize(prompt)``.  Rows are right-padded, so every real token keeps its position.
MediConfusion (Sepehri et al., 2024, github.com/MShahabSepehri/MediConfusion) uses these two
numbers: "greedy" mode takes the softmax of the letter log-probabilities, "prefix" mode the
geometric mean probability ``exp(mean log-probability)`` of each option text.
"""

from __future__ import annotations

import copy
import inspect
import os
import time
from dataclasses import dataclass, field
from typing import Any

from medgauge.backends.hf_inputs import load_image, to_chat
from medgauge.types import GenParams, MedgaugeError, Request, Response


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


@dataclass
class EngineOptions:
    device: str = "auto"
    dtype: str = "auto"
    attn_implementation: str | None = None
    max_image_side: int | None = None
    max_new_tokens: int = 512
    trust_remote_code: bool = False
    chat_template: str | None = None  # jinja text replacing the model's (hf_templates)


@dataclass
class _Prepared:
    text: str
    images: list[Any]


@dataclass
class _Row:
    """One scoring forward row: ``text`` with ``images``; ``targets`` maps continuation ->
    token ids scored at the end of the row (or, for ``last_only`` rows, at the next position)."""

    req: int
    text: str
    images: list[Any]
    targets: dict[str, list[int]] = field(default_factory=dict)
    last_only: bool = False


def _input_side(processor: Any) -> int | None:
    """The fixed input side of the processor's images (CLIP/SigLIP-style ``size``), or None
    when it resizes dynamically (Qwen2-VL pixel budgets, Idefics tiling): then images are decoded
    at full size."""
    size = getattr(getattr(processor, "image_processor", None), "size", None)
    if size is None:
        return None
    fields = dict(size) if isinstance(size, dict) else {
        k: getattr(size, k, None) for k in ("shortest_edge", "height", "width", "longest_edge",
                                            "max_height", "max_width", "min_pixels", "max_pixels")}
    given = {k: v for k, v in fields.items() if v is not None}
    if set(given) == {"shortest_edge"}:
        return int(given["shortest_edge"])
    if set(given) == {"height", "width"}:
        return int(max(given["height"], given["width"]))
    return None


def _pick_device(name: str) -> str:
    import torch

    if name != "auto":
        if name.startswith("cuda") and not torch.cuda.is_available():
            raise MedgaugeError("hf: device 'cuda' asked for but torch sees no CUDA device")
        return name
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def _pick_dtype(name: str, device: str) -> Any:
    import torch

    table = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
    if name != "auto":
        if name not in table:
            raise MedgaugeError(f"hf: dtype {name!r} is not one of auto, {', '.join(table)}")
        return table[name]
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device == "mps":
        return torch.float16
    return torch.float32


class HFEngine:
    def __init__(self, path: str, opts: EngineOptions, batch_size: int) -> None:
        self.path = path
        self.opts = opts
        self.batch_size = batch_size
        self._load()

    # ------------------------------------------------------------------ loading
    def _load(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import torch
        import transformers
        from transformers import AutoConfig, AutoProcessor, AutoTokenizer

        transformers.utils.logging.disable_progress_bar()
        self.torch = torch
        self.device = _pick_device(self.opts.device)
        self.dtype = _pick_dtype(self.opts.dtype, self.device)
        common = {"local_files_only": True, "trust_remote_code": self.opts.trust_remote_code}
        where = f"hf model {self.path}"
        try:
            config = AutoConfig.from_pretrained(self.path, **common)
            wants_vision = getattr(config, "vision_config", None) is not None
            processor = None
            if wants_vision:
                processor = AutoProcessor.from_pretrained(self.path, **common)
                if getattr(processor, "image_processor", None) is None:
                    processor = None  # no preprocessor_config.json: text-only use of the model
            if processor is not None:
                tokenizer = processor.tokenizer
            else:
                tokenizer = AutoTokenizer.from_pretrained(self.path, **common)
        except ImportError as exc:
            raise MedgaugeError(
                f"{where}: its processor or tokenizer needs a package that is not installed "
                f"({one_line(exc)})"
            ) from None
        except (OSError, ValueError, KeyError) as exc:
            raise MedgaugeError(f"{where}: cannot load config/tokenizer: {one_line(exc)}") from None

        template = getattr(processor, "chat_template", None) if processor else None
        template = template or getattr(tokenizer, "chat_template", None)
        if self.opts.chat_template:
            template = tokenizer.chat_template = self.opts.chat_template
            if processor is not None:
                processor.chat_template = template
        if not template:
            raise MedgaugeError(
                f"{where} has no chat template (chat_template.jinja or chat_template in "
                "tokenizer_config.json); medgauge sends chat messages, so add one"
            )
        if processor is not None and not processor.chat_template:
            processor.chat_template = template
        self.processor = processor
        self.tokenizer = tokenizer
        self.multimodal = processor is not None
        self.input_side = _input_side(processor)

        from transformers import AutoModelForCausalLM, AutoModelForImageTextToText

        cls = AutoModelForImageTextToText if wants_vision else AutoModelForCausalLM
        kwargs: dict[str, Any] = dict(common, dtype=self.dtype)
        if self.opts.attn_implementation:
            kwargs["attn_implementation"] = self.opts.attn_implementation
        try:
            model = cls.from_pretrained(self.path, **kwargs)
        except ImportError as exc:
            raise MedgaugeError(f"{where}: needs a package that is not installed "
                                f"({one_line(exc)})") from None
        except (OSError, ValueError, KeyError) as exc:
            raise MedgaugeError(f"{where}: cannot load weights: {one_line(exc)}") from None
        self.model = model.to(self.device).eval()
        self._keep_arg = "logits_to_keep" in inspect.signature(self.model.forward).parameters

        gc = self.model.generation_config
        eos = gc.eos_token_id if gc.eos_token_id is not None else tokenizer.eos_token_id
        self.eos_ids: set[int] = set(eos if isinstance(eos, list) else [eos] if eos is not None
                                     else [])
        pad = gc.pad_token_id if gc.pad_token_id is not None else tokenizer.pad_token_id
        if pad is None and self.eos_ids:
            pad = min(self.eos_ids)
        self.pad_id: int | None = pad
        if tokenizer.pad_token_id is None and pad is not None:
            tokenizer.pad_token_id = pad

    def close(self) -> None:
        del self.model
        if self.device.startswith("cuda"):
            self.torch.cuda.empty_cache()

    # ------------------------------------------------------------------ inputs
    def _prepare(self, request: Request) -> _Prepared:
        chat = to_chat(request.messages, multimodal=self.multimodal, model=self.path)
        apply = self.processor if self.processor is not None else self.tokenizer
        try:
            text = apply.apply_chat_template(chat.messages, add_generation_prompt=True,
                                             tokenize=False)
        except Exception as exc:  # jinja raises its own errors (e.g. raise_exception)
            raise MedgaugeError(f"hf model {self.path}: chat template failed: {one_line(exc)}"
                                ) from None
        images = [load_image(ref, self.opts.max_image_side, self.input_side)
                  for ref in chat.images]
        return _Prepared(text, images)

    def _encode(self, texts: list[str], images: list[list[Any]], side: str) -> dict[str, Any]:
        """Tokenize (and preprocess images) with ``side`` padding.  ``images`` holds one list
        per row; rows of one batch either all have images or none (the batch key sees to it),
        and the nested form is the one every processor takes (Gemma3 and Idefics3 need it)."""
        self.tokenizer.padding_side = side
        if self.processor is not None:
            nested = images if any(images) else None
            enc = self.processor(text=texts, images=nested, return_tensors="pt",
                                 padding=True, add_special_tokens=False)
        else:
            enc = self.tokenizer(texts, return_tensors="pt", padding=True,
                                 add_special_tokens=False)
        out: dict[str, Any] = {}
        for k, v in dict(enc).items():
            if hasattr(v, "to"):
                v = v.to(self.device)
                if v.is_floating_point():
                    v = v.to(self.dtype)
            out[k] = v
        return out

    # ------------------------------------------------------------------ batches
    def run_batch(self, requests: list[Request]) -> list[Response | BaseException]:
        results: list[Response | BaseException | None] = [None] * len(requests)
        ok: list[int] = []
        prepared: list[_Prepared] = []
        for i, req in enumerate(requests):
            try:
                prepared.append(self._prepare(req))
                ok.append(i)
            except MedgaugeError as exc:
                results[i] = exc
        if ok:
            reqs = [requests[i] for i in ok]
            for i, r in zip(ok, self._run_split(reqs, prepared), strict=True):
                results[i] = r
        return [r if r is not None else Response(error="hf: no result") for r in results]

    def _run_split(self, reqs: list[Request], prepared: list[_Prepared]) -> list[Any]:
        """Run; on out-of-memory, halve the batch and try again."""
        try:
            if reqs[0].continuations:
                return self._score(reqs, prepared)
            return self._generate(reqs, prepared)
        except MedgaugeError as exc:
            return [exc] * len(reqs)
        except Exception as exc:
            if "out of memory" in str(exc).lower() and len(reqs) > 1:
                if self.device.startswith("cuda"):
                    self.torch.cuda.empty_cache()
                h = len(reqs) // 2
                return (self._run_split(reqs[:h], prepared[:h])
                        + self._run_split(reqs[h:], prepared[h:]))
            return [Response(error=f"hf: {type(exc).__name__}: {one_line(exc)}")] * len(reqs)

    def _generation_config(self, p: GenParams) -> Any:
        gc = copy.deepcopy(self.model.generation_config)
        gc.max_new_tokens = p.max_tokens or self.opts.max_new_tokens
        gc.max_length = None
        gc.pad_token_id = self.pad_id
        gc.eos_token_id = sorted(self.eos_ids) or None
        if p.temperature > 0:
            gc.do_sample = True
            gc.temperature = p.temperature
            if p.top_p is not None:
                gc.top_p = p.top_p
            gc.num_return_sequences = p.n
        else:  # greedy; n > 1 greedy choices are all the same, copied below
            gc.do_sample = False
            gc.temperature = None
            gc.top_p = None
            gc.top_k = None
            gc.num_return_sequences = 1
        return gc

    def _generate(self, reqs: list[Request], prepared: list[_Prepared]) -> list[Response]:
        torch = self.torch
        p = reqs[0].params
        t0 = time.perf_counter()
        enc = self._encode([x.text for x in prepared], [x.images for x in prepared], "left")
        gc = self._generation_config(p)
        gc.return_dict_in_generate = True
        gc.output_logits = bool(p.logprobs)
        kwargs: dict[str, Any] = {"generation_config": gc}
        if p.stop:
            gc.stop_strings = list(p.stop)
            kwargs["tokenizer"] = self.tokenizer  # StopStringCriteria needs it
        if gc.do_sample and p.seed is not None:
            torch.manual_seed(p.seed)
        with torch.inference_mode():
            out = self.model.generate(**enc, **kwargs)
        n_in = enc["input_ids"].shape[1]
        seqs = out.sequences[:, n_in:].tolist()
        per = gc.num_return_sequences
        lps = None
        if p.logprobs:
            lps = [step.float().log_softmax(-1) for step in out.logits]
        prompt_tokens = enc["attention_mask"].sum(-1).tolist()
        elapsed = time.perf_counter() - t0
        responses = []
        for r in range(len(reqs)):
            choices = []
            for k in range(per):
                row = r * per + k
                choices.append(self._finish(seqs[row], p, gc.max_new_tokens, lps, row))
            generated = sum(c[3] for c in choices)
            if per < p.n:
                choices = choices * p.n
            text, finish, logprobs, _ = choices[0]
            responses.append(Response(
                text=text,
                finish_reason=finish,
                texts=tuple(c[0] for c in choices) if p.n > 1 else (),
                logprobs=logprobs,
                usage={"prompt_tokens": int(prompt_tokens[r]),
                       "completion_tokens": generated},
                latency_s=elapsed,
            ))
        return responses

    def _finish(self, ids: list[int], p: GenParams, max_new: int, lps: Any, row: int
                ) -> tuple[str, str, list[dict[str, Any]] | None, int]:
        """Cut one generated row at its end token / stop string; decode; token log-probs."""
        n_text = len(ids)
        finish = "length" if len(ids) >= max_new else "stop"
        for t, tok in enumerate(ids):
            if tok in self.eos_ids:
                n_text, finish = t, "stop"
                break
        n_tokens = min(len(ids), n_text + 1)  # the end token counts as generated
        text = self.tokenizer.decode(ids[:n_text], skip_special_tokens=True)
        if p.stop:
            cut = min((i for i in (text.find(s) for s in p.stop) if i >= 0), default=-1)
            if cut >= 0:
                text, finish = text[:cut], "stop"
                while n_tokens > 0 and ids[n_tokens - 1] == self.pad_id:
                    n_tokens -= 1  # rows stopped by a stop string are padded afterwards
        logprobs = None
        if lps is not None:
            k = p.top_logprobs or 0
            logprobs = []
            for t in range(n_tokens):
                dist = lps[t][row]
                entry: dict[str, Any] = {"token": self.tokenizer.decode([ids[t]]),
                                         "logprob": float(dist[ids[t]])}
                top = []
                if k:
                    vals, idx = dist.topk(k)
                    top = [{"token": self.tokenizer.decode([int(i)]), "logprob": float(v)}
                           for v, i in zip(vals.tolist(), idx.tolist(), strict=True)]
                entry["top"] = top
                logprobs.append(entry)
        return text, finish, logprobs, n_tokens

    # ------------------------------------------------------------------ scoring
    def _ids(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def _rows(self, i: int, req: Request, prep: _Prepared) -> list[_Row]:
        prompt = self._ids(prep.text)
        spans: dict[str, list[int]] = {}
        whole_prompt = True
        for cont in req.continuations:
            full = self._ids(prep.text + cont)
            lcp = 0
            while lcp < min(len(prompt), len(full)) and prompt[lcp] == full[lcp]:
                lcp += 1
            if lcp == len(full):
                raise MedgaugeError(f"hf: continuation {cont!r} adds no token to the prompt")
            whole_prompt = whole_prompt and lcp == len(prompt)
            spans[cont] = full[lcp:]
        if whole_prompt and all(len(s) == 1 for s in spans.values()):
            # every option is one token after the prompt: one forward pass answers them all
            return [_Row(i, prep.text, prep.images, spans, last_only=True)]
        return [_Row(i, prep.text + c, prep.images, {c: s}) for c, s in spans.items()]

    def _score(self, reqs: list[Request], prepared: list[_Prepared]) -> list[Response]:
        torch = self.torch
        t0 = time.perf_counter()
        rows = [row for i, (r, x) in enumerate(zip(reqs, prepared, strict=True))
                for row in self._rows(i, r, x)]
        values: list[dict[str, float]] = [{} for _ in reqs]
        prompt_tokens = [0] * len(reqs)
        for start in range(0, len(rows), self.batch_size):
            chunk = rows[start:start + self.batch_size]
            enc = self._encode([r.text for r in chunk], [r.images for r in chunk], "right")
            lengths = enc["attention_mask"].sum(-1).tolist()
            width = enc["input_ids"].shape[1]
            # the earliest position whose next-token distribution we need, over the chunk
            first = min(n - 1 - (0 if r.last_only else len(next(iter(r.targets.values()))))
                        for r, n in zip(chunk, lengths, strict=True))
            keep = width - first
            extra = {"logits_to_keep": keep} if self._keep_arg else {}
            with torch.inference_mode():
                logits = self.model(**enc, **extra).logits
            offset = width - logits.shape[1]
            ids = enc["input_ids"].tolist()
            for b, (r, n, row_ids) in enumerate(zip(chunk, lengths, ids, strict=True)):
                if r.last_only:
                    dist = logits[b, n - 1 - offset].float().log_softmax(-1)
                    for cont, span in r.targets.items():
                        values[r.req][cont] = float(dist[span[0]])
                    prompt_tokens[r.req] = int(n)
                    continue
                (cont, span), = r.targets.items()
                m = len(span)
                actual = row_ids[n - m:n]  # the processor's tokens (same as span when consistent)
                pos = torch.arange(n - m - 1, n - 1, device=logits.device) - offset
                dist = logits[b, pos].float().log_softmax(-1)
                lp = dist.gather(-1, torch.tensor(actual, device=logits.device)[:, None])
                values[r.req][cont] = float(lp.mean())
                prompt_tokens[r.req] = int(n - m)
        elapsed = time.perf_counter() - t0
        return [Response(option_logprobs={c: values[i][c] for c in req.continuations},
                         finish_reason="scored",
                         usage={"prompt_tokens": prompt_tokens[i], "completion_tokens": 0},
                         latency_s=elapsed)
                for i, req in enumerate(reqs)]
