"""``scheduling=continuous`` of the ``hf:`` backend: transformers' continuous batching gives the
same greedy replies as static batches, and requests it cannot serve keep the static path."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from hf_requests import run_all, summary, text_request
from medgauge.backends import create_backend
from medgauge.types import GenParams, MedgaugeError

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("torch") is None or importlib.util.find_spec("transformers") is None,
    reason="the hf backend needs torch and transformers (pip install medgauge[hf])")

QUESTIONS = ["Is the heart enlarged on this chest x-ray?", "What is the modality?",
             "Is there a mass in the right upper lobe?", "How many ribs are visible?",
             "Which side is the lesion on, left or right?", "Kidney stones present."]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import hf_tiny

    return hf_tiny.cached_model(tmp_path_factory.mktemp("cb"), "llama")


def test_continuous_replies_equal_static_batches(tiny: Path) -> None:
    params = GenParams(max_tokens=16)
    requests = [text_request(q, params) for q in QUESTIONS]
    static, sizes = run_all(tiny, requests, batch_size=3)
    continuous, cont_sizes = run_all(tiny, requests, batch_size=3, scheduling="continuous")
    assert [summary(r) for r in continuous] == [summary(r) for r in static]
    # the tiny model ends some replies early and runs others to the limit: a real mix
    assert {r.finish_reason for r in static} == {"stop", "length"}
    assert sizes and cont_sizes == []  # no static batch ran in continuous mode


def test_requests_continuous_batching_cannot_serve_keep_the_static_path(tiny: Path) -> None:
    stop = text_request(QUESTIONS[0], GenParams(max_tokens=16, stop=("e",)))
    logprobs = text_request(QUESTIONS[1], GenParams(max_tokens=4, logprobs=True))
    greedy = text_request(QUESTIONS[2], GenParams(max_tokens=16))
    out, sizes = run_all(tiny, [stop, logprobs, greedy], scheduling="continuous")
    ref, _ = run_all(tiny, [stop, logprobs, greedy])
    assert sum(sizes) == 2  # stop strings and log-probabilities ran as static batches
    assert out[1].logprobs is not None and len(out[1].logprobs) >= 1
    assert [summary(r) for r in out] == [summary(r) for r in ref]


def test_unknown_scheduling_is_a_one_line_error(tiny: Path) -> None:
    with pytest.raises(MedgaugeError, match="scheduling must be static or continuous"):
        create_backend(f"hf:{tiny}", {"scheduling": "eager"})
