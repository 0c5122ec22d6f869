"""Any OpenAI-compatible chat-completions endpoint: vLLM, SGLang, TGI, Ollama, llama.cpp server,
hosted APIs.

- API key read from the environment variable named by ``api_key_env`` (never stored).
- Images sent as data URLs (optionally downscaled to ``max_image_side``).
- Several ``base_url``s: each request goes to the healthy one with the fewest requests in flight;
  an endpoint that keeps failing is backed off by a circuit breaker (``endpoints.py``) and
  retries go to another endpoint.
- A base URL may hold a query string (``?api-version=...``): the path is appended before it.
  Credentials: ``user:password@`` in a base URL is sent as HTTP Basic auth, an API key as a
  Bearer token; a request carries one Authorization header, so giving both is an error.
- Text-only messages are sent with ``content`` as a plain string (chat templates of many GGUF
  files reject a list of parts); ``content_format=parts`` or ``string`` forces one form.  This
  happens when the HTTP body is built, so the stored request (and its cache key) is unchanged.
- Connection errors, timeouts, 429 (honouring Retry-After), 408 and 5xx, and replies that are not
  valid JSON or have no choices are retried with exponential backoff and jitter; when retries run
  out the request is an error, never an answer.  An HTTP 500 whose body is the same on two
  attempts is deterministic (e.g. a chat template rejecting the request): it is not retried
  further, and said once on stderr.  400 is an error for that request only; 401, 403 and 404
  stop the run at once with a message saying what to check.
- A reply body larger than ``max_response_bytes`` (default 8 MiB) is not read: the item is an
  error.
- Reasoning models: a reply's ``reasoning_content`` (or ``reasoning``) is kept apart
  (``Response.reasoning``), never read as the answer.  A reply whose ``content`` is empty while
  reasoning is present is retried, and an error when it persists (so a rerun retries it); when
  it was cut by the length limit it is kept as an empty reply (scored ``incomplete``).  Option
  ``reasoning_reply=true`` reads the reasoning as the reply when ``content`` is empty (a reply
  cut by the length limit is kept as an unclosed ``<think>`` block, so it stays ``incomplete``).
- The cache key names the model, not the server (the same model name on another server reuses
  stored answers); ``cache_scope=server`` adds the base URLs (redacted) to the model identity.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import time
import uuid
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from medgauge.backends.base import Backend, backends
from medgauge.backends.endpoints import EndpointPool
from medgauge.images import data_url
from medgauge.options import as_bool
from medgauge.redact import redact_url
from medgauge.types import ImageRef, MedgaugeError, Request, Response, map_image_parts

_FATAL = {401: "unauthorised: check the API key", 403: "forbidden: check the API key and "
          "its permissions", 404: "not found: check the base URL and the model name"}


_IMAGE_MARK = f"medgauge-image-{uuid.uuid4().hex}-"  # unique per process


class _Transient(Exception):
    def __init__(self, message: str, retry_after: float | None = None,
                 body_500: bytes | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.body_500 = body_500


@backends.register("openai")
class OpenAIBackend(Backend):
    kind = "openai"

    def __init__(self, model: str, options: dict[str, Any] | None = None) -> None:
        import aiohttp  # noqa: F401 - loaded with the backend, not inside the timed run
        options = dict(options or {})
        options.setdefault("concurrency", 16)
        super().__init__(model, options)
        o = self.options
        urls = o.pop("base_url", None) or os.environ.get("OPENAI_BASE_URL") or \
            "https://api.openai.com/v1"
        listed = [urls] if isinstance(urls, str) else urls
        if not isinstance(listed, list) or not all(isinstance(u, str) for u in listed):
            raise MedgaugeError("backend openai: base_url must be a URL or a list of URLs")
        self.base_urls = [u.strip() for u in listed]
        self._shown = {u: redact_url(u) for u in self.base_urls}  # what messages may show
        env_given = "api_key_env" in o
        self.api_key_env = o.pop("api_key_env", "OPENAI_API_KEY")
        self.api_key = os.environ.get(self.api_key_env)
        if env_given and not self.api_key:
            raise MedgaugeError(f"backend openai: environment variable {self.api_key_env} "
                                "(api_key_env) is not set")
        self.timeout = self.take("timeout", float, 120.0, minimum=0.001)
        self.max_retries = self.take("max_retries", int, 5, minimum=0)
        self.retry_base = self.take("retry_base", float, 0.5, minimum=0)
        self.retry_max = self.take("retry_max", float, 30.0, minimum=0)
        self.max_image_side = self.take("max_image_side", int, None, minimum=1)
        extra = o.pop("extra_body", None) or {}
        if not isinstance(extra, dict):
            raise MedgaugeError(f"backend openai: option extra_body must be a mapping, got "
                                f"{extra!r}")
        self.extra_body = dict(extra)
        self.max_response_bytes = self.take("max_response_bytes", int, 8 * 2**20, minimum=1)
        self.content_format = self._choice("content_format", ("auto", "parts", "string"))
        self.cache_scope = self._choice("cache_scope", ("model", "server"))
        self.reasoning_reply = as_bool(self.options.pop("reasoning_reply", False),
                                       "reasoning_reply", "openai")
        threshold = self.take("breaker_threshold", int, 3, minimum=1)
        cooldown = self.take("breaker_cooldown", float, 1.0, minimum=0)
        self.reject_unknown_options(
            "base_url, api_key_env, timeout, max_retries, retry_base, retry_max, "
            "max_image_side, extra_body, concurrency, max_response_bytes, content_format, "
            "cache_scope, breaker_threshold, breaker_cooldown, reasoning_reply")
        if self.api_key is not None and ("\n" in self.api_key or "\r" in self.api_key):
            raise MedgaugeError(f"backend openai: ${self.api_key_env} contains a line break")
        # endpoint (the base URL as given) -> (chat URL, models URL, headers)
        self._targets = {url: self._target(url) for url in self.base_urls}
        self._pool = EndpointPool(self.base_urls, threshold, cooldown, self.retry_max)
        self._session: Any = None
        self.deterministic_failures = 0
        self._said: set[str] = set()

    def _choice(self, name: str, allowed: tuple[str, ...]) -> str:
        value = str(self.options.pop(name, allowed[0]))
        if value not in allowed:
            raise MedgaugeError(f"backend openai: option {name}={value!r}: use one of "
                                f"{', '.join(allowed)}")
        return value

    def _target(self, url: str) -> tuple[str, str, dict[str, str]]:
        """Chat and models URLs (the path appended before any query string) and the headers,
        with ``user:password@`` turned into an HTTP Basic Authorization header."""
        import base64
        from urllib.parse import unquote

        shown = self._shown[url]
        try:
            parts = urlsplit(url)
            host, port = parts.hostname, parts.port
        except ValueError as exc:  # malformed IPv6 host, port out of range
            raise MedgaugeError(f"backend openai: base_url {shown!r}: {exc}") from None
        if parts.scheme not in ("http", "https") or not host:
            raise MedgaugeError(f"backend openai: base_url {shown!r} must look like "
                                "http(s)://host[:port]/v1")
        headers = {"Content-Type": "application/json"}
        if parts.username is not None or parts.password is not None:
            if self.api_key:
                raise MedgaugeError(
                    f"backend openai: base_url {shown!r} holds user:password and "
                    f"${self.api_key_env} holds an API key; a request carries one "
                    "Authorization header: remove one of them")
            pair = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        elif self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        netloc = f"[{host}]" if ":" in host else host
        netloc += f":{port}" if port is not None else ""
        path = parts.path.rstrip("/")

        def join(tail: str) -> str:
            return urlunsplit((parts.scheme, netloc, path + tail, parts.query, ""))

        return join("/chat/completions"), join("/models"), headers

    def display_name(self) -> str:
        return self.model

    def answer_options(self) -> dict[str, Any]:
        server = sorted(self._shown.values()) if self.cache_scope == "server" else None
        return {"max_image_side": self.max_image_side, "extra_body": self.extra_body or None,
                "server": server, "reasoning_reply": self.reasoning_reply or None}

    async def start(self) -> None:
        import aiohttp

        connector = aiohttp.TCPConnector(limit=self.concurrency * len(self.base_urls),
                                         limit_per_host=self.concurrency)
        self._session = aiohttp.ClientSession(
            connector=connector, timeout=aiohttp.ClientTimeout(total=self.timeout))
        for url in self.base_urls:  # fail fast on an unreachable server
            _, models, headers = self._targets[url]
            try:
                async with self._session.get(models, headers=headers,
                                             timeout=aiohttp.ClientTimeout(total=10)) as r:
                    await r.read()
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                await self.close()
                raise MedgaugeError(f"cannot reach server {self._shown[url]}: "
                                    f"{_describe(exc)}") from None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _message(self, message: dict[str, Any], urls: list[str]) -> dict[str, Any]:
        """Image parts become image_url parts holding a placeholder; ``payload`` splices the
        data URL in afterwards (base64 needs no JSON escaping, and encoding megabytes of it
        through ``json.dumps`` was the largest cost per request)."""

        def convert(image: ImageRef) -> dict[str, Any]:
            urls.append(data_url(image, self.max_image_side))
            return {"type": "image_url", "image_url": {"url": f"{_IMAGE_MARK}{len(urls) - 1}"}}

        out = map_image_parts(message, convert)
        content = out.get("content")
        if isinstance(content, list) and self.content_format != "parts":
            if all(isinstance(p, dict) and p.get("type") == "text" for p in content):
                out = {**out, "content": "".join(str(p.get("text", "")) for p in content)}
            elif self.content_format == "string":
                raise MedgaugeError("backend openai: content_format=string cannot send images "
                                    "(use auto or parts)")
        return out

    def payload(self, request: Request) -> bytes:
        """The request body as JSON bytes, images included as data URLs."""
        urls: list[str] = []
        body = self.body(request, urls)
        text = json.dumps(body)
        for index, url in enumerate(urls):
            text = text.replace(f'"{_IMAGE_MARK}{index}"', f'"{url}"', 1)
        return text.encode()

    def body(self, request: Request, urls: list[str]) -> dict[str, Any]:
        p = request.params
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [self._message(m, urls) for m in request.messages],
            "temperature": p.temperature,
        }
        if p.max_tokens is not None:
            body["max_tokens"] = p.max_tokens
        if p.top_p is not None:
            body["top_p"] = p.top_p
        if p.seed is not None:
            body["seed"] = p.seed
        if p.n != 1:
            body["n"] = p.n
        if p.stop:
            body["stop"] = list(p.stop)
        if p.logprobs:
            body["logprobs"] = True
            if p.top_logprobs:
                body["top_logprobs"] = p.top_logprobs
        body.update(self.extra_body)
        return body

    async def generate(self, request: Request) -> Response:
        if self._session is None:
            raise MedgaugeError("backend openai used before start()")
        try:
            payload = self.payload(request)
        except MedgaugeError as exc:  # a corrupt image: say which sample holds it
            sample = request.meta.get("sample_id")
            raise MedgaugeError(f"sample {sample!r}: {exc}" if sample else str(exc)) from None
        t0 = time.perf_counter()
        last = "no attempt made"
        failed: str | None = None
        previous_500: bytes | None = None
        for attempt in range(self.max_retries + 1):
            url = self._pool.acquire(avoid=failed)
            try:
                response = await self._post(url, payload)
                response.latency_s = time.perf_counter() - t0
                return response
            except _Transient as exc:
                last, failed = str(exc), url
                if exc.body_500 is not None:
                    if exc.body_500 == previous_500:
                        return self._deterministic(last, attempt + 1, t0)
                    previous_500 = exc.body_500
                if attempt == self.max_retries:
                    break
                delay = min(self.retry_max, self.retry_base * 2**attempt) * random.uniform(0.5, 1.5)
                if exc.retry_after is not None:  # honoured, plus jitter so that workers
                    delay = min(self.retry_max,  # do not all come back at the same instant
                                max(exc.retry_after, 0.0) * random.uniform(1.0, 1.2))
                await asyncio.sleep(delay)
        return Response(error=f"{last} (gave up after {self.max_retries + 1} attempts)",
                        latency_s=time.perf_counter() - t0)

    def _deterministic(self, message: str, attempts: int, t0: float) -> Response:
        """The same HTTP 500 body twice: the server rejects this request, not a passing fault."""
        self.deterministic_failures += 1
        if message not in self._said:  # said once per distinct message, on stderr
            self._said.add(message)
            sys.stderr.write(f"warning: {message} (the same HTTP 500 on every attempt: not "
                             "retried further; a chat template rejecting the request? see "
                             "content_format)\n")
        return Response(error=f"{message} (the same HTTP 500 on {attempts} attempts: not "
                              "transient)", latency_s=time.perf_counter() - t0)

    async def _post(self, url: str, payload: bytes) -> Response:
        import aiohttp

        chat, _, headers = self._targets[url]
        ok = False
        try:
            async with self._session.post(chat, data=payload, headers=headers) as r:
                status = r.status
                retry_after = r.headers.get("Retry-After")
                raw = await _read_capped(r, self.max_response_bytes)
            ok = status < 500 and status != 429
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise _Transient(f"{self._shown[url]}: {_describe(exc)}") from None
        finally:
            self._pool.release(url, ok)
        shown = self._shown[url]
        if raw is None:
            return Response(error=f"{shown}: reply larger than max_response_bytes="
                                  f"{self.max_response_bytes} (not read)")
        if status == 200:
            return _parse(raw, shown, self.reasoning_reply)
        message = _error_message(raw)
        if status in _FATAL:
            hint = _FATAL[status]
            if status in (401, 403):
                hint += f" in ${self.api_key_env}"
            raise MedgaugeError(f"{shown}: HTTP {status} {hint} ({message})")
        if status == 429 or status == 408 or status >= 500:
            raise _Transient(f"{shown}: HTTP {status} {message}", _seconds(retry_after),
                             body_500=raw if status == 500 else None)
        return Response(error=f"{shown}: HTTP {status} {message}")


async def _read_capped(r: Any, limit: int) -> bytes | None:
    """The body, or None when it is larger than ``limit`` bytes (stops reading there)."""
    length = r.content_length
    if length is not None:
        return None if length > limit else await r.read()
    chunks, size = [], 0
    async for chunk in r.content.iter_chunked(1 << 16):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, asyncio.TimeoutError):
        return "timed out"
    return f"{type(exc).__name__}: {exc}".rstrip(": ")


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _error_message(raw: bytes) -> str:
    try:
        err = json.loads(raw).get("error")
        if isinstance(err, dict):
            return str(err.get("message", ""))[:200]
        return str(err)[:200]
    except (ValueError, AttributeError):
        return raw[:200].decode("utf-8", "replace")


def _content_text(content: Any) -> str | None:
    """A message's text: a string, or the text parts of a list of parts (some providers)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [p.get("text") for p in content if isinstance(p, dict)]
        if all(isinstance(t, str) for t in texts):
            return "".join(texts)
    return None


def _parse(raw: bytes, url: str, reasoning_reply: bool = False) -> Response:
    """A chat.completion reply; anything malformed is a (retried) error, never an answer.

    ``reasoning_content`` (vLLM, SGLang, DeepSeek) or ``reasoning`` (OpenRouter, Ollama) is kept
    in ``Response.reasoning``.  Empty ``content`` with reasoning present: with
    ``reasoning_reply`` the reasoning becomes the reply (an unclosed ``<think>`` block when cut
    by the length limit); otherwise a reply cut by length stays empty (``incomplete``) and any other
    is a (retried) error."""
    try:
        data = json.loads(raw)
    except ValueError:
        raise _Transient(f"{url}: reply is not valid JSON") from None
    choices = data.get("choices") if isinstance(data, dict) else None
    if not choices or not isinstance(choices, list):
        raise _Transient(f"{url}: reply has no choices")
    texts = []
    reasonings: list[str] = []
    first = choices[0]
    finish = first.get("finish_reason") if isinstance(first, dict) else None
    for choice in choices:
        message = choice.get("message") if isinstance(choice, dict) else None
        text = _content_text(message.get("content")) if isinstance(message, dict) else None
        if text is None:
            raise _Transient(f"{url}: reply has a malformed choice")
        thought = message.get("reasoning_content") or message.get("reasoning")
        thought = thought if isinstance(thought, str) else ""
        reasonings.append(thought)
        if not text.strip() and thought.strip():
            cut = choice.get("finish_reason") == "length"
            if reasoning_reply:
                text = f"<think>{thought}" if cut else thought
            elif not cut:
                raise _Transient(f"{url}: reply has reasoning but empty content (option "
                                 "reasoning_reply=true reads the reasoning as the reply)")
        texts.append(text)
    logprobs = None
    content = first.get("logprobs", {}).get("content") if isinstance(
        first.get("logprobs"), dict) else None
    if isinstance(content, list):
        logprobs = [
            {"token": t.get("token"), "logprob": t.get("logprob"),
             "top": [{"token": x.get("token"), "logprob": x.get("logprob")}
                     for x in t.get("top_logprobs") or [] if isinstance(x, dict)]}
            for t in content if isinstance(t, dict)
        ]
    usage = data.get("usage")
    usage = usage if isinstance(usage, dict) else {}
    return Response(
        text=texts[0], texts=tuple(texts),
        finish_reason=finish if isinstance(finish, str) else None,
        logprobs=logprobs,
        usage={k: v for k, v in usage.items() if isinstance(v, int) and not isinstance(v, bool)},
        reasoning=reasonings[0] or None,
    )
