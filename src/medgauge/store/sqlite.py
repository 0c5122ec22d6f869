"""SQLite store: runs, a response cache keyed by the exact request, solved items and scores.

WAL mode; every response is committed as it arrives and each sample's items (with their scores)
in one transaction, so a crash loses at most the requests in flight.  Images are never stored:
requests keep image paths and content hashes.  Secrets never reach the store.

Tables (schema 3):
- ``runs``: config, versions, status, and the scorer (name, version) whose scores readers see;
- ``responses``: keyed by request hash, the model's reply (stored once: items refer to it);
- ``items``: (run, sample, variant) -> request hash, error, confidence, the target the item is
  scored against (JSON: gold, options, labels ...), metadata, cluster, sample fingerprint;
- ``scores``: (run, sample, variant, scorer, version) -> extracted answer, value, status,
  per-item metrics, explanation.  A new scorer version adds rows; nothing is re-stamped.

A schema-2 store (medgauge 0.1) is migrated in place after a backup copy
(``<store>.schema2.bak``); its old scores keep the version ``schema2``, so the next run re-scores
them.  Other SQLite files are refused.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from medgauge.types import Item, ItemResult, MedgaugeError, Response, Sample, Score

SCHEMA_VERSION = 3
#: run config keys that choose how a run is *read* (scored, summarised), not what is asked:
#: they are left out of the run id, so changing them re-scores instead of re-solving.
VIEW_KEYS = ("scoring", "metrics", "grader")
LEGACY_VERSION = "schema2"

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
    n_total INTEGER,
    scorer TEXT,
    scorer_version TEXT
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
    finish_reason TEXT,
    error TEXT,
    confidence REAL,
    question TEXT,
    answer TEXT,
    target TEXT,
    metadata TEXT,
    cluster TEXT,
    seq INTEGER,
    sample_hash TEXT,
    PRIMARY KEY (run_id, sample_id, variant)
);
CREATE TABLE IF NOT EXISTS scores (
    run_id TEXT NOT NULL,
    sample_id TEXT NOT NULL,
    variant TEXT NOT NULL,
    scorer TEXT NOT NULL,
    version TEXT NOT NULL,
    extracted TEXT,
    value REAL,
    status TEXT NOT NULL,
    metrics TEXT,
    explanation TEXT,
    error TEXT,
    created TEXT NOT NULL,
    PRIMARY KEY (run_id, sample_id, variant, scorer, version)
);
"""


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())


def _dumps(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _loads(value: str | None) -> Any:
    return None if value is None else json.loads(value)


def run_id_of(config: dict[str, Any]) -> str:
    """A run's id: a hash of its config without the keys that only choose how it is read."""
    ident = {k: v for k, v in config.items() if k not in VIEW_KEYS}
    blob = json.dumps(ident, sort_keys=True, default=str)
    return hashlib.blake2b(blob.encode(), digest_size=6).hexdigest()


_TUPLE_FIELDS = {f.name for f in dataclasses.fields(Sample)
                 if f.default_factory is dataclasses.MISSING and isinstance(f.default, tuple)}


_TARGET_FIELDS = tuple(f.name for f in dataclasses.fields(Sample)
                       if f.name not in ("images", "metadata"))


def target_json(sample: Sample) -> str:
    """What scoring needs of a sample (no images; metadata is stored with the item)."""
    return json.dumps({name: getattr(sample, name) for name in _TARGET_FIELDS},
                      ensure_ascii=False, sort_keys=True, default=list)


def target_sample(blob: str, metadata: dict[str, Any]) -> Sample:
    data = json.loads(blob)
    known = {f.name for f in dataclasses.fields(Sample)}
    kwargs = {k: (tuple(v) if k in _TUPLE_FIELDS and isinstance(v, list) else v)
              for k, v in data.items() if k in known}
    return Sample(**kwargs, metadata=metadata)


class Store:
    """One SQLite file per project folder (default ``medgauge.db``).

    ``readonly=True`` opens the file read-only (read commands; works on read-only media) and
    never creates or migrates it."""

    def __init__(self, path: str | Path, *, readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
        #: request hash -> future of a request being sent now (runner/calls.py)
        self.inflight: dict[str, Any] = {}
        if readonly and not self.path.is_file():
            raise MedgaugeError(f"store not found: {self.path}")
        if self.path.parent and not self.path.parent.exists():
            raise MedgaugeError(f"store folder does not exist: {self.path.parent}")
        try:
            if readonly:
                self.db = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True,
                                          isolation_level=None, check_same_thread=False)
            else:
                self.db = sqlite3.connect(str(self.path), isolation_level=None,
                                          check_same_thread=False)
            self.db.execute("PRAGMA busy_timeout=10000")
            self._check_schema()  # before WAL mode: a refused file is left byte-for-byte as is
            if not readonly:
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.DatabaseError as exc:
            raise MedgaugeError(f"store {self.path} is not a medgauge SQLite store ({exc})"
                                ) from None

    def _tables(self) -> set[str]:
        return {r[0] for r in self.db.execute(
            "SELECT name FROM sqlite_master WHERE type='table'")}

    def _check_schema(self) -> None:
        tables = self._tables()
        if not tables:
            if self.readonly:
                raise MedgaugeError(f"store {self.path} is empty (no runs)")
            self.db.executescript(_SCHEMA)
            self.db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            return
        row = (self.db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
               if "meta" in tables else None)
        if row is None:
            raise MedgaugeError(f"{self.path} is not a medgauge store (it holds other tables: "
                                f"{', '.join(sorted(tables)[:5])}); give another --store file")
        version = str(row[0])
        if version == str(SCHEMA_VERSION):
            return
        if version == "2":
            if self.readonly:
                raise MedgaugeError(f"store {self.path} was written by medgauge 0.1 (schema 2); "
                                    f"upgrade it first: medgauge store upgrade {self.path}")
            self._migrate_from_2()
            return
        raise MedgaugeError(f"store {self.path} has schema {version}, which this release "
                            f"cannot read or migrate (it reads schema {SCHEMA_VERSION} and "
                            "migrates schema 2); start a new store")

    def _migrate_from_2(self) -> None:
        """Schema 2 -> 3 in place, after a backup copy: scores move to their own table under
        the version ``schema2`` (re-scored by the next run), run ids drop the scoring mode."""
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        backup = self.path.with_name(self.path.name + ".schema2.bak")
        try:
            shutil.copy2(self.path, backup)
        except OSError as exc:
            raise MedgaugeError(f"store {self.path}: cannot write the backup {backup} before "
                                f"migrating ({exc.strerror})") from None
        now = _now()
        with self.transaction() as db:
            db.execute("ALTER TABLE runs ADD COLUMN scorer TEXT")
            db.execute("ALTER TABLE runs ADD COLUMN scorer_version TEXT")
            for stmt in _SCHEMA.split(";"):
                if "CREATE TABLE IF NOT EXISTS scores" in stmt:
                    db.execute(stmt)
            db.execute(
                "INSERT INTO scores SELECT i.run_id, i.sample_id, i.variant, "
                "COALESCE(json_extract(r.config, '$.scoring'), 'default'), ?, i.extracted, "
                "i.correct, CASE WHEN i.error IS NOT NULL THEN 'error' WHEN i.extracted IS NULL "
                "AND NOT COALESCE(i.correct, 0) THEN 'invalid' ELSE 'ok' END, i.metrics, NULL, "
                "i.error, ? FROM items i JOIN runs r ON r.run_id = i.run_id",
                (LEGACY_VERSION, now))
            db.execute("UPDATE runs SET scorer = COALESCE(json_extract(config, '$.scoring'), "
                       "'default'), scorer_version = ?", (LEGACY_VERSION,))
            db.execute("ALTER TABLE items RENAME TO items_v2")
            for stmt in _SCHEMA.split(";"):
                if "CREATE TABLE IF NOT EXISTS items" in stmt:
                    db.execute(stmt)
            db.execute("INSERT INTO items SELECT run_id, sample_id, variant, request_hash, "
                       "response, NULL, error, confidence, question, answer, NULL, metadata, "
                       "cluster, seq, sample_hash FROM items_v2")
            db.execute("DROP TABLE items_v2")
            for run_id, config in db.execute("SELECT run_id, config FROM runs").fetchall():
                new = run_id_of(_loads(config) or {})
                if new == run_id:
                    continue
                if db.execute("SELECT 1 FROM runs WHERE run_id=?", (new,)).fetchone():
                    db.execute("DELETE FROM runs WHERE run_id=?", (run_id,))
                    db.execute("INSERT OR IGNORE INTO items SELECT ?, sample_id, variant, "
                               "request_hash, response, finish_reason, error, confidence, "
                               "question, answer, target, metadata, cluster, seq, sample_hash "
                               "FROM items WHERE run_id=?", (new, run_id))
                    db.execute("DELETE FROM items WHERE run_id=?", (run_id,))
                else:
                    db.execute("UPDATE runs SET run_id=? WHERE run_id=?", (new, run_id))
                    db.execute("UPDATE items SET run_id=? WHERE run_id=?", (new, run_id))
                db.execute("UPDATE OR IGNORE scores SET run_id=? WHERE run_id=?", (new, run_id))
                db.execute("DELETE FROM scores WHERE run_id=?", (run_id,))
            db.execute("UPDATE meta SET value=? WHERE key='schema'", (str(SCHEMA_VERSION),))

    def close(self) -> None:
        self.db.close()

    # runs ----------------------------------------------------------------------------------
    def begin_run(self, run_id: str, model: str, benchmark: str, probe: str | None,
                  config: dict[str, Any], versions: dict[str, str], n_total: int | None,
                  scorer: tuple[str, str] | None = None) -> bool:
        """Create the run or mark an existing one running again; True when it already existed.
        ``scorer``: (name, version) whose scores readers see."""
        name, version = scorer or ("default", None)
        existed = self.db.execute("SELECT 1 FROM runs WHERE run_id=?", (run_id,)).fetchone()
        if existed:
            self.db.execute(
                "UPDATE runs SET status='running', ended=NULL, n_total=?, versions=?, config=? "
                "WHERE run_id=?", (n_total, _dumps(versions), _dumps(config), run_id))
        else:
            self.db.execute(
                "INSERT INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (run_id, model, benchmark, probe, _dumps(config), _dumps(versions), _now(), None,
                 "running", n_total, name, version))
        return bool(existed)

    def set_scorer(self, run_id: str, name: str, version: str) -> None:
        """Make (name, version) the scores readers of this run see."""
        self.db.execute("UPDATE runs SET scorer=?, scorer_version=? WHERE run_id=?",
                        (name, version, run_id))

    def end_run(self, run_id: str, status: str) -> None:
        self.db.execute("UPDATE runs SET status=?, ended=? WHERE run_id=?",
                        (status, _now(), run_id))

    def runs(self) -> list[dict[str, Any]]:
        cur = self.db.execute(
            "SELECT r.run_id, r.model, r.benchmark, r.probe, r.config, r.versions, r.started, "
            "r.ended, r.status, r.n_total, r.scorer, r.scorer_version, "
            "(SELECT COUNT(*) FROM items i WHERE i.run_id = r.run_id) FROM runs r "
            "ORDER BY r.started, r.run_id")
        keys = ("run_id", "model", "benchmark", "probe", "config", "versions", "started",
                "ended", "status", "n_total", "scorer", "scorer_version", "n_items")
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

    # items and scores ----------------------------------------------------------------------
    def put_items(self, run_id: str, sample: Sample, items: list[ItemResult], seq: int,
                  sample_hash: str | None = None, scorer: tuple[str, str] | None = None
                  ) -> None:
        """Upsert the items of one sample and their scores (under ``scorer`` = (name,
        version)) in one transaction: a rerun replaces, never duplicates; a crash never leaves
        a sample half stored.  A reply is stored once: an item with a request hash keeps only
        the hash."""
        rows = [(run_id, it.sample_id, it.variant, it.request_hash,
                 it.response if it.request_hash is None else None, it.finish_reason, it.error,
                 it.confidence,
                 sample.question if it.question is None else it.question,
                 sample.answer if it.answer is None else it.answer,
                 target_json(it.target or sample),
                 _dumps(_item_metadata(sample, it)), sample.cluster, seq, sample_hash)
                for it in items]
        with self.transaction() as db:
            db.execute("DELETE FROM items WHERE run_id=? AND sample_id=?", (run_id, sample.id))
            db.executemany("INSERT INTO items VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
            if scorer is not None:
                self._put_scores(db, run_id, [(it.sample_id, it.variant, it.score)
                                              for it in items if it.score is not None], scorer)

    def put_scores(self, run_id: str, scores: list[tuple[str, str, Score]],
                   scorer: tuple[str, str]) -> None:
        """Store (sample id, variant, score) rows of one scorer version in one transaction."""
        with self.transaction() as db:
            self._put_scores(db, run_id, scores, scorer)

    @staticmethod
    def _put_scores(db: sqlite3.Connection, run_id: str, scores: list[tuple[str, str, Score]],
                    scorer: tuple[str, str]) -> None:
        now = _now()
        db.executemany(
            "INSERT OR REPLACE INTO scores VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            [(run_id, sid, variant, scorer[0], scorer[1], sc.answer, sc.value, sc.status,
              _dumps(sc.metrics or None), sc.explanation, sc.error, now)
             for sid, variant, sc in scores])

    def prune_items(self, run_id: str, keep: set[str]) -> int:
        """Delete the run's items (and scores) whose sample is no longer in the benchmark."""
        stored = {r[0] for r in self.db.execute(
            "SELECT DISTINCT sample_id FROM items WHERE run_id=?", (run_id,))}
        gone = sorted(stored - keep)
        with self.transaction() as db:
            db.executemany("DELETE FROM items WHERE run_id=? AND sample_id=?",
                           [(run_id, sid) for sid in gone])
            db.executemany("DELETE FROM scores WHERE run_id=? AND sample_id=?",
                           [(run_id, sid) for sid in gone])
        return len(gone)

    def transaction(self) -> _Transaction:
        return _Transaction(self.db)

    def done_samples(self, run_id: str) -> dict[str, str | None]:
        """Samples whose every stored item was solved without error and has a stored target,
        with the fingerprint they were solved against (an errored sample is retried on resume;
        a changed one is re-solved)."""
        cur = self.db.execute(
            "SELECT sample_id, MIN(sample_hash) FROM items WHERE run_id=? GROUP BY sample_id "
            "HAVING MAX(error IS NOT NULL) = 0 AND MAX(target IS NULL) = 0 "
            "AND COUNT(DISTINCT sample_hash) <= 1", (run_id,))
        return {row[0]: row[1] for row in cur}

    def scored_samples(self, run_id: str, scorer: tuple[str, str]) -> set[str]:
        """Samples whose every item has a score of this scorer version that is not an error."""
        cur = self.db.execute(
            "SELECT i.sample_id FROM items i LEFT JOIN scores s ON s.run_id=i.run_id AND "
            "s.sample_id=i.sample_id AND s.variant=i.variant AND s.scorer=? AND s.version=? "
            "WHERE i.run_id=? GROUP BY i.sample_id "
            "HAVING MAX(s.status IS NULL OR s.status = 'error') = 0", (*scorer, run_id))
        return {row[0] for row in cur}

    def stored_items(self, run_id: str, sample_ids: set[str] | None = None
                     ) -> Iterator[tuple[Sample, ItemResult]]:
        """Solved items rebuilt for scoring (``rescore``): (target sample, item with the reply
        text).  Items without a stored target (written by medgauge 0.1) are skipped."""
        cur = self.db.execute(
            "SELECT i.sample_id, i.variant, i.request_hash, COALESCE(i.response, r.text, ''), "
            "COALESCE(i.finish_reason, r.finish_reason), i.error, i.confidence, i.target, "
            "i.metadata, i.question, i.answer FROM items i LEFT JOIN responses r "
            "ON r.request_hash = i.request_hash WHERE i.run_id=? AND i.target IS NOT NULL "
            "ORDER BY i.seq, i.sample_id, i.variant", (run_id,))
        for row in cur:
            if sample_ids is not None and row[0] not in sample_ids:
                continue
            meta = _loads(row[8]) or {}
            target = target_sample(row[7], meta)
            yield target, ItemResult(row[0], row[1], row[2], row[3], row[5], row[6], meta,
                                     row[9], row[10], target, row[4])

    def items(self, run_id: str, scorer: tuple[str, str] | None = None) -> Iterator[Item]:
        """The run's items with the scores of ``scorer`` (default: the run's own scorer
        version).  An item without such a score is an error item ("not scored")."""
        if scorer is None:
            row = self.db.execute("SELECT scorer, scorer_version FROM runs WHERE run_id=?",
                                  (run_id,)).fetchone()
            scorer = (row[0] or "default", row[1] or "") if row else ("default", "")
        cur = self.db.execute(
            "SELECT i.sample_id, i.variant, i.request_hash, COALESCE(i.response, r.text, ''), "
            "s.extracted, s.value, s.status, s.metrics, COALESCE(i.error, s.error), "
            "i.confidence, i.question, i.answer, i.metadata, i.cluster, s.explanation, "
            "COALESCE(i.finish_reason, r.finish_reason) "
            "FROM items i LEFT JOIN responses r ON r.request_hash = i.request_hash "
            "LEFT JOIN scores s ON s.run_id=i.run_id AND s.sample_id=i.sample_id AND "
            "s.variant=i.variant AND s.scorer=? AND s.version=? WHERE i.run_id=? "
            "ORDER BY i.seq, i.sample_id, i.variant", (*scorer, run_id))
        name = f"{scorer[0]}@{scorer[1]}"
        for row in cur:
            status = row[6]
            error = row[8]
            if error is not None:
                status = "error"
            elif status is None:
                status, error = "error", f"not scored by {name} (run `medgauge rescore`)"
            yield Item(sample_id=row[0], variant=row[1], request_hash=row[2],
                       response=row[3] or "", extracted=row[4], value=row[5], status=status,
                       metrics=_loads(row[7]) or {}, error=error, confidence=row[9],
                       question=row[10] or "", answer=row[11] or "",
                       metadata=_loads(row[12]) or {}, cluster=row[13], explanation=row[14],
                       finish_reason=row[15], scorer=name)

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
