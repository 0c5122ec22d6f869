"""MedXpertQA (TsinghuaC3I/MedXpertQA): the MM (image) and Text subsets."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from medgauge.benchmarks.base import benchmarks
from medgauge.benchmarks.io import (
    answer_letter,
    clean_text,
    field,
    options_from,
    parse_inline_choices,
    read_jsonl,
)
from medgauge.benchmarks.local import IMAGES_OPTION, LocalBenchmark
from medgauge.types import Sample

GROUPS = ("medical_task", "body_system", "question_type")


class _MedXpertQA(LocalBenchmark):
    group_by = GROUPS
    candidates: ClassVar[tuple[str, ...]] = ()
    multimodal: ClassVar[bool] = False

    def samples(self) -> Iterator[Sample]:
        path = self.locate(*self.candidates)
        resolve = self.image_resolver("images") if self.multimodal else None
        for lineno, obj in read_jsonl(path):
            where = f"{path}:{lineno}"
            options = options_from(field(obj, "options", where), f"{where}: options")
            # The released question repeats the options after "Answer Choices:"; the prompt
            # lists them again, so keep only the stem.
            stem, _ = parse_inline_choices(clean_text(field(obj, "question", where)))
            refs = ()
            if resolve is not None:
                names = [_image_name(img) for img in obj.get("images") or []]
                refs = resolve.many(names, where)
            sid = clean_text(field(obj, "id", where))
            yield Sample(
                id=sid, question=stem, options=options,
                answer=answer_letter(field(obj, "label", where), options, where),
                images=refs, metadata={k: clean_text(obj.get(k)) for k in GROUPS}, cluster=sid,
            )


def _image_name(img: Any) -> str:
    return clean_text(img.get("image_path") if isinstance(img, dict) else img)


@benchmarks.register("medxpertqa-mm")
class MedXpertQAMM(_MedXpertQA):
    name = "medxpertqa-mm"
    layout = (
        "MedXpertQA MM as released: test.jsonl (the hub's MM/ folder, or the repo's "
        "eval/data/medxpertqa_mm/input/medxpertqa_mm_input.jsonl) with images/ beside it.  "
        "Fields id, question, options ({letter: text} or [{letter, content}]), label, images "
        "(names or [{image_path}]), medical_task, body_system, question_type."
    )
    candidates = ("medxpertqa_mm_input.jsonl", "MM/test.jsonl", "test.jsonl")
    multimodal = True
    option_help: ClassVar[dict[str, str]] = {
        "file": "the JSONL to read (e.g. medxpertqa_sampled_mm_input.jsonl)",
        "image_root": "image folder (default: images/ beside the JSONL)",
        "images": IMAGES_OPTION,
    }


@benchmarks.register("medxpertqa-text")
class MedXpertQAText(_MedXpertQA):
    name = "medxpertqa-text"
    layout = (
        "MedXpertQA Text as released: test.jsonl (the hub's Text/ folder, or the repo's "
        "medxpertqa_text_input.jsonl); 10 options A..J, fields as for medxpertqa-mm."
    )
    candidates = ("medxpertqa_text_input.jsonl", "Text/test.jsonl", "test.jsonl")
    option_help: ClassVar[dict[str, str]] = {
        "file": "the JSONL to read (e.g. medxpertqa_sampled_text_input.jsonl)",
    }
