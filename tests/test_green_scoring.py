"""GREEN-style report grading (scoring/green.py): the parser and formula on hand-made replies,
and `medgauge run --scoring green --grader ...` on real IU X-ray reports (../shared/data, the
first studies of the R2Gen test split) with a scripted grader server on 127.0.0.1 that answers
well-formed counts, malformed text and an HTTP 500; the rerun retries only the failed call."""

from __future__ import annotations

import json
import re

import pytest

from conftest import DATA, _need
from core_v2_support import ChatServer, cli, user_text
from medgauge.benchmarks import create_benchmark
from medgauge.scoring.green import CATEGORIES, green_score, parse_counts, prompt
from medgauge.store import Store


def reply(significant: list[int], insignificant: list[int], matched: int) -> str:
    lines = ["[Clinically Significant Errors]:"]
    lines += [f"({k}) {v}: {n}" for (k, v), n in zip(CATEGORIES.items(), significant,
                                                       strict=True)]
    lines.append("[Clinically Insignificant Errors]:")
    lines += [f"({k}) {v}: {n}" for (k, v), n in zip(CATEGORIES.items(), insignificant,
                                                       strict=True)]
    lines.append(f"[Matched Findings]: {matched}")
    return "\n".join(lines)


def test_counts_and_formula():
    counts = parse_counts(reply([1, 0, 2, 0, 0, 0], [0, 5, 0, 0, 0, 0], 3))
    assert counts is not None
    assert counts["significant_a"] == 1 and counts["significant_c"] == 2
    assert counts["insignificant_b"] == 5 and counts["matched"] == 3
    # GREEN = matched / (matched + significant errors); insignificant errors do not count
    assert green_score(counts) == pytest.approx(3 / (3 + 3))
    assert green_score(parse_counts(reply([0] * 6, [4] * 6, 2))) == 1.0
    assert green_score(parse_counts(reply([2] * 6, [0] * 6, 0))) == 0.0
    # malformed: a missing category, a word for a number, no matched count, sections swapped
    assert parse_counts(reply([1, 0, 2, 0, 0, 0], [0] * 6, 3).replace("(f) Omitting", "Omit")
                        ) is None
    assert parse_counts(reply([1] * 6, [0] * 6, 1).replace(": 1\n[Clin", ": one\n[Clin")
                        ) is None
    assert parse_counts(reply([1] * 6, [0] * 6, 1).split("[Matched")[0]) is None
    assert parse_counts("The candidate is mostly right.") is None
    text = prompt("Heart size normal.", "Cardiomegaly.")
    assert "Heart size normal." in text and "Cardiomegaly." in text
    assert all(v in text for v in CATEGORIES.values())


N = 6


def test_green_scoring_through_a_grader_server(tmp_path):
    source = _need(DATA) / "iu_xray_reports_text_only"
    samples = list(create_benchmark("iu-xray", source).samples())[:N]
    data = tmp_path / "iu"
    data.mkdir()
    test = [{"id": s.id, "report": s.answer, "image_path": [], "split": "test"}
            for s in samples]
    (data / "annotation.json").write_text(json.dumps({"train": [], "val": [], "test": test}))
    generated = {s.id: f"candidate-{i}: " + samples[(i + 1) % N].answer
                 for i, s in enumerate(samples)}
    preds = tmp_path / "gen.jsonl"
    preds.write_text("".join(json.dumps({"id": k, "report": v}) + "\n"
                             for k, v in generated.items()))
    # per candidate: the grader's reply (index 4 malformed, index 5 an HTTP 500 at first)
    scripted = {0: reply([0] * 6, [0] * 6, 4), 1: reply([1, 1, 0, 0, 0, 0], [2] * 6, 2),
                2: reply([0, 3, 0, 0, 0, 0], [0] * 6, 1), 3: reply([2] * 6, [0] * 6, 0),
                4: "Overall the candidate is acceptable, 7/10."}
    up = {"5": False}

    def grader(body: dict, index: int) -> str | tuple[int, str]:
        text = user_text(body)
        m = re.search(r"candidate-(\d+):", text)
        assert m and "Reference report:" in text, text
        i = int(m.group(1))
        if i == 5:
            return reply([0, 1, 0, 0, 0, 0], [0] * 6, 3) if up["5"] else (500, "overloaded")
        return scripted[i]

    server = ChatServer(grader)
    store = tmp_path / "s.db"
    args = ("run", "-b", f"iu-xray={data}", "-m", f"replay:{preds}", "--scoring", "green",
            "--grader", "openai:judge", "--grader-opt", f"base_url={server.url}",
            "--grader-opt", "max_retries=0", "--store", str(store), "-q")
    try:
        first = cli(*args, timeout=300)
        assert first.returncode == 1, first.stderr  # one grader call failed: rerun to retry
        assert server.count == N
        s = Store(store)
        [run] = s.runs()
        items = {it.sample_id: it for it in s.items(run["run_id"])}
        by_index = {i: items[smp.id] for i, smp in enumerate(samples)}
        assert [by_index[i].status for i in range(N)] == ["ok"] * 4 + ["invalid", "error"]
        assert by_index[0].metrics["green"] == 1.0
        assert by_index[1].metrics["green"] == pytest.approx(2 / 4)
        assert by_index[2].metrics["green"] == pytest.approx(1 / 4)
        assert by_index[3].metrics["green"] == 0.0
        assert by_index[1].metrics["green_significant"] == 2.0
        assert "grader" in by_index[5].error and "500" in by_index[5].error
        assert run["scorer"] == "green"
        s.close()
        # the leaderboard shows the mean GREEN of the scored reports (invalid left out)
        m = re.search(r"green %?\s+([\d.]+) \[", first.stdout)
        assert m and float(m.group(1)) == pytest.approx(100 * (1 + 0.5 + 0.25 + 0) / 4,
                                                        abs=0.05), first.stdout

        up["5"] = True
        second = cli(*args, timeout=300)
        assert second.returncode == 0, second.stderr
        assert server.count == N + 1  # only the failed call is sent again
        assert "candidate-5:" in user_text(server.bodies[-1])
        s = Store(store)
        items = {it.sample_id: it for it in s.items(run["run_id"])}
        assert items[samples[5].id].status == "ok"
        assert items[samples[5].id].metrics["green"] == pytest.approx(3 / 4)
        s.close()
        third = cli(*args, timeout=300)
        assert third.returncode == 0 and server.count == N + 1  # all cached
    finally:
        server.close()


def test_green_needs_exactly_one_grader_model():
    from medgauge.backends import create_backend
    from medgauge.scoring.green import GreenScorer
    from medgauge.types import MedgaugeError
    from medgauge.workflow import make_scorer

    one = create_backend("openai:judge", {"base_url": "http://127.0.0.1:9/v1"})
    two = create_backend("openai:judge2", {"base_url": "http://127.0.0.1:9/v1"})
    scorer = make_scorer("green", one)
    assert isinstance(scorer, GreenScorer) and scorer.name == "green"
    with pytest.raises(MedgaugeError, match=r"^scoring 'green' needs a grader model"):
        make_scorer("green", None)
    with pytest.raises(MedgaugeError, match=r"^scoring 'green' takes one grader; 2 given$"):
        make_scorer("green", [(one, (None, None)), (two, (None, None))])
