"""``iu-xray``: IU X-ray (OpenI, Demner-Fushman et al. 2016) chest X-ray report generation.

Two layouts:

- ``r2gen`` (default when an annotation file is present): R2Gen's ``annotation.json`` (also
  found as ``r2gen_annotation.json``) with ``train``/``val``/``test`` lists of ``{id, report,
  image_path: [frontal, lateral], split}`` and the images under ``images/``; the test split
  (590 studies) is the one report-generation tables use.
- ``openi``: the OpenI CSVs ``indiana_reports.csv`` (uid, MeSH, Problems, image, indication,
  comparison, findings, impression) and ``indiana_projections.csv`` (uid, filename,
  projection); the reference is the ``section`` option (findings, impression, or both as
  "findings impression"); studies whose section is empty are left out; images under
  ``images/images_normalized`` or ``images/``, filtered by the ``views`` option.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from medgauge.benchmarks.base import benchmarks
from medgauge.benchmarks.io import ImageResolver, clean_text, read_csv
from medgauge.benchmarks.local import IMAGES_OPTION, LocalBenchmark
from medgauge.benchmarks.r2gen import (
    R2GEN_REFERENCE_OPTION,
    REPORT_INSTRUCTION,
    REPORT_METRICS,
    SPLITS,
    r2gen_reference_mode,
    report_samples,
)
from medgauge.types import MedgaugeError, Sample

ANNOTATION_FILES = ("annotation.json", "r2gen_annotation.json")
IMAGE_FOLDERS = ("images/images_normalized", "images")
REPORT_IMAGES_OPTION = IMAGES_OPTION.replace(
    "check (default)", "auto (default): check when the image folder exists, else load text "
    "only (scoring a predictions file needs no images); check")


def report_images(bench: LocalBenchmark, *folders: str) -> ImageResolver:
    """The image resolver of report benchmarks: ``images=auto`` skips images when no image
    folder exists (text-only copies, as used by ``medgauge score``)."""
    mode = bench.choice("images", ("auto", "check", "lazy", "skip"), "auto")
    if mode != "auto":
        return bench.image_resolver(*folders)
    folder = bench.image_folder(*folders)
    return ImageResolver(folder, "check") if folder is not None else ImageResolver(None, "skip")


@benchmarks.register("iu-xray")
class IUXray(LocalBenchmark):
    name = "iu-xray"
    layout = (
        "IU X-ray report generation. layout=r2gen: annotation.json (or r2gen_annotation.json) "
        "with train/val/test lists of {id, report, image_path, split} and images/ (split option, "
        "default test). layout=openi: indiana_reports.csv + indiana_projections.csv, reference "
        "= section option (findings | impression | both), views option (frontal | lateral | "
        "both), images under images/images_normalized or images/. Answer type report: scored "
        "by BLEU-1..4, METEOR, ROUGE-L, CIDEr (R2Gen IU cleaning) and CheXpert CE."
    )
    prompt = "report"
    group_by = ("split",)
    metrics = REPORT_METRICS
    option_help: ClassVar[dict[str, str]] = {
        "layout": "r2gen or openi (default: r2gen when an annotation file exists)",
        "split": "r2gen layout: train, val or test (default test)",
        "section": "openi layout: findings (default), impression or both",
        "views": "openi layout: images to attach: both (default), frontal or lateral",
        "file": "r2gen layout: the annotation file to read",
        "image_root": "image folder (default images/images_normalized or images/)",
        "images": REPORT_IMAGES_OPTION,
        "r2gen_reference": R2GEN_REFERENCE_OPTION,
    }

    def samples(self) -> Iterator[Sample]:
        assert self.root is not None
        has_annotation = self.root.is_file() or any(
            (self.folder / f).is_file() for f in ANNOTATION_FILES) or self.opt("file")
        layout = self.choice("layout", ("r2gen", "openi"), "r2gen" if has_annotation else "openi")
        if layout == "r2gen":
            split = self.choice("split", SPLITS, "test")
            path = self.locate(*ANNOTATION_FILES, what="R2Gen annotation file")
            yield from report_samples(path, split, report_images(self, *IMAGE_FOLDERS),
                                      cleaning="iu_xray", dataset="iu_xray",
                                      r2gen_reference=self._r2gen_reference())
        else:
            yield from self._openi()

    def _openi(self) -> Iterator[Sample]:
        section = self.choice("section", ("findings", "impression", "both"), "findings")
        views = self.choice("views", ("both", "frontal", "lateral"), "both")
        reports = self.folder / "indiana_reports.csv"
        projections = self.folder / "indiana_projections.csv"
        images = report_images(self, *IMAGE_FOLDERS)
        by_uid: dict[str, list[tuple[str, str]]] = {}
        for lineno, row in read_csv(projections):
            where = f"{projections}:{lineno}"
            for key in ("uid", "filename", "projection"):
                if key not in row:
                    raise MedgaugeError(f"{where}: missing column {key!r}")
            by_uid.setdefault(row["uid"].strip(), []).append(
                (row["filename"].strip(), row["projection"].strip().lower()))
        for lineno, row in read_csv(reports):
            where = f"{reports}:{lineno}"
            for key in ("uid", "findings", "impression"):
                if key not in row:
                    raise MedgaugeError(f"{where}: missing column {key!r}")
            findings, impression = clean_text(row["findings"]), clean_text(row["impression"])
            text = {"findings": findings, "impression": impression,
                    "both": f"{findings} {impression}".strip()}[section]
            if not text:
                continue
            uid = row["uid"].strip()
            files = [(f, p) for f, p in by_uid.get(uid, []) if views in ("both", p)]
            refs = tuple(r for r in (images(f, where, p) for f, p in files) if r)
            meta = {"dataset": "iu_xray", "section": section, "cleaning": "iu_xray",
                    "n_images": len(files), "problems": clean_text(row.get("Problems"))}
            yield Sample(id=f"openi-{uid}", question=REPORT_INSTRUCTION, answer=text,
                         answer_type="report", images=refs, metadata=meta, cluster=uid)

    def _r2gen_reference(self) -> str:
        return r2gen_reference_mode(self.opt("r2gen_reference", "auto"))
