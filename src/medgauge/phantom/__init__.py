"""Synthetic "chest CT-like" imaging questions whose truth is known by construction.

``generate_phantom(out_dir, n_cases, seed, size)`` writes PNGs plus ``phantom.jsonl`` in the
canonical custom layout; the ``phantom`` benchmark reads it (or a cached set it generates).
"""

from __future__ import annotations

from pathlib import Path

from medgauge.phantom.generate import JSONL_NAME, MANIFEST_NAME, generate_phantom
from medgauge.types import MedgaugeError

__all__ = ["generate_phantom", "phantom_command"]


def phantom_command(out: Path, n_cases: int = 60, seed: int = 0, size: int = 256) -> Path:
    """``medgauge phantom``: generate a set into ``out``; returns the JSONL path.

    ``out`` must be missing, empty, or an earlier phantom set (which is overwritten), so the
    command never writes over someone else's files.
    """
    out = Path(out).expanduser()
    if out.exists():
        if not out.is_dir():
            raise MedgaugeError(f"phantom: {out} exists and is not a folder")
        if any(out.iterdir()) and not (out / MANIFEST_NAME).is_file():
            raise MedgaugeError(
                f"phantom: {out} is not empty and holds no {MANIFEST_NAME}; choose an empty "
                "or new folder"
            )
        _remove_old_images(out)
    return generate_phantom(out, n_cases=n_cases, seed=seed, size=size)


def _remove_old_images(out: Path) -> None:
    """Drop the PNGs of an earlier phantom set so no stale image outlives its JSONL."""
    images = out / "images"
    if images.is_dir():
        for png in images.glob("c[0-9][0-9][0-9][0-9]*.png"):
            png.unlink()
    stale = out / JSONL_NAME
    if stale.exists():
        stale.unlink()
