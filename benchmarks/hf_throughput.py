"""Throughput of the ``hf:`` backend by batch size, on real VQA-RAD images.

    .venv/bin/python benchmarks/hf_throughput.py [--model PATH] [--device cpu|cuda] [-n 48]

Without ``--model`` it builds the tiny random LLaVA-style model of ``tests/hf_tiny.py`` in a
temporary folder (no network).  For each batch size (1, 4, 16) it sends ``n`` VQA-RAD image
questions through the backend with the runner's in-flight limit (``concurrency``), after one
warm-up batch, and prints samples/s.  The last line is one JSON object:
``{"device", "samples_per_s": {"1": ..., "4": ..., "16": ...}, "speedup_16_vs_1", ...}``.
Every batch size answers the same requests greedily, and the script checks that the answers
are the same at every batch size.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "tests"))

from medgauge.backends import create_backend  # noqa: E402
from medgauge.types import GenParams, ImageRef, Request  # noqa: E402


def vqa_rad_requests(data: Path, n: int, max_tokens: int) -> list[Request]:
    items = json.loads((data / "vqa_rad" / "testset.json").read_text())[:n]
    if len(items) < n:
        raise SystemExit(f"only {len(items)} VQA-RAD items in {data}")
    return [Request(messages=[{"role": "user", "content": [
        {"type": "image", "image": ImageRef(str(data / "vqa_rad" / "images" / it["image_name"]))},
        {"type": "text", "text": it["question"]}]}],
        params=GenParams(max_tokens=max_tokens)) for it in items]


async def measure(model: Path, device: str, batch_size: int, requests: list[Request]
                  ) -> tuple[float, list[str]]:
    backend = create_backend(f"hf:{model}", {"device": device, "batch_size": batch_size})
    await backend.start()
    gate = asyncio.Semaphore(backend.concurrency)

    async def one(r: Request) -> str:
        async with gate:
            resp = await backend.generate(r)
        if resp.error:
            raise SystemExit(f"request failed: {resp.error}")
        return resp.text

    try:
        await asyncio.gather(*(one(r) for r in requests[:batch_size]))  # warm-up
        t0 = time.perf_counter()
        texts = await asyncio.gather(*(one(r) for r in requests))
        elapsed = time.perf_counter() - t0
    finally:
        await backend.close()
    return len(requests) / elapsed, list(texts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, help="a local HF VLM folder (default: tiny random)")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda", "mps", "auto"])
    ap.add_argument("-n", type=int, default=48, help="requests per batch size")
    ap.add_argument("--max-tokens", type=int, default=16)
    ap.add_argument("--data", type=Path, default=Path(os.environ.get(
        "MEDGAUGE_SHARED", REPO.parent / "shared")) / "data")
    ap.add_argument("--batch-sizes", default="1,4,16")
    ap.add_argument("--hidden", type=int, default=512, help="text width of the built model")
    ap.add_argument("--layers", type=int, default=4, help="text layers of the built model")
    args = ap.parse_args()

    sizes = [int(s) for s in args.batch_sizes.split(",")]
    requests = vqa_rad_requests(args.data, args.n, args.max_tokens)
    with tempfile.TemporaryDirectory() as tmp:
        model = args.model
        if model is None:
            import hf_tiny

            # Small but not negligible (a 512-wide, 4-layer text model, ~10M parameters): with
            # a 64-wide toy the per-sample image decoding dwarfs the model and hides batching.
            # Replies run to --max-tokens, as throughput benchmarks fix the output length
            # (vLLM's --ignore-eos); the test models instead stop rows early on purpose.
            model = hf_tiny.build_llava_model(Path(tmp) / "tiny-llava", text_hidden=args.hidden,
                                              text_layers=args.layers, boost_eos=False)
        rates: dict[str, float] = {}
        answers: dict[int, list[str]] = {}
        for bs in sizes:
            rate, answers[bs] = asyncio.run(measure(model, args.device, bs, requests))
            rates[str(bs)] = round(rate, 2)
            print(f"batch {bs:>3}: {rate:8.2f} samples/s", flush=True)
    same = all(a == answers[sizes[0]] for a in answers.values())
    print(f"same answers at every batch size: {same}")
    speedup = (rates["16"] / rates["1"]) if "16" in rates and "1" in rates else None
    print(json.dumps({"device": args.device, "samples_per_s": rates,
                      "speedup_16_vs_1": None if speedup is None else round(speedup, 2),
                      "n": args.n, "max_tokens": args.max_tokens,
                      "model": str(args.model) if args.model else
                      f"tiny-llava (random, text {args.hidden}x{args.layers})",
                      "same_answers": same}))


if __name__ == "__main__":
    main()
