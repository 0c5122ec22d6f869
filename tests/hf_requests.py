"""Requests and runners shared by the ``hf:`` backend tests (tiny LLaVA, Llama, Qwen2-VL)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from medgauge.backends import create_backend
from medgauge.types import GenParams, ImageRef, Request, Response


def image_request(item: dict[str, Any], params: GenParams | None = None,
                  continuations: tuple[str, ...] = ()) -> Request:
    content = [{"type": "image", "image": ImageRef(item["image_path"])},
               {"type": "text", "text": item["question"]}]
    return Request(messages=[{"role": "user", "content": content}],
                   params=params or GenParams(max_tokens=12), continuations=continuations)


def text_request(question: str, params: GenParams | None = None) -> Request:
    return Request(messages=[{"role": "system", "content": "You are a radiologist."},
                             {"role": "user", "content": question}],
                   params=params or GenParams(max_tokens=12))


def run_all(path: Path, requests: list[Request], **options: Any) -> tuple[list[Response],
                                                                         list[int]]:
    """Send all requests concurrently to a fresh backend; return responses and batch sizes."""
    async def go() -> tuple[list[Response], list[int]]:
        backend = create_backend(f"hf:{path}", {"device": "cpu", **options})
        await backend.start()
        try:
            out = await asyncio.gather(*(backend.generate(r) for r in requests))
            return list(out), list(backend.batch_sizes)  # type: ignore[attr-defined]
        finally:
            await backend.close()
    return asyncio.run(go())


def one_by_one(path: Path, requests: list[Request], **options: Any) -> list[Response]:
    return [run_all(path, [r], batch_size=1, **options)[0][0] for r in requests]


def summary(r: Response) -> tuple[str, str | None, dict[str, int]]:
    assert r.error is None, r.error
    return r.text, r.finish_reason, r.usage
