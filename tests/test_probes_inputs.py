"""What probes build: corrupted images (real VQA-RAD radiographs), template files, options."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from medgauge.probes.corrupt import corrupt_bytes, corrupted_ref
from medgauge.runner.solver import solvers
from medgauge.types import GenParams, ImageRef, MedgaugeError, Sample

RADIOGRAPH = "vqa_rad/images/synpic42202.jpg"


def pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)), dtype=float)


@pytest.fixture
def xray(shared_data: Path) -> ImageRef:
    return ImageRef(str(shared_data / RADIOGRAPH))


def test_corruptions_are_deterministic_and_graded(xray: ImageRef) -> None:
    a = corrupt_bytes(xray, "gaussian_noise", 3, seed=7, max_side=128)
    assert a == corrupt_bytes(xray, "gaussian_noise", 3, seed=7, max_side=128)
    assert a != corrupt_bytes(xray, "gaussian_noise", 3, seed=8, max_side=128)
    assert a.startswith(b"\x89PNG")
    base = pixels(corrupt_bytes(xray, "contrast", 1, 0, max_side=128))
    assert base.ndim == 2  # a grey radiograph stored as RGB is corrupted as grey
    noise = [np.abs(pixels(corrupt_bytes(xray, "gaussian_noise", s, 0, max_side=128))
                    - pixels(corrupt_bytes(xray, "blur", 1, 0, max_side=128))).mean()
             for s in (1, 5)]
    assert noise[0] < noise[1]
    spread = [pixels(corrupt_bytes(xray, "contrast", s, 0, max_side=128)).std() for s in (1, 5)]
    assert spread[0] > spread[1] > 0
    jpeg = [corrupt_bytes(xray, "jpeg", s, 0, max_side=128) for s in (1, 5)]
    assert all(j.startswith(b"\xff\xd8\xff") for j in jpeg) and len(jpeg[1]) < len(jpeg[0])
    small = pixels(corrupt_bytes(xray, "downscale", 5, 0, max_side=128))
    assert small.shape == base.shape
    ref = corrupted_ref(xray, "blur", 2, 0, max_side=64)
    assert ref.path.endswith("synpic42202.jpg#blur@2") and ref.b64 is not None
    assert ref.content_hash() == corrupted_ref(xray, "blur", 2, 0, max_side=64).content_hash()


def test_region_noise_replaces_only_the_box_mmedpo(xray: ImageRef, tmp_path: Path) -> None:
    orig = pixels(corrupt_bytes(xray, "region_noise", 1, 0, max_side=100, box=(0, 0, 1e-9, 1)))
    full = pixels(corrupt_bytes(xray, "region_noise", 5, 3, max_side=100,
                                box=(0.2, 0.2, 0.6, 0.6)))
    h, w = full.shape
    inside = full[round(0.2 * h):round(0.6 * h), round(0.2 * w):round(0.6 * w)]
    outside = full.copy()
    outside[round(0.2 * h):round(0.6 * h), round(0.2 * w):round(0.6 * w)] = np.nan
    assert np.nanmax(np.abs(outside - orig)) == 0  # untouched outside the box
    # N(0, 10) clipped to [0, 255]: about half zeros, the rest small
    assert inside.mean() < 10 and inside.max() < 80 and (inside == 0).mean() > 0.3
    mask = np.zeros((10, 10), dtype=np.uint8)
    mask[:5, :] = 255
    Image.fromarray(mask).save(tmp_path / "m.png")
    masked = pixels(corrupt_bytes(xray, "region_noise", 5, 3, max_side=100,
                                  mask=str(tmp_path / "m.png")))
    assert masked[: h // 2 - 2].mean() < 10 and np.all(masked[h // 2 + 2:] == orig[h // 2 + 2:])


def test_probe_options_are_checked() -> None:
    import medgauge.probes  # noqa: F401

    with pytest.raises(MedgaugeError, match="unknown corruption 'fog'"):
        solvers.get("perturb")(corruptions="blur,fog")
    with pytest.raises(MedgaugeError, match="severities must be 1 to 5"):
        solvers.get("perturb")(severities=[0, 3])
    with pytest.raises(MedgaugeError, match="box"):
        solvers.get("perturb")(box="0.5,0.5,0.1,0.9")
    with pytest.raises(MedgaugeError, match="unknown option 'sever'"):
        solvers.get("perturb")(sever=1)
    with pytest.raises(MedgaugeError, match="unknown intervention 'shouting'"):
        solvers.get("followup")(interventions="authority,shouting")
    with pytest.raises(MedgaugeError, match="unknown template 'nope'"):
        solvers.get("leading")(template="nope")
    with pytest.raises(MedgaugeError, match="decoding"):
        solvers.get("confidence")(decoding="greedy")
    for name in ("blind", "pairs", "leading", "followup", "permute", "perturb", "mismatch",
                 "confidence"):
        probe = solvers.get(name)()
        assert probe.description and probe.headline


def test_user_templates_extend_and_replace(tmp_path: Path) -> None:
    import medgauge.probes  # noqa: F401

    own = tmp_path / "mine.yaml"
    own.write_text(
        "templates:\n"
        "  - {name: authority, kind: direct, text: 'The chief of radiology says {wrong}.'}\n"
        "  - {name: guideline, kind: indirect, text: 'A 2024 guideline favours {wrong_text}.',"
        " reconsider: 'Final answer?'}\n")
    probe = solvers.get("followup")(templates=str(own))
    names = [t["name"] for t in probe.templates]
    assert names == ["user-insists", "authority", "retrieved-passage", "similar-case",
                     "guideline"]
    s = Sample("q", "Which lobe?", "A", "mcq", options={"A": "upper", "B": "lower"})
    assert probe.turn(probe.templates[1], s, "B").startswith("The chief of radiology says "
                                                              "B (lower). Please reconsider")
    assert probe.turn(probe.templates[4], s, "B") == "A 2024 guideline favours lower. Final answer?"
    bad = tmp_path / "bad.json"
    bad.write_text('{"templates": [{"name": "x", "kind": "direct", "text": "{wrongg}"}]}')
    with pytest.raises(MedgaugeError, match=r"bad.json: templates\[0\]: field 'text' has "
                                            r"unknown placeholder \{wrongg\}"):
        solvers.get("followup")(templates=str(bad))
    missing = tmp_path / "missing.yaml"
    missing.write_text("templates:\n  - {name: y, text: 'hi'}\n")
    with pytest.raises(MedgaugeError, match=r"missing.yaml: templates\[0\]: field 'kind'"):
        solvers.get("followup")(templates=str(missing))
    broken = tmp_path / "broken.yaml"
    broken.write_text("templates: [\n")
    with pytest.raises(MedgaugeError, match=r"broken\.yaml: line"):
        solvers.get("leading")(templates=str(broken))
    with pytest.raises(MedgaugeError, match="template file not found"):
        solvers.get("leading")(templates=str(tmp_path / "none.yaml"))


def test_leading_and_followup_pick_wrong_options_uniformly_with_the_seed() -> None:
    """Over many items each wrong option is drawn about equally often, never the gold, and the
    same seed gives the same draws."""
    import medgauge.probes  # noqa: F401
    from medgauge.backends import create_backend
    from medgauge.runner.calls import ModelCaller
    from medgauge.runner.solver import SolveContext
    from medgauge.scoring import get_scorer
    from medgauge.store import Store

    probe = solvers.get("leading")()
    ctx = SolveContext(ModelCaller(create_backend("baseline:random"), Store(":memory:")),
                       prompt=None, rule=get_scorer(None), params=GenParams(), seed=5)
    opts = {"A": "a", "B": "b", "C": "c", "D": "d"}
    draws = [probe.pick(Sample(str(i), "Q?", "B", "mcq", options=opts), ctx) for i in range(400)]
    counts = {c: sum(d[1] == c for d in draws if d) for c in "ABCD"}
    assert counts["B"] == 0 and all(90 < counts[c] < 180 for c in "ACD")
    again = [probe.pick(Sample(str(i), "Q?", "B", "mcq", options=opts), ctx) for i in range(400)]
    assert [d[1] for d in draws if d] == [d[1] for d in again if d]
    open_item = Sample("o", "What organ?", "liver", "open")
    assert probe.pick(open_item, ctx) is None
    assert asyncio.run(probe.solve(open_item, ctx)) == []
