"""The store's logic, written once for every backend: runs, a response cache keyed by the exact
request, solved items, scores, and per-run leases.  A backend (``sqlite.py``, ``postgres.py``)
opens the connection, creates or checks the schema and says how a transaction starts; the SQL
here is the portable subset both SQLite (3.24+) and PostgreSQL accept, written with ``?``
placeholders (the PostgreSQL connection rewrites them).

Every response is committed as it arrives and each sample's items (with their scores) in one
transaction, so a crash loses at most the requests in flight.  While the runner runs, writes are
group-committed (``BaseStore.buffered``): the replies that arrive together go in one transaction
of multi-row statements, committed before the runner waits on anything else.  Images are never
stored: requests keep image paths and content hashes.  Secrets never reach the store.

Tables (schema 3):
- ``runs``: config, versions, status, and the scorer (name, version) whose scores readers see;
- ``responses``: keyed by request hash, the model's reply (stored once: items refer to it);
- ``items``: (run, sample, variant) -> request hash, error, confidence, the target the item is
  scored against (JSON: gold, options, labels ...), metadata, cluster, sample fingerprint;
- ``scores``: (run, sample, variant, scorer, version) -> extracted answer, value, status,
  per-item metrics, explanation.  A new scorer version adds rows; nothing is re-stamped;
- ``leases``: (run, shard) -> the process running it now and until when (``lease.py``), the
  shard's size and last status.  Added to schema 3 without a version bump: older releases
  ignore the table.

A stored success is never replaced by an error: not a response, not a sample's items, not a
score of the same scorer version.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import json
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from medgauge.types import Item, ItemResult, MedgaugeError, Response, Sample, Score

SCHEMA_VERSION = 3
#: run config keys that choose how a run is *read* (scored, summarised), not what is asked:
#: they are left out of the run id, so changing them re-scores instead of re-solving.
VIEW_KEYS = ("scoring", "metrics", "grader")
LEGACY_VERSION = "schema2"

#: the tables of schema 3 (``REAL`` becomes ``DOUBLE PRECISION`` on PostgreSQL); column order
#: matters: rows are inserted positionally and copied between stores.
TABLES: dict[str, str] = {
    "meta": "key TEXT PRIMARY KEY, value TEXT NOT NULL",
    "runs": """run_id TEXT PRIMARY KEY,
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
    scorer_version TEXT""",
    "responses": """request_hash TEXT PRIMARY KEY,
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
    created TEXT NOT NULL""",
    "items": """run_id TEXT NOT NULL,
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
    PRIMARY KEY (run_id, sample_id, variant)""",
    "scores": """run_id TEXT NOT NULL,
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
    PRIMARY KEY (run_id, sample_id, variant, scorer, version)""",
    "leases": """run_id TEXT NOT NULL,
    shard TEXT NOT NULL,
    owner TEXT,
    expires REAL NOT NULL,
    n_total INTEGER,
    status TEXT,
    PRIMARY KEY (run_id, shard)""",
}


def schema_sql(real: str = "REAL") -> str:
    """``CREATE TABLE IF NOT EXISTS`` statements of every table (``real``: the float type)."""
    return "".join(f"CREATE TABLE IF NOT EXISTS {name} (\n    "
                   f"{cols.replace(' REAL', ' ' + real)}\n);\n"
                   for name, cols in TABLES.items())


def columns(table: str) -> list[str]:
    """The column names of a table, in order."""
    return [line.strip().split()[0] for line in TABLES[table].split(",\n")
            if not line.strip().startswith("PRIMARY KEY")]


_NOW: list[Any] = [-1, ""]


def _now() -> str:
    """The current UTC time to the second, ISO 8601 (formatted once per second: it is stamped
    on every stored row)."""
    sec = int(time.time())
    if sec != _NOW[0]:
        _NOW[0], _NOW[1] = sec, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))
    return _NOW[1]


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


class BaseStore:
    """The store API every command uses.  Subclasses set ``db`` (an object with DB-API style
    ``execute(sql, params)`` / ``executemany(sql, rows)`` returning a cursor, ``?``
    placeholders), ``where`` (what messages call the store) and ``transaction()``."""

    db: Any
    where: str
    readonly: bool = False
    #: what the store is called in messages and commands (a file path, or a URL without password)
    path: Path | str

    #: True when a call waits on a server: the runner's hot-path calls then run on the store's
    #: one I/O thread (``io``) instead of blocking the event loop
    offload: bool = False
    _executor: Any = None

    def __init__(self) -> None:
        #: request hash -> future of a request being sent now (runner/calls.py)
        self.inflight: dict[str, Any] = {}
        self._buffer = _WriteBuffer()

    async def io(self, fn: Any, *args: Any) -> Any:
        """``fn(*args)`` (a method of this store) from async code: inline for a local file;
        for a server store on its single I/O thread, in call order, while the event loop
        goes on sending requests."""
        if not self.offload:
            return fn(*args)
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def close(self) -> None:
        self.db.close()

    def transaction(self) -> AbstractContextManager[Any]:
        raise NotImplementedError

    # runs ----------------------------------------------------------------------------------
    def begin_run(self, run_id: str, model: str, benchmark: str, probe: str | None,
                  config: dict[str, Any], versions: dict[str, str], n_total: int | None,
                  scorer: tuple[str, str] | None = None) -> bool:
        """Create the run or mark an existing one running again; True when it already existed.
        ``scorer``: (name, version) whose scores readers see.  Safe when several processes
        (shards) begin the same run at once."""
        name, version = scorer or ("default", None)
        existed = self.db.execute("SELECT 1 FROM runs WHERE run_id=?", (run_id,)).fetchone()
        self.db.execute(
            "INSERT INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (run_id) DO UPDATE "
            "SET status='running', ended=NULL, n_total=excluded.n_total, "
            "versions=excluded.versions, config=excluded.config",
            (run_id, model, benchmark, probe, _dumps(config), _dumps(versions), _now(), None,
             "running", n_total, name, version))
        return bool(existed)

    def set_scorer(self, run_id: str, name: str, version: str) -> None:
        """Make (name, version) the scores readers of this run see."""
        self.db.execute("UPDATE runs SET scorer=?, scorer_version=? WHERE run_id=?",
                        (name, version, run_id))

    def end_run(self, run_id: str, status: str, *, keep_complete: bool = False) -> None:
        """Set the run's final status; ``keep_complete`` (a shard that ends before the others):
        a run another shard already completed stays completed."""
        if keep_complete:
            self.db.execute("UPDATE runs SET status=?, ended=? WHERE run_id=? AND status NOT IN "
                            "('completed', 'completed_with_errors')", (status, _now(), run_id))
        else:
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
            raise MedgaugeError(f"no run {run_id!r} in {self.where}")
        if len(matches) > 1:
            raise MedgaugeError(f"run id prefix {run_id!r} is ambiguous in {self.where}")
        return matches[0]

    # responses -----------------------------------------------------------------------------
    def get_response(self, request_hash: str) -> Response | None:
        """A stored successful response, or None (missing or errored: send again)."""
        row = self.db.execute(
            f"SELECT {_RESPONSE_COLUMNS} FROM responses WHERE request_hash=? AND error IS NULL",
            (request_hash,)).fetchone()
        return None if row is None else _response_of(row)

    def get_responses(self, request_hashes: list[str]) -> dict[str, Response]:
        """The stored successful responses among ``request_hashes`` (one query per 500)."""
        out: dict[str, Response] = {}
        for start in range(0, len(request_hashes), 500):
            chunk = request_hashes[start:start + 500]
            cur = self.db.execute(
                f"SELECT request_hash, {_RESPONSE_COLUMNS} FROM responses WHERE request_hash "
                f"IN ({','.join('?' * len(chunk))}) AND error IS NULL", tuple(chunk))
            for row in cur.fetchall():
                out[row[0]] = _response_of(row[1:])
        return out

    def put_response(self, request_hash: str, model: str, request_json: str,
                     response: Response) -> None:
        _insert(self.db, "responses", [response_row(request_hash, model, request_json, response)],
                _RESPONSE_CONFLICT)

    def response_count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]

    # items and scores ----------------------------------------------------------------------
    def put_items(self, run_id: str, sample: Sample, items: list[ItemResult], seq: int,
                  sample_hash: str | None = None, scorer: tuple[str, str] | None = None
                  ) -> bool:
        """Upsert the items of one sample and their scores (under ``scorer`` = (name,
        version)) in one transaction: a rerun replaces, never duplicates; a crash never leaves
        a sample half stored.  A reply is stored once: an item with a request hash keeps only
        the hash.  Items with an error never replace the sample's stored error-free items of
        the same fingerprint (another process solved it meanwhile): False when kept."""
        write = _sample_write(run_id, sample, items, seq, sample_hash, scorer)
        with self.transaction() as db:
            return _write_sample(db, write)

    def put_scores(self, run_id: str, scores: list[tuple[str, str, Score]],
                   scorer: tuple[str, str]) -> None:
        """Store (sample id, variant, score) rows of one scorer version in one transaction."""
        with self.transaction() as db:
            _insert(db, "scores", _score_rows(run_id, scores, scorer), _SCORE_CONFLICT)

    # the runner's hot path: buffered writes, coalesced lookups ------------------------------
    @contextlib.asynccontextmanager
    async def buffered(self) -> AsyncIterator[None]:
        """Group commit while open: ``save_response`` and ``save_items`` queue their rows, and
        one transaction commits everything queued as soon as the event loop has handled the
        replies that arrived together (and, on a server store, while the previous commit is
        on its way, what arrives meanwhile).  So a reply is committed without waiting for
        anything but the store, as before, and a busy run pays one commit (one round trip to
        a server) per batch instead of two per sample.  A sample's rows go in together: a
        crash never leaves one half stored.  Queued responses are served to lookups at once.
        On leaving (also after an error) everything queued is committed."""
        buf = self._buffer
        if buf.active:  # nested: the outer one commits
            yield
            return
        # the lock and the flusher belong to this event loop
        buf.active, buf.lock, buf.flusher, buf.error = True, asyncio.Lock(), None, None
        try:
            yield
        except BaseException:
            with contextlib.suppress(Exception):  # the error in flight is the one to tell
                await self._drain()
            raise
        else:
            await self._drain()
        finally:
            buf.active = False

    async def _drain(self) -> None:
        if self._buffer.flusher is not None:
            await asyncio.gather(self._buffer.flusher, return_exceptions=True)
        await self.flush()

    async def _queued(self) -> None:
        """Rows were queued: commit them once the loop has run what is ready now; a long
        queue (a slow store) is committed before the caller goes on."""
        buf = self._buffer
        if len(buf.responses) + len(buf.samples) >= _MAX_QUEUED:
            await self.flush()
        elif buf.flusher is None or buf.flusher.done():
            buf.flusher = asyncio.ensure_future(self._flush_queued())

    async def _flush_queued(self) -> None:
        buf = self._buffer
        while buf.error is None and (buf.responses or buf.samples):
            try:
                await self.flush()
            except Exception as exc:  # raised again by the next save, and by ``flush``
                buf.error = exc

    async def flush(self) -> None:
        """Commit every queued row in one transaction (nothing to do when none is queued)."""
        buf = self._buffer
        self._raise_write_error()
        async with buf.lock:
            if not buf.responses and not buf.samples:
                return
            buf.flushing, buf.responses = buf.responses, {}
            samples, buf.samples = buf.samples, []
            try:
                await self.io(self._write_batch, list(buf.flushing.values()), samples)
            finally:
                buf.flushing = {}

    def _write_batch(self, responses: list[tuple[Any, ...]], samples: list[_SampleWrite]
                     ) -> None:
        """One transaction of multi-row statements (a handful per batch, not four per
        sample): on a server store each statement costs the client a round of work."""
        with self.transaction() as db:
            _insert(db, "responses", responses, _RESPONSE_CONFLICT)
            solved: dict[str, list[str]] = {}
            for write in samples:
                if write.failed:  # may keep the stored items instead: one by one
                    _write_sample(db, write)
                else:
                    solved.setdefault(write.run_id, []).append(write.sample_id)
            for run_id, ids in solved.items():
                for start in range(0, len(ids), 500):
                    chunk = ids[start:start + 500]
                    db.execute(f"DELETE FROM items WHERE run_id=? AND sample_id IN "
                               f"({','.join('?' * len(chunk))})", (run_id, *chunk))
            clean = [w for w in samples if not w.failed]
            _insert(db, "items", [row for w in clean for row in w.items])
            _insert(db, "scores", list({row[:5]: row for w in clean for row in w.scores
                                        }.values()), _SCORE_CONFLICT)

    async def cached_response(self, request_hash: str) -> Response | None:
        """``get_response`` from async code: a queued response first; on a server store,
        the lookups of concurrent callers go in one query."""
        buf = self._buffer
        row = buf.responses.get(request_hash) or buf.flushing.get(request_hash)
        if row is not None:
            return _response_of(row[3:10]) if row[10] is None else None
        if not self.offload:
            return self.get_response(request_hash)
        future: asyncio.Future[Response | None] = asyncio.get_running_loop().create_future()
        buf.lookups.append((request_hash, future))
        if (buf.looker is None or buf.looker.done()
                or buf.looker.get_loop() is not future.get_loop()):
            buf.looker = asyncio.ensure_future(self._look_up())
        return await future

    async def _look_up(self) -> None:
        buf = self._buffer
        while buf.lookups:
            batch, buf.lookups = buf.lookups, []
            try:
                found = await self.io(self.get_responses, list({k for k, _ in batch}))
            except BaseException as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                if isinstance(exc, asyncio.CancelledError):
                    for _, future in buf.lookups:
                        future.cancel()
                    buf.lookups = []
                    raise
                continue
            for key, future in batch:
                if not future.done():
                    future.set_result(found.get(key))

    async def save_response(self, request_hash: str, model: str, request_json: str,
                            response: Response) -> None:
        """``put_response`` from async code; queued while ``buffered``."""
        row = response_row(request_hash, model, request_json, response)
        buf = self._buffer
        if not buf.active:
            await self.io(_insert, self.db, "responses", [row], _RESPONSE_CONFLICT)
            return
        self._raise_write_error()
        old = buf.responses.get(request_hash)
        if old is None or old[10] is not None or row[10] is None:  # a success stays
            buf.responses[request_hash] = row
        await self._queued()

    async def save_items(self, run_id: str, sample: Sample, items: list[ItemResult],
                         seq: int, sample_hash: str | None = None,
                         scorer: tuple[str, str] | None = None) -> None:
        """``put_items`` from async code; queued while ``buffered``."""
        if not self._buffer.active:
            await self.io(self.put_items, run_id, sample, items, seq, sample_hash, scorer)
            return
        self._raise_write_error()
        self._buffer.samples.append(_sample_write(run_id, sample, items, seq, sample_hash,
                                                  scorer))
        await self._queued()

    def _raise_write_error(self) -> None:
        """A failed group commit stops the next save (nothing more is queued)."""
        error, self._buffer.error = self._buffer.error, None
        if error is not None:
            raise error

    def prune_items(self, run_id: str, keep: set[str]) -> int:
        """Delete the run's items (and scores) whose sample is no longer in the benchmark."""
        stored = {r[0] for r in self.db.execute(
            "SELECT DISTINCT sample_id FROM items WHERE run_id=?", (run_id,))}
        gone = sorted(stored - keep)
        if not gone:
            return 0
        with self.transaction() as db:
            db.executemany("DELETE FROM items WHERE run_id=? AND sample_id=?",
                           [(run_id, sid) for sid in gone])
            db.executemany("DELETE FROM scores WHERE run_id=? AND sample_id=?",
                           [(run_id, sid) for sid in gone])
        return len(gone)

    def done_samples(self, run_id: str) -> dict[str, str | None]:
        """Samples whose every stored item was solved without error and has a stored target,
        with the fingerprint they were solved against (an errored sample is retried on resume;
        a changed one is re-solved)."""
        cur = self.db.execute(
            "SELECT sample_id, MIN(sample_hash) FROM items WHERE run_id=? GROUP BY sample_id "
            "HAVING MAX(CASE WHEN error IS NULL AND target IS NOT NULL THEN 0 ELSE 1 END) = 0 "
            "AND COUNT(DISTINCT sample_hash) <= 1", (run_id,))
        return {row[0]: row[1] for row in cur}

    def stored_sample_ids(self, run_id: str) -> set[str]:
        """Samples of the run with stored items (solved, with or without error)."""
        return {r[0] for r in self.db.execute(
            "SELECT DISTINCT sample_id FROM items WHERE run_id=?", (run_id,))}

    def scored_samples(self, run_id: str, scorer: tuple[str, str]) -> set[str]:
        """Samples whose every item has a score of this scorer version that is not an error."""
        cur = self.db.execute(
            "SELECT i.sample_id FROM items i LEFT JOIN scores s ON s.run_id=i.run_id AND "
            "s.sample_id=i.sample_id AND s.variant=i.variant AND s.scorer=? AND s.version=? "
            "WHERE i.run_id=? GROUP BY i.sample_id HAVING "
            "MAX(CASE WHEN s.status IS NULL OR s.status = 'error' THEN 1 ELSE 0 END) = 0",
            (*scorer, run_id))
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
        for row in cur.fetchall():
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
        n = self.db.execute("SELECT COUNT(*) FROM items WHERE run_id=?", (run_id,)).fetchone()[0]
        with self.transaction() as db:
            db.execute("DELETE FROM items WHERE run_id=?", (run_id,))
            db.execute("DELETE FROM scores WHERE run_id=?", (run_id,))
            db.execute("DELETE FROM leases WHERE run_id=?", (run_id,))
            db.execute("DELETE FROM runs WHERE run_id=?", (run_id,))
        return n

    # shards ------------------------------------------------------------------------------------
    def shards(self, run_id: str) -> list[dict[str, Any]]:
        """The shards a run was run in (``i/N``; an unsharded run has none): size, last status,
        the process holding it now (None when free) and its lease's expiry (Unix time)."""
        now = time.time()
        cur = self.db.execute("SELECT shard, n_total, status, owner, expires FROM leases "
                              "WHERE run_id=? AND shard <> '' ORDER BY shard", (run_id,))
        return [{"shard": r[0], "n_total": r[1], "status": r[2],
                 "owner": r[3] if r[3] and r[4] > now else None, "expires": r[4]}
                for r in cur.fetchall()]

    # leases (runner/lease.py) ------------------------------------------------------------------
    def acquire_lease(self, run_id: str, shard: str, owner: str, ttl_s: float,
                      n_total: int | None, stale_owner: str | None = None
                      ) -> tuple[str | None, float]:
        """Take the lease on (run, shard) for ``ttl_s`` seconds when it is free, expired, ours,
        or held by ``stale_owner`` (a process known dead); one statement, so two processes never
        both get it.  Returns the holder afterwards: (owner, expires as Unix time)."""
        now = time.time()
        self.db.execute(
            "INSERT INTO leases VALUES (?,?,?,?,?,?) ON CONFLICT (run_id, shard) DO UPDATE SET "
            "owner=excluded.owner, expires=excluded.expires, n_total=excluded.n_total, "
            "status=excluded.status WHERE leases.owner IS NULL OR leases.expires < ? OR "
            "leases.owner = ? OR leases.owner = ?",
            (run_id, shard, owner, now + ttl_s, n_total, "running", now, owner,
             stale_owner or owner))
        row = self.db.execute("SELECT owner, expires FROM leases WHERE run_id=? AND shard=?",
                              (run_id, shard)).fetchone()
        return (row[0], row[1]) if row else (None, 0.0)

    def renew_lease(self, run_id: str, shard: str, owner: str, ttl_s: float) -> bool:
        """Extend our lease; False when it is no longer ours (it expired and was taken)."""
        cur = self.db.execute("UPDATE leases SET expires=? WHERE run_id=? AND shard=? AND "
                              "owner=?", (time.time() + ttl_s, run_id, shard, owner))
        return cur.rowcount == 1

    def release_lease(self, run_id: str, shard: str, owner: str, status: str) -> None:
        """Give the lease up, keeping the shard's last status."""
        self.db.execute("UPDATE leases SET owner=NULL, expires=0, status=? WHERE run_id=? AND "
                        "shard=? AND owner=?", (status, run_id, shard, owner))

    # copying between stores (``store/transfer.py``) ---------------------------------------------
    def rows(self, table: str, where: str = "", params: tuple[Any, ...] = ()
             ) -> list[tuple[Any, ...]]:
        """Every row of one table (all columns, in schema order), optionally filtered."""
        cols = ", ".join(columns(table))
        return [tuple(r) for r in self.db.execute(
            f"SELECT {cols} FROM {table} {where}", params).fetchall()]


def _item_metadata(sample: Sample, item: ItemResult) -> dict[str, Any]:
    """The sample's metadata, the item's over it, and the image paths (never the images)."""
    meta = {**sample.metadata, **item.metadata}
    if sample.images and "images" not in meta:
        meta["images"] = [img.path for img in sample.images]
    return meta


# rows and statements of the write path ------------------------------------------------------
_RESPONSE_COLUMNS = "text, texts, finish_reason, logprobs, option_logprobs, usage, latency"

# A stored success is never overwritten by a later failure of the same request.
_RESPONSE_CONFLICT = (
    " ON CONFLICT (request_hash) "
    "DO UPDATE SET text=excluded.text, texts=excluded.texts, "
    "finish_reason=excluded.finish_reason, logprobs=excluded.logprobs, "
    "option_logprobs=excluded.option_logprobs, usage=excluded.usage, "
    "latency=excluded.latency, error=excluded.error, created=excluded.created "
    "WHERE responses.error IS NOT NULL")

# an error score (a failed grader call) never replaces a stored score that is not one
_SCORE_CONFLICT = (
    " ON CONFLICT (run_id, sample_id, variant, scorer, version) DO UPDATE SET "
    "extracted=excluded.extracted, value=excluded.value, status=excluded.status, "
    "metrics=excluded.metrics, explanation=excluded.explanation, error=excluded.error, "
    "created=excluded.created WHERE scores.status = 'error' OR excluded.status <> 'error'")

#: bound parameters per statement of a multi-row insert (under SQLite's historical 999)
_MAX_PARAMS = 900


def _insert(db: Any, table: str, rows: list[tuple[Any, ...]], conflict: str = "") -> None:
    """``INSERT INTO table VALUES (...), (...) ...`` of ``rows`` (full rows in column order),
    ``_MAX_PARAMS`` values per statement; keys must be distinct within ``rows``."""
    if not rows:
        return
    width = len(rows[0])
    one = "(" + ",".join("?" * width) + ")"
    per = max(1, _MAX_PARAMS // width)
    for start in range(0, len(rows), per):
        chunk = rows[start:start + per]
        db.execute(f"INSERT INTO {table} VALUES {','.join([one] * len(chunk))}{conflict}",
                   [value for row in chunk for value in row])

#: queued rows (responses + samples) above which a save waits for a commit
_MAX_QUEUED = 2000


def response_row(request_hash: str, model: str, request_json: str,
                 response: Response) -> tuple[Any, ...]:
    """A ``responses`` row, in column order."""
    return (request_hash, model, request_json, response.text,
            _dumps(list(response.texts)) if len(response.texts) > 1 else None,
            response.finish_reason, _dumps(response.logprobs), _dumps(response.option_logprobs),
            _dumps(response.usage or None), response.latency_s, response.error, _now())


def _response_of(row: tuple[Any, ...]) -> Response:
    """A cached Response from the ``_RESPONSE_COLUMNS`` of a row (stored or queued alike)."""
    return Response(text=row[0] or "", texts=tuple(_loads(row[1]) or ()),
                    finish_reason=row[2], logprobs=_loads(row[3]),
                    option_logprobs=_loads(row[4]), usage=_loads(row[5]) or {},
                    latency_s=row[6] or 0.0, cached=True)


def _score_rows(run_id: str, scores: list[tuple[str, str, Score]],
                scorer: tuple[str, str]) -> list[tuple[Any, ...]]:
    now = _now()
    return [(run_id, sid, variant, scorer[0], scorer[1], sc.answer, sc.value, sc.status,
             _dumps(sc.metrics or None), sc.explanation, sc.error, now)
            for sid, variant, sc in scores]


@dataclasses.dataclass
class _SampleWrite:
    """The rows of one sample's items and scores, ready to write in one transaction."""

    run_id: str
    sample_id: str
    sample_hash: str | None
    failed: bool
    items: list[tuple[Any, ...]]
    scores: list[tuple[Any, ...]]


def _sample_write(run_id: str, sample: Sample, items: list[ItemResult], seq: int,
                  sample_hash: str | None, scorer: tuple[str, str] | None) -> _SampleWrite:
    rows = [(run_id, it.sample_id, it.variant, it.request_hash,
             it.response if it.request_hash is None else None, it.finish_reason, it.error,
             it.confidence,
             sample.question if it.question is None else it.question,
             sample.answer if it.answer is None else it.answer,
             target_json(it.target or sample),
             _dumps(_item_metadata(sample, it)), sample.cluster, seq, sample_hash)
            for it in items]
    scores = ([] if scorer is None else
              _score_rows(run_id, [(it.sample_id, it.variant, it.score) for it in items
                                   if it.score is not None], scorer))
    return _SampleWrite(run_id, sample.id, sample_hash, any(it.error is not None for it in items),
                        rows, scores)


def _write_sample(db: Any, write: _SampleWrite) -> bool:
    """Write one sample's rows inside the caller's transaction; False when its stored
    error-free items of the same fingerprint are kept (the new ones hold an error)."""
    if write.failed and db.execute(
            "SELECT 1 FROM items WHERE run_id=? AND sample_id=? GROUP BY sample_id "
            "HAVING MAX(CASE WHEN error IS NULL THEN 0 ELSE 1 END) = 0 "
            "AND MIN(sample_hash) = ? AND MAX(sample_hash) = ?",
            (write.run_id, write.sample_id, write.sample_hash, write.sample_hash)).fetchone():
        return False
    db.execute("DELETE FROM items WHERE run_id=? AND sample_id=?", (write.run_id,
                                                                      write.sample_id))
    _insert(db, "items", write.items)
    _insert(db, "scores", write.scores, _SCORE_CONFLICT)
    return True


@dataclasses.dataclass
class _WriteBuffer:
    """What ``BaseStore.buffered`` queues: responses by request hash, samples in order."""

    active: bool = False
    responses: dict[str, tuple[Any, ...]] = dataclasses.field(default_factory=dict)
    samples: list[_SampleWrite] = dataclasses.field(default_factory=list)
    #: responses being committed now (still served to lookups)
    flushing: dict[str, tuple[Any, ...]] = dataclasses.field(default_factory=dict)
    error: BaseException | None = None
    lock: asyncio.Lock = dataclasses.field(default_factory=asyncio.Lock)
    flusher: asyncio.Future[Any] | None = None
    lookups: list[tuple[str, asyncio.Future[Any]]] = dataclasses.field(default_factory=list)
    looker: asyncio.Future[Any] | None = None
