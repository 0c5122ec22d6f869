"""VQA-RAD end to end on its real images: loader -> runner -> OpenAI-compatible HTTP backend ->
SQLite store -> scorer -> metrics, checked against a hand computation from testset.json."""

from __future__ import annotations

import asyncio
import json

from medgauge.backends import create_backend
from medgauge.benchmarks import create_benchmark
from medgauge.metrics import ACCURACY, accuracy, grouped
from medgauge.runner.engine import Task, run_tasks
from medgauge.runner.solver import solvers
from medgauge.store import Store


def test_vqa_rad_scores_equal_a_hand_computation(shared_data, instant_server, tmp_path):
    server = instant_server("--content", "No, there is no abnormality.")
    bench = create_benchmark("vqa-rad", shared_data / "vqa_rad")
    store = Store(tmp_path / "s.db")
    task = Task(bench, create_backend("openai:instant", {"base_url": server.url}),
                solvers.get("clean")())
    [outcome] = asyncio.run(run_tasks([task], store))
    items = list(store.items(outcome.run_id))
    assert outcome.errors == 0 and len(items) == 451 == server.chat_requests()

    # By hand from the released file: the answer "No, ..." is right exactly on closed questions
    # whose gold answer is "no"; open questions are wrong (none has the gold text "no, there is
    # no abnormality"), and no closed yes/no item is invalid.
    release = json.loads((shared_data / "vqa_rad" / "testset.json").read_text())
    gold_no = sum(1 for x in release if str(x["answer"]).strip().lower() == "no"
                  and x["answer_type"] == "CLOSED")
    closed_yes_no = sum(1 for x in release if x["answer_type"] == "CLOSED"
                        and str(x["answer"]).strip().lower() in ("yes", "no"))
    acc = accuracy(items)
    assert acc.k == gold_no and acc.n == 451 and acc.errors == 0
    assert acc.lo < acc.value < acc.hi
    assert sum(1 for i in items if i["extracted"] == "no") == closed_yes_no
    by_group = grouped(ACCURACY, items, "answer_type_group")
    assert by_group["closed"].n == 272 and by_group["open"].n == 179
    assert by_group["closed"].k == gold_no and by_group["open"].k == 0
    # Requests carried the real images (base64 JPEG bodies of tens of kB).
    assert server.stats()["max_body"] > 10_000
