"""`medgauge score`: external predictions re-scored through the same path as `medgauge run`.
Real VQA-RAD test split (../shared/data)."""

from __future__ import annotations

import asyncio
import csv
import json

from medgauge.backends import create_backend
from medgauge.benchmarks import create_benchmark
from medgauge.metrics import accuracy
from medgauge.runner.engine import Task, run_tasks
from medgauge.runner.solver import solvers
from medgauge.store import Store
from test_cli import medgauge


def test_score_matches_run_on_the_same_answers(shared_data, tmp_path):
    bench = create_benchmark("vqa-rad", shared_data / "vqa_rad")
    samples = list(bench.samples())
    # Predictions a "tool" wrote: a verbose yes for closed items, the gold text for half the open
    # ones, nothing for three items.
    preds = []
    for i, s in enumerate(samples[3:]):
        if s.answer_type == "yesno":
            text = "Yes, it is present."
        else:
            text = s.answer if i % 2 else "I am not sure."
        preds.append({"id": s.id, "response": text})
    pred_file = tmp_path / "preds.jsonl"
    pred_file.write_text("".join(json.dumps(p) + "\n" for p in preds))

    out = tmp_path / "extraction.csv"
    res = medgauge("score", "-b", f"vqa-rad={shared_data / 'vqa_rad'}", "--predictions",
                   str(pred_file), "--out", str(out))
    assert res.returncode == 0, res.stderr
    with open(out, newline="") as fh:
        rows = {r["sample_id"]: r for r in csv.DictReader(fh)}
    assert len(rows) == 451
    assert sum(bool(r["error"]) for r in rows.values()) == 3

    # The same answers through a live run (the replay backend via the runner) agree item by item.
    store = Store(tmp_path / "s.db")
    task = Task(bench, create_backend(f"replay:{pred_file}"), solvers.get("clean")())
    [outcome] = asyncio.run(run_tasks([task], store))
    items = {i["sample_id"]: i for i in store.items(outcome.run_id)}
    for sid, row in rows.items():
        item = items[sid]
        if item["error"]:
            assert row["error"]
            continue
        assert row["correct"] == str(item["correct"])
        assert row["extracted"] == ("invalid" if item["extracted"] is None else item["extracted"])
    closed = [s for s in samples[3:] if s.answer_type == "yesno"]
    n_yes = sum(s.answer == "yes" for s in closed)
    acc = accuracy(items[s.id] for s in closed)
    assert (acc.k, acc.n) == (n_yes, len(closed))


def test_replay_answers_per_sample_even_for_identical_questions(tmp_path):
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps({"id": "a", "question": "Is there a fracture?", "answer": "yes",
                                "answer_type": "yesno"}) + "\n" + json.dumps(
        {"id": "b", "question": "Is there a fracture?", "answer": "no",
         "answer_type": "yesno"}) + "\n" + json.dumps(
        {"id": "c", "question": "Is there a fracture?", "answer": "no",
         "answer_type": "yesno"}) + "\n")
    preds = tmp_path / "p.jsonl"
    preds.write_text(json.dumps({"id": "a", "response": "yes"}) + "\n"
                     + json.dumps({"id": "b", "response": "no"}) + "\n")
    out = tmp_path / "x.jsonl"
    res = medgauge("score", "-b", f"custom={data}", "--predictions", str(preds), "-o", str(out))
    assert res.returncode == 0, res.stderr
    rows = {r["sample_id"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert rows["a"]["correct"] is True and rows["b"]["correct"] is True
    assert rows["c"]["error"] and rows["c"]["correct"] is None  # no prediction: an error
    probes = medgauge("run", "-b", f"custom={data}", "-m", f"replay:{preds}", "--probe",
                      "leading", "--store", str(tmp_path / "s.db"))
    assert probes.returncode == 2 and "replay" in probes.stderr
