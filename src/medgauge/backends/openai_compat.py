"""Any OpenAI-compatible chat-completions endpoint: vLLM, SGLang, TGI, Ollama, llama.cpp server,
hosted APIs.

- API key read from the environment variable named by ``api_key_env`` (never stored).
- Images sent as data URLs (optionally downscaled to ``max_image_side``).
- Several ``base_url``s: each request goes to the one with the fewest requests in flight.
- Connection errors, timeouts, 429 (honouring Retry-After), 408 and 5xx, and replies that are not
  valid JSON or have no choices are retried with exponential backoff and jitter; when retries run
  out the request is an error, never an answer.  400 is an error for that request only; 401, 403
  and 404 stop the run at once with a message saying what to check.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
import uuid
from typing import Any

from medgauge.backends.base import Backend, backends
from medgauge.images import data_url
from medgauge.types import ImageRef, MedgaugeError, Request, Response, map_image_parts

_FATAL = {401: "unauthorised: check the API key", 403: "forbidden: check the API key and "
          "its permissions", 404: "not found: check the base URL and the model name"}


_IMAGE_MARK = f"medgauge-image-{uuid.uuid4().hex}-"  # unique per process


class _Transient(Exception):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@backends.register("openai")
class OpenAIBackend(Backend):
    kind = "openai"

    def __init__(self, model: str, options: dict[str, Any] | None = None) -> None:
        options = dict(options or {})
        options.setdefault("concurrency", 16)
        super().__init__(model, options)
        o = self.options
        urls = o.pop("base_url", None) or os.environ.get("OPENAI_BASE_URL") or \
            "https://api.openai.com/v1"
        listed = [urls] if isinstance(urls, str) else urls
        if not isinstance(listed, list) or not all(isinstance(u, str) for u in listed):
            raise MedgaugeError("backend openai: base_url must be a URL or a list of URLs")
        self.base_urls = [u.rstrip("/") for u in listed]
        self._shown = {u: _redact(u) for u in self.base_urls}  # what messages may show
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
        self.reject_unknown_options("base_url, api_key_env, timeout, max_retries, retry_base, "
                                    "retry_max, max_image_side, extra_body, concurrency")
        for url in self.base_urls:
            _check_url(url)
        if self.api_key is not None and ("\n" in self.api_key or "\r" in self.api_key):
            raise MedgaugeError(f"backend openai: ${self.api_key_env} contains a line break")
        self._in_flight = dict.fromkeys(self.base_urls, 0)
        self._session: Any = None

    def display_name(self) -> str:
        return self.model

    def answer_options(self) -> dict[str, Any]:
        return {"max_image_side": self.max_image_side, "extra_body": self.extra_body or None}

    async def start(self) -> None:
        import aiohttp

        connector = aiohttp.TCPConnector(limit=self.concurrency * len(self.base_urls),
                                         limit_per_host=self.concurrency)
        self._session = aiohttp.ClientSession(
            connector=connector, timeout=aiohttp.ClientTimeout(total=self.timeout))
        for url in self.base_urls:  # fail fast on an unreachable server
            try:
                async with self._session.get(url + "/models",
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

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    def _message(self, message: dict[str, Any], urls: list[str]) -> dict[str, Any]:
        """Image parts become image_url parts holding a placeholder; ``payload`` splices the
        data URL in afterwards (base64 needs no JSON escaping, and encoding megabytes of it
        through ``json.dumps`` was the largest cost per request)."""

        def convert(image: ImageRef) -> dict[str, Any]:
            urls.append(data_url(image, self.max_image_side))
            return {"type": "image_url", "image_url": {"url": f"{_IMAGE_MARK}{len(urls) - 1}"}}

        return map_image_parts(message, convert)

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
        if request.continuations:
            raise MedgaugeError("backend openai cannot score continuations (needs an hf: model)")
        if self._session is None:
            raise MedgaugeError("backend openai used before start()")
        payload = self.payload(request)
        headers = self._headers()
        t0 = time.perf_counter()
        last = "no attempt made"
        for attempt in range(self.max_retries + 1):
            url = min(self.base_urls, key=self._in_flight.__getitem__)
            try:
                response = await self._post(url, payload, headers)
                response.latency_s = time.perf_counter() - t0
                return response
            except _Transient as exc:
                last = str(exc)
                if attempt == self.max_retries:
                    break
                delay = min(self.retry_max, self.retry_base * 2**attempt) * random.uniform(0.5, 1.5)
                if exc.retry_after is not None:  # honoured, plus jitter so that workers
                    delay = min(self.retry_max,  # do not all come back at the same instant
                                max(exc.retry_after, 0.0) * random.uniform(1.0, 1.2))
                await asyncio.sleep(delay)
        return Response(error=f"{last} (gave up after {self.max_retries + 1} attempts)",
                        latency_s=time.perf_counter() - t0)

    async def _post(self, url: str, payload: bytes, headers: dict[str, str]) -> Response:
        import aiohttp

        self._in_flight[url] += 1
        try:
            async with self._session.post(url + "/chat/completions", data=payload,
                                          headers=headers) as r:
                status, raw = r.status, await r.read()
                retry_after = r.headers.get("Retry-After")
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise _Transient(f"{self._shown[url]}: {_describe(exc)}") from None
        finally:
            self._in_flight[url] -= 1
        shown = self._shown[url]
        if status == 200:
            return _parse(raw, shown)
        message = _error_message(raw)
        if status in _FATAL:
            hint = _FATAL[status]
            if status in (401, 403):
                hint += f" in ${self.api_key_env}"
            raise MedgaugeError(f"{shown}: HTTP {status} {hint} ({message})")
        if status == 429 or status == 408 or status >= 500:
            raise _Transient(f"{shown}: HTTP {status} {message}", _seconds(retry_after))
        return Response(error=f"{shown}: HTTP {status} {message}")


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


def _check_url(url: str) -> None:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise MedgaugeError(f"backend openai: base_url {_redact(url)!r} must look like "
                            "http(s)://host[:port]/v1")


def _redact(url: str) -> str:
    """The URL without user, password or query string (those may hold credentials)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


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


def _parse(raw: bytes, url: str) -> Response:
    """A chat.completion reply; anything malformed is a (retried) error, never an answer."""
    try:
        data = json.loads(raw)
    except ValueError:
        raise _Transient(f"{url}: reply is not valid JSON") from None
    choices = data.get("choices") if isinstance(data, dict) else None
    if not choices or not isinstance(choices, list):
        raise _Transient(f"{url}: reply has no choices")
    texts = []
    for choice in choices:
        message = choice.get("message") if isinstance(choice, dict) else None
        text = _content_text(message.get("content")) if isinstance(message, dict) else None
        if text is None:
            raise _Transient(f"{url}: reply has a malformed choice")
        texts.append(text)
    first = choices[0]
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
    finish = first.get("finish_reason")
    return Response(
        text=texts[0], texts=tuple(texts),
        finish_reason=finish if isinstance(finish, str) else None,
        logprobs=logprobs,
        usage={k: v for k, v in usage.items() if isinstance(v, int) and not isinstance(v, bool)},
    )
