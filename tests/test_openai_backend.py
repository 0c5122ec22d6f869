"""The OpenAI-compatible backend against real HTTP servers on 127.0.0.1: faults, retries, fatal
statuses.  Data: real VQA-RAD closed questions with their real images."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from medgauge.backends import create_backend
from medgauge.benchmarks import create_benchmark
from medgauge.metrics import accuracy
from medgauge.runner.engine import Task, run_tasks
from medgauge.runner.solver import solvers
from medgauge.store import Store
from medgauge.types import GenParams, ImageRef, MedgaugeError, Request
from scripted_server import ScriptedServer, completion


def ask(backend, text: str = "hi"):
    """Start the backend, send one chat request, close it; the Response."""
    async def go():
        await backend.start()
        try:
            return await backend.generate(Request([{"role": "user", "content": text}]))
        finally:
            await backend.close()

    return asyncio.run(go())


def _vqa_rad_task(data: Path, url: str, limit: int, **options: object) -> Task:
    bench = create_benchmark("vqa-rad", data / "vqa_rad")
    backend = create_backend("openai:instant", {"base_url": url, **options})
    return Task(bench, backend, solvers.get("clean")(), limit=limit)


def test_faults_end_scored_after_retries_or_recorded_as_errors(shared_data, instant_server,
                                                               tmp_path):
    server = instant_server("--content", "yes", "--fail-rate", "0.2", "--fail-kinds",
                            "500,429,timeout,garbage,reset", "--retry-after", "0",
                            "--hold-s", "5", "--seed", "3")
    task = _vqa_rad_task(shared_data, server.url, 120, timeout=1.0, retry_base=0.01,
                         max_retries=6, concurrency=16)
    store = Store(tmp_path / "s.db")
    [outcome] = asyncio.run(run_tasks([task], store))
    items = list(store.items(outcome.run_id))
    assert len(items) == 120 == len({i["sample_id"] for i in items})
    stats = server.stats()
    assert stats["chat_requests"] > 120  # faults were injected and retried
    assert set(stats["faults"]) >= {"500", "429", "garbage"}
    for item in items:
        if item["error"] is None:
            assert item["response"] == "yes"
            assert item["correct"] is not None
        else:
            assert item["correct"] is None and item["extracted"] is None
    acc = accuracy(items)
    assert acc.errors == sum(i["error"] is not None for i in items)
    assert acc.n == 120 - acc.errors


def test_errors_without_retries_are_reported_apart_never_scored(shared_data, instant_server,
                                                                  tmp_path):
    server = instant_server("--content", "yes", "--fail-rate", "0.5", "--fail-kinds",
                            "500,garbage", "--seed", "1")
    task = _vqa_rad_task(shared_data, server.url, 60, max_retries=0, concurrency=8)
    store = Store(tmp_path / "s.db")
    [outcome] = asyncio.run(run_tasks([task], store))
    items = list(store.items(outcome.run_id))
    errored = [i for i in items if i["error"]]
    assert 10 < len(errored) < 50
    assert all(i["correct"] is None and i["extracted"] is None for i in errored)
    assert any("not valid JSON" in i["error"] for i in errored)
    assert any("HTTP 500" in i["error"] for i in errored)
    assert outcome.status == "completed_with_errors"
    acc = accuracy(items)
    assert (acc.errors, acc.n) == (len(errored), 60 - len(errored))

    # A rerun retries only the errored samples, against a healthy server.
    healthy = instant_server("--content", "yes")
    retry_task = Task(task.benchmark, create_backend("openai:instant",
                                                     {"base_url": healthy.url}),
                      task.solver, limit=60)
    assert retry_task.run_id == outcome.run_id  # the URL is not part of the model's identity
    [again] = asyncio.run(run_tasks([retry_task], store))
    assert healthy.chat_requests() == len(errored)
    assert again.skipped == 60 - len(errored)
    assert all(i["error"] is None for i in store.items(outcome.run_id))


def test_401_fails_fast_with_a_clear_message(shared_data, tmp_path):
    server = ScriptedServer(lambda i: (401, {}, b'{"error": {"message": "Invalid API key"}}'))
    try:
        task = _vqa_rad_task(shared_data, server.url, 50, max_retries=5, retry_base=1.0)
        t0 = time.monotonic()
        with pytest.raises(MedgaugeError, match=r"HTTP 401 unauthorised.*OPENAI_API_KEY"):
            asyncio.run(run_tasks([task], Store(tmp_path / "s.db")))
        assert time.monotonic() - t0 < 3.0
        assert len(server.chat_times) <= task.backend.concurrency  # no retries
    finally:
        server.close()


def test_retry_after_is_honoured(tmp_path):
    def script(i: int) -> tuple[int, dict[str, str], bytes]:
        if i == 0:
            return 429, {"Retry-After": "1"}, b'{"error": {"message": "slow down"}}'
        return 200, {}, completion("B")

    server = ScriptedServer(script)
    try:
        backend = create_backend("openai:m", {"base_url": server.url, "retry_base": 0.01})

        response = ask(backend)
        assert response.text == "B" and response.error is None
        assert server.chat_times[1] - server.chat_times[0] >= 0.95
    finally:
        server.close()


def test_requests_spread_over_several_base_urls(shared_data, instant_server, tmp_path):
    a, b = instant_server("--content", "yes", "--delay-ms", "5"), instant_server(
        "--content", "yes", "--delay-ms", "5")
    task = _vqa_rad_task(shared_data, [a.url, b.url], 80, concurrency=8)
    [outcome] = asyncio.run(run_tasks([task], Store(tmp_path / "s.db")))
    assert outcome.errors == 0
    assert a.chat_requests() + b.chat_requests() == 80
    assert min(a.chat_requests(), b.chat_requests()) >= 20


def test_request_body_carries_images_and_parameters(shared_data):
    image = ImageRef(str(shared_data / "vqa_rad" / "images" / "synpic100132.jpg"))
    backend = create_backend("openai:m", {"base_url": "http://127.0.0.1:1/v1",
                                          "max_image_side": 64})
    request = Request([{"role": "user", "content": [{"type": "image", "image": image},
                                                    {"type": "text", "text": "Is it normal?"}]}],
                      GenParams(temperature=0.5, max_tokens=7, seed=3, logprobs=True,
                                top_logprobs=2))
    import base64
    import io
    import json

    from PIL import Image

    body = json.loads(backend.payload(request))
    assert body["temperature"] == 0.5 and body["max_tokens"] == 7 and body["seed"] == 3
    assert body["logprobs"] is True and body["top_logprobs"] == 2
    url = body["messages"][0]["content"][0]["image_url"]["url"]
    assert url.startswith("data:image/jpeg;base64,")
    with Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))) as img:
        assert max(img.size) == 64


def test_api_key_env_named_but_unset_is_an_error(monkeypatch):
    monkeypatch.delenv("MEDGAUGE_TEST_KEY", raising=False)
    with pytest.raises(MedgaugeError, match="MEDGAUGE_TEST_KEY"):
        create_backend("openai:m", {"api_key_env": "MEDGAUGE_TEST_KEY"})


MALFORMED = [b'{"choices":[null]}', b'{"choices":"A"}', b'{"choices":[{"message":"A"}]}',
             b'{"choices":{"0":1}}', b'[1,2]']


def test_malformed_replies_are_retried_errors_never_answers():
    bodies = iter(MALFORMED)

    def script(i: int) -> tuple[int, dict[str, str], bytes]:
        body = next(bodies, None)
        return (200, {}, body) if body is not None else (200, {}, completion("A"))

    server = ScriptedServer(script)
    try:
        backend = create_backend("openai:m", {"base_url": server.url, "retry_base": 0.0,
                                              "max_retries": len(MALFORMED)})

        response = ask(backend)
        assert response.text == "A" and len(server.chat_times) == len(MALFORMED) + 1
    finally:
        server.close()


def test_content_given_as_parts_and_garbage_usage_are_read():
    import json

    body = json.dumps({"choices": [{"message": {"content": [
        {"type": "text", "text": "Yes"}, {"type": "text", "text": "."}]}}],
        "usage": [1]}).encode()
    server = ScriptedServer(lambda i: (200, {}, body))
    try:
        backend = create_backend("openai:m", {"base_url": server.url})

        response = ask(backend)
        assert response.text == "Yes." and response.usage == {}
    finally:
        server.close()


def test_credentials_in_the_base_url_never_reach_errors(tmp_path):
    server = ScriptedServer(lambda i: (400, {}, b'{"error": {"message": "bad image"}}'))
    try:
        url = server.url.replace("http://", "http://user:s3cret@") + "?key=s3cret"
        backend = create_backend("openai:m", {"base_url": url})

        response = ask(backend)
        assert response.error and "HTTP 400" in response.error and "s3cret" not in response.error
    finally:
        server.close()


@pytest.mark.parametrize("options, message", [
    ({"base_url": "localhost:1/v1"}, "must look like http"),
    ({"concurrency": "abc"}, "concurrency must be int"),
    ({"timeout": "soon"}, "timeout must be float"),
    ({"max_retries": -1}, "max_retries must be >= 0"),
    ({"max_image_side": "big"}, "max_image_side must be int"),
    ({"extra_body": "x"}, "extra_body must be a mapping"),
])
def test_bad_backend_options_are_one_line_errors(options, message):
    with pytest.raises(MedgaugeError, match=message):
        create_backend("openai:m", {"base_url": "http://127.0.0.1:1/v1", **options})


def test_answer_changing_options_change_the_model_identity():
    plain = create_backend("openai:m", {"base_url": "http://a/v1"})
    other_server = create_backend("openai:m", {"base_url": "http://b/v1", "concurrency": 3})
    resized = create_backend("openai:m", {"base_url": "http://a/v1", "max_image_side": 256})
    assert plain.identity() == other_server.identity() != resized.identity()
    with pytest.raises(MedgaugeError, match="unknown option"):
        create_backend("baseline:random", {"sed": 3})
