"""``mimic-cxr``: MIMIC-CXR (Johnson et al. 2019) report generation in R2Gen's layout.

``annotation.json`` with ``train``/``val``/``test`` lists of ``{id, study_id, subject_id,
report, image_path, split}`` and the JPGs under ``files/`` (``image_path`` entries such as
``p10/p10000032/s50414267/02aa804e-....jpg``).  The data need PhysioNet credentialed access;
medgauge reads only what the user has on disk.  Results cluster by ``subject_id`` (a patient's
studies are not independent).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from medgauge.benchmarks.base import benchmarks
from medgauge.benchmarks.iu_xray import REPORT_IMAGES_OPTION, report_images
from medgauge.benchmarks.local import LocalBenchmark
from medgauge.benchmarks.r2gen import (
    R2GEN_REFERENCE_OPTION,
    REPORT_METRICS,
    SPLITS,
    r2gen_reference_mode,
    report_samples,
)
from medgauge.types import Sample


@benchmarks.register("mimic-cxr")
class MimicCXR(LocalBenchmark):
    name = "mimic-cxr"
    layout = (
        "MIMIC-CXR report generation in R2Gen's layout: annotation.json with train/val/test "
        "lists of {id, study_id, subject_id, report, image_path, split} and images under files/ "
        "(split option, default test). Answer type report: BLEU-1..4, METEOR, ROUGE-L, CIDEr "
        "(R2Gen MIMIC cleaning) and CheXpert CE; clustered by subject_id."
    )
    prompt = "report"
    group_by = ("split",)
    metrics = REPORT_METRICS
    option_help: ClassVar[dict[str, str]] = {
        "split": "train, val or test (default test)",
        "file": "the annotation file to read (default annotation.json)",
        "image_root": "image folder (default files/ or images/)",
        "images": REPORT_IMAGES_OPTION,
        "r2gen_reference": R2GEN_REFERENCE_OPTION,
    }

    def samples(self) -> Iterator[Sample]:
        split = self.choice("split", SPLITS, "test")
        path = self.locate("annotation.json", what="R2Gen annotation file")
        yield from report_samples(path, split, report_images(self, "files", "images"),
                                  cleaning="mimic_cxr", dataset="mimic_cxr",
                                  r2gen_reference=self._r2gen_reference())

    def _r2gen_reference(self) -> str:
        return r2gen_reference_mode(self.opt("r2gen_reference", "auto"))
