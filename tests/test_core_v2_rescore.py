"""Core v2 acceptance: scoring is its own phase.

- "A test bumps a scorer's version and reruns: items are re-scored, 0 requests sent."
- "`rescore` with another scoring mode changes the scores, 0 requests sent."

Real HTTP servers on 127.0.0.1, real SQLite stores, the CLI as a subprocess for ``rescore``.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

from core_v2_support import ChatServer, cli, user_text
from medgauge.backends import create_backend
from medgauge.benchmarks import create_benchmark
from medgauge.runner.engine import Task, run_tasks
from medgauge.runner.solver import CleanSolver
from medgauge.scoring.base import Judgement, RuleScorer, register, versions
from medgauge.scoring.default import score_yesno
from medgauge.store import Store
from medgauge.types import Sample

#: six closed questions (gold alternating yes / no) and what the served model replies
QUESTIONS = [(f"q{i}", f"Is finding number {i} present on the scan?", "yes" if i % 2 else "no")
             for i in range(6)]
REPLIES = {"q0": "no", "q1": "yes", "q2": "yes", "q3": "Yes, clearly.", "q4": "no", "q5": "no"}


def _write_bench(path: Path) -> Path:
    path.write_text("".join(json.dumps({"id": sid, "question": q, "answer": a,
                                        "answer_type": "yesno"}) + "\n"
                            for sid, q, a in QUESTIONS))
    return path


def _reply(body: dict, index: int) -> str:
    number = re.search(r"finding number (\d+)", user_text(body))
    assert number is not None, body
    return REPLIES[f"q{number.group(1)}"]


# A scoring mode whose rule the test changes: the registered function reads RULE.
RULE = {"version": "1"}
MODE = "core-v2-bump-test"


def _bump_rule(sample: Sample, text: str) -> Judgement:
    if RULE["version"] == "1":
        return score_yesno(sample, text)
    # version 2: strict -- only a bare label counts; anything longer is invalid
    bare = text.strip().lower()
    if bare not in ("yes", "no"):
        return Judgement(None, False)
    return Judgement(bare, bare == sample.answer)


def _task(bench_path: Path, url: str) -> Task:
    return Task(create_benchmark("custom", bench_path),
                create_backend("openai:served", {"base_url": url, "concurrency": 2}),
                CleanSolver(), scoring=MODE)


def _scores(store: Store, run_id: str) -> dict[str, tuple]:
    return {it.sample_id: (it.extracted, it.value, it.status) for it in store.items(run_id)}


def test_bumping_a_scorers_version_rescores_every_item_without_a_request(tmp_path):
    bench = _write_bench(tmp_path / "data.jsonl")
    server = ChatServer(_reply)
    RULE["version"] = "1"
    register(MODE, "rule of the version-bump test", "1")(_bump_rule)
    store = Store(tmp_path / "s.db")
    try:
        first_task = _task(bench, server.url)
        [first] = asyncio.run(run_tasks([first_task], store))
        assert (first.sent, first.rescored, first.done) == (6, 0, 6)
        assert server.count == 6
        v1 = _scores(store, first.run_id)
        assert v1 == {"q0": ("no", 1.0, "ok"), "q1": ("yes", 1.0, "ok"),
                      "q2": ("yes", 0.0, "ok"), "q3": ("yes", 1.0, "ok"),
                      "q4": ("no", 1.0, "ok"), "q5": ("no", 0.0, "ok")}

        # A new release of the mode: other rules, a new version; the same command again.
        RULE["version"] = "2"
        register(MODE, "rule of the version-bump test", "2")(_bump_rule)
        second_task = _task(bench, server.url)
        assert second_task.run_id == first.run_id
        [second] = asyncio.run(run_tasks([second_task], store))
        assert server.count == 6  # not one chat request more
        assert (second.sent, second.rescored, second.done, second.skipped) == (0, 6, 0, 0)
        assert second.run_id == first.run_id and second.status == "completed"
        v2 = _scores(store, second.run_id)
        # the strict rule: "Yes, clearly." is no longer read; the rest is unchanged
        assert v2 == {**v1, "q3": (None, 0.0, "invalid")}
        run = store.run(second.run_id)
        assert (run["scorer"], run["scorer_version"]) == (MODE, "2")
        # the old version's scores are still stored beside the new ones
        rows = store.db.execute("SELECT version, COUNT(*) FROM scores WHERE run_id=? AND "
                                "scorer=? GROUP BY version ORDER BY version",
                                (first.run_id, MODE)).fetchall()
        assert rows == [("1", 6), ("2", 6)]
        assert _scores_of_version(store, first.run_id, "1") == v1

        # A third run has nothing to do at all.
        [third] = asyncio.run(run_tasks([_task(bench, server.url)], store))
        assert (third.sent, third.rescored, third.skipped) == (0, 0, 6)
        assert server.count == 6
    finally:
        RULE["version"] = "1"
        versions[MODE] = "1"
        store.close()
        server.close()


def _scores_of_version(store: Store, run_id: str, version: str) -> dict[str, tuple]:
    return {it.sample_id: (it.extracted, it.value, it.status)
            for it in store.items(run_id, (MODE, version))}


def test_rescore_with_another_mode_changes_scores_and_sends_nothing(tmp_path, instant_server):
    # Every reply is "It looks normal.": medgauge's default reads no yes/no label in it
    # (invalid), MedEvalKit's substring rule finds "no" inside "normal" (reproduced quirk).
    server = instant_server("--content", "It looks normal.")
    bench = _write_bench(tmp_path / "data.jsonl")
    store = tmp_path / "s.db"
    ran = cli("run", "-b", f"custom={bench}", "-m", "openai:instant", "--base-url", server.url,
              "--store", str(store), "-q")
    assert ran.returncode == 0, ran.stderr
    assert server.chat_requests() == 6
    s = Store(store)
    [run] = s.runs()
    assert {it.status for it in s.items(run["run_id"])} == {"invalid"}
    s.close()

    rescored = cli("rescore", run["run_id"][:8], "--scoring", "medevalkit", "--store",
                   str(store))
    assert rescored.returncode == 0, rescored.stderr
    assert server.chat_requests() == 6  # nothing sent
    line = next(ln for ln in rescored.stdout.splitlines() if ln.startswith("rescored"))
    mode = RuleScorer("medevalkit")
    assert line == (f"rescored 6 item(s) of run {run['run_id']} with {mode.identity()}: "
                    "0 model requests, 0 grader request(s), 0 error(s)")

    s = Store(store)
    items = {it.sample_id: it for it in s.items(run["run_id"])}
    assert {sid: (it.extracted, it.correct) for sid, it in items.items()} == {
        sid: ("no", gold == "no") for sid, _, gold in QUESTIONS}
    assert s.run(run["run_id"])["scorer"] == "medevalkit"
    s.close()

    shown = cli("results", "--store", str(store))
    assert shown.returncode == 0, shown.stderr
    row = next(ln for ln in shown.stdout.splitlines() if "instant" in ln)
    # 3 of 6 correct, none invalid now (it was 0.0 with 6 invalid)
    assert re.search(r"50\.0 \[\d+\.\d-\d+\.\d\]\s+6\s+0\s+0", row), shown.stdout
