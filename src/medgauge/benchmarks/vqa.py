"""Closed/open radiology and pathology VQA: VQA-RAD, SLAKE, PathVQA, VQA-Med 2019.

Every item becomes ``yesno`` when it is a closed question answered yes/no (or with one of
SLAKE's Chinese polar pairs), otherwise ``open``; closed questions with other answers ("left"
to "left or right?", "normal" to "Is the heart normal?") are scored by the closed rules of the
default scorer (either/or, polar gold).  ``metadata["answer_type_group"]`` keeps the
benchmark's own closed/open split; where the benchmark has none (Hugging Face dumps, VQA-Med
2019) it comes from the question's form (polar or either/or) or a yes/no gold.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from medgauge.benchmarks.base import benchmarks
from medgauge.benchmarks.io import (
    clean_text,
    embedded_image,
    field,
    find_split_files,
    read_arrow_rows,
    read_json,
    read_lines,
    yesno_or_open,
)
from medgauge.benchmarks.local import IMAGES_OPTION, LocalBenchmark
from medgauge.extract.closed import question_form
from medgauge.types import ImageRef, MedgaugeError, Sample


def vqa_sample(sid: str, question: str, answer: Any, closed: bool | None,
               images: tuple[ImageRef, ...], metadata: dict[str, Any],
               cluster: str | None, answers: tuple[str, ...] = ()) -> Sample:
    """``closed`` None means "infer from the gold and the question's form" (HF dumps carry no
    answer type): a yes/no gold, a polar question ("Is ...?", "...吗?") or an either/or one."""
    text, kind = yesno_or_open(answer)
    if closed is None:
        closed = kind == "yesno" or question_form(clean_text(question)) != "open"
    labels: tuple[str, ...] = ("yes", "no")
    if closed and kind == "open" and text in _ZH_PAIRS:
        kind, labels = "yesno", _ZH_PAIRS[text]  # SLAKE's Chinese closed answers
    if not closed:
        text, kind = clean_text(answer), "open"
    meta = {"answer_type_group": "closed" if closed else "open", **metadata}
    extra = tuple(a for a in answers if a and a != text)
    return Sample(id=sid, question=clean_text(question), answer=text, answer_type=kind,
                  images=images, metadata=meta, cluster=cluster, labels=labels, answers=extra)


# SLAKE's Chinese closed answers come in affirmative/negative pairs; a closed item answered with
# either member becomes a two-label question (the extractor maps answers by polarity).
_ZH_PAIR_LIST = (("是的", "不是"), ("是", "否"), ("包含", "不包含"), ("有", "没有"),
                 ("可以", "不可以"), ("正常", "不正常"))
_ZH_PAIRS = {word: pair for pair in _ZH_PAIR_LIST for word in pair}


def hf_vqa_samples(files: list[Path], split: str) -> Iterator[Sample]:
    """Hugging Face VQA dumps (``image``, ``question``, ``answer`` columns): PathVQA and
    VQA-RAD as published on the hub.  Ids are ``{split}-{row}``; the cluster is the image's
    content hash, so questions about the same picture share a cluster."""
    row_no = 0
    for path in files:
        for index, row in read_arrow_rows(path, ["image", "question", "answer"]):
            where = f"{path}#{index}"
            image = embedded_image(row["image"], where)
            images = (image,) if image is not None else ()
            cluster = image.content_hash() if image is not None else None
            yield vqa_sample(f"{split}-{row_no}", row["question"], row["answer"], None,
                             images, {}, cluster)
            row_no += 1


SPLIT_HELP = "test (default) or train"


@benchmarks.register("vqa-rad")
class VqaRad(LocalBenchmark):
    name = "vqa-rad"
    layout = (
        "Either the MEVF split (testset.json / trainset.json, as used by MEVF, MMQ, LLaVA-Med) "
        "or the official release 'VQA_RAD Dataset Public.json' (test = phrase_type "
        "test_freeform + test_para), with the images in images/ or 'VQA_RAD Image Folder/'; "
        "or a Hugging Face dump (parquet or save_to_disk) with image/question/answer columns."
    )
    group_by = ("answer_type_group", "image_organ", "question_type")
    scoring_modes = ("medevalkit",)
    option_help: ClassVar[dict[str, str]] = {
        "split": SPLIT_HELP,
        "source": "auto (default), mevf (testset.json), official (VQA_RAD Dataset Public.json) "
                  "or hf (parquet/arrow dump)",
        "file": "the JSON file to read, relative to the data folder",
        "image_root": "image folder (default: images/ or 'VQA_RAD Image Folder/')",
        "images": IMAGES_OPTION,
    }
    OFFICIAL = "VQA_RAD Dataset Public.json"

    def _source(self) -> str:
        source = self.choice("source", ("auto", "mevf", "official", "hf"), "auto")
        if source != "auto":
            return source
        assert self.root is not None
        target = self.root
        if self.opt("file"):
            target = self.folder / str(self.opt("file"))
        if target.is_file():
            if target.suffix in (".parquet", ".arrow"):
                return "hf"
            return "official" if target.name == self.OFFICIAL else "mevf"
        if (target / "testset.json").is_file():
            return "mevf"
        if (target / self.OFFICIAL).is_file():
            return "official"
        return "hf"

    def _load(self, split: str) -> Iterator[Sample]:
        source = self._source()
        if source == "hf":
            assert self.root is not None
            yield from hf_vqa_samples(find_split_files(self.root, split), split)
            return
        if source == "official":
            path = self.locate(self.OFFICIAL)
            phrases = {"test": ("test_freeform", "test_para"), "train": ("freeform", "para")}
        else:
            path = self.locate(f"{split}set.json")
            if path.name != f"{split}set.json" and split == "train":
                path = path.parent / "trainset.json"
            phrases = None
        items = read_json(path)
        resolve = self.image_resolver("images", "VQA_RAD Image Folder")
        for i, item in enumerate(items):
            where = f"{path}[{i}]"
            phrase = clean_text(item.get("phrase_type"))
            if phrases is not None and phrase not in phrases[split]:
                continue
            image_name = clean_text(field(item, "image_name", where))
            ref = resolve(image_name, where)
            closed = clean_text(field(item, "answer_type", where)).upper() == "CLOSED"
            yield vqa_sample(
                clean_text(field(item, "qid", where)), field(item, "question", where),
                field(item, "answer", where), closed, (ref,) if ref else (),
                {"image_organ": clean_text(item.get("image_organ")),
                 "question_type": clean_text(item.get("question_type")),
                 "phrase_type": phrase, "image_name": image_name},
                image_name,
            )

    def samples(self) -> Iterator[Sample]:
        return self._load(self.choice("split", ("test", "train"), "test"))

    def reference_samples(self) -> Iterator[Sample] | None:
        source = self._source()
        if source == "mevf" and not (self.folder / "trainset.json").is_file():
            return None
        if source == "hf":
            assert self.root is not None
            try:
                find_split_files(self.root, "train")
            except MedgaugeError:
                return None
        return self._load("train")


@benchmarks.register("slake")
class Slake(LocalBenchmark):
    name = "slake"
    layout = (
        "SLAKE 1.0 as released: test.json (train.json, validate.json) beside imgs/ "
        "(imgs/xmlab*/source.jpg).  English only by default (lang=en|zh|all)."
    )
    group_by = ("answer_type", "modality", "content_type", "location")
    scoring_modes = ("medevalkit",)
    option_help: ClassVar[dict[str, str]] = {
        "split": "test (default), train or validate",
        "lang": "en (default), zh or all",
        "image_root": "image folder (default: imgs/)",
        "images": IMAGES_OPTION,
    }

    def _load(self, split: str) -> Iterator[Sample]:
        lang = self.choice("lang", ("en", "zh", "all"), "en")
        path = self.locate(f"{split}.json")
        if split != "test" and path.name != f"{split}.json":
            path = path.parent / f"{split}.json"
        resolve = self.image_resolver("imgs")
        for i, item in enumerate(read_json(path)):
            where = f"{path}[{i}]"
            q_lang = clean_text(item.get("q_lang"))
            if lang != "all" and q_lang != lang:
                continue
            img = clean_text(field(item, "img_name", where))
            ref = resolve(img, where)
            group = clean_text(field(item, "answer_type", where)).lower()
            yield vqa_sample(
                clean_text(field(item, "qid", where)), field(item, "question", where),
                field(item, "answer", where), group == "closed", (ref,) if ref else (),
                {"answer_type": group, "modality": clean_text(item.get("modality")),
                 "content_type": clean_text(item.get("content_type")),
                 "location": clean_text(item.get("location")), "lang": q_lang,
                 "base_type": clean_text(item.get("base_type")), "image_name": img},
                img,
            )

    def samples(self) -> Iterator[Sample]:
        return self._load(self.choice("split", ("test", "train", "validate"), "test"))

    def reference_samples(self) -> Iterator[Sample] | None:
        return self._load("train") if (self.folder / "train.json").is_file() else None


@benchmarks.register("pathvqa")
class PathVqa(LocalBenchmark):
    name = "pathvqa"
    layout = (
        "A Hugging Face dump of PathVQA (flaviagiammarino/path-vqa): data/test-*.parquet or a "
        "save_to_disk folder (test/data-*.arrow), columns image (bytes), question, answer."
    )
    group_by = ("answer_type_group",)
    scoring_modes = ("medevalkit",)
    option_help: ClassVar[dict[str, str]] = {"split": "test (default), validation or train"}

    def samples(self) -> Iterator[Sample]:
        split = self.choice("split", ("test", "validation", "train"), "test")
        assert self.root is not None
        return hf_vqa_samples(find_split_files(self.root, split), split)

    def reference_samples(self) -> Iterator[Sample] | None:
        assert self.root is not None
        try:
            return hf_vqa_samples(find_split_files(self.root, "train"), "train")
        except MedgaugeError:
            return None


def _alternatives(answer: str) -> list[str]:
    """VQA-Med 2019 reference answers: ``#`` separates accepted answers and ``(...)`` marks an
    optional part (README-VQA-Med-2019-TestSet.txt).  Returns every accepted spelling."""
    import re

    out: list[str] = []
    for alt in answer.split("#"):
        alt = alt.strip()
        full = re.sub(r"[()]", "", alt)
        short = re.sub(r"\([^)]*\)", "", alt)
        for text in (full, short):
            text = " ".join(text.split())
            if text and text not in out:
                out.append(text)
    return out


@benchmarks.register("vqa-med-2019")
class VqaMed2019(LocalBenchmark):
    name = "vqa-med-2019"
    layout = (
        "ImageCLEF VQA-Med 2019 test set: VQAMed2019_Test_Questions_w_Ref_Answers.txt "
        "(imageid|category|question|answer) beside VQAMed2019_Test_Images/ (<imageid>.jpg).  "
        "Three-field files (imageid|question|answer, the training layout) also load."
    )
    group_by = ("category",)
    option_help: ClassVar[dict[str, str]] = {
        "file": "the pipe-separated QA file, relative to the data folder",
        "image_root": "image folder (default: VQAMed2019_Test_Images/, images/, images_partial/)",
        "images": IMAGES_OPTION,
    }

    def samples(self) -> Iterator[Sample]:
        path = self.locate("VQAMed2019_Test_Questions_w_Ref_Answers.txt", "*_w_Ref_Answers.txt",
                           "All_QA_Pairs_*.txt")
        resolve = self.image_resolver("VQAMed2019_Test_Images", "images", "images_partial")
        for lineno, line in read_lines(path):
            where = f"{path}:{lineno}"
            parts = line.split("|")
            if len(parts) == 4:
                image_id, category, question, answer = parts
            elif len(parts) == 3:
                (image_id, question, answer), category = parts, ""
            else:
                raise MedgaugeError(
                    f"{where}: expected imageid|category|question|answer, found "
                    f"{len(parts)} fields"
                )
            image_id = image_id.strip()
            ref = resolve(f"{image_id}.jpg", where)
            alternatives = _alternatives(answer.strip())
            sample = vqa_sample(
                f"{image_id}-{lineno}", question, answer, None, (ref,) if ref else (),
                {"category": category.strip(), "answers": alternatives,
                 "image_name": image_id}, image_id, tuple(alternatives))
            yield sample
