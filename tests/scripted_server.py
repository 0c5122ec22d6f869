"""A tiny scripted HTTP server for tests that need exact status sequences (401, Retry-After).

Runs the standard library's ThreadingHTTPServer on 127.0.0.1 in a background thread.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# A handler returns (status, headers, body bytes) for the n-th chat request (0-based).
Script = Callable[[int], tuple[int, dict[str, str], bytes]]


def completion(text: str) -> bytes:
    return json.dumps({"id": "x", "object": "chat.completion", "choices": [
        {"index": 0, "message": {"role": "assistant", "content": text},
         "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1}}).encode()


class ScriptedServer:
    """``script(index)``, or ``script(index, body)`` with ``with_body=True``; every chat request
    is recorded in ``requests`` as (path, headers, body)."""

    def __init__(self, script: Script | Callable[[int, bytes], tuple[int, dict[str, str], bytes]],
                 with_body: bool = False) -> None:
        self.script = script
        self.with_body = with_body
        self.chat_times: list[float] = []
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                for k, v in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                self._send(200, {}, b'{"object":"list","data":[]}')

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with outer.lock:
                    index = len(outer.chat_times)
                    outer.chat_times.append(time.monotonic())
                    outer.requests.append((self.path, dict(self.headers), body))
                reply = outer.script(index, body) if outer.with_body else outer.script(index)
                self._send(*reply)

        class QuietServer(ThreadingHTTPServer):
            def handle_error(self, request: object, client_address: object) -> None:
                pass  # a client that gave up (the 401 test cancels in-flight requests)

        self.httpd = QuietServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
