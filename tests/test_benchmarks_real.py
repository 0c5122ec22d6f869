"""Loaders on the real benchmark files in ../shared/data (skipped when that folder is absent).

The counts are the published split sizes (see ../shared/data/README.md).  SLAKE, MedXpertQA
and MediConfusion images are not in the shared copy, so those load with images=skip (or lazy);
VQA-RAD's 203 test images are present and are checked.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from medgauge.benchmarks import benchmarks, create_benchmark
from medgauge.prompts.templates import render, resolve
from medgauge.types import MedgaugeError


def test_every_benchmark_is_registered() -> None:
    expected = {"vqa-rad", "slake", "pathvqa", "pmc-vqa", "omnimedvqa", "medxpertqa-mm",
                "medxpertqa-text", "mmmu-med", "gmai-mmbench", "mediconfusion", "vqa-med-2019",
                "medqa", "medmcqa", "pubmedqa", "mmlu-med", "custom"}
    assert expected <= set(benchmarks.names())
    for name in expected:
        cls = benchmarks.get(name)
        assert cls.layout, name


@pytest.mark.parametrize("source", ["auto", "mevf", "official"])
def test_vqa_rad_test_split(shared_data: Path, source: str) -> None:
    bench = create_benchmark("vqa-rad", shared_data / "vqa_rad", source=source)
    items = list(bench.samples())
    assert len(items) == 451
    groups = Counter(s.metadata["answer_type_group"] for s in items)
    assert groups == {"closed": 272, "open": 179}
    assert len({s.cluster for s in items}) == 203
    assert {Path(img.path).name for s in items for img in s.images} == {s.cluster for s in items}
    assert all(Path(s.images[0].path).is_file() for s in items)
    closed = [s for s in items if s.metadata["answer_type_group"] == "closed"]
    # closed yes/no -> yesno lowercased; other closed answers ("mri", "left") -> open text
    assert {s.answer for s in closed if s.answer_type == "yesno"} == {"yes", "no"}
    assert any(s.answer_type == "open" for s in closed)
    assert all(s.answer_type == "open" for s in items if s.metadata["answer_type_group"] == "open")
    assert {"image_organ", "question_type"} <= set(items[0].metadata)
    assert len({s.id for s in items}) == 451


def test_vqa_rad_official_train_is_reference(shared_data: Path) -> None:
    bench = create_benchmark("vqa-rad", shared_data / "vqa_rad", source="official")
    ref = bench.reference_samples()
    assert ref is not None and sum(1 for _ in ref) == 2248 - 451
    # the MEVF folder here has no trainset.json: no reference split, not an error
    assert create_benchmark("vqa-rad", shared_data / "vqa_rad").reference_samples() is None


def test_slake_counts(shared_data: Path) -> None:
    root = shared_data / "slake_text_only"
    en = list(create_benchmark("slake", root, images="skip").samples())
    assert len(en) == 1061
    assert Counter(s.metadata["answer_type"] for s in en) == {"closed": 416, "open": 645}
    assert all(s.images == () for s in en)
    assert {s.answer for s in en if s.answer_type == "yesno"} == {"yes", "no"}
    assert sum(1 for _ in create_benchmark("slake", root, images="skip", lang="all").samples()) \
        == 2094
    zh = list(create_benchmark("slake", root, images="skip", lang="zh").samples())
    assert len(zh) == 1033
    closed_zh = [s for s in zh if s.metadata["answer_type_group"] == "closed"]
    # Closed Chinese answers from affirmative/negative pairs become two-label questions.
    paired = [s for s in closed_zh if s.answer_type == "yesno"]
    assert len(paired) == 353 and all(s.answer in s.labels and len(s.labels) == 2 for s in paired)
    assert {s.labels for s in paired} >= {("是的", "不是"), ("包含", "不包含"), ("有", "没有")}
    assert all(s.answer_type == "open" for s in zh if s.metadata["answer_type_group"] == "open")
    assert {"modality", "content_type", "location"} <= set(en[0].metadata)


def test_slake_lazy_images_point_into_imgs(shared_data: Path) -> None:
    items = list(create_benchmark("slake", shared_data / "slake_text_only",
                                  images="lazy").samples())
    first = items[0].images[0]
    assert first.path.endswith("imgs/xmlab102/source.jpg")
    with pytest.raises(MedgaugeError, match="image not found"):
        first.read_bytes()


def test_slake_default_demands_images(shared_data: Path) -> None:
    bench = create_benchmark("slake", shared_data / "slake_text_only")
    with pytest.raises(MedgaugeError, match="images=skip"):
        next(iter(bench.samples()))


def test_pubmedqa(shared_data: Path) -> None:
    bench = create_benchmark("pubmedqa", shared_data / "pubmedqa")
    items = list(bench.samples())
    assert len(items) == 500
    assert Counter(s.answer for s in items) == {"yes": 276, "no": 169, "maybe": 55}
    assert all(s.labels == ("yes", "no", "maybe") and s.context for s in items)
    text = render(items[0], resolve(bench.prompt, items[0]))[-1]["content"][-1]["text"]
    assert text.startswith("Context: ") and "yes, no or maybe" in text
    ref = list(bench.reference_samples() or [])
    assert len(ref) == 500 and not {s.id for s in ref} & {s.id for s in items}
    bare = create_benchmark("pubmedqa", shared_data / "pubmedqa", context="false")
    assert next(iter(bare.samples())).context is None and bare.prompt == "yesno"
    # `--opt context=false` arrives YAML-parsed, as a bool
    assert create_benchmark("pubmedqa", shared_data / "pubmedqa", context=False).prompt == "yesno"


def test_medqa_inline_options(shared_data: Path) -> None:
    items = {s.id: s for s in create_benchmark("medqa", shared_data / "medqa_usmle").samples()}
    assert len(items) == 1273
    assert all(list(s.options) == ["A", "B", "C", "D"] for s in items.values())
    assert all("Answer Choices" not in s.question for s in items.values())
    tricky = items["test-00610"]  # option A's text contains "Rh(D) positive"
    assert tricky.options["A"].endswith("Rh(D) positive.")
    assert tricky.options["B"].startswith("Repeat antibody screening")
    assert tricky.answer == "A"


def test_medmcqa_inline_options(shared_data: Path) -> None:
    items = list(create_benchmark("medmcqa", shared_data / "medmcqa").samples())
    assert len(items) == 4183
    assert Counter(s.answer for s in items) == {"A": 1348, "B": 1085, "C": 925, "D": 825}
    both = next(s for s in items if s.id.startswith("e3bdd685"))
    assert both.options["D"] == "Both (A) & (C)"
    assert items[0].metadata["subject_name"] == "Physiology"


def test_medxpertqa(shared_data: Path) -> None:
    root = shared_data / "medxpertqa"
    mm = list(create_benchmark("medxpertqa-mm", root, images="skip").samples())
    assert len(mm) == 2000 and all(len(s.options) == 5 for s in mm)
    assert {"medical_task", "body_system", "question_type"} <= set(mm[0].metadata)
    lazy = list(create_benchmark("medxpertqa-mm", root, images="lazy").samples())
    assert sum(len(s.images) for s in lazy) > 2000  # some items have several images
    assert lazy[0].images[0].path.endswith("images/MM-0-a.jpeg")
    text = list(create_benchmark(
        "medxpertqa-text", root / "medxpertqa_sampled_text_input.jsonl").samples())
    assert len(text) == 244 and all(len(s.options) == 10 for s in text)


def test_medxpertqa_missing_image_names_line(shared_data: Path, tmp_path: Path) -> None:
    bench = create_benchmark("medxpertqa-mm", shared_data / "medxpertqa", image_root=tmp_path)
    with pytest.raises(MedgaugeError, match=r"medxpertqa_mm_input\.jsonl:1: image not found: "
                                            r".*MM-0-a\.jpeg"):
        next(iter(bench.samples()))


def test_mediconfusion_pairs(shared_data: Path) -> None:
    items = list(create_benchmark("mediconfusion", shared_data / "mediconfusion_text_only",
                                  images="skip").samples())
    assert len(items) == 352
    pairs: dict[str, list] = {}
    for s in items:
        pairs.setdefault(s.metadata["pair_id"], []).append(s)
    assert len(pairs) == 176
    for pair_id, (one, two) in pairs.items():
        assert (one.id, two.id) == (f"{pair_id}_1", f"{pair_id}_2")
        assert one.question == two.question and one.options == two.options
        assert {one.answer, two.answer} == {"A", "B"} and one.cluster == pair_id
        assert (one.metadata["pair_member"], two.metadata["pair_member"]) == (1, 2)


def test_mediconfusion_local_image_names(shared_data: Path, tmp_path: Path) -> None:
    bench = create_benchmark("mediconfusion", shared_data / "mediconfusion_text_only",
                             image_root=tmp_path, images="lazy")
    first = next(iter(bench.samples()))
    assert Path(first.images[0].path) == tmp_path / "20192.jpg"  # im_1_local of pair 10001
    roco = create_benchmark("mediconfusion", shared_data / "mediconfusion_text_only",
                            image_root=tmp_path, images="lazy", image_names="roco")
    assert next(iter(roco.samples())).images[0].path.endswith(
        "train/radiology/images/ROCO_28778.jpg")


def test_vqa_med_2019(shared_data: Path) -> None:
    root = shared_data / "vqa_med_2019_test"
    items = list(create_benchmark("vqa-med-2019", root, images="lazy").samples())
    assert len(items) == 500
    assert Counter(s.metadata["category"] for s in items) == {
        "modality": 125, "plane": 125, "organ": 125, "abnormality": 125}
    assert all(s.answer in ("yes", "no") for s in items if s.answer_type == "yesno")
    alt = next(s for s in items if "#" in s.answer)
    assert len(alt.metadata["answers"]) >= 2
    present = {p.stem for p in (root / "images_partial").glob("*.jpg")}
    with_files = [s for s in items if s.cluster in present]
    assert len(with_files) == 6 and all(Path(s.images[0].path).is_file() for s in with_files)
    with pytest.raises(MedgaugeError, match=r"Ref_Answers\.txt:3: image not found"):
        list(create_benchmark("vqa-med-2019", root).samples())


def test_mediconfusion_categories_are_lists_for_breakdowns(shared_data: Path) -> None:
    from medgauge.metrics import ACCURACY, grouped

    items = list(create_benchmark("mediconfusion", shared_data / "mediconfusion_text_only",
                                  images="skip").samples())
    assert all(isinstance(s.metadata["category"], list) for s in items)
    rows = [{"metadata": s.metadata, "correct": True, "error": None, "extracted": "A"}
            for s in items]
    groups = grouped(ACCURACY, rows, "category")
    assert not any("," in name for name in groups)  # one group per category, not per combination
    assert sum(g.n for g in groups.values()) == 441  # the release's membership count
