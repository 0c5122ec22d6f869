"""Core v2 acceptance: "A grader scorer that asks a second model through the cache (a local test
server): its failures are errors, a rerun sends nothing".

Two stdlib servers on 127.0.0.1: the model under test, and a grader whose verdicts are scripted
per candidate answer (CORRECT, INCORRECT, malformed text, HTTP 500).  The CLI runs as a
subprocess; both servers count what reaches them.
"""

from __future__ import annotations

import json
import re

from core_v2_support import ChatServer, cli, user_text
from medgauge.store import Store

#: sample id -> (question, gold, the model's reply)
ITEMS = {
    "a": ("What organ produces bile?", "liver", "answer-a"),
    "b": ("What is the largest artery?", "aorta", "answer-b"),
    "c": ("What bone is in the thigh?", "femur", "answer-c"),
    "d": ("What gland makes insulin?", "pancreas", "answer-d"),
    "e": ("What nerve causes wrist drop?", "radial nerve", "answer-e"),
    "f": ("What vessel drains the brain?", "internal jugular vein", "answer-f"),
}
#: the grader's verdict per candidate answer; "500" = the grader server fails
VERDICTS = {"answer-a": "CORRECT", "answer-b": "correct.", "answer-c": "INCORRECT",
            "answer-d": "Verdict: INCORRECT", "answer-e": "I cannot judge this one.",
            "answer-f": "500"}


def test_grader_verdicts_errors_and_reruns_through_the_cache(tmp_path):
    data = tmp_path / "open.jsonl"
    data.write_text("".join(json.dumps({"id": k, "question": q, "answer": a,
                                        "answer_type": "open"}) + "\n"
                            for k, (q, a, _) in ITEMS.items()))
    by_question = {q: reply for q, _, reply in ITEMS.values()}

    def model(body: dict, index: int) -> str:
        text = user_text(body)
        return next(r for q, r in by_question.items() if q in text)

    grader_up = {"f": False}  # whether the grader answers item f yet

    def grader(body: dict, index: int) -> str | tuple[int, str]:
        candidate = re.search(r"Candidate answer: (\S+)", user_text(body))
        assert candidate is not None, body
        verdict = VERDICTS[candidate.group(1)]
        if verdict == "500":
            return "CORRECT" if grader_up["f"] else (500, "grader overloaded")
        return verdict

    model_server, grader_server = ChatServer(model), ChatServer(grader)
    store = tmp_path / "s.db"
    args = ("run", "-b", f"custom={data}", "-m", "openai:under-test", "--base-url",
            model_server.url, "--scoring", "grader", "--grader", "openai:judge",
            "--grader-opt", f"base_url={grader_server.url}", "--grader-opt", "max_retries=0",
            "--store", str(store), "-q")
    try:
        first = cli(*args)
        assert first.returncode == 1, first.stderr  # one grader call failed: rerun to retry
        assert "1 request(s) failed" in first.stdout
        assert (model_server.count, grader_server.count) == (6, 6)
        assert all(b["model"] == "judge" for b in grader_server.bodies)
        assert all("Reference answer:" in user_text(b) for b in grader_server.bodies)

        s = Store(store)
        [run] = s.runs()
        items = {it.sample_id: it for it in s.items(run["run_id"])}
        assert {k: (it.status, it.value) for k, it in items.items()} == {
            "a": ("ok", 1.0), "b": ("ok", 1.0), "c": ("ok", 0.0), "d": ("ok", 0.0),
            "e": ("invalid", None), "f": ("error", None)}
        assert items["e"].explanation == "I cannot judge this one."
        assert "grader" in items["f"].error and "500" in items["f"].error
        assert items["f"].response == "answer-f"  # the model's reply is kept, not re-asked
        assert run["scorer"] == "grader:default"
        s.close()

        # Rerun while the grader still fails: the model is not asked; the failed grader call,
        # and only it, is sent again.
        second = cli(*args)
        assert second.returncode == 1, second.stderr
        assert (model_server.count, grader_server.count) == (6, 7)
        assert "answer-f" in user_text(grader_server.bodies[-1])

        # The grader is back: one more grader call, and the item is scored.
        grader_up["f"] = True
        third = cli(*args)
        assert third.returncode == 0, third.stderr
        assert (model_server.count, grader_server.count) == (6, 8)
        s = Store(store)
        items = {it.sample_id: it for it in s.items(run["run_id"])}
        assert (items["f"].status, items["f"].value) == ("ok", 1.0)
        assert sum(it.correct for it in items.values()) == 3
        assert s.db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 1
        s.close()

        # Everything answered and stored: a fourth run sends nothing to either server.
        fourth = cli(*args)
        assert fourth.returncode == 0, fourth.stderr
        assert (model_server.count, grader_server.count) == (6, 8)
        assert "under-test" in fourth.stdout and "50.0" in fourth.stdout
    finally:
        model_server.close()
        grader_server.close()
