"""The phantom generator and benchmark: determinism, truth by pixels, layout, lazy loading."""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from medgauge.benchmarks import create_benchmark
from medgauge.benchmarks.canonical import read_canonical_jsonl
from medgauge.phantom import generate_phantom, phantom_command
from medgauge.phantom.generate import build_case
from medgauge.phantom.questions import CONVENTION
from medgauge.phantom.render import render_clean
from medgauge.phantom.spec import lung_centre
from medgauge.types import ImageRef, MedgaugeError, Sample

N_CASES = 20  # four full cycles of case kinds: standard, temporal, pair


@pytest.fixture(scope="module")
def phantom_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("phantom")
    generate_phantom(out, n_cases=N_CASES, seed=7)
    return out


@pytest.fixture(scope="module")
def items(phantom_dir: Path) -> list[dict]:
    with open(phantom_dir / "phantom.jsonl", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def _by_type(items: list[dict], question_type: str) -> list[dict]:
    return [it for it in items if it["metadata"]["question_type"] == question_type]


def _hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((folder / "images").glob("*.png"))}


def _pixels(folder: Path, rel: str) -> np.ndarray:
    with Image.open(folder / rel) as im:
        assert im.mode == "L"
        return np.asarray(im, dtype=np.float64)


def _disc(shape: tuple[int, int], x: float, y: float, r: float) -> np.ndarray:
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]] + 0.5
    return (xx - x) ** 2 + (yy - y) ** 2 <= r ** 2


# --- determinism ----------------------------------------------------------------------------

def test_same_seed_gives_identical_files_and_other_seed_differs(tmp_path: Path,
                                                                phantom_dir: Path) -> None:
    again = generate_phantom(tmp_path / "again", n_cases=N_CASES, seed=7)
    assert again.read_bytes() == (phantom_dir / "phantom.jsonl").read_bytes()
    assert _hashes(tmp_path / "again") == _hashes(phantom_dir)

    other = generate_phantom(tmp_path / "other", n_cases=N_CASES, seed=8)
    assert other.read_bytes() != again.read_bytes()
    differing = [n for n, h in _hashes(tmp_path / "other").items() if _hashes(phantom_dir)[n] != h]
    assert len(differing) == len(_hashes(phantom_dir))


def test_a_case_does_not_depend_on_the_number_of_cases(tmp_path: Path, items: list[dict]) -> None:
    short = generate_phantom(tmp_path, n_cases=5, seed=7)
    lines = short.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == items[: len(lines)]


def test_default_set_is_fast_and_shaped_as_specified(tmp_path: Path) -> None:
    start = time.perf_counter()
    path = generate_phantom(tmp_path)
    elapsed = time.perf_counter() - start
    assert elapsed < 5.0, f"default phantom set took {elapsed:.1f} s"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    types = Counter(r["metadata"]["question_type"] for r in rows)
    assert types == {"presence_right": 36, "presence_left": 36, "count": 36,
                     "largest_side": 36, "temporal": 12, "confusion_pair": 24}
    for qtype in ("presence_right", "presence_left"):
        answers = Counter(r["answer"] for r in rows if r["metadata"]["question_type"] == qtype)
        assert answers == {"yes": 18, "no": 18}
    counts = Counter(r["answer"] for r in rows if r["metadata"]["question_type"] == "count")
    assert set(counts) == set("ABCD") and min(counts.values()) >= 8
    radii = [r["metadata"]["nodule_radius"] for r in rows if r["metadata"]["nodule_radius"]]
    assert min(radii) < 6 and max(radii) > 15  # difficulty spans small to large lesions
    assert all(3.0 <= r <= 20.0 for r in radii)
    noise = {r["metadata"]["noise_level"] for r in rows}
    assert min(noise) < 6 and max(noise) > 15


# --- the truth is right ---------------------------------------------------------------------

def test_every_item_has_the_required_fields_and_the_convention(items: list[dict],
                                                               phantom_dir: Path) -> None:
    for it in items:
        assert it["question"].startswith(CONVENTION)
        meta = it["metadata"]
        for key in ("question_type", "nodule_radius", "nodule_contrast", "noise_level",
                    "n_nodules", "case_id"):
            assert key in meta, (it["id"], key)
        assert it["cluster"] == meta["case_id"]
        assert all((phantom_dir / rel).is_file() for rel in it["images"])
        if it["answer_type"] == "mcq":
            assert it["answer"] in it["options"]
        else:
            assert it["answer"] in ("yes", "no") and it["options"] == {}


def test_count_and_presence_and_largest_match_the_declared_nodules(items: list[dict]) -> None:
    for it in _by_type(items, "count"):
        meta = it["metadata"]
        assert it["options"][it["answer"]] == str(meta["n_nodules"]) == str(len(meta["nodules"]))
    for side in ("right", "left"):
        for it in _by_type(items, f"presence_{side}"):
            present = any(n["side"] == side for n in it["metadata"]["nodules"])
            assert it["answer"] == ("yes" if present else "no")
    for it in _by_type(items, "largest_side"):
        nodules = sorted(it["metadata"]["nodules"], key=lambda n: -n["radius"])
        if not nodules:
            assert it["options"][it["answer"]].startswith("None")
            continue
        assert it["options"][it["answer"]] == f"{nodules[0]['side'].capitalize()} lung"
        if len(nodules) > 1:
            assert nodules[0]["radius"] >= nodules[1]["radius"] + 2  # no near-ties


def test_right_lung_nodules_are_on_the_viewers_left(items: list[dict]) -> None:
    seen = Counter()
    for it in items:
        size = it["metadata"]["image_size"]
        for n in it["metadata"]["nodules"]:
            seen[n["side"]] += 1
            on_left_half = n["x"] + n["radius"] < size / 2
            on_right_half = n["x"] - n["radius"] > size / 2
            assert on_left_half if n["side"] == "right" else on_right_half
    assert seen["right"] > 5 and seen["left"] > 5


def test_declared_nodules_are_brighter_than_lung_in_the_png(items: list[dict],
                                                            phantom_dir: Path) -> None:
    checked = 0
    for it in _by_type(items, "count"):
        meta = it["metadata"]
        img = _pixels(phantom_dir, it["images"][0])
        for n in meta["nodules"]:
            inside = img[_disc(img.shape, n["x"], n["y"], max(n["radius"] - 1.0, 1.0))].mean()
            ring = (_disc(img.shape, n["x"], n["y"], n["radius"] + 6)
                    & ~_disc(img.shape, n["x"], n["y"], n["radius"] + 2))
            # the ring may touch another nodule: compare with its lower half (lung background)
            background = np.median(img[ring])
            assert inside - background > 0.3 * meta["nodule_contrast"], (it["id"], n)
            checked += 1
    assert checked >= 10


def test_noise_free_render_has_exactly_the_declared_intensities() -> None:
    for index in (0, 3, 4):  # standard cases
        images, items = build_case(seed=11, index=index, size=256)
        (case,) = images.values()
        clean = render_clean(case, 256)
        a = case.anatomy
        for n in case.nodules:
            centre = clean[int(n.y), int(n.x)]
            assert centre == pytest.approx(a.lung + case.contrast, abs=1e-3)
        for side in ("right", "left"):
            if not any(n.side == side for n in case.nodules):
                cx, cy = lung_centre(a, side, 256)
                lung = clean[_disc(clean.shape, cx, cy, 10)]
                assert np.allclose(lung, a.lung, atol=1e-3)
        assert items[2]["answer"] == "ABCD"[len(case.nodules)]


def test_confusion_pairs_share_question_and_options_but_not_answers(items: list[dict],
                                                                    phantom_dir: Path) -> None:
    pairs: dict[str, dict[int, dict]] = {}
    for it in _by_type(items, "confusion_pair"):
        pairs.setdefault(it["metadata"]["pair_id"], {})[it["metadata"]["pair_member"]] = it
    assert len(pairs) == N_CASES // 5
    kinds = set()
    for members in pairs.values():
        assert sorted(members) == [1, 2]
        one, two = members[1], members[2]
        assert one["question"] == two["question"] and one["options"] == two["options"]
        assert one["answer"] != two["answer"]
        assert one["images"] != two["images"] and one["cluster"] == two["cluster"]
        kinds.add(one["metadata"]["pair_question"].split("_")[0])
        a, b = (_pixels(phantom_dir, m["images"][0]) for m in (one, two))
        changed = np.abs(a - b) > 0
        assert changed.any()
        # same anatomy and noise: only the nodule areas differ
        nodule_area = np.zeros_like(changed)
        for m in (one, two):
            for n in m["metadata"]["nodules"]:
                nodule_area |= _disc(a.shape, n["x"], n["y"], n["radius"] + 2)
        assert not (changed & ~nodule_area).any()
    assert kinds == {"presence", "side"}


def test_temporal_items_have_prior_and_current_with_the_right_change(items: list[dict],
                                                                     phantom_dir: Path) -> None:
    temporal = _by_type(items, "temporal")
    assert len(temporal) == N_CASES // 5
    for it in temporal:
        meta = it["metadata"]
        assert len(it["images"]) == 2 and it["image_roles"] == ["prior", "current"]
        assert "prior" in it["images"][0] and "current" in it["images"][1]
        expected = {"grown": "A", "shrunk": "B", "unchanged": "C"}[meta["change"]]
        assert it["answer"] == expected
        prior, current = meta["prior_radius"], meta["current_radius"]
        if meta["change"] == "grown":
            assert current >= 1.3 * prior
        elif meta["change"] == "shrunk":
            assert prior >= 1.3 * current
        else:
            assert prior == current
        a, b = (_pixels(phantom_dir, rel) for rel in it["images"])
        (n,) = meta["nodules"]
        outside = ~_disc(a.shape, n["x"], n["y"], max(prior, current) + 2)
        assert np.array_equal(a[outside], b[outside])  # same anatomy and noise
        assert np.array_equal(a, b) == (meta["change"] == "unchanged")


# --- canonical reader and benchmark ---------------------------------------------------------

def test_benchmark_reads_a_folder_lazily_with_image_refs(phantom_dir: Path,
                                                         items: list[dict]) -> None:
    bench = create_benchmark("phantom", phantom_dir)
    assert bench.group_by == ("question_type",) and bench.layout
    stream = bench.samples()
    first = next(stream)
    assert isinstance(first, Sample) and first.id == items[0]["id"]
    rest = list(stream)
    samples = [first, *rest]
    assert [s.id for s in samples] == [it["id"] for it in items]
    for s in samples:
        assert s.images and all(isinstance(i, ImageRef) and i.b64 is None for i in s.images)
        assert all(Path(i.path).is_file() and i.path.endswith(".png") for i in s.images)
        assert s.cluster == s.metadata["case_id"]
    temporal = next(s for s in samples if s.metadata["question_type"] == "temporal")
    assert [i.role for i in temporal.images] == ["prior", "current"]
    mcq = next(s for s in samples if s.metadata["question_type"] == "count")
    assert mcq.answer_type == "mcq" and list(mcq.options) == ["A", "B", "C", "D"]


def test_benchmark_without_root_generates_into_the_cache(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDGAUGE_CACHE", str(tmp_path))
    bench = create_benchmark("phantom", None, seed="3", n_cases=5)
    samples = list(bench.samples())
    folder = tmp_path / "phantom" / "3-5"
    assert (folder / "phantom.jsonl").is_file()
    assert all(Path(i.path).parent == folder / "images" for s in samples for i in s.images)
    assert bench.describe()["seed"] == 3
    # a second instance reuses the set; a deleted set is regenerated identically
    stamp = (folder / "phantom.jsonl").stat().st_mtime_ns
    assert [s.id for s in create_benchmark("phantom", None, seed=3, n_cases=5).samples()] == \
        [s.id for s in samples]
    assert (folder / "phantom.jsonl").stat().st_mtime_ns == stamp
    (folder / "phantom.json").unlink()
    again = list(create_benchmark("phantom", None, seed=3, n_cases=5).samples())
    assert [(s.id, s.answer) for s in again] == [(s.id, s.answer) for s in samples]
    assert not [p for p in (tmp_path / "phantom").iterdir() if p.name.startswith(".")]
    refs = list(bench.reference_samples() or [])
    assert refs and all(s.id.startswith("ref-") for s in refs)


def test_bad_options_are_one_line_errors() -> None:
    with pytest.raises(MedgaugeError, match="option seed must be an integer"):
        create_benchmark("phantom", None, seed="abc")
    with pytest.raises(MedgaugeError, match="n_cases must be an integer >= 1"):
        create_benchmark("phantom", None, n_cases=0)


def _write(folder: Path, lines: list[str]) -> Path:
    path = folder / "data.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


GOOD = json.dumps({"id": "q1", "question": "Is it?", "answer": "Yes", "answer_type": "yesno"})


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("{not json", r"data\.jsonl:2: malformed JSON"),
        (json.dumps({"question": "q", "answer": "A"}), r"data\.jsonl:2: missing field 'id'"),
        (json.dumps({"id": "q2", "question": "q", "answer": "C", "answer_type": "mcq",
                     "options": {"A": "x", "B": "y"}}), r"data\.jsonl:2: field 'answer' 'C'"),
        (json.dumps({"id": "q2", "question": "q", "answer": "x", "answer_type": "essay"}),
         r"data\.jsonl:2: field 'answer_type'"),
        (json.dumps({"id": "q2", "question": "q", "answer": "x", "images": ["a.png"],
                     "image_roles": ["prior", "current"]}), r"data\.jsonl:2: field 'image_roles'"),
        (json.dumps({"id": "q2", "question": "q", "answer": "x", "images": ["missing.png"]}),
         r"data\.jsonl:2: field 'images': image not found"),
        (json.dumps({"id": "q2", "question": "q", "answer": "x", "images": ["../../etc.png"]}),
         r"data\.jsonl:2: field 'images': image path .* escapes"),
        (json.dumps({"id": "q1", "question": "q", "answer": "x"}),
         r"data\.jsonl:2: field 'id' 'q1' repeats line 1"),
    ],
)
def test_malformed_canonical_lines_name_file_line_and_field(tmp_path: Path, bad_line: str,
                                                            message: str) -> None:
    path = _write(tmp_path, [GOOD, bad_line])
    stream = read_canonical_jsonl(path)
    assert next(stream).answer == "yes"  # the good line is read before the bad one is parsed
    with pytest.raises(MedgaugeError, match=message):
        next(stream)


def test_canonical_reader_infers_answer_types(tmp_path: Path) -> None:
    path = _write(tmp_path, [
        json.dumps({"id": 1, "question": "q", "answer": "B", "options": {"A": "x", "B": "y"}}),
        json.dumps({"id": 2, "question": "q", "answer": "No"}),
        json.dumps({"id": 3, "question": "q", "answer": "pleural effusion", "cluster": 9}),
        json.dumps({"id": 4, "question": "q", "answer": "maybe",
                    "labels": ["yes", "no", "maybe"]}),
    ])
    got = [(s.id, s.answer_type, s.answer, s.cluster) for s in read_canonical_jsonl(path)]
    assert got == [("1", "mcq", "B", None), ("2", "yesno", "no", None),
                   ("3", "open", "pleural effusion", "9"), ("4", "yesno", "maybe", None)]


def test_phantom_command_refuses_foreign_folders_and_replaces_its_own(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(MedgaugeError, match="not empty"):
        phantom_command(foreign, n_cases=2, seed=0)
    assert (foreign / "notes.txt").read_text() == "keep me"

    out = tmp_path / "set"
    phantom_command(out, n_cases=10, seed=0)
    assert len(list((out / "images").glob("*.png"))) > 8
    path = phantom_command(out, n_cases=2, seed=0)  # smaller rerun: no stale images remain
    referenced = {rel.split("/")[-1] for s in path.read_text().splitlines()
                  for rel in json.loads(s)["images"]}
    assert {p.name for p in (out / "images").glob("*.png")} == referenced
    with pytest.raises(MedgaugeError, match="seed must be a non-negative integer"):
        phantom_command(out, n_cases=2, seed=-1)
