"""``phantom``: synthetic chest-CT-like nodule questions with known truth (medgauge.phantom)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from medgauge.benchmarks.base import Benchmark, benchmarks
from medgauge.benchmarks.canonical import read_canonical_jsonl
from medgauge.types import MedgaugeError, Sample

#: Seed offset of the few-shot reference set, so it never shares a case with the test set.
REFERENCE_SEED_OFFSET = 1_000_003
REFERENCE_CASES = 20


def _int_option(options: dict[str, Any], name: str, default: int, minimum: int) -> int:
    value = options.get(name, default)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise MedgaugeError(f"benchmark phantom: option {name} must be an integer, "
                            f"got {value!r}") from None
    if number < minimum or (isinstance(value, float) and value != number):
        raise MedgaugeError(f"benchmark phantom: option {name} must be an integer >= {minimum}, "
                            f"got {value!r}")
    return number


@benchmarks.register("phantom")
class Phantom(Benchmark):
    name = "phantom"
    layout = (
        "A folder holding phantom.jsonl (canonical custom layout: id, question, answer, "
        "answer_type, options, images, image_roles, metadata, cluster) and images/*.png, as "
        "written by `medgauge phantom OUT`. Without --data a set is generated (options seed, "
        "n_cases, size; defaults 0, 60, 256) into $MEDGAUGE_CACHE/phantom/<seed>-<n_cases> "
        "(default cache ~/.cache/medgauge). Question types: presence_right, presence_left, "
        "count, largest_side, temporal (prior + current image), confusion_pair (pair_id, "
        "pair_member). Metadata: nodule_radius, nodule_contrast, noise_level, cnr, radius_bin, "
        "n_nodules, case_id."
    )
    group_by = ("question_type",)
    needs_root = False

    def __init__(self, root: str | Path | None = None, **options: Any) -> None:
        super().__init__(root, **options)
        self.seed = _int_option(options, "seed", 0, 0)
        self.n_cases = _int_option(options, "n_cases", 60, 1)
        self.size = _int_option(options, "size", 256, 64)

    def jsonl_path(self) -> Path:
        """The JSONL to read: under ``root`` when given, else the cached generated set."""
        if self.root is None:
            from medgauge.phantom.cache import cached_phantom

            return cached_phantom(self.seed, self.n_cases, self.size)
        from medgauge.phantom.generate import JSONL_NAME

        path = self.root / JSONL_NAME if self.root.is_dir() else self.root
        if not path.is_file():
            raise MedgaugeError(f"benchmark phantom: {JSONL_NAME} not found in {self.root} "
                                "(create one with `medgauge phantom FOLDER`)")
        return path

    def samples(self) -> Iterator[Sample]:
        yield from read_canonical_jsonl(self.jsonl_path())

    def reference_samples(self) -> Iterator[Sample] | None:
        """A separately seeded small set for few-shot examples (generated sets only)."""
        if self.root is not None:
            return None
        from medgauge.phantom.cache import cached_phantom

        path = cached_phantom(self.seed + REFERENCE_SEED_OFFSET, REFERENCE_CASES, self.size)
        return (replace(s, id=f"ref-{s.id}") for s in read_canonical_jsonl(path))

    def describe(self) -> dict[str, Any]:
        from medgauge.phantom.generate import GENERATOR_VERSION

        info = super().describe()
        if self.root is None:
            info.update(seed=self.seed, n_cases=self.n_cases, size=self.size,
                        generator_version=GENERATOR_VERSION)
        return info
