"""``LocalBenchmark``: the Benchmark base most loaders share.

It checks option names (a typo is an error listing the known options), finds the benchmark's
file among the names its authors used, and builds the image resolver from the common
``images`` option (``check`` | ``lazy`` | ``skip``, see ``io.ImageResolver``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from medgauge.benchmarks.base import Benchmark
from medgauge.benchmarks.io import ImageResolver
from medgauge.types import MedgaugeError

IMAGES_OPTION = (
    "check (default): verify every image file exists while loading; lazy: resolve paths "
    "without checking; skip: attach no images (text-only loading)"
)


class LocalBenchmark(Benchmark):
    #: option name -> one-line help; options not listed here are refused.
    option_help: ClassVar[dict[str, str]] = {}

    def __init__(self, root: str | Path | None = None, **options: Any) -> None:
        super().__init__(root, **options)
        unknown = [k for k in options if k not in self.option_help]
        if unknown:
            known = ", ".join(sorted(self.option_help)) or "none"
            raise MedgaugeError(
                f"benchmark {self.name}: unknown option {unknown[0]!r} (known: {known})"
            )

    # -- options ---------------------------------------------------------------------------
    def opt(self, name: str, default: Any = None) -> Any:
        value = self.options.get(name)
        return default if value is None or value == "" else value

    def choice(self, name: str, allowed: tuple[str, ...], default: str) -> str:
        value = str(self.opt(name, default)).strip()
        if value.lower() not in {a.lower() for a in allowed}:
            raise MedgaugeError(
                f"benchmark {self.name}: option {name}={value!r}: use one of {', '.join(allowed)}"
            )
        return next(a for a in allowed if a.lower() == value.lower())

    # -- files -----------------------------------------------------------------------------
    @property
    def folder(self) -> Path:
        """The data folder (the file's folder when the user pointed at a file)."""
        assert self.root is not None
        return self.root.parent if self.root.is_file() else self.root

    def locate(self, *candidates: str, option: str = "file", what: str = "data file") -> Path:
        """The file the user named (``root`` itself, or the ``file`` option), else the first
        candidate (relative path or glob) that exists under the root."""
        assert self.root is not None
        named = self.opt(option)
        if named is not None:
            path = Path(str(named)).expanduser()
            path = path if path.is_absolute() else self.folder / path
            if not path.is_file():
                raise MedgaugeError(f"benchmark {self.name}: {option} not found: {path}")
            return path
        if self.root.is_file():
            return self.root
        for cand in candidates:
            hits = sorted(self.root.glob(cand)) if any(c in cand for c in "*?[") else (
                [self.root / cand] if (self.root / cand).is_file() else [])
            if hits:
                return hits[0]
        raise MedgaugeError(
            f"benchmark {self.name}: no {what} under {self.root} (looked for "
            f"{', '.join(candidates)}); give the file as the data path or set {option}=..."
        )

    def image_folder(self, *candidates: str, option: str = "image_root") -> Path | None:
        """The image folder: the ``image_root`` option (relative to the data folder), else the
        first candidate folder that exists, else None."""
        named = self.opt(option)
        if named is not None:
            path = Path(str(named)).expanduser()
            path = path if path.is_absolute() else self.folder / path
            if not path.is_dir():
                raise MedgaugeError(f"benchmark {self.name}: {option} not found: {path}")
            return path
        for cand in candidates:
            path = self.folder / cand
            if path.is_dir():
                return path
        return None

    def image_resolver(self, *candidates: str, default: Path | None = None) -> ImageResolver:
        mode = self.choice("images", ("check", "lazy", "skip"), "check")
        root = self.image_folder(*candidates) if mode != "skip" else None
        root = root or default
        if root is None and mode == "lazy":  # not checking: assume the usual folder
            root = self.folder / candidates[0] if candidates else self.folder
        if root is None and mode != "skip":
            looked = ", ".join(candidates) or "(none)"
            raise MedgaugeError(
                f"benchmark {self.name}: no image folder under {self.folder} (looked for "
                f"{looked}); set image_root=PATH, or images=skip to load the text only"
            )
        return ImageResolver(root, mode)
