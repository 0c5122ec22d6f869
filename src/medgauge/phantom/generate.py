"""Generate the phantom benchmark: PNG images plus ``phantom.jsonl`` in the canonical layout.

Case ``i`` draws everything from ``SeedSequence([seed, i])``, so a case does not depend on how
many cases come before or after it.  Cases cycle through three kinds:

* ``standard`` (3 of every 5): one image with 0-3 nodules and four questions
  (``presence_right``, ``presence_left``, ``count``, ``largest_side``);
* ``temporal``: a prior and a current image with the same anatomy and noise, the one nodule
  grown, shrunk or unchanged;
* ``pair``: two images with the same anatomy and noise asked the same question with different
  answers (``confusion_pair``): either presence on one side (the twin lacks that side's
  nodule) or which lung holds the single nodule (the twin's nodule is mirrored).
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from medgauge.phantom import questions as q
from medgauge.phantom.render import render, save_png
from medgauge.phantom.spec import (
    Case,
    Nodule,
    Side,
    sample_case,
    sample_radius,
    scale,
)
from medgauge.types import MedgaugeError

GENERATOR_VERSION = 1
JSONL_NAME = "phantom.jsonl"
MANIFEST_NAME = "phantom.json"
IMAGE_DIR = "images"
CASE_KINDS = ("standard", "temporal", "pair", "standard", "standard")
SIDES: tuple[Side, Side] = ("right", "left")
_R: Side = "right"
_L: Side = "left"
#: Nodule sides (largest first) for each block of 16 standard cases, shuffled per block: each
#: count 0-3 four times, "yes" for exactly half of the presence questions on each side, and
#: the largest nodule as often on the right as on the left.
STANDARD_PATTERNS: tuple[tuple[Side, ...], ...] = (
    (), (), (), (),
    (_R,), (_L,), (_R,), (_L,),
    (_R, _R), (_L, _L), (_R, _L), (_L, _R),
    (_R, _R, _L), (_L, _L, _R), (_R, _R, _R), (_L, _L, _L),
)
CHANGES = ("grown", "shrunk", "unchanged")

Items = list[dict[str, Any]]
Images = dict[str, Case]  # relative image path -> what to draw


def case_kind(index: int) -> str:
    return CASE_KINDS[index % len(CASE_KINDS)]


def _side(rng: np.random.Generator) -> Side:
    return SIDES[int(rng.integers(0, 2))]


def _other(side: Side) -> Side:
    return "left" if side == "right" else "right"


def _scheduled(seed: int, tag: int, ordinal: int, plan: tuple[Any, ...]) -> Any:
    """Entry ``ordinal`` of ``plan`` repeated in blocks, each block shuffled from the seed, so
    answers stay balanced for any number of cases."""
    block, pos = divmod(ordinal, len(plan))
    rng = np.random.default_rng(np.random.SeedSequence([seed, tag, block]))
    return plan[int(rng.permutation(len(plan))[pos])]


def standard_case(rng: np.random.Generator, case_id: str, size: int,
                  sides: tuple[Side, ...]) -> tuple[Images, Items]:
    case = sample_case(rng, list(sides), size)
    image = f"{IMAGE_DIR}/{case_id}.png"
    return {image: case}, q.single_image_items(case, case_id, image, size)


def temporal_case(rng: np.random.Generator, case_id: str, size: int,
                  change: str) -> tuple[Images, Items]:
    s = scale(size)
    if change == "unchanged":
        prior_r = current_r = sample_radius(rng, size)
    else:
        small = sample_radius(rng, size, hi=12.0 * s)
        large = min(small * float(rng.uniform(1.4, 1.8)), 20.0 * s)
        prior_r, current_r = (small, large) if change == "grown" else (large, small)
    prior_r, current_r = round(prior_r, 2), round(current_r, 2)
    base = sample_case(rng, [_side(rng)], size, radii=[max(prior_r, current_r)])
    nodule = base.nodules[0]
    prior = base.with_nodules((replace(nodule, radius=prior_r),))
    current = base.with_nodules((replace(nodule, radius=current_r),))
    images = {f"{IMAGE_DIR}/{case_id}-prior.png": prior,
              f"{IMAGE_DIR}/{case_id}-current.png": current}
    meta = q.case_metadata(current, case_id, "temporal", size)
    meta.update(
        nodule_radius=max(prior_r, current_r),
        radius_bin=q.radius_bin(max(prior_r, current_r), size),
        prior_radius=prior_r,
        current_radius=current_r,
        change=change,
    )
    it = q.item(f"{case_id}-temporal", q.TEMPORAL_QUESTION, q.CHANGE_LETTER[change], "mcq",
                list(images), meta, case_id, q.TEMPORAL_OPTIONS, ["prior", "current"])
    return images, [it]


def pair_case(rng: np.random.Generator, case_id: str, size: int,
              index: int) -> tuple[Images, Items]:
    kind = "presence" if (index // len(CASE_KINDS)) % 2 == 0 else "side"
    side = _side(rng)
    if kind == "presence":
        sides = [side] + [_other(side)] * int(rng.integers(0, 2))
        with_nodule = sample_case(rng, sides, size)
        without = with_nodule.with_nodules(tuple(n for n in with_nodule.nodules
                                                 if n.side != side))
        members = [(with_nodule, "yes"), (without, "no")]
        question, answer_type, options = q.presence_question(side), "yesno", {}
        pair_question = f"presence_{side}"
    else:
        first = sample_case(rng, [side], size)
        n = first.nodules[0]
        mirrored = Nodule(_other(side), round(size - n.x, 2), n.y, n.radius)
        twin = first.with_nodules((mirrored,))
        members = [(first, q.SIDE_LETTER[side]), (twin, q.SIDE_LETTER[_other(side)])]
        question, answer_type, options = q.SIDE_QUESTION, "mcq", q.SIDE_OPTIONS
        pair_question = "side"
    if rng.integers(0, 2):
        members.reverse()
    images: Images = {}
    items: Items = []
    for member, (case, answer) in enumerate(members, 1):
        image = f"{IMAGE_DIR}/{case_id}-{member}.png"
        images[image] = case
        meta = q.case_metadata(case, case_id, "confusion_pair", size,
                               side if kind == "presence" else None)
        meta.update(pair_id=case_id, pair_member=member, pair_question=pair_question)
        items.append(q.item(f"{case_id}-pair-{member}", question, answer, answer_type, [image],
                            meta, case_id, options))
    return images, items


def build_case(seed: int, index: int, size: int) -> tuple[Images, Items]:
    rng = np.random.default_rng(np.random.SeedSequence([seed, index]))
    case_id = f"c{index:04d}"
    cycle, pos = divmod(index, len(CASE_KINDS))
    kind = CASE_KINDS[pos]
    if kind == "temporal":
        return temporal_case(rng, case_id, size, _scheduled(seed, 2, cycle, CHANGES))
    if kind == "pair":
        return pair_case(rng, case_id, size, index)
    ordinal = cycle * CASE_KINDS.count("standard") + CASE_KINDS[:pos].count("standard")
    sides = _scheduled(seed, 1, ordinal, STANDARD_PATTERNS)
    return standard_case(rng, case_id, size, sides)


def _check(n_cases: int, seed: int, size: int) -> None:
    if not isinstance(n_cases, int) or n_cases < 1:
        raise MedgaugeError(f"phantom: n_cases must be a positive integer, got {n_cases!r}")
    if not isinstance(seed, int) or seed < 0:
        raise MedgaugeError(f"phantom: seed must be a non-negative integer, got {seed!r}")
    if not isinstance(size, int) or size < 64:
        raise MedgaugeError(f"phantom: size must be an integer >= 64, got {size!r}")


def manifest(n_cases: int, seed: int, size: int, n_items: int = 0) -> dict[str, Any]:
    return {"generator": "medgauge.phantom", "version": GENERATOR_VERSION, "seed": seed,
            "n_cases": n_cases, "size": size, "n_items": n_items}


def generate_phantom(out_dir: Path, n_cases: int = 60, seed: int = 0, size: int = 256) -> Path:
    """Write ``images/*.png``, ``phantom.jsonl`` and ``phantom.json`` under ``out_dir``.

    Deterministic: the same arguments give byte-identical files.  Returns the JSONL path.
    The JSONL is written last (atomically), so its presence means the images are complete.
    """
    _check(n_cases, seed, size)
    out_dir = Path(out_dir)
    (out_dir / IMAGE_DIR).mkdir(parents=True, exist_ok=True)
    lines: list[str] = []
    for index in range(n_cases):
        images, items = build_case(seed, index, size)
        for rel, case in images.items():
            save_png(render(case, size), out_dir / rel)
        lines.extend(json.dumps(obj, ensure_ascii=False) for obj in items)
    _write_atomic(out_dir / MANIFEST_NAME,
                  json.dumps(manifest(n_cases, seed, size, len(lines)), indent=1) + "\n")
    jsonl = out_dir / JSONL_NAME
    _write_atomic(jsonl, "\n".join(lines) + "\n")
    return jsonl


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
