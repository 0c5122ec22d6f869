"""The results store: SQLite (a file; the default) or PostgreSQL (a URL), one API
(``base.BaseStore``).  ``open_store`` picks the backend from what ``--store`` names."""

from __future__ import annotations

from pathlib import Path

from medgauge.store.base import BaseStore
from medgauge.store.sqlite import Store
from medgauge.types import MedgaugeError

__all__ = ["BaseStore", "Store", "is_url", "open_store"]


def is_url(spec: str | Path) -> bool:
    """True when ``spec`` names a database server rather than a file."""
    return isinstance(spec, str) and spec.startswith(("postgresql://", "postgres://"))


def open_store(spec: str | Path, *, readonly: bool = False, must_exist: bool = False
               ) -> BaseStore:
    """The store ``spec`` names: ``postgresql://user@host/db`` (psycopg, the ``postgres``
    extra) or a SQLite file path.  ``must_exist``: a missing SQLite file is an error (read
    commands) instead of a new store."""
    if is_url(spec):
        from medgauge.store.postgres import PostgresStore

        return PostgresStore(str(spec), readonly=readonly)
    if "://" in str(spec):
        raise MedgaugeError(f"--store {spec}: unknown store URL (give a SQLite file or "
                            "postgresql://user@host/db)")
    if must_exist and not Path(spec).is_file():
        raise MedgaugeError(f"store not found: {spec}")
    return Store(spec, readonly=readonly)
