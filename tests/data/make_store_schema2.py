"""Regenerate ``store_schema2.sql``: a store written by medgauge's previous release (schema 2).

Run with the previous release's sources (commit a7dc4f8) first on the path::

    git archive a7dc4f8 src | tar -x -C OLD
    python tests/data/make_store_schema2.py OLD/src

It runs that release's CLI on ``store_schema2_bench.jsonl`` (given to it as the relative path
``data.jsonl``, so no machine path enters the store) with ``baseline:constant`` and an
``openai:fixture-model`` answered by a local stdlib server (``REPLIES``, by sample question),
then writes the store as SQL text (``sqlite3`` ``iterdump``).  tests/test_core_v2_migration.py
replays the same commands with this release.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCH = HERE / "store_schema2_bench.jsonl"
OUT = HERE / "store_schema2.sql"
#: the fixture model's reply to each question (matched by a phrase of the question)
REPLIES = {
    "anterior wall": "The answer is B.",
    "reverses heparin": "C",
    "wrist drop": "Radial nerve (C)",
    "aspirin": "Yes, it is.",
    "liver on the left": "yes",
    "alpha cells": "I am not sure.",
    "produces bile": "The liver",
    "community-acquired": "Staphylococcus aureus",
    "chambers": "There are 4 chambers.",
}


def reply_for(body: bytes) -> str:
    text = json.dumps(json.loads(body)["messages"])
    for phrase, reply in REPLIES.items():
        if phrase in text:
            return reply
    return "unknown"


def completion(text: str) -> bytes:
    return json.dumps({"id": "x", "object": "chat.completion", "choices": [
        {"index": 0, "message": {"role": "assistant", "content": text},
         "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1}}
                      ).encode()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def _send(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._send(b'{"object":"list","data":[]}')

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._send(completion(reply_for(body)))


def commands(url: str) -> list[list[str]]:
    """The runs (the same in the migration test)."""
    return [["run", "-b", "custom=data.jsonl", "-m", "baseline:constant", "-m",
             "openai:fixture-model", "--base-url", url, "--store", "old.db", "-q"]]


def main(old_src: str) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "PYTHONPATH": str(Path(old_src).resolve()),
           "OPENAI_API_KEY": "unused"}
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(BENCH, Path(tmp) / "data.jsonl")
        for args in commands(url):
            result = subprocess.run([sys.executable, "-m", "medgauge.cli", *args], cwd=tmp,
                                    env=env, capture_output=True, text=True)
            if result.returncode != 0:
                raise SystemExit(result.stderr)
        with sqlite3.connect(Path(tmp) / "old.db") as db:
            assert db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()[0] == "2"
            OUT.write_text("\n".join(db.iterdump()) + "\n", encoding="utf-8")
    server.shutdown()
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])
