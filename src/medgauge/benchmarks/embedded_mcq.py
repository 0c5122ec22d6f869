"""Multiple-choice VQA whose images are stored inside the table: MMMU (Health & Medicine) as
Hugging Face parquet, and GMAI-MMBench as a VLMEvalKit TSV with base64 images."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from medgauge.benchmarks.base import benchmarks
from medgauge.benchmarks.io import (
    LETTERS,
    answer_letter,
    clean_text,
    embedded_image,
    field,
    find_split_files,
    option_list,
    options_from,
    raise_csv_field_limit,
    read_arrow_rows,
    require_file,
)
from medgauge.benchmarks.local import LocalBenchmark
from medgauge.prompts.templates import PromptTemplate, register
from medgauge.types import ImageRef, MedgaugeError, Sample

# VLMEvalKit's multiple-choice prompt (open-compass/VLMEvalKit, vlmeval/dataset/image_mcq.py,
# ImageMCQDataset.build_prompt): optional "Hint:", "Question:", "Options:" then the letters.
register(PromptTemplate(
    "vlmevalkit-mcq",
    "{context}\nQuestion: {question}\nOptions:\n{options}\n"
    "Please select the correct answer from the options above.",
    description="VLMEvalKit's MCQ wording (GMAI-MMBench, MMStar)",
))

MMMU_MED_SUBJECTS = (
    "Basic_Medical_Science", "Clinical_Medicine", "Diagnostics_and_Laboratory_Medicine",
    "Pharmacy", "Public_Health",
)


@benchmarks.register("mmmu-med")
class MmmuMed(LocalBenchmark):
    name = "mmmu-med"
    layout = (
        "The MMMU Hugging Face dump (MMMU/MMMU): one folder per subject holding "
        "{split}-*.parquet, for the five Health & Medicine subjects "
        + ", ".join(MMMU_MED_SUBJECTS) + ".  Columns id, question (with <image n> "
        "placeholders), options (a list written as a string), answer, image_1..image_7, "
        "question_type, subfield, img_type, topic_difficulty."
    )
    group_by = ("subject", "subfield", "question_type")
    option_help: ClassVar[dict[str, str]] = {
        "split": "validation (default; test answers are hidden) or dev",
        "subjects": "comma-separated subset of " + ", ".join(MMMU_MED_SUBJECTS),
    }

    def _subjects(self) -> list[str]:
        subjects = option_list(self.opt("subjects")) or list(MMMU_MED_SUBJECTS)
        bad = [s for s in subjects if s not in MMMU_MED_SUBJECTS]
        if bad:
            raise MedgaugeError(
                f"benchmark {self.name}: unknown subject {bad[0]!r} (use "
                f"{', '.join(MMMU_MED_SUBJECTS)})"
            )
        return subjects

    def _load(self, split: str) -> Iterator[Sample]:
        for subject in self._subjects():
            folder = self.folder / subject
            if not folder.is_dir():
                raise MedgaugeError(f"benchmark {self.name}: subject folder not found: {folder}")
            for path in find_split_files(folder, split):
                for index, row in read_arrow_rows(path):
                    yield self._sample(row, f"{path}#{index}", subject)

    def _sample(self, row: dict[str, Any], where: str, subject: str) -> Sample:
        images: list[ImageRef] = []
        for n in range(1, 8):
            ref = embedded_image(row.get(f"image_{n}"), f"{where}:image_{n}", role=f"image {n}")
            if ref is not None:
                images.append(ref)
        sid = clean_text(field(row, "id", where))
        qtype = clean_text(row.get("question_type")) or "multiple-choice"
        meta = {"subject": subject, "subfield": clean_text(row.get("subfield")),
                "question_type": qtype, "img_type": clean_text(row.get("img_type")),
                "topic_difficulty": clean_text(row.get("topic_difficulty"))}
        question = clean_text(field(row, "question", where))
        answer = field(row, "answer", where)
        if qtype == "open":
            return Sample(id=sid, question=question, answer=clean_text(answer),
                          answer_type="open", images=tuple(images), metadata=meta, cluster=sid)
        options = options_from(field(row, "options", where), f"{where}:options")
        return Sample(id=sid, question=question, answer=answer_letter(answer, options, where),
                      options=options, images=tuple(images), metadata=meta, cluster=sid)

    def samples(self) -> Iterator[Sample]:
        return self._load(self.choice("split", ("validation", "dev"), "validation"))

    def reference_samples(self) -> Iterator[Sample] | None:
        try:
            for subject in self._subjects():
                find_split_files(self.folder / subject, "dev")
        except MedgaugeError:
            return None
        return self._load("dev")


GMAI_TREE = ("modality", "clinical vqa task", "department", "perceptual granularity")


@benchmarks.register("gmai-mmbench")
class GmaiMmbench(LocalBenchmark):
    name = "gmai-mmbench"
    layout = (
        "GMAI-MMBench as distributed for VLMEvalKit: GMAI-MMBench_VAL.tsv (index, question, "
        "A..E, answer, image = base64, modality, clinical vqa task, department, perceptual "
        "granularity, split).  Only the VAL split has public answers."
    )
    prompt = "vlmevalkit-mcq"
    group_by = GMAI_TREE
    scoring_modes = ("vlmevalkit",)
    option_help: ClassVar[dict[str, str]] = {
        "file": "the TSV to read (default: the one *.tsv in the folder)",
        "split": "VAL (default) or TEST; rows of other splits are skipped",
    }

    def samples(self) -> Iterator[Sample]:
        path = self.locate("GMAI-MMBench_VAL.tsv", "GMAI*.tsv", "*.tsv")
        split = self.choice("split", ("VAL", "TEST"), "VAL")
        images: dict[str, str] | None = None
        for lineno, row in _tsv(path):
            where = f"{path}:{lineno}"
            if "split" in row and clean_text(row["split"]).upper() != split:
                continue
            index = clean_text(field(row, "index", where))
            cell = clean_text(field(row, "image", where))
            if len(cell) <= 64:  # VLMEvalKit stores a repeated image as the index of its row
                if images is None:
                    images = _referenced_images(path)
                if cell not in images:
                    raise MedgaugeError(f"{where}: image refers to row {cell!r}, not found")
                cell = images[cell]
            options = {k: clean_text(row[k]) for k in LETTERS[:8]
                       if clean_text(row.get(k)) and clean_text(row.get(k)).lower() != "nan"}
            gold = clean_text(row.get("answer"))
            if not gold:
                raise MedgaugeError(
                    f"{where}: no answer (the TEST split's answers are not public; use split=VAL)"
                )
            hint = clean_text(row.get("hint"))
            yield Sample(
                id=index, question=clean_text(field(row, "question", where)),
                answer=answer_letter(gold, options, where), options=options,
                images=(ImageRef(f"{path}#{index}", b64=cell),),
                context=f"Hint: {hint}" if hint and hint.lower() != "nan" else None,
                metadata={k: clean_text(row.get(k)) for k in GMAI_TREE},
                cluster=index,
            )


def _tsv(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """Stream a VLMEvalKit TSV (quoting as pandas writes it); cells can be megabytes."""
    require_file(path)
    raise_csv_field_limit()
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh, delimiter="\t")
        for row in reader:
            yield reader.line_num, row


def _referenced_images(path: Path) -> dict[str, str]:
    """Two extra passes, only when some image cell is a reference: which rows are referred
    to, then their base64 images."""
    wanted = {clean_text(row.get("image")) for _, row in _tsv(path)
              if len(clean_text(row.get("image"))) <= 64}
    return {clean_text(row.get("index")): clean_text(row.get("image")) for _, row in _tsv(path)
            if clean_text(row.get("index")) in wanted}
