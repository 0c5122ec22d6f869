"""A generated phantom set kept in the user's cache, rebuilt when missing or out of date.

Location: ``$MEDGAUGE_CACHE/phantom/<seed>-<n_cases>`` or, without that variable,
``~/.cache/medgauge/phantom/<seed>-<n_cases>`` (``-<size>`` appended for a non-default size).
A set is generated in a temporary sibling folder and renamed into place, so a reader never sees
a half-written set and two processes generating at once do not clash.
"""

from __future__ import annotations

import json
from pathlib import Path

from medgauge.cache import cache_root as medgauge_cache
from medgauge.cache import publish
from medgauge.phantom.generate import (
    GENERATOR_VERSION,
    JSONL_NAME,
    MANIFEST_NAME,
    generate_phantom,
)


def cache_root() -> Path:
    return medgauge_cache() / "phantom"


def cache_dir(seed: int, n_cases: int, size: int = 256) -> Path:
    name = f"{seed}-{n_cases}" + ("" if size == 256 else f"-{size}")
    return cache_root() / name


def is_current(folder: Path) -> bool:
    """Whether ``folder`` holds a complete set written by this generator version."""
    try:
        info = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (isinstance(info, dict) and info.get("version") == GENERATOR_VERSION
            and (folder / JSONL_NAME).is_file())


def cached_phantom(seed: int = 0, n_cases: int = 60, size: int = 256) -> Path:
    """The JSONL path of the cached set, generating it first if needed."""
    final = cache_dir(seed, n_cases, size)
    if is_current(final):
        return final / JSONL_NAME
    publish(final, lambda folder: generate_phantom(folder, n_cases=n_cases, seed=seed,
                                                   size=size), is_current, "the phantom set")
    return final / JSONL_NAME
