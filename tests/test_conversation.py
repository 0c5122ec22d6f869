"""Samples that carry a conversation: earlier turns are sent before the question, every pipeline
step keeps them, a rescore reads them back from the store, and bad turns are one-line errors."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from core_v2_support import ChatServer
from medgauge.backends import create_backend
from medgauge.benchmarks import create_benchmark
from medgauge.runner.engine import Task, run_tasks
from medgauge.runner.solver import solvers
from medgauge.runner.steps import parse_pipeline
from medgauge.store import Store
from medgauge.types import MedgaugeError

HISTORY = [{"role": "user", "content": "I am 34 and have a cough for three weeks."},
           {"role": "assistant", "content": "Any fever or weight loss?"}]


def write(path: Path, history: object) -> Path:
    rows = [{"id": "c1", "question": "Should a chest X-ray be ordered?", "answer": "yes",
             "history": history},
            {"id": "c2", "question": "Is this an emergency?", "answer": "no"}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_history_turns_precede_the_question_through_a_pipeline(tmp_path: Path) -> None:
    data = write(tmp_path / "conv.jsonl", HISTORY)
    server = ChatServer(lambda body, i: "Answer: yes")
    try:
        task = Task(create_benchmark("custom", data),
                    create_backend("openai:m", {"base_url": server.url}),
                    solvers.get("clean")(), pipeline=parse_pipeline("chain_of_thought -> generate"))
        store = Store(tmp_path / "s.db")
        [out] = asyncio.run(run_tasks([task], store))
        bodies = {b["messages"][-1]["content"].split("\n")[0]: b for b in server.bodies}
    finally:
        server.close()
    first = next(b for k, b in bodies.items() if "X-ray" in k)["messages"]
    assert [m["role"] for m in first] == ["user", "assistant", "user"]
    assert first[0]["content"] == HISTORY[0]["content"]  # text-only turns go as plain strings
    assert first[1]["content"] == HISTORY[1]["content"]
    assert "Let's think step by step" in first[2]["content"]
    second = next(b for k, b in bodies.items() if "emergency" in k)["messages"]
    assert [m["role"] for m in second] == ["user"]
    items = {it.sample_id: it for it in store.items(out.run_id)}
    assert items["c1"].correct is True and items["c2"].correct is False
    # the stored target keeps the conversation: rescoring needs neither data nor model
    targets = {t.id: t for t, _ in store.stored_items(out.run_id)}
    assert [dict(t) for t in targets["c1"].history] == HISTORY


@pytest.mark.parametrize("history", [{"role": "user"}, [{"role": "doctor", "content": "x"}],
                                     [{"role": "user", "content": 3}]])
def test_bad_history_is_a_one_line_error(tmp_path: Path, history: object) -> None:
    data = write(tmp_path / "bad.jsonl", history)
    with pytest.raises(MedgaugeError, match=r"bad\.jsonl:1: field 'history"):
        list(create_benchmark("custom", data).samples())
