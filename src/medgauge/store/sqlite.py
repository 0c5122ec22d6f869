"""SQLite store: one file per project folder (default ``medgauge.db``), the logic in
``base.py``.

WAL mode with ``synchronous=NORMAL``: every response and each sample's items are committed as
they arrive; a crash loses at most the requests in flight.  A schema-2 store (medgauge 0.1) is
migrated in place after a backup copy (``<store>.schema2.bak``); its old scores keep the version
``schema2``, so the next run re-scores them.  Other SQLite files are refused.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
from pathlib import Path

from medgauge.store.base import (  # noqa: F401  (re-exported: the store's public names)
    LEGACY_VERSION,
    SCHEMA_VERSION,
    TABLES,
    VIEW_KEYS,
    BaseStore,
    _loads,
    _now,
    run_id_of,
    schema_sql,
    target_json,
    target_sample,
)
from medgauge.types import MedgaugeError


def _create(table: str) -> str:
    return f"CREATE TABLE IF NOT EXISTS {table} ({TABLES[table]})"


class Store(BaseStore):
    """One SQLite file.  ``readonly=True`` opens the file read-only (read commands; works on
    read-only media) and never creates or migrates it."""

    def __init__(self, path: str | Path, *, readonly: bool = False) -> None:
        super().__init__()
        self.path = Path(path)
        self.where = str(self.path)
        self.readonly = readonly
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
                self.db.execute(_create("leases"))  # added to schema 3 later
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
            self.db.executescript(schema_sql())
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
        the version ``schema2`` (re-scored by the next run), run ids drop the scoring mode.
        (SQLite only: no PostgreSQL store was ever written with schema 2.)"""
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
            db.execute(_create("scores"))
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
            db.execute(_create("items"))
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

    def transaction(self) -> _Transaction:
        return _Transaction(self.db)

    def shards(self, run_id: str) -> list[dict[str, object]]:
        if self.readonly and "leases" not in self._tables():  # written before leases existed
            return []
        return super().shards(run_id)


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        # SQLite may already have rolled the transaction back itself (e.g. SQLITE_FULL: "database
        # or disk is full"); a ROLLBACK then would replace the real error with "cannot rollback
        # - no transaction is active".  A failed COMMIT that leaves it open is rolled back.
        if exc_type is None:
            try:
                self.db.execute("COMMIT")
            except sqlite3.Error:
                if self.db.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        self.db.execute("ROLLBACK")
                raise
        elif self.db.in_transaction:
            self.db.execute("ROLLBACK")
