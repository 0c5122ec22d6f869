"""Reasoning models' replies, against a stdlib OpenAI-compatible server on 127.0.0.1 that answers
like a reasoning model:

- a reply cut by ``max_tokens`` inside an unclosed ``<think>`` ("... so it is probably B. But
  wait, let me") is ``incomplete`` (counted and shown beside invalid), never parsed as B;
- a reply whose ``content`` is empty while ``reasoning_content`` holds the text is retried, then
  an error (exit 1), and a rerun asks again; once the server answers properly it is scored;
- cut by length while still reasoning (empty content) is ``incomplete``;
- ``reasoning_reply=true`` reads ``reasoning_content`` as the reply when asked.
"""

from __future__ import annotations

import json

from core_v2_support import cli, user_text
from medgauge.store import Store
from scripted_server import ScriptedServer

OPTIONS = {"A": "Aspirin", "B": "Heparin", "C": "Warfarin", "D": "Alteplase"}
ITEMS = {"cut": "Item cut inside thinking", "empty": "Item with empty content",
         "long": "Item cut while reasoning only", "fine": "Item answered normally"}


def _reply(content: str | None, finish: str, reasoning: str | None = None) -> bytes:
    message: dict = {"role": "assistant", "content": content}
    if reasoning is not None:
        message["reasoning_content"] = reasoning
    return json.dumps({"id": "x", "object": "chat.completion", "choices": [
        {"index": 0, "message": message, "finish_reason": finish}],
        "usage": {"prompt_tokens": 20, "completion_tokens": 8}}).encode()


def _data(tmp_path):
    path = tmp_path / "mcq.jsonl"
    path.write_text("".join(json.dumps({"id": k, "question": q, "answer": "B",
                                        "options": OPTIONS, "answer_type": "mcq"}) + "\n"
                            for k, q in ITEMS.items()))
    return path


def test_cut_thinking_is_incomplete_and_empty_content_is_a_retried_error(tmp_path):
    fixed = {"empty": False}

    def script(index: int, raw: bytes):
        text = user_text(json.loads(raw))
        if ITEMS["cut"] in text:
            return 200, {}, _reply("<think>The patient has a PE, so it is probably B. But wait, "
                                   "let me", "length")
        if ITEMS["empty"] in text:
            if fixed["empty"]:
                return 200, {}, _reply("The answer is B.", "stop", "PE: anticoagulate.")
            return 200, {}, _reply("", "stop", "PE, so heparin. The answer is B.")
        if ITEMS["long"] in text:
            return 200, {}, _reply(None, "length", "Let me weigh A against B, it is B")
        return 200, {}, _reply("<think>short</think>The answer is B.", "stop")

    server = ScriptedServer(script, with_body=True)
    store = tmp_path / "s.db"
    args = ("run", "-b", f"custom={_data(tmp_path)}", "-m", "openai:reasoner", "--base-url",
            server.url, "--model-opt", "max_retries=1", "--model-opt", "retry_base=0",
            "--store", str(store), "-q")
    try:
        first = cli(*args)
        assert first.returncode == 1, first.stderr  # the empty reply is an error: rerun
        assert "1 request(s) failed" in first.stdout
        # 4 items, the empty one asked twice (one retry)
        assert len(server.requests) == 5
        s = Store(store)
        [run] = s.runs()
        items = {it.sample_id: it for it in s.items(run["run_id"])}
        assert items["cut"].status == "incomplete" and items["cut"].extracted is None
        assert items["long"].status == "incomplete"
        assert items["empty"].status == "error"
        assert "reasoning but empty content" in items["empty"].error
        assert (items["fine"].status, items["fine"].value) == ("ok", 1.0)
        s.close()
        # shown beside invalid in the leaderboard: 0 invalid + 2 incomplete
        assert "0+2i" in first.stdout

        second = cli(*args)  # the error is retried, the rest is stored
        assert second.returncode == 1
        assert len(server.requests) == 7
        fixed["empty"] = True
        third = cli(*args)
        assert third.returncode == 0, third.stderr
        assert len(server.requests) == 8
        s = Store(store)
        items = {it.sample_id: it for it in s.items(run["run_id"])}
        assert (items["empty"].status, items["empty"].value) == ("ok", 1.0)
        assert items["cut"].status == "incomplete"
        s.close()
    finally:
        server.close()


def test_reasoning_reply_option_reads_the_reasoning_as_the_reply(tmp_path):
    def script(index: int, raw: bytes):
        text = user_text(json.loads(raw))
        if ITEMS["long"] in text:  # cut while reasoning: still incomplete, not "it is B"
            return 200, {}, _reply("", "length", "Let me weigh A against B, it is B")
        return 200, {}, _reply("", "stop", "Heparin treats the PE. The answer is B.")

    server = ScriptedServer(script, with_body=True)
    store = tmp_path / "s.db"
    try:
        out = cli("run", "-b", f"custom={_data(tmp_path)}", "-m", "openai:reasoner",
                  "--base-url", server.url, "--model-opt", "reasoning_reply=true",
                  "--store", str(store), "-q")
        assert out.returncode == 0, out.stderr
        assert len(server.requests) == 4  # nothing retried
        s = Store(store)
        [run] = s.runs()
        assert "reasoning_reply" in run["model"] or "reasoning_reply" in json.dumps(
            run["config"])
        items = {it.sample_id: it for it in s.items(run["run_id"])}
        s.close()
        assert items["long"].status == "incomplete"
        assert all((it.status, it.value) == ("ok", 1.0) for k, it in items.items()
                   if k != "long")
        assert items["fine"].response.startswith("Heparin treats")
        assert items["long"].response.startswith("<think>Let me")
    finally:
        server.close()
