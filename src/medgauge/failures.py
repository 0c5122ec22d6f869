"""What the command line says about an exception nobody turned into a ``MedgaugeError``.

Exit 1 means "done, some requests failed, rerun" (README), so an unexpected exception never
uses it: input-like failures (disk full, a store of another version, bytes that are not UTF-8,
nesting too deep) exit 2 with a line saying what to do; anything else is an internal error,
exit 70 (``EX_SOFTWARE`` of BSD ``sysexits.h``).
"""

from __future__ import annotations

import errno
import sqlite3

EXIT_INPUT, EXIT_INTERNAL = 2, 70


def describe_unexpected(exc: BaseException) -> tuple[str, int]:
    """(one-line message, exit code) for an exception that reached ``main``."""
    text = str(exc)
    if (isinstance(exc, OSError) and exc.errno == errno.ENOSPC) or (
            isinstance(exc, sqlite3.OperationalError) and "disk is full" in text):
        return ("disk full: nothing more was written (what was stored before is intact; "
                "free space and rerun the same command to resume)", EXIT_INPUT)
    if isinstance(exc, sqlite3.DatabaseError):
        if "no such column" in text or "no such table" in text or "has no column" in text:
            return (f"the store was written by another medgauge version ({text}); use a new "
                    "--store file", EXIT_INPUT)
        return f"cannot use the store: {text}", EXIT_INPUT
    if type(exc).__module__.split(".")[0] == "psycopg":  # PostgreSQL store (optional extra)
        first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
        return (f"cannot use the PostgreSQL store: {first} (what was committed is stored; "
                "rerun the same command to resume)", EXIT_INPUT)
    if isinstance(exc, UnicodeError):
        return f"input is not valid UTF-8 text: {text}", EXIT_INPUT
    if isinstance(exc, RecursionError):
        return "input is nested too deeply to read", EXIT_INPUT
    if isinstance(exc, OSError):
        where = f" {exc.filename}" if exc.filename else ""
        return f"cannot access{where}: {exc.strerror or text}", EXIT_INPUT
    return (f"internal error ({type(exc).__name__}: {text}); please report it",
            EXIT_INTERNAL)
