"""Helpers of the Core v2 acceptance tests: the CLI as a subprocess running this checkout's
sources, and a stdlib OpenAI-compatible server on 127.0.0.1 that records every request.

``ChatServer(reply)``: ``reply(body: dict, index: int) -> str | (status, text)`` answers each
``POST .../chat/completions`` (a string is a 200 completion; a tuple gives the HTTP status and
either the completion text (200) or the error message).  It counts requests, keeps their bodies
and records the largest number of requests in flight at once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"

Reply = Callable[[dict[str, Any], int], "str | tuple[int, str]"]


def cli(*args: str, cwd: Path | None = None, timeout: float = 120,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``medgauge ARGS`` as a user runs it, with this checkout's sources (the shared virtualenv
    may hold another checkout's medgauge installed in editable mode)."""
    return subprocess.run([sys.executable, "-m", "medgauge.cli", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=timeout, env=cli_env(env))


def cli_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "COLUMNS": "250", "HOME": os.environ.get("HOME", "/tmp"),
            "PYTHONPATH": str(SRC), "OPENAI_API_KEY": "test-key", **(extra or {})}


def cli_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "medgauge.cli", *args]


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    return lines[0]


def completion(text: str) -> bytes:
    return json.dumps({"id": "x", "object": "chat.completion", "choices": [
        {"index": 0, "message": {"role": "assistant", "content": text},
         "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1}}
                      ).encode()


def user_text(body: dict[str, Any]) -> str:
    """The text of the last user message of a chat request body."""
    for message in reversed(body.get("messages", [])):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            return "".join(p.get("text", "") for p in content if p.get("type") == "text")
    return ""


class ChatServer:
    def __init__(self, reply: Reply, delay: float = 0.0) -> None:
        self.reply = reply
        self.delay = delay
        self.bodies: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                self._send(200, b'{"object":"list","data":[]}')

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                body = json.loads(raw)
                with outer.lock:
                    index = len(outer.bodies)
                    outer.bodies.append(body)
                    outer.in_flight += 1
                    outer.max_in_flight = max(outer.max_in_flight, outer.in_flight)
                try:
                    if outer.delay:
                        time.sleep(outer.delay)
                    answer = outer.reply(body, index)
                    status, text = answer if isinstance(answer, tuple) else (200, answer)
                    with outer.lock:
                        outer.statuses.append(status)
                    if status == 200:
                        self._send(200, completion(text))
                    else:
                        self._send(status, json.dumps({"error": {"message": text}}).encode())
                finally:
                    with outer.lock:
                        outer.in_flight -= 1

        class Quiet(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: object, client_address: object) -> None:
                pass  # a client that went away (a killed run)

        self.httpd = Quiet(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def count(self) -> int:
        with self.lock:
            return len(self.bodies)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
