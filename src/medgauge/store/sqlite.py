"""SQLite store: runs, a response cache keyed by the exact request, and scored items.

WAL mode; every response (with its item) is committed as it arrives, so a crash loses at most
the requests in flight.  Images are never stored: requests keep image paths and content hashes.
Secrets never reach the store (backends keep API keys out of their identity and options).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from medgauge.types import ItemResult, MedgaugeError, Response, Sample

SCHEMA_VERSION = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    benchmark TEXT NOT NULL,
    probe TEXT,
    config TEXT NOT NULL,
    versions TEXT NOT NULL,
    started TEXT NOT NULL,
    ended TEXT,
    status TEXT NOT NULL,
    n_total INTEGER
);
CREATE TABLE IF NOT EXISTS responses (
    request_hash TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    request TEXT NOT NULL,
    text TEXT,
    texts TEXT,
    finish_reason TEXT,
    logprobs TEXT,
    option_logprobs TEXT,
    usage TEXT,
    latency REAL,
    error TEXT,
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS items (
    run_id TEXT NOT NULL,
    sample_id TEXT NOT NULL,
    variant TEXT NOT NULL,
    request_hash TEXT,
    response TEXT,
    extracted TEXT,
    correct INTEGER,
    metrics TEXT,
    error TEXT,
    confidence REAL,
    question TEXT,
    answer TEXT,
    metadata TEXT,
    cluster TEXT,
    seq INTEGER,
    sample_hash TEXT,
    PRIMARY KEY (run_id, sample_id, variant)
);
"""


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())


def _dumps(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _loads(value: str | None) -> Any:
    return None if value is None else json.loads(value)


class Store:
    """One SQLite file per project folder (default ``medgauge.db``)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if self.path.parent and not self.path.parent.exists():
            raise MedgaugeError(f"store folder does not exist: {self.path.parent}")
        try:
            self.db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA busy_timeout=10000")
            self.db.executescript(_SCHEMA)
            row = self.db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        except sqlite3.DatabaseError as exc:
            raise MedgaugeError(f"store {self.path} is not a medgauge SQLite store: {exc}"
                                ) from None
        if row is None:
            self.db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        elif int(row[0]) != SCHEMA_VERSION:
            raise MedgaugeError(f"store {self.path} has schema {row[0]}; expected {SCHEMA_VERSION}")

    def close(self) -> None:
        self.db.close()

    # runs ----------------------------------------------------------------------------------
    def begin_run(self, run_id: str, model: str, benchmark: str, probe: str | None,
                  config: dict[str, Any], versions: dict[str, str], n_total: int | None) -> bool:
        """Create the run or mark an existing one running again; True when it already existed."""
        existed = self.db.execute("SELECT 1 FROM runs WHERE run_id=?", (run_id,)).fetchone()
        if existed:
            self.db.execute(
                "UPDATE runs SET status='running', ended=NULL, n_total=?, versions=? "
                "WHERE run_id=?", (n_total, _dumps(versions), run_id))
        else:
            self.db.execute(
                "INSERT INTO runs VALUES (?,?,?,?,?,?,?,?,?,?)",
                (run_id, model, benchmark, probe, _dumps(config), _dumps(versions), _now(), None,
                 "running", n_total))
        return bool(existed)

    def end_run(self, run_id: str, status: str) -> None:
        self.db.execute("UPDATE runs SET status=?, ended=? WHERE run_id=?",
                        (status, _now(), run_id))

    def runs(self) -> list[dict[str, Any]]:
        cur = self.db.execute(
            "SELECT r.run_id, r.model, r.benchmark, r.probe, r.config, r.versions, r.started, "
            "r.ended, r.status, r.n_total, COUNT(i.sample_id) FROM runs r LEFT JOIN items i "
            "ON i.run_id = r.run_id GROUP BY r.run_id ORDER BY r.started, r.run_id")
        keys = ("run_id", "model", "benchmark", "probe", "config", "versions", "started",
                "ended", "status", "n_total", "n_items")
        out = []
        for row in cur:
            rec = dict(zip(keys, row, strict=True))
            rec["config"] = _loads(rec["config"])
            rec["versions"] = _loads(rec["versions"])
            out.append(rec)
        return out

    def run(self, run_id: str) -> dict[str, Any]:
        matches = [r for r in self.runs() if r["run_id"].startswith(run_id)]
        if not matches:
            raise MedgaugeError(f"no run {run_id!r} in {self.path}")
        if len(matches) > 1:
            raise MedgaugeError(f"run id prefix {run_id!r} is ambiguous in {self.path}")
        return matches[0]

    # responses -----------------------------------------------------------------------------
    def get_response(self, request_hash: str) -> Response | None:
        """A stored successful response, or None (missing or errored: send again)."""
        row = self.db.execute(
            "SELECT text, texts, finish_reason, logprobs, option_logprobs, usage, latency "
            "FROM responses WHERE request_hash=? AND error IS NULL", (request_hash,)).fetchone()
        if row is None:
            return None
        return Response(text=row[0] or "", texts=tuple(_loads(row[1]) or ()),
                        finish_reason=row[2], logprobs=_loads(row[3]),
                        option_logprobs=_loads(row[4]), usage=_loads(row[5]) or {},
                        latency_s=row[6] or 0.0, cached=True)

    def put_response(self, request_hash: str, model: str, request_json: str,
                     response: Response) -> None:
        # A stored success is never overwritten by a later failure of the same request.
        self.db.execute(
            "INSERT INTO responses VALUES (?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(request_hash) "
            "DO UPDATE SET text=excluded.text, texts=excluded.texts, "
            "finish_reason=excluded.finish_reason, logprobs=excluded.logprobs, "
            "option_logprobs=excluded.option_logprobs, usage=excluded.usage, "
            "latency=excluded.latency, error=excluded.error, created=excluded.created "
            "WHERE responses.error IS NOT NULL",
            (request_hash, model, request_json, response.text,
             _dumps(list(response.texts)) if len(response.texts) > 1 else None,
             response.finish_reason, _dumps(response.logprobs), _dumps(response.option_logprobs),
             _dumps(response.usage or None), response.latency_s, response.error, _now()))

    def response_count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]

    # items ---------------------------------------------------------------------------------
    def put_items(self, run_id: str, sample: Sample, items: list[ItemResult], seq: int,
                  sample_hash: str | None = None) -> None:
        """Upsert the items of one sample in one transaction (a rerun replaces, never
        duplicates; a crash never leaves a sample half stored)."""
        rows = [(run_id, it.sample_id, it.variant, it.request_hash, it.response, it.extracted,
                 None if it.correct is None else int(it.correct), _dumps(it.metrics or None),
                 it.error, it.confidence,
                 sample.question if it.question is None else it.question,
                 sample.answer if it.answer is None else it.answer,
                 _dumps(_item_metadata(sample, it)), sample.cluster, seq, sample_hash)
                for it in items]
        with self.transaction() as db:
            db.execute("DELETE FROM items WHERE run_id=? AND sample_id=?", (run_id, sample.id))
            db.executemany("INSERT INTO items VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)

    def prune_items(self, run_id: str, keep: set[str]) -> int:
        """Delete the run's items whose sample is no longer in the benchmark."""
        stored = {r[0] for r in self.db.execute(
            "SELECT DISTINCT sample_id FROM items WHERE run_id=?", (run_id,))}
        gone = sorted(stored - keep)
        with self.transaction() as db:
            db.executemany("DELETE FROM items WHERE run_id=? AND sample_id=?",
                           [(run_id, sid) for sid in gone])
        return len(gone)

    def transaction(self) -> _Transaction:
        return _Transaction(self.db)

    def done_samples(self, run_id: str) -> dict[str, str | None]:
        """Samples whose every stored item succeeded, with the fingerprint they were scored
        against (an errored sample is retried on resume; a changed one is re-solved)."""
        cur = self.db.execute(
            "SELECT sample_id, MIN(sample_hash) FROM items WHERE run_id=? GROUP BY sample_id "
            "HAVING MAX(error IS NOT NULL) = 0 AND COUNT(DISTINCT sample_hash) <= 1", (run_id,))
        return {row[0]: row[1] for row in cur}

    def items(self, run_id: str) -> Iterator[dict[str, Any]]:
        cur = self.db.execute(
            "SELECT sample_id, variant, request_hash, response, extracted, correct, metrics, "
            "error, confidence, question, answer, metadata, cluster FROM items WHERE run_id=? "
            "ORDER BY seq, sample_id, variant", (run_id,))
        for row in cur:
            yield {
                "sample_id": row[0], "variant": row[1], "request_hash": row[2],
                "response": row[3], "extracted": row[4],
                "correct": None if row[5] is None else bool(row[5]),
                "metrics": _loads(row[6]) or {}, "error": row[7], "confidence": row[8],
                "question": row[9], "answer": row[10], "metadata": _loads(row[11]) or {},
                "cluster": row[12],
            }

    def run_data(self, run_id: str) -> dict[str, Any]:
        """A run with its items, in the shape the report and statistics consume."""
        run = self.run(run_id)
        return {**run, "items": list(self.items(run["run_id"]))}

    # run listing (``medgauge runs``) -----------------------------------------------------------
    def samples_done(self) -> dict[str, int]:
        """Per run: the number of samples with stored items (a probe stores several per sample)."""
        cur = self.db.execute("SELECT run_id, COUNT(DISTINCT sample_id) FROM items GROUP BY run_id")
        return {row[0]: row[1] for row in cur}

    def delete_run(self, run_id: str) -> int:
        """Delete one run (exact id) and its items; returns the number of items deleted.  Cached
        responses stay: they belong to the request, not to the run."""
        with self.transaction() as db:
            n = db.execute("DELETE FROM items WHERE run_id=?", (run_id,)).rowcount
            db.execute("DELETE FROM runs WHERE run_id=?", (run_id,))
        return n


def _item_metadata(sample: Sample, item: ItemResult) -> dict[str, Any]:
    """The sample's metadata, the item's over it, and the image paths (never the images)."""
    meta = {**sample.metadata, **item.metadata}
    if sample.images and "images" not in meta:
        meta["images"] = [img.path for img in sample.images]
    return meta


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN")
        return self.db

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
