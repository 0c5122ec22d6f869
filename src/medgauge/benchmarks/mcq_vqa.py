"""Multiple-choice medical VQA with image files on disk: PMC-VQA and OmniMedVQA."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from medgauge.benchmarks.base import benchmarks
from medgauge.benchmarks.io import (
    LETTERS,
    answer_letter,
    clean_text,
    field,
    read_csv,
    read_json,
    strip_letter_prefix,
)
from medgauge.benchmarks.local import IMAGES_OPTION, LocalBenchmark
from medgauge.types import MedgaugeError, Sample


@benchmarks.register("pmc-vqa")
class PmcVqa(LocalBenchmark):
    name = "pmc-vqa"
    layout = (
        "PMC-VQA (xiaoman-zhang/PMC-VQA): test_2.csv (index, Figure_path, Caption, Question, "
        "Choice A..D as 'A:text', Answer = letter) with the figures in figures/ (or images/); "
        "the older test.csv layout (Answer = text, Answer_label = letter) also loads."
    )
    option_help: ClassVar[dict[str, str]] = {
        "file": "the CSV to read (default test_2.csv, else test.csv)",
        "image_root": "image folder (default: figures/ or images/)",
        "images": IMAGES_OPTION,
    }

    def samples(self) -> Iterator[Sample]:
        path = self.locate("test_2.csv", "test_clean.csv", "test.csv")
        resolve = self.image_resolver("figures", "images")
        for lineno, row in read_csv(path):
            where = f"{path}:{lineno}"
            options = {}
            for letter in "ABCD":
                text = strip_letter_prefix(clean_text(field(row, f"Choice {letter}", where)),
                                           letter)
                if text:
                    options[letter] = text
            gold = row.get("Answer_label") or field(row, "Answer", where)
            figure = clean_text(field(row, "Figure_path", where))
            ref = resolve(figure, where)
            sid = clean_text(row.get("index")) or f"{path.stem}-{lineno}"
            yield Sample(
                id=sid, question=clean_text(field(row, "Question", where)),
                answer=answer_letter(gold, options, where),
                options=options, images=(ref,) if ref else (),
                metadata={"figure": figure}, cluster=figure,
            )


@benchmarks.register("omnimedvqa")
class OmniMedVqa(LocalBenchmark):
    name = "omnimedvqa"
    layout = (
        "OmniMedVQA as released: QA_information/Open-access/*.json (lists of records with "
        "question_id, image_path, question, gt_answer, option_A..D, question_type, "
        "modality_type) beside Images/; image_path is relative to the release folder."
    )
    group_by = ("question_type", "modality_type", "dataset")
    option_help: ClassVar[dict[str, str]] = {
        "access": "open (default: QA_information/Open-access), restricted or all",
        "image_root": "folder image_path is relative to (default: the release folder)",
        "images": IMAGES_OPTION,
    }

    def samples(self) -> Iterator[Sample]:
        access = self.choice("access", ("open", "restricted", "all"), "open")
        folders = {"open": ["Open-access"], "restricted": ["Restricted-access"],
                   "all": ["Open-access", "Restricted-access"]}[access]
        base = self.folder / "QA_information"
        files = [f for name in folders for f in sorted((base / name).glob("*.json"))]
        if not files:
            raise MedgaugeError(
                f"benchmark {self.name}: no QA_information/{folders[0]}/*.json under "
                f"{self.folder}"
            )
        resolve = self.image_resolver(default=self.folder)
        for path in files:
            for i, item in enumerate(read_json(path)):
                where = f"{path}[{i}]"
                options = {}
                for letter in LETTERS[:6]:
                    text = clean_text(item.get(f"option_{letter}"))
                    if text:
                        options[letter] = text
                if not options:
                    raise MedgaugeError(f"{where}: no option_A.. fields")
                image = clean_text(field(item, "image_path", where))
                ref = resolve(image, where)
                gold = clean_text(field(item, "gt_answer", where))
                matches = [k for k, v in options.items() if v == gold] or [
                    k for k, v in options.items() if v.lower() == gold.lower()]
                if len(matches) != 1:
                    raise MedgaugeError(
                        f"{where}: gt_answer {gold!r} matches {len(matches)} options"
                    )
                yield Sample(
                    id=clean_text(item.get("question_id")) or f"{path.stem}-{i}",
                    question=clean_text(field(item, "question", where)),
                    answer=matches[0], options=options, images=(ref,) if ref else (),
                    metadata={
                        "dataset": clean_text(item.get("dataset")) or path.stem,
                        "question_type": clean_text(item.get("question_type")),
                        # one record of 'Chest CT Scan.json' spells it "modality"
                        "modality_type": clean_text(item.get("modality_type",
                                                             item.get("modality"))),
                        "access": path.parent.name,
                    },
                    cluster=image,
                )
