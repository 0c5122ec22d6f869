"""``phantom-report``: report generation on the phantom's single-image cases.

One sample per standard phantom case (the image of its ``count`` question): the model writes
the findings, the reference is ``medgauge.phantom.report.findings_text`` of the case's known
nodules.  Same data and options as ``phantom`` (a folder written by ``medgauge phantom``, or a
generated set: seed, n_cases, size).  A model that writes the reference scores CE F1 1; one that
always writes "No nodule." scores what the nodule counts imply (tests/test_report_generation.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from medgauge.benchmarks.base import benchmarks
from medgauge.benchmarks.canonical import read_canonical_jsonl
from medgauge.benchmarks.phantom import Phantom
from medgauge.benchmarks.r2gen import REPORT_METRICS
from medgauge.phantom.report import findings_text
from medgauge.types import Sample

PHANTOM_INSTRUCTION = ("You are given one axial chest CT-like image (radiological convention: "
                       "the patient's right is on the left side of the image). Write the "
                       "findings: whether there are lung nodules, how many, in which lung, and "
                       "their size.")


@benchmarks.register("phantom-report")
class PhantomReport(Phantom):
    name = "phantom-report"
    layout = (
        "The phantom set (see phantom: phantom.jsonl + images/, or generated from seed, "
        "n_cases, size). One report-generation sample per single-image case; the reference "
        "findings state nodule presence, count, side and size (medgauge.phantom.report). "
        "Metadata: n_nodules, radius_bin, case_id."
    )
    prompt = "report"
    group_by = ("n_nodules",)
    metrics = REPORT_METRICS

    def samples(self) -> Iterator[Sample]:
        for s in read_canonical_jsonl(self.jsonl_path()):
            if s.metadata.get("question_type") != "count":
                continue
            meta = dict(s.metadata)
            text = findings_text(meta.get("nodules", []), int(meta.get("image_size", 256)))
            meta.update(question_type="report", cleaning="iu_xray")
            yield replace(s, id=f"{meta['case_id']}-report", question=PHANTOM_INSTRUCTION,
                          answer=text, answer_type="report", options={}, metadata=meta)

