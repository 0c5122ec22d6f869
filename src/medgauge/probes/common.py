"""What every probe shares: the probe base class, its summary record, choice helpers, template
files and the small counting helpers the paired metrics are built from.

A probe is a :class:`~medgauge.runner.solver.Solver` (it builds variant requests and scores them)
plus a ``summarize`` classmethod that turns the stored items of a probe run (and, where the
metric is paired, the items of its clean run) into one :class:`ProbeResult`.  Items are the store's
plain dict rows (``sample_id, variant, correct, extracted, error, confidence, metadata ...``), so
every metric can be checked by hand on a few constructed rows.
"""

from __future__ import annotations

import json
import math
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

from medgauge.runner.solver import Solver
from medgauge.stats import Proportion, proportion
from medgauge.types import Item as StoredItem
from medgauge.types import MedgaugeError, Sample

Item = Mapping[str, Any]


@dataclass
class ProbeResult:
    """A probe's headline metric with its interval, and everything else in ``details``.

    ``better`` says which direction is good (``"higher"`` or ``"lower"``); ``clean`` is the
    accuracy of the clean run the probe is paired with (``None`` when no clean run was found).
    """

    probe: str
    headline: str
    value: float
    lo: float
    hi: float
    n: int
    better: str
    clean: float | None = None
    clean_n: int | None = None
    details: dict[str, Any] = field(default_factory=dict)
    method: str = "wilson"


class Probe(Solver):
    """Base of every probe: a solver with a paired summary."""

    #: the headline metric's name, for listings before any run exists
    headline: ClassVar[str] = ""

    @classmethod
    def summarize(cls, items: list[Item], clean: list[Item] | None,
                  options: Mapping[str, Any], context: SummaryContext) -> ProbeResult:
        raise NotImplementedError


@dataclass
class SummaryContext:
    """What a summary may need beyond its own items: other runs of the store, by id prefix."""

    load_items: Any = None  # Callable[[str], list[Item]] | None

    def items_of(self, run_id: str) -> list[Item]:
        if self.load_items is None:
            raise MedgaugeError(f"run {run_id!r} cannot be read here (no store)")
        return list(self.load_items(run_id))


# ---- choices ---------------------------------------------------------------------------------

def choices(sample: Sample) -> list[str]:
    """The answer choices a closed item offers: option letters, the labels, or none (open)."""
    if sample.answer_type == "mcq":
        return list(sample.options)
    if sample.answer_type == "yesno":
        return list(sample.labels)
    return []


def gold_choice(sample: Sample) -> str | None:
    """The gold answer spelled as one of :func:`choices` (case-insensitive match)."""
    gold = sample.answer.strip().lower()
    for c in choices(sample):
        if c.strip().lower() == gold:
            return c
    return None


def wrong_choices(sample: Sample) -> list[str]:
    gold = gold_choice(sample)
    return [c for c in choices(sample) if gold is not None and c != gold]


def pick_wrong(sample: Sample, rng: random.Random) -> str | None:
    """A wrong choice drawn uniformly (PROTOCOLS.md section 4: "chosen uniformly from the
    incorrect options with a seed"); None when the item has no wrong choice."""
    wrong = wrong_choices(sample)
    return rng.choice(wrong) if wrong else None


def choice_text(sample: Sample, choice: str) -> str:
    """How a choice reads inside a sentence: the option text for MCQ, the label otherwise."""
    if sample.answer_type == "mcq":
        return sample.options.get(choice, choice)
    return choice


def choice_phrase(sample: Sample, choice: str) -> str:
    """``C (pleural effusion)`` for MCQ, the label for closed questions."""
    if sample.answer_type == "mcq":
        return f"{choice} ({sample.options.get(choice, '')})"
    return choice


def lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text else text


def norm_answer(value: str | None) -> str | None:
    if value is None:
        return None
    return re.sub(r"\s+", " ", value.strip().lower()).strip(" .")


# ---- option parsing --------------------------------------------------------------------------

def as_list(value: Any, what: str) -> list[str]:
    """A probe option given as a list or a comma-separated string."""
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value]
    raise MedgaugeError(f"probe option {what}: expected a list or comma-separated text, "
                        f"got {value!r}")


def check_options(name: str, options: Mapping[str, Any], known: Iterable[str]) -> None:
    allowed = set(known)
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise MedgaugeError(f"probe {name}: unknown option {unknown[0]!r} "
                            f"(known: {', '.join(sorted(allowed)) or 'none'})")


# ---- template files --------------------------------------------------------------------------

def _read_structured(text: str, where: str, suffix: str) -> Any:
    if suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise MedgaugeError(f"{where}: line {exc.lineno}: invalid JSON ({exc.msg})") from None
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}: " if mark is not None else ""
        raise MedgaugeError(f"{where}: {line}invalid YAML") from None


def builtin_data(builtin: str) -> Any:
    """The parsed ``probes/data/<builtin>`` file."""
    data = resources.files("medgauge.probes").joinpath("data", builtin).read_text("utf-8")
    return _read_structured(data, f"medgauge/probes/data/{builtin}", Path(builtin).suffix)


def load_templates(builtin: str, user_file: str | None, required: Sequence[str],
                   placeholders: Sequence[str] | None) -> list[dict[str, Any]]:
    """Template entries from ``probes/data/<builtin>`` plus a user's JSON/YAML file.

    Both files hold ``{"templates": [{name, text, ...}, ...]}``.  A user entry whose ``name``
    matches a built-in one replaces it; others are added.  Each entry needs the ``required``
    fields; ``text`` may use only the listed ``{placeholders}``.
    """
    entries = _entries(builtin_data(builtin), builtin, required, placeholders)
    if user_file:
        path = Path(user_file).expanduser()
        if not path.is_file():
            raise MedgaugeError(f"template file not found: {path}")
        own = _entries(_read_structured(path.read_text("utf-8"), str(path), path.suffix.lower()),
                       str(path), required, placeholders)
        by_name = {e["name"]: i for i, e in enumerate(entries)}
        for e in own:
            if e["name"] in by_name:
                entries[by_name[e["name"]]] = e
            else:
                entries.append(e)
    return entries


_FIELD = re.compile(r"{([^{}]*)}")


#: variant names the probes use themselves (a template may not take them)
RESERVED_VARIANTS = frozenset({"clean", "initial", "positive"})


def _entries(data: Any, where: str, required: Sequence[str],
             placeholders: Sequence[str] | None) -> list[dict[str, Any]]:
    if not isinstance(data, dict) or not isinstance(data.get("templates"), list):
        raise MedgaugeError(f"{where}: expected a mapping with a 'templates' list")
    out = []
    names: set[str] = set()
    for i, entry in enumerate(data["templates"]):
        at = f"{where}: templates[{i}]"
        if not isinstance(entry, dict):
            raise MedgaugeError(f"{at}: expected a mapping, got {type(entry).__name__}")
        for key in ("name", *required):
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                raise MedgaugeError(f"{at}: field {key!r} is missing or not text")
        # a template's name is its stored variant: it must not repeat or take a reserved name
        if entry["name"] in names or entry["name"] in RESERVED_VARIANTS:
            raise MedgaugeError(f"{at}: template name {entry['name']!r} is "
                                + ("used twice" if entry["name"] in names else "reserved"))
        names.add(entry["name"])
        for key in ("text", "reconsider") if placeholders is not None else ():
            for ph in _FIELD.findall(str(entry.get(key, ""))):
                if ph not in placeholders:
                    known = ", ".join("{" + p + "}" for p in placeholders)
                    raise MedgaugeError(f"{at}: field {key!r} has unknown placeholder {{{ph}}} "
                                        f"(known: {known})")
        out.append(dict(entry))
    return out


def fill(text: str, values: Mapping[str, str]) -> str:
    return _FIELD.sub(lambda m: values.get(m.group(1), m.group(0)), text)


# ---- counting helpers ------------------------------------------------------------------------

def answered(item: Item) -> bool:
    return as_item(item).answered


def is_correct(item: Item) -> bool:
    return bool(as_item(item).correct)


def is_invalid(item: Item) -> bool:
    return as_item(item).invalid


def as_item(item: Item) -> StoredItem:
    """Probe summaries take store records; plain dicts (hand-built rows in tests) are
    normalised the way the report normalises them, so the definitions live in one place."""
    from medgauge.metrics.base import as_items

    return item if isinstance(item, StoredItem) else as_items([item])[0]


def rate(k: int, n: int) -> Proportion:
    """``k / n`` with its Wilson interval (``nan`` when ``n`` is 0)."""
    return proportion(k, n)


def by_variant(items: Iterable[Item]) -> dict[str, list[Item]]:
    out: dict[str, list[Item]] = {}
    for it in items:
        out.setdefault(it["variant"], []).append(it)
    return out


def by_sample(items: Iterable[Item]) -> dict[str, Item]:
    """One item per sample id (probe variants are keyed by (sample, variant))."""
    out: dict[str, Item] = {}
    for it in items:
        out[str(it["sample_id"])] = it
    return out


def acc_of(items: Iterable[Item]) -> Proportion:
    """Accuracy (Wilson) of items: the one accuracy metric, without clustering."""
    from medgauge.metrics import accuracy

    est = accuracy((as_item(it) for it in items), clustered=False)
    return Proportion(est.value, est.n, est.k or 0, est.invalid, est.errors, est.lo, est.hi,
                      est.method)


def clean_accuracy(clean: list[Item] | None, ids: Iterable[str] | None = None
                   ) -> Proportion | None:
    """Accuracy of the clean run, on ``ids`` only when given (the probe's samples)."""
    if clean is None:
        return None
    rows = [c for c in clean if c.get("variant", "clean") == "clean"]
    if ids is not None:
        keep = set(ids)
        rows = [c for c in rows if str(c["sample_id"]) in keep]
    return acc_of(rows)


def pct(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{100 * value:.1f}"


def prop_dict(p: Proportion) -> dict[str, Any]:
    return {"value": p.value, "lo": p.lo, "hi": p.hi, "n": p.n, "k": p.k}


def result(probe: str, headline: str, p: Proportion, better: str, clean: Proportion | None,
           details: dict[str, Any]) -> ProbeResult:
    return ProbeResult(probe, headline, p.value, p.lo, p.hi, p.n, better,
                       None if clean is None or clean.n == 0 else clean.value,
                       None if clean is None else clean.n, details, p.method)
