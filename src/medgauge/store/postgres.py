"""PostgreSQL store (``--store postgresql://user@host/db``): the same schema and semantics as
the SQLite store (``base.py`` holds the logic and the SQL), so many workers on many machines
can write one store at once.  Needs the ``postgres`` extra (psycopg 3), imported here only.

Differences from SQLite, all in this file: ``?`` placeholders become ``$1, $2 ...`` (raw
cursors: psycopg sends a statement as it is, without parsing it each time); floats are
``DOUBLE PRECISION``; the schema is created under an advisory lock (workers starting together);
a transaction's statements are sent in pipeline mode (one round trip); the runner's hot-path
calls (``BaseStore.io``) run on one I/O thread so a round trip never stalls the event loop; the
session runs with
``synchronous_commit=off``, the durability of the SQLite store's WAL with
``synchronous=NORMAL`` (a server crash may lose the last commits, never corrupts a row).  There
is no schema-2 migration: no PostgreSQL store was written before schema 3.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from medgauge.store.base import SCHEMA_VERSION, BaseStore, schema_sql
from medgauge.types import MedgaugeError

#: pg_advisory_xact_lock key of schema creation ("medgauge" in ASCII, truncated to 63 bits)
_SCHEMA_LOCK = 0x6D65646761756765 & 0x7FFFFFFFFFFFFFFF


def redact_url(url: str) -> str:
    """The URL without its password (what messages show)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = (parts.username or "") + ":***"
    return urlunsplit(parts._replace(netloc=f"{user}@{netloc[-1]}"))


class _Connection:
    """A psycopg connection with the DB-API surface ``BaseStore`` uses and ``?`` placeholders."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self._sql: dict[str, str] = {}
        self.in_pipeline = False
        #: held for a statement, and for a whole transaction: the I/O thread and the event
        #: loop's thread never interleave statements on the one connection
        self.lock = threading.RLock()

    def _q(self, sql: str) -> str:
        """``?`` placeholders as PostgreSQL's own ``$1, $2 ...``, converted once per statement
        text: the connection's cursors are raw cursors, so psycopg sends the text as it is
        instead of parsing every (long, multi-row) statement for ``%s``."""
        out = self._sql.get(sql)
        if out is None:
            pieces = sql.split("?")
            out = pieces[0] + "".join(f"${k}{piece}" for k, piece in enumerate(pieces[1:], 1))
            self._sql[sql] = out
        return out

    def execute(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> Any:
        with self.lock:
            return self.conn.execute(self._q(sql), params or None)

    def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> Any:
        if self.in_pipeline:  # queued row by row: sent with the transaction's one sync
            query = self._q(sql)
            for row in rows:
                self.conn.execute(query, row)
            return None
        with self.lock:
            cur = self.conn.cursor()
            if rows:
                cur.executemany(self._q(sql), rows)
            return cur

    def close(self) -> None:
        self.conn.close()


class PostgresStore(BaseStore):
    """A PostgreSQL database holding one medgauge store (``url``: a libpq connection URL)."""

    def __init__(self, url: str, *, readonly: bool = False) -> None:
        super().__init__()
        self.url = url
        self.path = self.where = redact_url(url)
        self.readonly = readonly
        try:
            import psycopg
        except ImportError:
            raise MedgaugeError("a PostgreSQL store needs psycopg: pip install "
                                "'medgauge[postgres]'") from None
        self._errors = psycopg.Error
        try:
            conn = psycopg.connect(url, autocommit=True, connect_timeout=10,
                                   cursor_factory=psycopg.RawCursor)
        except psycopg.Error as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise MedgaugeError(f"cannot connect to the store {self.where}: {first}") from None
        self.db = _Connection(conn)
        self.offload = True
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="medgauge-store")
        conn.execute("SET synchronous_commit = off")
        self._check_schema()
        if readonly:  # read commands never write, as with a SQLite file opened read-only
            conn.execute("SET default_transaction_read_only = on")

    def _tables(self) -> set[str]:
        return {r[0] for r in self.db.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = "
            "current_schema()")}

    def _check_schema(self) -> None:
        tables = self._tables()
        if not {"meta", "runs", "responses", "items", "scores", "leases"} <= tables:
            if "meta" not in tables and tables:
                raise MedgaugeError(f"{self.where} is not a medgauge store (it holds other "
                                    f"tables: {', '.join(sorted(tables)[:5])}); give another "
                                    "database")
            if self.readonly and "meta" not in tables:
                raise MedgaugeError(f"store {self.where} is empty (no runs)")
            with self.transaction() as db:
                db.execute("SELECT pg_advisory_xact_lock(?)", (_SCHEMA_LOCK,))
                for stmt in schema_sql("DOUBLE PRECISION").split(";"):
                    if stmt.strip():
                        db.execute(stmt)
                db.execute("INSERT INTO meta VALUES ('schema', ?) ON CONFLICT (key) DO NOTHING",
                           (str(SCHEMA_VERSION),))
        row = self.db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        if row is None or str(row[0]) != str(SCHEMA_VERSION):
            raise MedgaugeError(f"store {self.where} has schema {row[0] if row else 'none'}, "
                                f"which this release cannot read (it reads schema "
                                f"{SCHEMA_VERSION}); start a new database")

    def transaction(self) -> AbstractContextManager[Any]:
        return _Transaction(self.db)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self.db.close()


class _Transaction:
    """BEGIN ... COMMIT in pipeline mode: the statements (row by row, not ``executemany``, whose
    own pipeline would sync) go out together and the whole transaction costs one round trip
    unless a result is read in between.  An error surfaces at the sync and rolls back."""

    def __init__(self, db: _Connection) -> None:
        self.db = db
        self._pipe: Any = None

    def __enter__(self) -> _Connection:
        self.db.lock.acquire()
        self._pipe = self.db.conn.pipeline()
        self._pipe.__enter__()
        self.db.in_pipeline = True
        self.db.conn.execute("BEGIN")
        return self.db

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.db.in_pipeline = False
        try:
            try:
                if exc_type is None:
                    self.db.conn.execute("COMMIT")
            finally:
                self._pipe.__exit__(exc_type, exc, tb)
            if exc_type is not None:
                self.db.conn.execute("ROLLBACK")
        finally:
            self.db.lock.release()
