"""Issue 15, the OpenAI-compatible backend under faults, against stdlib servers on 127.0.0.1:
a broken or killed endpoint among several, credentials in URLs, oversized replies, query strings
in base URLs, chat templates that reject list content, the cache scope, and the early stop."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from pathlib import Path

import pytest

from medgauge.backends import create_backend
from medgauge.benchmarks import create_benchmark
from medgauge.runner.engine import Task, run_tasks
from medgauge.runner.solver import solvers
from medgauge.store import Store
from medgauge.types import MedgaugeError
from scripted_server import ScriptedServer, completion
from test_cli import medgauge
from test_openai_backend import ask

BROKEN = (500, {}, b'{"error": {"message": "engine crashed"}}')


def yes_items(path: Path, n: int) -> Path:
    """A canonical JSONL benchmark of ``n`` yes/no questions whose gold is yes."""
    path.write_text("".join(json.dumps({"id": f"q{i}", "question": f"Is finding {i} present?",
                                        "answer": "yes"}) + "\n" for i in range(n)))
    return path


def run_one(data: Path, store: Path, **options: object):
    bench = create_benchmark("custom", data)
    backend = create_backend("openai:m", {"retry_base": 0.01, "concurrency": 8, **options})
    task = Task(bench, backend, solvers.get("clean")())
    [outcome] = asyncio.run(run_tasks([task], Store(store)))
    return outcome


def test_a_failing_endpoint_is_backed_off_and_every_item_answered(tmp_path):
    healthy = ScriptedServer(lambda i: (200, {}, completion("yes")))
    broken = ScriptedServer(lambda i: BROKEN)
    try:
        outcome = run_one(yes_items(tmp_path / "d.jsonl", 200), tmp_path / "s.db",
                          base_url=[broken.url, healthy.url])
        assert outcome.errors == 0 and outcome.done == 200
        assert len(healthy.chat_times) == 200
        # the breaker keeps the broken one out: a few failures and probes, not half the traffic
        assert len(broken.chat_times) < 40
    finally:
        healthy.close()
        broken.close()


def test_an_endpoint_killed_mid_run_loses_no_item(tmp_path):
    import time

    def slow(i: int) -> tuple[int, dict[str, str], bytes]:
        time.sleep(0.005)
        return 200, {}, completion("yes")

    a, b = ScriptedServer(slow), ScriptedServer(slow)

    def kill_a() -> None:
        while len(a.chat_times) < 40:
            time.sleep(0.002)
        a.close()

    killer = threading.Thread(target=kill_a)
    killer.start()
    try:
        outcome = run_one(yes_items(tmp_path / "d.jsonl", 200), tmp_path / "s.db",
                          base_url=[a.url, b.url], timeout=5.0)
        killer.join()
        assert outcome.errors == 0 and outcome.done == 200
        assert 40 <= len(a.chat_times) < 200 and len(b.chat_times) >= 200 - len(a.chat_times)
    finally:
        killer.join()
        b.close()


def test_a_chat_template_rejecting_list_content_works_with_the_defaults(tmp_path):
    """A llama.cpp-style server whose chat template accepts only string content answers 500 to a
    list of parts, with the same body every time."""
    def template(i: int, body: bytes) -> tuple[int, dict[str, str], bytes]:
        messages = json.loads(body)["messages"]
        if any(not isinstance(m["content"], str) for m in messages):
            return 500, {}, b'{"error": {"message": "Value is not a string: content"}}'
        return 200, {}, completion("yes")

    server = ScriptedServer(template, with_body=True)
    try:
        outcome = run_one(yes_items(tmp_path / "d.jsonl", 20), tmp_path / "s.db",
                          base_url=server.url)
        assert outcome.errors == 0 and len(server.chat_times) == 20
        sent = json.loads(server.requests[0][2])["messages"][0]["content"]
        assert isinstance(sent, str) and "Is finding" in sent
        # forcing list content: the deterministic 500 is not retried six times per item
        server.requests.clear()
        server.chat_times.clear()
        forced = run_one(yes_items(tmp_path / "d2.jsonl", 5), tmp_path / "s2.db",
                         base_url=server.url, content_format="parts", stop_after_failures=0)
        assert forced.errors == 5 and len(server.chat_times) == 10  # two attempts each
    finally:
        server.close()


def test_plain_string_content_keeps_the_stored_request_and_its_cache_key(tmp_path):
    server = ScriptedServer(lambda i: (200, {}, completion("yes")))
    try:
        data = yes_items(tmp_path / "d.jsonl", 3)
        run_one(data, tmp_path / "s.db", base_url=server.url, content_format="parts")
        store = Store(tmp_path / "s.db")
        stored = [json.loads(r[0]) for r in store.db.execute("SELECT request FROM responses")]
        assert all(isinstance(r["messages"][0]["content"], list) for r in stored)
        n = len(server.chat_times)
        run_one(data, tmp_path / "s.db", base_url=server.url)  # auto: all cache hits
        assert len(server.chat_times) == n == 3
    finally:
        server.close()


def test_url_credentials_are_basic_auth_and_never_printed(tmp_path):
    server = ScriptedServer(lambda i: (200, {}, completion("yes")))
    try:
        url = server.url.replace("http://", "http://alice:s3cret@") + "?api-version=2024"
        assert ask(create_backend("openai:m", {"base_url": url})).text == "yes"
        path, headers, _ = server.requests[0]
        assert path == "/v1/chat/completions?api-version=2024"  # path before the query string
        assert headers["Authorization"] == "Basic " + base64.b64encode(b"alice:s3cret").decode()
    finally:
        server.close()


def test_url_credentials_and_an_api_key_together_are_one_line(monkeypatch):
    monkeypatch.setenv("MEDGAUGE_TEST_KEY", "sk-x")
    with pytest.raises(MedgaugeError, match="one Authorization header") as exc:
        create_backend("openai:m", {"base_url": "http://u:p@127.0.0.1:1/v1",
                                    "api_key_env": "MEDGAUGE_TEST_KEY"})
    assert "p@" not in str(exc.value) and "\n" not in str(exc.value)


def test_secrets_in_base_urls_are_redacted_in_resume_lines(tmp_path):
    server = ScriptedServer(lambda i: (400, {}, b'{"error": {"message": "bad"}}'))
    try:
        url = server.url.replace("http://", "http://bob:hunter2@") + "?api_key=k3y9"
        res = medgauge("run", "-b", f"custom={yes_items(tmp_path / 'd.jsonl', 2)}", "-m",
                       "openai:m", "--base-url", url, "--store", str(tmp_path / "s.db"), "-q")
        assert res.returncode == 1 and "Rerun to retry them" in res.stdout, res.stderr
        assert "hunter2" not in res.stdout + res.stderr and "k3y9" not in res.stdout + res.stderr
        assert "api_key=***" in res.stdout
    finally:
        server.close()


def test_a_reply_larger_than_the_cap_is_an_error_item(tmp_path):
    big = completion("yes " * 400_000)  # about 1.6 MB
    server = ScriptedServer(lambda i: (200, {}, big))
    try:
        backend = create_backend("openai:m", {"base_url": server.url,
                                              "max_response_bytes": 1_000_000})
        response = ask(backend)
        assert response.error and "max_response_bytes" in response.error and not response.text
        assert len(server.chat_times) == 1  # not retried
        assert ask(create_backend("openai:m", {"base_url": server.url})).text.startswith("yes")
    finally:
        server.close()


def test_every_request_failing_stops_the_task_early(tmp_path):
    server = ScriptedServer(lambda i: (503, {}, b'{"error": {"message": "down"}}'))
    try:
        store = tmp_path / "s.db"
        res = medgauge("run", "-b", f"custom={yes_items(tmp_path / 'd.jsonl', 2000)}", "-m",
                       "openai:m", "--base-url", server.url, "--model-opt", "max_retries=1",
                       "--model-opt", "retry_base=0", "--model-opt", "stop_after_failures=10",
                       "--concurrency", "4", "--store", str(store), "-q")
        lines = [x for x in res.stderr.splitlines() if x.strip()]
        assert res.returncode == 2 and len(lines) == 1, res.stderr
        assert "the last 10 samples all failed" in lines[0]
        assert "medgauge run -b custom=" in lines[0]  # the resume command
        assert len(server.chat_times) < 100  # not 2,000 items x 2 attempts
    finally:
        server.close()


def test_cache_scope_server_keys_answers_by_endpoint():
    a = create_backend("openai:m", {"base_url": "http://a:1/v1"})
    b = create_backend("openai:m", {"base_url": "http://b:1/v1"})
    assert a.identity() == b.identity()  # the default: the model name decides
    a = create_backend("openai:m", {"base_url": "http://a:1/v1", "cache_scope": "server"})
    b = create_backend("openai:m", {"base_url": "http://u:pw@b:1/v1", "cache_scope": "server"})
    assert a.identity() != b.identity() and "pw" not in b.identity()


@pytest.mark.parametrize("url, message", [
    ("http://127.0.0.1:99999/v1", "out of range"),
    ("http://[::1/v1", "Invalid IPv6 URL"),
])
def test_malformed_base_urls_are_one_line_errors(tmp_path, url, message):
    res = medgauge("run", "-b", f"custom={yes_items(tmp_path / 'd.jsonl', 2)}", "-m",
                   "openai:m", "--base-url", url, "--store", str(tmp_path / "s.db"))
    lines = [x for x in res.stderr.splitlines() if x.strip()]
    assert res.returncode == 2 and len(lines) == 1 and message in lines[0], res.stderr
