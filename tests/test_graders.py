"""Model-graded answers against stdlib grader servers on 127.0.0.1 with scripted replies: a jury of
two graders (verdicts, malformed output, an HTTP 500) with Cohen's kappa and agreement with human
judgements, a 1-5 rubric whose unreadable grades are invalid, the qa-grade template, tokens and
cost; and the agreement statistics on published worked examples."""

from __future__ import annotations

import json
import math
import re

import pytest

from core_v2_support import ChatServer, cli, one_line_error, user_text
from medgauge.report.graders import grader_summary, human_agreement
from medgauge.scoring.grader import parse_grade, parse_grade_ci, parse_verdict
from medgauge.stats.agreement import kappa
from medgauge.store import Store

QUESTIONS = {f"q{i}": (f"Question number {i}: which organ?", f"organ{i}") for i in range(8)}


def _data(tmp_path):
    data = tmp_path / "open.jsonl"
    data.write_text("".join(json.dumps({"id": k, "question": q, "answer": a,
                                        "answer_type": "open"}) + "\n"
                            for k, (q, a) in QUESTIONS.items()))
    return data


def _model(body: dict, index: int) -> str:
    n = re.search(r"Question number (\d+)", user_text(body)).group(1)
    return f"answer{n}"


def _candidate(body: dict) -> int:
    m = re.search(r"(?:Candidate answer|\[Submission\]): answer(\d+)", user_text(body))
    assert m is not None, user_text(body)
    return int(m.group(1))


# grader A and B verdicts per item (True = correct); B is malformed on 6, A fails on 7 once
A = {0: "CORRECT", 1: "CORRECT", 2: "INCORRECT", 3: "INCORRECT", 4: "CORRECT", 5: "INCORRECT",
     6: "CORRECT", 7: "500"}
B = {0: "CORRECT", 1: "INCORRECT", 2: "INCORRECT", 3: "INCORRECT", 4: "CORRECT",
     5: "CORRECT", 6: "no idea", 7: "CORRECT"}


def test_jury_of_two_graders_kappa_human_agreement_and_a_retried_500(tmp_path):
    up = {"a7": False}

    def grader_a(body, index):
        v = A[_candidate(body)]
        if v == "500":
            return "CORRECT" if up["a7"] else (500, "grader A overloaded")
        return v

    model = ChatServer(_model)
    ga, gb = ChatServer(grader_a), ChatServer(lambda body, i: B[_candidate(body)])
    store = tmp_path / "s.db"
    args = ("run", "-b", f"custom={_data(tmp_path)}", "-m", "openai:under-test", "--base-url",
            model.url, "--grader", "openai:judge-a", "--grader", "openai:judge-b",
            "--grader-opt", f"0.base_url={ga.url}", "--grader-opt", f"1.base_url={gb.url}",
            "--grader-opt", "max_retries=0", "--grader-opt", "0.price_in=2",
            "--grader-opt", "0.price_out=10", "--store", str(store), "-q")
    try:
        first = cli(*args)
        assert first.returncode == 1, first.stderr  # grader A failed on item 7
        assert (model.count, ga.count, gb.count) == (8, 8, 8)
        up["a7"] = True
        second = cli(*args)
        assert second.returncode == 0, second.stderr
        # only the failed call is sent again: B's verdict on item 7 comes from the cache
        assert (model.count, ga.count, gb.count) == (8, 9, 8)
        assert "Graders" in second.stdout and "cohen" in second.stdout

        s = Store(store)
        [run] = s.runs()
        assert run["scorer"] == "jury:majority:default"
        assert run["config"]["grader"] == {"grader0": "openai:judge-a",
                                           "grader1": "openai:judge-b"}
        data = s.run_data(run["run_id"])
        s.close()
        items = {it.sample_id: it for it in data["items"]}
        assert items["q0"].metrics["grader0"] == 1.0 and items["q0"].metrics["grader1"] == 1.0
        assert "grader1" not in items["q6"].metrics  # B's "no idea" is not a verdict
        assert items["q6"].metrics["grader_invalid"] == 1.0
        # majority: both correct -> 1; a 1-1 split -> 0 (no majority for correct)
        assert [items[f"q{i}"].value for i in range(8)] == [1.0, 0.0, 0.0, 0.0, 1.0, 0.0,
                                                             1.0, 1.0]
        assert "[grader1] no idea" in items["q6"].explanation

        summary = grader_summary(data)
        assert summary.asked == 8 and summary.invalid == 1
        # 8 items x 2 graders x (3 prompt + 1 completion) tokens; A priced at $2 / $10 per 1M
        assert (summary.prompt_tokens, summary.completion_tokens) == (48, 16)
        assert summary.cost_usd == pytest.approx(8 * (3 * 2 + 1 * 10) / 1e6)
        # kappa on the 7 items both judged: A = 1,1,0,0,1,0,1 ; B = 1,0,0,0,1,1,1
        k = summary.kappa
        assert k.method == "cohen" and k.n == 7
        po, pe = 5 / 7, (4 / 7) * (4 / 7) + (3 / 7) * (3 / 7)
        assert k.value == pytest.approx((po - pe) / (1 - pe))
        assert k.lo <= k.value <= k.hi

        human = tmp_path / "human.csv"
        human.write_text("sample_id,correct\nq0,1\nq1,yes\nq2,0\nq3,incorrect\nq4,true\n"
                         "q5,1\nq9,1\n")
        agree = human_agreement(data, {"q0": 1, "q1": 1, "q2": 0, "q3": 0, "q4": 1, "q5": 1})
        assert (agree["verdict"].n, agree["verdict"].accuracy) == (6, pytest.approx(4 / 6))
        assert agree["grader0"].accuracy == pytest.approx(5 / 6)
        assert agree["grader1"].accuracy == pytest.approx(5 / 6)
        out = cli("agreement", "--store", str(store), "--human", str(human))
        assert out.returncode == 0, out.stderr
        assert "Grader vs human judgements" in out.stdout and "66.7" in out.stdout

        bad = tmp_path / "bad.csv"
        bad.write_text("sample_id,correct\nq0,perhaps\n")
        line = one_line_error(cli("agreement", "--store", str(store), "--human", str(bad)))
        assert "bad.csv:2" in line and "correct" in line
    finally:
        for server in (model, ga, gb):
            server.close()


RUBRIC = {0: "Same meaning.\nGrade: 5", 1: "Less precise.\nGrade: 4", 2: "Partly.\nGrade: 3",
          3: "Wrong.\nGrade: 1", 4: "Great!\nGrade: 7", 5: "Explanation only, no grade.",
          6: "Grade: 2.5", 7: "Close.\n**Grade:** 4"}


def test_rubric_grades_stored_with_raw_text_and_unreadable_grades_are_invalid(tmp_path):
    model = ChatServer(_model)
    grader = ChatServer(lambda body, i: RUBRIC[_candidate(body)])
    store = tmp_path / "s.db"
    try:
        out = cli("run", "-b", f"custom={_data(tmp_path)}", "-m", "openai:under-test",
                  "--base-url", model.url, "--scoring", "grader:rubric", "--grader",
                  "openai:judge", "--grader-opt", f"base_url={grader.url}", "--store",
                  str(store), "-q")
        assert out.returncode == 0, out.stderr
        assert "grade" in out.stdout and "Graders" in out.stdout
        s = Store(store)
        [run] = s.runs()
        data = s.run_data(run["run_id"])
        s.close()
        assert run["config"]["metrics"] == ["accuracy", "grade"]
        items = {it.sample_id: it for it in data["items"]}
        grades = {k: it.metrics.get("grade") for k, it in items.items()}
        assert grades == {"q0": 5.0, "q1": 4.0, "q2": 3.0, "q3": 1.0, "q4": None, "q5": None,
                          "q6": None, "q7": 4.0}
        assert {k for k, it in items.items() if it.status == "invalid"} == {"q4", "q5", "q6"}
        assert items["q4"].explanation == "Great!\nGrade: 7"  # the raw grader text is kept
        assert [items[k].value for k in ("q0", "q1", "q2", "q3", "q7")] == [1, 1, 0, 0, 1]
        assert grader_summary(data).invalid == 3
        from medgauge.metrics import get_metric

        est = get_metric("grade").estimate(data["items"])
        assert est.n == 5 and est.value == pytest.approx((5 + 4 + 3 + 1 + 4) / 5)
    finally:
        model.close()
        grader.close()


def test_qa_grade_template_reads_the_first_grade_line(tmp_path):
    replies = {0: "The submission names the organ.\nGRADE: C", 1: "It does not.\nGRADE: I",
               2: "GRADE: maybe", 3: "Reasoning... GRADE: I\nOn reflection GRADE: C"}
    model = ChatServer(_model)
    grader = ChatServer(lambda body, i: replies.get(_candidate(body), "GRADE: C"))
    store = tmp_path / "s.db"
    try:
        out = cli("run", "-b", f"custom={_data(tmp_path)}", "-m", "openai:under-test",
                  "--base-url", model.url, "--scoring", "grader:qa-grade", "--grader",
                  "openai:judge", "--grader-opt", f"base_url={grader.url}", "--limit", "4",
                  "--store", str(store), "-q")
        assert out.returncode == 0, out.stderr
        assert all("[BEGIN DATA]" in user_text(b) for b in grader.bodies)
        assert all(b["max_tokens"] > 16 for b in grader.bodies)  # room to reason
        s = Store(store)
        [run] = s.runs()
        items = {it.sample_id: (it.status, it.value) for it in s.items(run["run_id"])}
        s.close()
        assert items == {"q0": ("ok", 1.0), "q1": ("ok", 0.0), "q2": ("invalid", None),
                         "q3": ("ok", 0.0)}
    finally:
        model.close()
        grader.close()


def test_several_graders_need_the_jury_and_bad_specs_fail_in_one_line(tmp_path):
    data = _data(tmp_path)
    base = ("run", "-b", f"custom={data}", "-m", "baseline:random", "--store",
            str(tmp_path / "s.db"))
    line = one_line_error(cli(*base, "--scoring", "grader", "--grader", "openai:a",
                              "--grader", "openai:b"))
    assert "--scoring jury" in line
    line = one_line_error(cli(*base, "--scoring", "jury", "--grader", "openai:a"))
    assert "at least two graders" in line
    line = one_line_error(cli(*base, "--scoring", "grader:nope", "--grader", "openai:a"))
    assert "unknown grader template 'nope'" in line
    line = one_line_error(cli(*base, "--grader", "openai:a", "--grader-opt", "3.base_url=x"))
    assert "no grader 3" in line
    line = one_line_error(cli(*base, "--grader", "openai:a", "--grader-opt", "price_in=cheap"))
    assert "price_in" in line


def test_verdict_parsers():
    assert parse_verdict("correct.") is True and parse_verdict("Verdict: INCORRECT") is False
    assert parse_verdict("CORRECT or INCORRECT") is None and parse_verdict("") is None
    assert parse_grade_ci("x\nGRADE: C") is True and parse_grade_ci("GRADE: I GRADE: C") is False
    assert parse_grade_ci("grade: c") is None  # inspect_ai's pattern is case-sensitive
    assert parse_grade("Grade: 3\nGrade: 4") == 4
    assert parse_grade("Grade: 0") is None and parse_grade("Grade: 6") is None
    assert parse_grade("Grade: 3.0") == 3 and parse_grade("Grade: 3.5") is None


def test_cohen_kappa_matches_scikit_learn_and_fleiss_the_published_example():
    from sklearn.metrics import cohen_kappa_score

    a = [1, 1, 0, 0, 1, 0, 1, 1, 0, 1]
    b = [1, 0, 0, 0, 1, 1, 1, 1, 0, 1]
    k = kappa(list(zip(a, b, strict=True)))
    assert k.method == "cohen" and k.value == pytest.approx(cohen_kappa_score(a, b))
    # Fleiss (1971) as worked on Wikipedia ("Fleiss' kappa"): 10 subjects, 14 raters,
    # 5 categories, kappa = 0.210
    table = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0],
             [2, 2, 8, 1, 1], [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2],
             [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]
    ratings = [[c for c, n in enumerate(row) for _ in range(n)] for row in table]
    f = kappa(ratings)
    assert f.method == "fleiss" and f.value == pytest.approx(0.210, abs=5e-4)
    assert f.lo < f.value < f.hi
    # no variation: kappa undefined, never 1
    assert math.isnan(kappa([(1, 1), (1, 1), (1, 1)]).value)
