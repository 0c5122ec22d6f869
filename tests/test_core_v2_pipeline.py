"""Core v2 acceptance: "A YAML pipeline `few_shot(k=2) -> chain_of_thought -> generate(n=3) ->
vote` runs on phantom and on MedQA, resumes after kill -9, and the blind probe wraps it".

The CLI runs as a subprocess with a YAML config against a local server whose replies vary with
the request's seed, so the vote matters: per question a pattern of three answers (all equal,
two of three, all different).  MedQA is the real test file in ../shared/data/medqa_usmle.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import zlib
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from conftest import count_rows, wait_for_rows
from core_v2_support import ChatServer, cli, cli_command, cli_env, user_text
from medgauge.phantom import generate_phantom
from medgauge.runner.steps import COT_TRIGGER
from medgauge.store import Store

PIPELINE = "few_shot(k=2) -> chain_of_thought -> generate(n=3) -> vote"
#: the answers (as indexes into the candidates) a question gets for seeds 0, 1, 2
PATTERNS = ([0, 0, 0], [0, 1, 0], [1, 2, 0])


def candidates(text: str) -> list[str]:
    return re.findall(r"^([A-J])\. ", text, re.M) or ["yes", "no"]


def answer_for(text: str, seed: int) -> str:
    cands = candidates(text)
    pattern = PATTERNS[zlib.crc32(text.encode()) % 3]
    return cands[pattern[seed % 3] % len(cands)]


def vote_reply(body: dict, index: int) -> str:
    text = user_text(body)
    return f"Weighing the findings step by step.\nAnswer: {answer_for(text, body['seed'])}"


def expected_vote(text: str) -> tuple[str, float]:
    """Self-consistency by hand: the most frequent answer (ties: the earliest), its share."""
    answers = [answer_for(text, s) for s in range(3)]
    counts = Counter(answers)
    best = max(counts.values())
    return next(a for a in answers if counts[a] == best), best / 3


def has_image(message: dict) -> bool:
    content = message.get("content")
    return isinstance(content, list) and any(p.get("type") == "image_url" for p in content)


def check_pipeline_request(body: dict) -> None:
    """Two solved examples as earlier turns, then the item with the chain-of-thought line."""
    roles = [m["role"] for m in body["messages"] if m["role"] != "system"]
    assert roles == ["user", "assistant", "user", "assistant", "user"], roles
    last = user_text(body)
    assert COT_TRIGGER in last and "Answer:" in last
    assert "directly" not in last  # the answer-directly instruction was replaced
    assert body["seed"] in (0, 1, 2) and body["temperature"] == pytest.approx(0.7)
    for example in body["messages"][:-1]:
        assert not has_image(example)  # examples are text-only (few_shot images=False)


def write_config(path: Path, store: Path, bench: dict, url: str, pipeline, **extra) -> Path:
    import yaml

    path.write_text(yaml.safe_dump({
        "store": str(store), "benchmarks": [bench],
        "models": [{"spec": "openai:voter", "options": {"base_url": url, "concurrency": 2}}],
        "pipeline": pipeline, **extra}))
    return path


def test_pipeline_on_phantom_and_the_blind_probe_wraps_it(tmp_path):
    phantom = tmp_path / "phantom"
    generate_phantom(phantom, n_cases=3, seed=1)
    n_items = sum(1 for _ in (phantom / "phantom.jsonl").open())
    server = ChatServer(vote_reply)
    store = tmp_path / "s.db"
    cfg = write_config(tmp_path / "cfg.yaml", store, {"name": "phantom", "data": str(phantom)},
                       server.url, PIPELINE, probes=["blind"])
    try:
        result = cli("run", "-c", str(cfg), "-q")
    finally:
        server.close()
    assert result.returncode == 0, result.stderr
    clean = [b for b in server.bodies if has_image(b["messages"][-1])]
    blind = [b for b in server.bodies if not any(has_image(m) for m in b["messages"])]
    assert len(clean) + len(blind) == server.count
    # with images: three requests per item (seeds 0, 1, 2), each a full pipeline request
    assert len(clean) == 3 * n_items
    per_item = defaultdict(list)
    for b in clean:
        check_pipeline_request(b)
        per_item[(user_text(b), json.dumps(b["messages"][-1]["content"]))].append(b["seed"])
    assert sorted(map(sorted, per_item.values())) == [[0, 1, 2]] * n_items
    # blind: the same pipeline without the image parts (identical blind requests of items that
    # share a question are sent once: the cache key is the request)
    assert blind and len(blind) <= 3 * n_items
    for b in blind:
        check_pipeline_request(b)
    s = Store(store)
    runs = {r["probe"]: r for r in s.runs()}
    assert set(runs) == {None, "blind"} and all(r["status"] == "completed" for r in runs.values())
    for run in runs.values():
        items = list(s.items(run["run_id"]))
        assert len(items) == n_items
        for it in items:
            text = it.question  # the vote's winner and share, computed from the scripted replies
            assert it.confidence in (1.0, pytest.approx(2 / 3), pytest.approx(1 / 3)), text
            assert it.metadata["few_shot_ids"] and len(it.metadata["votes"]) == 3
            answers = Counter(it.metadata["votes"])
            assert it.confidence == pytest.approx(max(answers.values()) / 3)
            assert it.extracted == next(a for a in it.metadata["votes"]
                                        if answers[a] == max(answers.values()))
    s.close()


def _items(store: Path) -> list[tuple]:
    s = Store(store)
    rows = sorted((it.sample_id, it.variant, it.request_hash, it.response, it.extracted,
                   it.value, it.status, it.confidence, json.dumps(it.metadata, sort_keys=True))
                  for run in s.runs() for it in s.items(run["run_id"]))
    s.close()
    return rows


def test_pipeline_on_medqa_resumes_after_kill_9_like_an_uninterrupted_run(shared_data,
                                                                          tmp_path):
    n = 12
    bench = {"name": "medqa", "data": str(shared_data / "medqa_usmle"), "limit": n}
    # the YAML list form of the same pipeline
    pipeline = [{"few_shot": {"k": 2}}, "chain_of_thought", {"generate": {"n": 3}}, "vote"]
    server = ChatServer(vote_reply, delay=0.05)
    killed, full = tmp_path / "killed.db", tmp_path / "full.db"
    try:
        cfg_killed = write_config(tmp_path / "k.yaml", killed, bench, server.url, pipeline)
        proc = subprocess.Popen(cli_command("run", "-c", str(cfg_killed), "-q"),
                                env=cli_env(), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        wait_for_rows(killed, 3, timeout=60)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        stored_items = count_rows(killed, "items")
        stored_responses = count_rows(killed, "responses")
        assert 3 <= stored_items < n, "the run must be killed midway"
        sent_before_kill = server.count
        in_flight_lost = sent_before_kill - stored_responses  # sent, never answered to the store
        assert 0 <= in_flight_lost <= 2  # at most `concurrency` requests were in flight

        rerun = cli("run", "-c", str(cfg_killed), "-q")
        assert rerun.returncode == 0, rerun.stderr
        # only what was not stored is asked: 3 requests per item in all
        assert server.count - sent_before_kill == 3 * n - stored_responses
        resumed_bodies = [json.dumps(b, sort_keys=True) for b in server.bodies]
        assert len(set(resumed_bodies)) == 3 * n
        # a request is sent twice only when the kill cut it in flight (never stored)
        assert len(resumed_bodies) - len(set(resumed_bodies)) == in_flight_lost

        cfg_full = write_config(tmp_path / "f.yaml", full, bench, server.url, pipeline)
        before = server.count
        complete = cli("run", "-c", str(cfg_full), "-q")
        assert complete.returncode == 0, complete.stderr
        assert server.count - before == 3 * n
        bodies = server.bodies[before:]
    finally:
        server.close()

    for b in bodies:
        check_pipeline_request(b)
        assert candidates(user_text(b)) == ["A", "B", "C", "D"]
    resumed, uninterrupted = _items(killed), _items(full)
    assert len(resumed) == n and resumed == uninterrupted
    # the vote and its share, checked against the scripted replies
    by_text = {user_text(b): b for b in bodies}
    s = Store(full)
    [run] = s.runs()
    assert "few_shot" in run["config"]["pipeline"] and run["status"] == "completed"
    for it in s.items(run["run_id"]):
        [text] = [t for t in by_text if it.question.splitlines()[0] in t]
        winner, share = expected_vote(text)
        assert (it.extracted, it.confidence) == (winner, pytest.approx(share))
    shares = Counter(round(it.confidence, 3) for it in s.items(run["run_id"]))
    assert len(shares) >= 2  # the replies really varied
    s.close()
