"""Which samples of a benchmark a run uses: a seeded random sample, a stratified sample, or the ids
listed in a file.  The selection is part of a task's identity (two samples are two runs) and keeps
the benchmark's order, so ``--limit`` keeps meaning "the first N" of whatever was selected.

Why not ``--limit`` alone: benchmark files are often sorted by label (PubMedQA's test ids list
every "yes" item first), so the first N items can all share one gold answer and an always-"yes"
model then scores 100%.  ``limit_warning`` says so when it happens.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from medgauge.types import MedgaugeError, Sample


def stratum(sample: Sample, field: str) -> str:
    """The value of ``field`` for ``sample``: ``answer`` (the gold answer), ``answer_type``, or a
    metadata field; a sample without the field is in stratum ``-``."""
    if field == "answer":
        return str(sample.answer)
    if field == "answer_type":
        return str(sample.answer_type)
    value = sample.metadata.get(field)
    return "-" if value is None else str(value)


def read_ids(path: str | Path) -> list[str]:
    """Sample ids, one a line (blank lines and ``#`` comments ignored)."""
    p = Path(path).expanduser()
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise MedgaugeError(f"--ids: cannot read {p}: {exc.strerror or exc}") from None
    ids = [s for line in lines if (s := line.split("#", 1)[0].strip())]
    if not ids:
        raise MedgaugeError(f"--ids: {p} lists no sample id")
    return ids


def _allocate(sizes: dict[str, int], n: int) -> dict[str, int]:
    """Proportional allocation of ``n`` draws over strata (largest remainder, ties by name), each
    stratum capped at its size."""
    total = sum(sizes.values())
    quotas = {k: n * s / total for k, s in sizes.items()}
    out = {k: min(int(q), sizes[k]) for k, q in quotas.items()}
    order = sorted(sizes, key=lambda k: (-(quotas[k] - int(quotas[k])), k))
    while sum(out.values()) < n:
        progressed = False
        for k in order:
            if sum(out.values()) >= n:
                break
            if out[k] < sizes[k]:
                out[k] += 1
                progressed = True
        if not progressed:
            break
    return out


def select_samples(samples: Iterable[Sample], *, sample: int | None = None, seed: int = 0,
                   stratify: str | None = None, ids: str | None = None,
                   where: str = "benchmark") -> Iterator[Sample]:
    """The selected samples, in the benchmark's order.

    ``ids``: only the samples whose id is listed in that file (an id the benchmark lacks is an
    error).  ``sample``: then ``sample`` of them drawn without replacement with
    ``random.Random(seed)``; with ``stratify`` the draws are allocated to the strata of that field
    in proportion to their sizes (largest-remainder rounding) and drawn within each.  No option:
    the stream unchanged (lazy).
    """
    if stratify and sample is None:
        raise MedgaugeError("--stratify needs --sample N (how many samples to draw)")
    if sample is None and ids is None:
        yield from samples
        return
    pool = list(samples)
    if ids is not None:
        wanted = read_ids(ids)
        have = {s.id for s in pool}
        missing = [i for i in wanted if i not in have]
        if missing:
            raise MedgaugeError(f"--ids: {ids}: {where} has no sample {missing[0]!r}"
                                + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))
        keep = set(wanted)
        pool = [s for s in pool if s.id in keep]
    if sample is not None and sample < len(pool):
        rng = random.Random(seed)
        if stratify:
            groups: dict[str, list[int]] = {}
            for index, s in enumerate(pool):
                groups.setdefault(stratum(s, stratify), []).append(index)
            counts = _allocate({k: len(v) for k, v in groups.items()}, sample)
            chosen = {i for k in sorted(groups) for i in rng.sample(groups[k], counts[k])}
        else:
            chosen = set(rng.sample(range(len(pool)), sample))
        pool = [s for i, s in enumerate(pool) if i in chosen]
    yield from pool


def limit_warning(samples: Iterable[Sample], limit: int, where: str) -> str | None:
    """A warning when the first ``limit`` samples all share one gold answer while later samples
    have others (a label-sorted file); None otherwise.  Reads at most a few thousand samples past
    the limit."""
    first: Counter[str] = Counter()
    later: set[str] = set()
    for index, s in enumerate(samples):
        if index < limit:
            first[str(s.answer)] += 1
        else:
            later.add(str(s.answer))
            if later - set(first) or index > limit + 5000:
                break
    if len(first) != 1 or sum(first.values()) < 2 or not (later - set(first)):
        return None
    (gold, n), = first.items()
    return (f"{where}: the first {n} samples all have gold answer {gold!r} (the file is sorted by "
            "label); use --sample N --seed S (optionally --stratify answer) for a balanced subset")


def selection_config(sample: int | None, seed: int, stratify: str | None,
                     ids: str | None) -> dict[str, Any] | None:
    """The selection as it enters the run config (None when the whole benchmark is used)."""
    if sample is None and ids is None and stratify is None:
        return None
    out: dict[str, Any] = {}
    if sample is not None:
        out.update(sample=sample, seed=seed)
    if stratify:
        out["stratify"] = stratify
    if ids is not None:
        out["ids"] = str(Path(ids).expanduser().resolve())
        # the file's content, not only its name, decides the selection (and so the run id)
        listed = "\n".join(sorted(set(read_ids(ids))))
        out["ids_hash"] = hashlib.blake2b(listed.encode(), digest_size=8).hexdigest()
    return out


def apply_selection(samples: Iterable[Sample], select: dict[str, Any] | None,
                    where: str = "benchmark") -> Iterator[Sample]:
    """``select_samples`` driven by a ``selection_config`` dict (None: unchanged)."""
    if not select:
        return iter(samples)
    return select_samples(samples, sample=select.get("sample"), seed=select.get("seed", 0),
                          stratify=select.get("stratify"), ids=select.get("ids"), where=where)


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """``--shard i/N`` -> (i, N), 0-based: ``0/3``, ``1/3``, ``2/3`` are the three shards (a
    SLURM array ``--array=0-2`` passes ``$SLURM_ARRAY_TASK_ID`` as i)."""
    if text is None:
        return None
    head, sep, tail = text.partition("/")
    if not (sep and head.strip().isdigit() and tail.strip().isdigit()):
        raise MedgaugeError(f"--shard {text!r}: write i/N, e.g. 0/3 (0-based: 0/3, 1/3, 2/3)")
    i, n = int(head), int(tail)
    if n < 1 or i >= n:
        raise MedgaugeError(f"--shard {text!r}: i must be 0 to N-1 (0-based) and N at least 1")
    return i, n


def shard_of(sample_id: str, n_shards: int) -> int:
    """The shard (0 to N-1) of a sample: a BLAKE2b hash of its id, so the split is the same on
    every machine and does not depend on the order of the benchmark file."""
    digest = hashlib.blake2b(sample_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % n_shards
