"""The R2Gen annotation layout shared by the IU X-ray and MIMIC-CXR report-generation loaders.

``annotation.json`` (Chen et al. 2020, github.com/zhjohnchan/R2Gen) is an object with the lists
``train``, ``val`` and ``test``; each entry has ``id``, ``report``, ``image_path`` (a list of
paths relative to the image folder) and ``split``; MIMIC-CXR entries add ``study_id`` and
``subject_id``.  Some public copies damage the split keys (e.g. a blank key for ``test``): a key
is matched after stripping spaces, and a blank key is matched through its entries' ``split``.

Report generation samples have ``answer_type="report"``: ``answer`` is the reference report,
``question`` the instruction, ``metadata["cleaning"]`` names the R2Gen cleaning of the dataset
(``medgauge.metrics.nlg``).  The prompt template ``report`` asks for the findings.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from medgauge.benchmarks.io import ImageResolver, clean_text, field, read_json
from medgauge.prompts.templates import PromptTemplate, register
from medgauge.types import MedgaugeError, Sample

SPLITS = ("train", "val", "test")
#: R2Gen's tokenizer settings per dataset (its train_*.sh): word-count threshold of the
#: vocabulary and max_seq_length - 1, the longest reference its decoder returns.
R2GEN_DECODING = {"iu_xray": (3, 59), "mimic_cxr": (10, 99)}
#: The metrics every report-generation benchmark declares, as published tables report them
#: (metrics/report_corpus.py); CE F1 is the headline.
REPORT_METRICS = ("CE-F1-micro", "BLEU-1", "BLEU-2", "BLEU-3", "BLEU-4", "METEOR", "ROUGE-L",
                  "CIDEr", "CE-F1-macro", "CE-F1-example")
R2GEN_REFERENCE_OPTION = ("references of the text metrics: auto (default) = as R2Gen's test "
                          "loop decodes them (<unk> for rare training words, cut to 59/99 "
                          "tokens) when the generated reports look like R2Gen-family output, "
                          "else the cleaned reports; true = always decoded; false = never")
R2GEN_REFERENCE_MODES = ("auto", "true", "false")
#: The instruction of report-generation samples (a short findings request, as in the
#: report-generation prompts of MedEvalKit and LLaVA-Rad).
REPORT_INSTRUCTION = ("You are given a chest X-ray study. Write the findings section of the "
                      "radiology report in plain prose.")

register(PromptTemplate(
    "report", "{question}",
    description="report generation: the instruction only (images first)",
))


def annotation_split(path: Path, split: str) -> list[dict[str, Any]]:
    """The entries of ``split`` in an R2Gen ``annotation.json`` (see the module docstring)."""
    data = read_json(path)
    if not isinstance(data, dict):
        raise MedgaugeError(f"{path}: expected an object with lists {', '.join(SPLITS)}")
    entries = next((v for k, v in data.items() if k.strip() == split), None)
    if entries is None:
        blank = [k for k in data if not k.strip()]
        entries = next((data[k] for k in blank if isinstance(data[k], list) and data[k]
                        and isinstance(data[k][0], dict) and data[k][0].get("split") == split),
                       None)
        if entries is None:
            raise MedgaugeError(f"{path}: no split {split!r} (keys: "
                                f"{', '.join(repr(k) for k in data)})")
    if not isinstance(entries, list):
        raise MedgaugeError(f"{path}: split {split!r} must be a list of entries")
    return entries


def _entries_or_empty(path: Path, split: str) -> list[Any]:
    try:
        return annotation_split(path, split)
    except MedgaugeError:
        return []


def r2gen_decoder(path: Path, cleaning: str) -> Any:
    """A function report -> the reference R2Gen's decoder would return (vocabulary from the
    cleaned training reports of the same annotation file, ``R2GEN_DECODING`` settings)."""
    from medgauge.metrics.nlg import clean_report, r2gen_reference, r2gen_vocabulary

    threshold, max_tokens = R2GEN_DECODING[cleaning]
    train = [e.get("report") or "" for e in annotation_split(path, "train")
             if isinstance(e, dict)]
    vocab = r2gen_vocabulary([clean_report(r, cleaning) for r in train], threshold)
    return lambda report: r2gen_reference(clean_report(report, cleaning), vocab, max_tokens)


def r2gen_reference_mode(value: Any) -> str:
    """The ``r2gen_reference`` option: ``auto``, ``true`` or ``false`` (yes/no/1/0 accepted)."""
    text = str(value).strip().lower()
    text = {"1": "true", "yes": "true", "on": "true", "0": "false", "no": "false",
            "off": "false"}.get(text, text)
    if text not in R2GEN_REFERENCE_MODES:
        raise MedgaugeError(f"option r2gen_reference: expected auto, true or false, got {value!r}")
    return text


def report_samples(path: Path, split: str, images: ImageResolver, *, cleaning: str,
                   dataset: str, r2gen_reference: str = "auto") -> Iterator[Sample]:
    """Samples of an R2Gen annotation split; roles ``frontal``/``lateral`` for two-image IU
    studies, none otherwise.  ``r2gen_reference`` (``auto``/``true``/``false``, see
    ``R2GEN_REFERENCE_OPTION``) adds ``metadata["r2gen_reference"]`` (``r2gen_decoder``; scored
    with ``references_cleaned=True``) and ``metadata["r2gen_reference_mode"]``.  ``auto``
    without a training split (no vocabulary) stores no decoded reference; ``true`` then fails."""
    mode = r2gen_reference_mode(r2gen_reference)
    decode = None
    if mode != "false":
        has_train = any(isinstance(e, dict) for e in _entries_or_empty(path, "train"))
        if has_train:
            decode = r2gen_decoder(path, cleaning)
        elif mode == "true":
            raise MedgaugeError(f"{path}: r2gen_reference=true needs the train split (R2Gen's "
                                "vocabulary comes from the training reports)")
    for i, entry in enumerate(annotation_split(path, split)):
        where = f"{path}: {split}[{i}]"
        if not isinstance(entry, dict):
            raise MedgaugeError(f"{where}: expected an object")
        sid = clean_text(field(entry, "id", where))
        report = field(entry, "report", where)
        if not isinstance(report, str) or not report.strip():
            raise MedgaugeError(f"{where}: field 'report' must be a non-empty string")
        paths = entry.get("image_path") or []
        if isinstance(paths, str):
            paths = [paths]
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
            raise MedgaugeError(f"{where}: field 'image_path' must be a list of paths")
        roles: list[str | None] = (["frontal", "lateral"] if dataset == "iu_xray"
                                   and len(paths) == 2 else [None] * len(paths))
        refs = tuple(r for r in (images(p, where, role) for p, role in zip(paths, roles,
                                                                           strict=True)) if r)
        meta: dict[str, Any] = {"dataset": dataset, "split": split, "cleaning": cleaning,
                                "n_images": len(paths)}
        for key in ("study_id", "subject_id"):
            if key in entry:
                meta[key] = clean_text(entry[key])
        if decode is not None:
            meta["r2gen_reference"] = decode(report)
            meta["r2gen_reference_mode"] = mode
        cluster = meta.get("subject_id") or sid
        yield Sample(id=sid, question=REPORT_INSTRUCTION, answer=report.strip(),
                     answer_type="report", images=refs, metadata=meta, cluster=str(cluster))
