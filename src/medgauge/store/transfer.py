"""Copy runs between stores: ``medgauge store copy SRC DST`` (SQLite <-> PostgreSQL) and
``medgauge merge A.db B.db -o all.db`` (stores run apart, e.g. shards on machines without a
shared store).

Runs, responses, items and scores are copied in one transaction of the destination, so a
refused copy writes nothing.  A row the destination already has is fine when identical (times
and latencies aside); when they differ a success is kept over an error (a response, a sample's
items, a score), and two different successes are refused with one line naming the run and
sample (or request) that differ.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from medgauge.store.base import BaseStore, columns
from medgauge.types import MedgaugeError

_RESP = columns("responses")
_RESP_SAME = [i for i, c in enumerate(_RESP) if c not in ("usage", "latency", "created")]
_RESP_ERROR = _RESP.index("error")
_ITEM = columns("items")
_ITEM_ERROR = _ITEM.index("error")
_SCORE = columns("scores")
_SCORE_SAME = [i for i, c in enumerate(_SCORE) if c != "created"]
_SCORE_STATUS = _SCORE.index("status")


@dataclass
class CopySummary:
    runs: int = 0
    responses: int = 0
    samples: int = 0
    scores: int = 0
    kept: int = 0  # rows of the destination kept over an error of the source
    touched: set[str] = field(default_factory=set)

    def line(self, src: str, dst: str) -> str:
        kept = f", kept {self.kept} stored success(es) over errors" if self.kept else ""
        return (f"copied {self.runs} run(s) from {src} into {dst}: {self.samples} sample(s), "
                f"{self.scores} score(s), {self.responses} response(s) new or replaced{kept}")


def _placeholders(n: int) -> str:
    return ",".join("?" * n)


def copy_runs(src: BaseStore, dst: BaseStore, run_ids: list[str] | None = None) -> CopySummary:
    """Copy the runs ``run_ids`` (all when None) of ``src``, their items and scores, and every
    response ``src`` holds into ``dst``.  Raises ``MedgaugeError`` (nothing written) on two
    different successes."""
    out = CopySummary()
    wanted = None if run_ids is None else {src.run(r)["run_id"] for r in run_ids}
    run_rows = [r for r in src.rows("runs") if wanted is None or r[0] in wanted]
    with dst.transaction() as db:
        _copy_responses(src, db, out)
        for run in run_rows:
            _copy_run(src, dst, db, run, out)
    for run_id in out.touched:
        _settle_status(dst, run_id)
    return out


def _copy_responses(src: BaseStore, db: Any, out: CopySummary) -> None:
    have = {r[0]: r for r in db.execute(f"SELECT {', '.join(_RESP)} FROM responses")}
    insert = f"INSERT INTO responses VALUES ({_placeholders(len(_RESP))})"
    for row in src.rows("responses"):
        old = have.get(row[0])
        if old is None:
            db.execute(insert, row)
            out.responses += 1
            continue
        if [old[i] for i in _RESP_SAME] == [row[i] for i in _RESP_SAME]:
            continue
        new_ok, old_ok = row[_RESP_ERROR] is None, old[_RESP_ERROR] is None
        if new_ok and not old_ok:
            db.execute("DELETE FROM responses WHERE request_hash=?", (row[0],))
            db.execute(insert, row)
            out.responses += 1
        elif new_ok and old_ok:
            raise MedgaugeError(f"request {row[0]} has two different stored replies; nothing "
                                "was copied (delete the run you do not want from one store)")
        elif old_ok:
            out.kept += 1


def _group(rows: list[tuple[Any, ...]]) -> dict[str, list[tuple[Any, ...]]]:
    groups: dict[str, list[tuple[Any, ...]]] = {}
    for row in rows:
        groups.setdefault(row[1], []).append(row)
    return groups


def _copy_run(src: BaseStore, dst: BaseStore, db: Any, run: tuple[Any, ...],
              out: CopySummary) -> None:
    run_id = run[0]
    out.runs += 1
    existing = db.execute("SELECT n_total FROM runs WHERE run_id=?", (run_id,)).fetchone()
    if existing is None:
        db.execute(f"INSERT INTO runs VALUES ({_placeholders(len(run))})", run)
    else:
        out.touched.add(run_id)
    src_items = _group(src.rows("items", "WHERE run_id=?", (run_id,)))
    src_scores = _group(src.rows("scores", "WHERE run_id=?", (run_id,)))
    cols_i, cols_s = ", ".join(_ITEM), ", ".join(_SCORE)
    dst_items = _group([tuple(r) for r in db.execute(
        f"SELECT {cols_i} FROM items WHERE run_id=?", (run_id,))])
    dst_scores = _group([tuple(r) for r in db.execute(
        f"SELECT {cols_s} FROM scores WHERE run_id=?", (run_id,))])
    ins_item = f"INSERT INTO items VALUES ({_placeholders(len(_ITEM))})"
    for sample_id, items in src_items.items():
        old = dst_items.get(sample_id)
        items = sorted(items)
        if old is not None and sorted(old) != items:
            new_ok = all(r[_ITEM_ERROR] is None for r in items)
            old_ok = all(r[_ITEM_ERROR] is None for r in old)
            if old_ok or not new_ok:
                if new_ok and old_ok:
                    raise MedgaugeError(f"run {run_id} sample {sample_id!r}: the two stores hold "
                                        "different solved items; nothing was copied")
                out.kept += 1
                continue
            db.execute("DELETE FROM items WHERE run_id=? AND sample_id=?", (run_id, sample_id))
            db.execute("DELETE FROM scores WHERE run_id=? AND sample_id=?", (run_id, sample_id))
            dst_scores.pop(sample_id, None)
            old = None
        if old is None:
            db.executemany(ins_item, items)
            out.samples += 1
        _copy_scores(db, run_id, sample_id, src_scores.get(sample_id, []),
                     dst_scores.get(sample_id, []), out)


def _copy_scores(db: Any, run_id: str, sample_id: str, rows: list[tuple[Any, ...]],
                 old_rows: list[tuple[Any, ...]], out: CopySummary) -> None:
    have = {r[:5]: r for r in old_rows}
    insert = f"INSERT INTO scores VALUES ({_placeholders(len(_SCORE))})"
    for row in rows:
        old = have.get(row[:5])
        if old is None:
            db.execute(insert, row)
            out.scores += 1
            continue
        if [old[i] for i in _SCORE_SAME] == [row[i] for i in _SCORE_SAME]:
            continue
        new_ok, old_ok = row[_SCORE_STATUS] != "error", old[_SCORE_STATUS] != "error"
        if new_ok and not old_ok:
            db.execute("DELETE FROM scores WHERE run_id=? AND sample_id=? AND variant=? AND "
                       "scorer=? AND version=?", row[:5])
            db.execute(insert, row)
            out.scores += 1
        elif new_ok and old_ok:
            raise MedgaugeError(f"run {run_id} sample {sample_id!r}: the two stores hold "
                                f"different scores by {row[3]}@{row[4]}; nothing was copied")
        else:
            out.kept += 1


def _settle_status(store: BaseStore, run_id: str) -> None:
    """A run present on both sides: completed (with errors) once every sample is stored."""
    run = store.run(run_id)
    if run["n_total"] is None or len(store.stored_sample_ids(run_id)) < run["n_total"]:
        status = "partial"
    else:
        errors = any(it.errored for it in store.items(run_id))
        status = "completed_with_errors" if errors else "completed"
    store.db.execute("UPDATE runs SET status=? WHERE run_id=?", (status, run_id))
