"""File helpers shared by every loader: line-numbered JSONL, JSON, and safe image paths.

Every error names the file and, where it applies, the line or field.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from medgauge.types import ImageRef, MedgaugeError


def require_file(path: Path, what: str = "file") -> Path:
    if not path.is_file():
        raise MedgaugeError(f"{what} not found: {path}")
    return path


def read_json(path: Path) -> Any:
    require_file(path)
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except json.JSONDecodeError as exc:
        raise MedgaugeError(f"{path}:{exc.lineno}: malformed JSON ({exc.msg})") from None


def read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, object) lazily; blank lines are skipped."""
    require_file(path)
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise MedgaugeError(f"{path}:{lineno}: malformed JSON line ({exc.msg})") from None
            if not isinstance(obj, dict):
                raise MedgaugeError(f"{path}:{lineno}: expected a JSON object")
            yield lineno, obj


def field(obj: dict[str, Any], name: str, where: str) -> Any:
    """obj[name] or an error naming the place (``file:line``) and the missing field."""
    try:
        return obj[name]
    except KeyError:
        raise MedgaugeError(f"{where}: missing field {name!r}") from None


def image_ref(root: Path, relative: str, where: str, role: str | None = None,
              check_exists: bool = True) -> ImageRef:
    """Resolve an image path inside ``root``; refuse paths that escape it."""
    base = root.resolve()
    candidate = (base / relative).resolve()
    if candidate != base and base not in candidate.parents:
        raise MedgaugeError(f"{where}: image path {relative!r} escapes the dataset root {root}")
    if check_exists and not candidate.is_file():
        raise MedgaugeError(f"{where}: image not found: {candidate}")
    return ImageRef(str(candidate), role=role)
