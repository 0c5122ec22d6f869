"""Every probe end to end on real VQA-RAD items and images, through ``run_tasks`` into a real
SQLite store: with the seeded random baseline and with the OpenAI-compatible test server."""

from __future__ import annotations

import asyncio
import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from medgauge.backends import create_backend
from medgauge.backends.base import Backend
from medgauge.benchmarks import create_benchmark
from medgauge.probes import print_trust_profile, probe_summary
from medgauge.runner.engine import Task, TaskOutcome, run_tasks
from medgauge.runner.solver import solvers
from medgauge.store import Store

LIMIT = 12  # 11 closed (yes/no) questions and one open question
PAIR_LIMIT = 113  # pair (37, 67) complete; (112, 120) cut by the limit
OPTIONS: dict[str, dict[str, Any]] = {
    "blind": {},
    "leading": {},
    "followup": {"interventions": "user-insists,retrieved-passage"},
    "permute": {},
    "perturb": {"corruptions": "gaussian_noise,jpeg,region_noise", "severities": "1,5",
                "max_side": 96, "box": "0.25,0.25,0.75,0.75"},
    "mismatch": {},
    "confidence": {},
}
ANSWER = "In conclusion, the answer is yes with confidence 80."


def tasks_for(data: Path, backend: Backend) -> tuple[list[Task], dict[str, Task]]:
    bench = create_benchmark("vqa-rad", data / "vqa_rad")
    by_name = {name: Task(bench, backend, solvers.get(name)(**opts), limit=LIMIT)
               for name, opts in OPTIONS.items()}
    clean = Task(bench, backend, solvers.get("clean")(), limit=LIMIT)
    clean_pairs = Task(bench, backend, solvers.get("clean")(), limit=PAIR_LIMIT)
    by_name["pairs"] = Task(bench, backend, solvers.get("pairs")(), limit=PAIR_LIMIT)
    by_name["clean"], by_name["clean-pairs"] = clean, clean_pairs
    order = ["clean", "clean-pairs", *OPTIONS, "pairs"]
    return [by_name[n] for n in order], by_name


def run_all(data: Path, backend: Backend, store: Store) -> dict[str, TaskOutcome]:
    tasks, by_name = tasks_for(data, backend)
    outcomes = asyncio.run(run_tasks(tasks, store))
    names = {id(t): n for n, t in by_name.items()}
    return {names[id(t)]: o for t, o in zip(tasks, outcomes, strict=True)}


def items_of(store: Store, outcome: TaskOutcome) -> list[dict[str, Any]]:
    return list(store.items(outcome.run_id))


def check_structure(store: Store, out: dict[str, TaskOutcome]) -> dict[str, dict[str, Any]]:
    """What must hold whatever the model answers."""
    assert all(o.status == "completed" for o in out.values()), {
        n: o.status for n, o in out.items()}
    clean = {i["sample_id"]: i for i in items_of(store, out["clean"])}
    assert len(clean) == LIMIT
    closed = {s for s, i in clean.items() if i["answer"].lower() in ("yes", "no")}
    assert len(closed) == LIMIT - 1
    variants: dict[str, Counter[str]] = {}
    for name, outcome in out.items():
        if name.startswith("clean"):
            continue
        rows = items_of(store, outcome)
        variants[name] = Counter(r["variant"] for r in rows)
    assert variants["blind"] == {"blind": LIMIT}
    assert variants["leading"] == {"positive": len(closed), "leading": len(closed)}
    assert variants["followup"] == {v: len(closed) for v in
                                    ("initial", "user-insists", "retrieved-passage")}
    assert variants["permute"] == {"rot0": len(closed), "rot1": len(closed)}
    assert variants["perturb"] == {f"{c}@{s}": LIMIT for c in
                                   ("gaussian_noise", "jpeg", "region_noise") for s in (1, 5)}
    assert variants["mismatch"] == {"mismatch": LIMIT}
    assert variants["confidence"] == {"verbal": len(closed)}
    pair_rows = items_of(store, out["pairs"])
    by_pair = defaultdict(set)
    for r in pair_rows:
        by_pair[r["metadata"]["pair_id"]].add(r["metadata"]["pair_member"])
    assert sum(m == {1, 2} for m in by_pair.values()) == 1  # items 37 + 67
    assert any(len(m) == 1 for m in by_pair.values())  # item 112: its partner is cut
    # the leading question presupposes the wrong answer; the positive one is the clean one
    for r in items_of(store, out["leading"]):
        if r["variant"] == "leading":
            wrong = r["metadata"]["wrong_option"]
            assert wrong != r["answer"].lower() and f'"{wrong}"' in r["question"]
        else:
            assert r["request_hash"] == clean[r["sample_id"]]["request_hash"]
    # followup: first turn = the clean request (a cache hit)
    for r in items_of(store, out["followup"]):
        if r["variant"] == "initial":
            assert r["request_hash"] == clean[r["sample_id"]]["request_hash"]
        else:
            assert r["metadata"]["wrong_option"] != r["answer"].lower()
    # mismatch: the image comes from another organ
    for r in items_of(store, out["mismatch"]):
        meta = r["metadata"]
        assert meta["mismatch_field"] == "image_organ"
        assert meta["swapped_value"] != meta["original_value"] == meta["image_organ"]
    # perturbed images are stored as path#corruption@severity + hash, never as bytes
    perturbed = [json.loads(r[0]) for r in store.db.execute(
        "SELECT request FROM responses WHERE request LIKE '%#gaussian_noise@5%'")]
    assert len(perturbed) == LIMIT
    part = next(p for p in perturbed[0]["messages"][0]["content"] if p["type"] == "image")
    assert part["path"].endswith("#gaussian_noise@5") and len(part["sha"]) == 32
    assert "b64" not in json.dumps(perturbed[0])
    summaries = {n: probe_summary(store, o.run_id) for n, o in out.items()
                 if not n.startswith("clean")}
    for name, s in summaries.items():
        expected_clean = out["clean-pairs" if name == "pairs" else "clean"].run_id
        assert s["clean_run"] == expected_clean, name
        assert s["probe"] == name and s["n"] >= 1, name
        json.dumps(s)  # plain JSON for the HTML report
    return summaries


def test_every_probe_end_to_end_with_the_random_baseline(shared_data, tmp_path) -> None:
    store = Store(tmp_path / "a.db")
    out = run_all(shared_data, create_backend("baseline:random"), store)
    summaries = check_structure(store, out)
    # the random baseline answers from the prompt text and sample id: dropping or corrupting
    # the image changes nothing, so MG is 0 and no clean-right answer changes
    assert summaries["blind"]["value"] == 0.0
    assert summaries["perturb"]["value"] == 0.0
    assert summaries["mismatch"]["value"] == 1.0  # never flags anything
    # it never states a confidence: every verbal item is invalid, wrong, confidence 0
    conf = items_of(store, out["confidence"])
    assert all(r["extracted"] is None and r["confidence"] == 0.0 for r in conf)
    assert summaries["confidence"]["details"]["invalid"] == len(conf)

    # Reproducible: a fresh store gets the very same requests (wrong options, leading
    # templates, rotations, noise bytes, swapped images all come from the seed).
    again = Store(tmp_path / "b.db")
    out2 = run_all(shared_data, create_backend("baseline:random"), again)
    for name in out:
        first = {(r["sample_id"], r["variant"]): r["request_hash"]
                 for r in items_of(store, out[name])}
        second = {(r["sample_id"], r["variant"]): r["request_hash"]
                  for r in items_of(again, out2[name])}
        assert first == second, name
    # and a rerun into the same store asks nothing
    rerun = run_all(shared_data, create_backend("baseline:random"), store)
    assert sum(o.sent for o in rerun.values()) == 0

    console = Console(record=True, width=240)
    print_trust_profile(store, [o.run_id for n, o in out.items() if not n.startswith("clean")],
                        console)
    text = console.export_text()
    for name in OPTIONS:
        assert name in text
    assert "multimodal gain MG" in text and "set accuracy" in text


def test_every_probe_end_to_end_with_the_test_server(shared_data, instant_server,
                                                     tmp_path) -> None:
    server = instant_server("--content", ANSWER)
    backend = create_backend("openai:instant", {"base_url": server.url})
    store = Store(tmp_path / "s.db")
    out = run_all(shared_data, backend, store)
    summaries = check_structure(store, out)
    closed = LIMIT - 1
    # requests actually sent: everything except the cache hits (leading positives, followup
    # first turns, rotation 0 and the pairs probe reuse the clean requests).  Tasks run
    # concurrently, so which task sends a shared request varies; each is sent once.
    sent = {n: o.sent for n, o in out.items()}
    assert sent["confidence"] == closed
    assert sent["perturb"] == 6 * LIMIT and sent["mismatch"] == sent["blind"] == LIMIT
    assert sum(sent[n] for n in ("clean", "leading", "permute", "followup")) == (
        LIMIT + closed + closed + 2 * closed)
    n_pairs = len(items_of(store, out["clean-pairs"]))
    assert sent["clean-pairs"] + sent["pairs"] <= n_pairs  # the same requests, sent once
    assert server.chat_requests() == sum(sent.values()) == store.response_count()
    clean = {i["sample_id"]: i for i in items_of(store, out["clean"])}
    yes = sum(i["answer"].lower() == "yes" for i in clean.values())
    # always "yes": right exactly on the yes items, with and without the image
    assert summaries["blind"]["value"] == 0.0
    assert summaries["blind"]["details"]["S_wv"]["value"] == pytest.approx(yes / LIMIT)
    # permute on yes/no: "yes" is right in both label orders for the yes items only
    assert summaries["permute"]["value"] == pytest.approx(yes / closed)
    assert summaries["permute"]["details"]["favoured_position"] == 0  # "yes" is listed first
    # leading and followup: the answer never moves, so nothing right is misled or flipped
    assert summaries["leading"]["value"] == 0.0 and summaries["leading"]["n"] == yes
    assert summaries["followup"]["value"] == 0.0
    # verbal confidence 0.8 everywhere: ECE = |0.8 - accuracy|
    acc = yes / closed
    assert summaries["confidence"]["value"] == pytest.approx(abs(0.8 - acc))
    details = summaries["confidence"]["details"]["all"]
    assert details["brier"] == pytest.approx(acc * 0.04 + (1 - acc) * 0.64)
    assert all(r["confidence"] == 0.8 for r in items_of(store, out["confidence"]))

    # a model that notices the swap: every mismatched answer is flagged
    flagging = instant_server("--content", "I'm sorry, this image does not match the question.")
    flag_backend = create_backend("openai:flagger", {"base_url": flagging.url})
    bench = create_benchmark("vqa-rad", shared_data / "vqa_rad")
    [outcome] = asyncio.run(run_tasks([Task(bench, flag_backend, solvers.get("mismatch")(),
                                            limit=4)], store))
    s = probe_summary(store, outcome.run_id)
    assert s["value"] == 0.0 and s["details"]["flag_rate"] == 1.0 and s["clean_run"] is None
