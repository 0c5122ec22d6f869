"""Text-only medical QA: MedQA (USMLE), MedMCQA, PubMedQA (PQA-L) and MMLU's medical subjects."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from medgauge.benchmarks.base import benchmarks
from medgauge.benchmarks.io import (
    answer_letter,
    clean_text,
    field,
    find_split_files,
    option_bool,
    option_list,
    options_from,
    parse_inline_choices,
    read_arrow_rows,
    read_csv,
    read_json,
    read_jsonl,
)
from medgauge.benchmarks.local import LocalBenchmark
from medgauge.extract.options import duplicate_options
from medgauge.prompts.templates import PromptTemplate, register
from medgauge.types import MedgaugeError, Sample

# PubMedQA's reasoning-required setting gives the abstract without its conclusion
# (Jin et al., 2019, "PubMedQA", EMNLP): context, then the question, answered yes/no/maybe.
register(PromptTemplate(
    "pubmedqa",
    "Context: {context}\n\nQuestion: {question}\nAnswer with {labels}.",
    description="PubMedQA with the abstract as context",
))


def mcq_from_record(obj: dict[str, Any], where: str, sid: str,
                    metadata: dict[str, Any]) -> Sample:
    """One MCQ record in either layout: options in a field (``options`` dict/list, answer in
    ``answer_idx`` or ``answer``/``label``) or inline after ``Answer Choices:``."""
    question = clean_text(field(obj, "question", where))
    if "options" in obj:
        options = options_from(obj["options"], f"{where}: options")
        gold = obj.get("answer_idx", obj.get("label", obj.get("answer")))
        stem = parse_inline_choices(question)[0]
    else:
        stem, options = parse_inline_choices(question)
        if len(options) < 2:
            raise MedgaugeError(f"{where}: no options (no 'options' field and no "
                                "'Answer Choices: (A) ...' in the question)")
        gold = obj.get("label", obj.get("answer"))
    if gold is None:
        raise MedgaugeError(f"{where}: missing field 'answer_idx' (or 'label'/'answer')")
    return Sample(id=sid, question=stem, answer=answer_letter(gold, options, where),
                  options=options, metadata=flag_duplicates(options, metadata), cluster=sid)


def flag_duplicates(options: dict[str, str], metadata: dict[str, Any]) -> dict[str, Any]:
    """``metadata`` plus ``duplicate_options`` ("B=D") when options have identical text (a
    real MedMCQA dev item lists "Petechial rash" as both B and D); the default scorer counts
    such letters as one answer."""
    groups = duplicate_options(options)
    if not groups:
        return metadata
    return {**metadata, "duplicate_options": ";".join("=".join(g) for g in groups)}


def _jsonl_mcq(path: Path, meta_fields: tuple[str, ...]) -> Iterator[Sample]:
    for lineno, obj in read_jsonl(path):
        where = f"{path}:{lineno}"
        sid = clean_text(obj.get("id")) or f"{path.stem}-{lineno}"
        meta = {k: clean_text(obj[k]) for k in meta_fields if k in obj}
        yield mcq_from_record(obj, where, sid, meta)


@benchmarks.register("medqa")
class MedQA(LocalBenchmark):
    name = "medqa"
    layout = (
        "MedQA-USMLE 4-option test set: the original data_clean/questions/US/4_options/"
        "phrases_no_exclude_test.jsonl (question, options {A..D}, answer_idx, meta_info), or "
        "the options-inline JSONL of MedXpertQA's eval/data/medqa (question with "
        "'Answer Choices: (A) ...', label ['B'])."
    )
    group_by = ("meta_info",)
    option_help: ClassVar[dict[str, str]] = {
        "file": "the JSONL to read (e.g. US/test.jsonl for the 5-option variant)",
    }

    def samples(self) -> Iterator[Sample]:
        path = self.locate("medqa_input.jsonl", "phrases_no_exclude_test.jsonl",
                           "**/4_options/phrases_no_exclude_test.jsonl", "test.jsonl")
        return _jsonl_mcq(path, ("meta_info",))

    def reference_samples(self) -> Iterator[Sample] | None:
        assert self.root is not None
        if self.root.is_dir():
            for cand in sorted(self.root.glob("**/4_options/phrases_no_exclude_train.jsonl")):
                return _jsonl_mcq(cand, ("meta_info",))
        return None


def _cop_base(values: list[int], where: Path) -> int:
    """MedMCQA's ``cop`` is 1-based (1..4) in the authors' JSON release (medmcqa/medmcqa,
    dev.json) and 0-based (0..3, a ClassLabel) in the Hugging Face parquet
    (openlifescienceai/medmcqa).  Decide from the values: a 0 means 0-based, a 4 means
    1-based; with neither (a small export) the convention cannot be told, and guessing it
    would shift every answer by one: refuse and ask for ``cop_base``."""
    seen = set(values)
    if 0 in seen and 4 in seen:
        raise MedgaugeError(f"{where}: cop holds both 0 and 4; set cop_base=0 or cop_base=1")
    if 0 in seen:
        return 0
    if 4 in seen:
        return 1
    raise MedgaugeError(
        f"{where}: cop holds neither 0 nor 4, so 0- or 1-based counting cannot be told; "
        "set --opt cop_base=0 (Hugging Face parquet) or cop_base=1 (the authors' JSON)")


@benchmarks.register("medmcqa")
class MedMCQA(LocalBenchmark):
    name = "medmcqa"
    layout = (
        "MedMCQA dev split (its test answers are hidden): the authors' dev.json (JSON lines "
        "with opa..opd, cop, subject_name, topic_name, choice_type), the Hugging Face parquet "
        "(validation-*.parquet, cop 0-based), or the options-inline JSONL of MedXpertQA's "
        "eval/data/medmcqa."
    )
    group_by = ("subject_name",)
    option_help: ClassVar[dict[str, str]] = {
        "file": "the JSON lines or parquet file to read",
        "cop_base": "auto (default), 0 or 1: how the cop column counts options",
    }
    META = ("subject_name", "topic_name", "choice_type")

    def _path(self) -> Path:
        try:
            return self.locate("medmcqa_input.jsonl", "dev.json", "dev.jsonl")
        except MedgaugeError:
            assert self.root is not None
            return find_split_files(self.root, "validation")[0]

    def samples(self) -> Iterator[Sample]:
        path = self._path()
        if path.suffix in (".parquet", ".arrow"):
            files = [path] if self.opt("file") or self.root == path else find_split_files(
                self.root or path, "validation")
            rows = ((f"{f}#{i}", row) for f in files for i, row in read_arrow_rows(f))
        else:
            rows = ((f"{path}:{n}", row) for n, row in read_jsonl(path))
        base_opt = self.choice("cop_base", ("auto", "0", "1"), "auto")
        base: int | None = None if base_opt == "auto" else int(base_opt)
        buffered: list[tuple[str, dict[str, Any]]] = []
        for where, row in rows:
            if "cop" not in row:
                yield mcq_from_record(row, where, clean_text(row.get("id")) or where,
                                      {k: clean_text(row[k]) for k in self.META if k in row})
                continue
            if base is None:  # read the whole (small) split once to learn the convention
                buffered = [(where, row), *rows]
                base = _cop_base([int(r["cop"]) for _, r in buffered if r.get("cop") is not None],
                                 path)
                yield from (self._original(w, r, base) for w, r in buffered)
                return
            yield self._original(where, row, base)

    def _original(self, where: str, row: dict[str, Any], base: int) -> Sample:
        options = {letter: clean_text(field(row, f"op{letter.lower()}", where))
                   for letter in "ABCD"}
        cop = int(field(row, "cop", where)) - base
        if not 0 <= cop < 4:
            raise MedgaugeError(f"{where}: cop {row['cop']} out of range for cop_base={base}")
        sid = clean_text(row.get("id")) or where
        return Sample(id=sid, question=clean_text(field(row, "question", where)),
                      answer="ABCD"[cop], options=options, cluster=sid,
                      metadata=flag_duplicates(
                          options, {k: clean_text(row[k]) for k in self.META if k in row}))


@benchmarks.register("pubmedqa")
class PubMedQA(LocalBenchmark):
    name = "pubmedqa"
    layout = (
        "PubMedQA PQA-L as released (pubmedqa/pubmedqa data/): ori_pqal.json (1,000 "
        "expert-labelled items keyed by PMID: QUESTION, CONTEXTS, LABELS, YEAR, "
        "final_decision) and test_ground_truth.json ({PMID: label}, the 500 test ids)."
    )
    prompt = "pubmedqa"
    group_by = ("year",)
    option_help: ClassVar[dict[str, str]] = {
        "context": "true (default): the abstract's CONTEXTS become the sample's context; "
                   "false: the question alone (prompt yesno)",
    }
    LABELS = ("yes", "no", "maybe")

    def __init__(self, root: str | Path | None = None, **options: Any) -> None:
        super().__init__(root, **options)
        self.with_context = option_bool(self.opt("context", True), "context")
        if not self.with_context:
            self.prompt = "yesno"  # instance override of the class default

    def _load(self, test: bool) -> Iterator[Sample]:
        path = self.locate("ori_pqal.json")
        truth_path = path.parent / "test_ground_truth.json"
        truth = read_json(truth_path)
        data = read_json(path)
        ids = list(truth) if test else [k for k in data if k not in truth]
        for pmid in ids:
            where = f"{path}[{pmid}]"
            if pmid not in data:
                raise MedgaugeError(f"{truth_path}: id {pmid} is not in {path}")
            item = data[pmid]
            label = clean_text(truth[pmid] if test else field(item, "final_decision", where))
            if label not in self.LABELS:
                raise MedgaugeError(f"{where}: label {label!r} is not yes, no or maybe")
            contexts = field(item, "CONTEXTS", where)
            yield Sample(
                id=str(pmid), question=clean_text(field(item, "QUESTION", where)), answer=label,
                answer_type="yesno", labels=self.LABELS, cluster=str(pmid),
                context="\n".join(clean_text(c) for c in contexts) if self.with_context else None,
                # its own abstract is the question's gold evidence (retrieval metrics)
                metadata={"year": clean_text(item.get("YEAR")), "gold_passage": str(pmid),
                          "reasoning_required_pred": clean_text(
                              item.get("reasoning_required_pred"))},
            )

    def samples(self) -> Iterator[Sample]:
        return self._load(test=True)

    def reference_samples(self) -> Iterator[Sample] | None:
        return self._load(test=False)


MMLU_MED_SUBJECTS = (
    "anatomy", "clinical_knowledge", "college_biology", "college_medicine", "medical_genetics",
    "professional_medicine",
)


@benchmarks.register("mmlu-med")
class MmluMed(LocalBenchmark):
    name = "mmlu-med"
    layout = (
        "MMLU as released (hendrycks/test data.tar): test/<subject>_test.csv and "
        "dev/<subject>_dev.csv, no header, columns question, A, B, C, D, answer; subjects "
        + ", ".join(MMLU_MED_SUBJECTS) + "."
    )
    group_by = ("subject",)
    option_help: ClassVar[dict[str, str]] = {
        "subjects": "comma-separated subjects (default: the six medical ones)",
    }
    COLUMNS: ClassVar[list[str]] = ["question", "A", "B", "C", "D", "answer"]

    def _load(self, split: str) -> Iterator[Sample]:
        subjects = option_list(self.opt("subjects")) or list(MMLU_MED_SUBJECTS)
        base = self.folder / "data" if (self.folder / "data" / split).is_dir() else self.folder
        for subject in subjects:
            path = base / split / f"{subject}_{split}.csv"
            if not path.is_file():
                raise MedgaugeError(f"benchmark {self.name}: {split} file not found: {path}")
            for lineno, row in read_csv(path, fieldnames=self.COLUMNS):
                where = f"{path}:{lineno}"
                options = {k: clean_text(row[k]) for k in "ABCD"}
                sid = f"{subject}-{split}-{lineno}"
                yield Sample(id=sid, question=clean_text(row["question"]),
                             answer=answer_letter(row["answer"], options, where),
                             options=options, metadata={"subject": subject}, cluster=sid)

    def samples(self) -> Iterator[Sample]:
        return self._load("test")

    def reference_samples(self) -> Iterator[Sample] | None:
        return self._load("dev")
