"""MediConfusion (MShahabSepehri/MediConfusion): 176 image pairs, two samples per pair."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from medgauge.benchmarks.base import benchmarks
from medgauge.benchmarks.io import clean_text, field, read_json
from medgauge.benchmarks.local import IMAGES_OPTION, LocalBenchmark
from medgauge.prompts.templates import PromptTemplate, register
from medgauge.types import MedgaugeError, Sample

# The `mc` prompt of configs/prompts/answering.json (MShahabSepehri/MediConfusion).  The
# original writes the options as ("A": text); our {options} renders "A. text".
register(PromptTemplate(
    "mediconfusion-mc",
    "Based on the image, choose the correct option for the following question.\n"
    "Question: {question}\n{options}\nAnswer with the option's letter from the given choices "
    "directly. Your answer should be just one letter.",
    description="MediConfusion's multiple-choice (mc) instruction",
    option_format='("{letter}": {text})',  # as in configs/prompts/answering.json
))


def _categories(value: Any) -> list[str]:
    """Category memberships as a list (breakdowns count an image once under each)."""
    values = value if isinstance(value, (list, tuple)) else str(value or "").split(",")
    return [clean_text(v) for v in values if clean_text(v)]


@benchmarks.register("mediconfusion")
class MediConfusion(LocalBenchmark):
    name = "mediconfusion"
    layout = (
        "MediConfusion data/dataset.json (dict keyed by pair id: question, option_A, option_B, "
        "im_1_correct, im_2_correct, category_1, category_2, im_1/im_2 = ROCO paths, "
        "im_1_local/im_2_local = local ids).  Images: the authors' download script writes "
        "data/images/<local id>.jpg (image_names=local, default); or point image_root at a "
        "ROCO copy with image_names=roco.  Each pair yields two samples {pair}_1 and {pair}_2."
    )
    prompt = "mediconfusion-mc"
    scoring_modes = ("mediconfusion",)
    option_help: ClassVar[dict[str, str]] = {
        "file": "the JSON to read (default dataset.json)",
        "image_root": "image folder (default: images/ beside dataset.json)",
        "image_names": "local (default: <im_N_local>.jpg) or roco (the im_N ROCO path)",
        "images": IMAGES_OPTION,
    }

    def samples(self) -> Iterator[Sample]:
        path = self.locate("dataset.json", "data/dataset.json")
        naming = self.choice("image_names", ("local", "roco"), "local")
        resolve = self.image_resolver("images")
        data = read_json(path)
        if not isinstance(data, dict):
            raise MedgaugeError(f"{path}: expected a JSON object keyed by pair id")
        for pair_id, pair in data.items():
            where = f"{path}[{pair_id}]"
            options = {"A": clean_text(field(pair, "option_A", where)),
                       "B": clean_text(field(pair, "option_B", where))}
            cats = {"category_1": _categories(pair.get("category_1")),
                    "category_2": _categories(pair.get("category_2"))}
            for member in (1, 2):
                gold = clean_text(field(pair, f"im_{member}_correct", where)).upper()
                if gold not in options:
                    raise MedgaugeError(f"{where}: im_{member}_correct {gold!r} is not A or B")
                key = f"im_{member}_local" if naming == "local" else f"im_{member}"
                name = clean_text(field(pair, key, where))
                ref = resolve(f"{name}.jpg" if naming == "local" else name, where)
                yield Sample(
                    id=f"{pair_id}_{member}", question=clean_text(field(pair, "question", where)),
                    answer=gold, options=dict(options), images=(ref,) if ref else (),
                    metadata={"pair_id": str(pair_id), "pair_member": member, **cats,
                              "category": cats[f"category_{member}"]},
                    cluster=str(pair_id),
                )
