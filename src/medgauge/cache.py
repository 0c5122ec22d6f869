"""The user cache and the one way a folder is published into it.

Cache: ``$MEDGAUGE_CACHE``, else ``$XDG_CACHE_HOME/medgauge``, else ``~/.cache/medgauge``; each
kind of content has its subfolder (``models``, ``retrieval``, ``phantom``).  A cached folder is
built under a temporary name beside its final place and renamed when complete, so an interrupted
build never leaves a folder that looks ready and concurrent builders never see half of one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from medgauge.types import MedgaugeError

#: a temporary folder older than this was left by a crashed build, not one running now
STRAY_AGE_S = 3600


def cache_root() -> Path:
    """The medgauge cache folder (not created here)."""
    if os.environ.get("MEDGAUGE_CACHE"):
        return Path(os.environ["MEDGAUGE_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "medgauge"


def publish(final: Path, build: Callable[[Path], None], ready: Callable[[Path], bool],
            what: str) -> None:
    """``build(folder)`` into a temporary folder beside ``final``, then rename it to ``final``.

    A ``final`` folder that is not ``ready`` (incomplete, an older version) is moved aside and
    deleted first; losing the rename to another process that published a ready folder meanwhile
    is fine.  Temporary folders of crashed builds (older than ``STRAY_AGE_S``) are removed.
    Raises ``MedgaugeError`` (naming ``what``) when the cache folder cannot be created or the
    result cannot be stored; errors of ``build`` propagate."""
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MedgaugeError(f"cannot create the cache folder {final.parent} for {what}: "
                            f"{exc.strerror or exc}") from None
    for stray in final.parent.glob(f".{final.name}.*"):
        try:
            if time.time() - stray.stat().st_mtime > STRAY_AGE_S:
                shutil.rmtree(stray, ignore_errors=True)
        except OSError:  # removed by another process meanwhile
            pass
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    try:
        build(tmp)
        if final.exists() and not ready(final):
            stale = Path(tempfile.mkdtemp(prefix=f".{final.name}.stale.", dir=final.parent))
            os.replace(final, stale / "old")
            shutil.rmtree(stale, ignore_errors=True)
        try:
            os.rename(tmp, final)
        except OSError:
            if not ready(final):  # not another process's fresh folder: give up loudly
                raise MedgaugeError(f"cannot store {what} in {final}") from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
