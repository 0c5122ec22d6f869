"""Question texts, options, answers and metadata for phantom items (canonical JSONL objects).

Every question states the radiological convention, because "right lung" is otherwise ambiguous
on an image.
"""

from __future__ import annotations

from typing import Any

from medgauge.phantom.spec import Case, Side, scale

CONVENTION = "Radiological convention: the patient's right is on the left side of the image."

COUNT_OPTIONS = {"A": "0", "B": "1", "C": "2", "D": "3"}
LARGEST_OPTIONS = {"A": "Right lung", "B": "Left lung", "C": "None (no nodule)"}
SIDE_OPTIONS = {"A": "Right lung", "B": "Left lung"}
TEMPORAL_OPTIONS = {"A": "Grown", "B": "Shrunk", "C": "Unchanged"}
SIDE_LETTER: dict[Side, str] = {"right": "A", "left": "B"}
CHANGE_LETTER = {"grown": "A", "shrunk": "B", "unchanged": "C"}


def ask(text: str) -> str:
    return f"{CONVENTION} {text}"


def presence_question(side: Side) -> str:
    return ask(f"Is there a nodule in the {side} lung?")


COUNT_QUESTION = ask("How many nodules are visible?")
LARGEST_QUESTION = ask("Which lung contains the largest nodule?")
SIDE_QUESTION = ask("Which lung contains the nodule?")
TEMPORAL_QUESTION = ask(
    "Compared with the prior image (first), has the nodule grown, shrunk, or remained "
    "unchanged in the current image (second)?"
)


def radius_bin(radius: float, size: int) -> str:
    """Size class at the 256-pixel reference: small < 6 px <= medium < 12 px <= large."""
    if radius <= 0:
        return "none"
    ref = radius / scale(size)
    return "small" if ref < 6 else "medium" if ref < 12 else "large"


def case_metadata(case: Case, case_id: str, question_type: str, size: int,
                  side: Side | None = None) -> dict[str, Any]:
    """Truth and difficulty of one image.  ``nodule_radius`` is the largest radius among the
    nodules the question is about (those in ``side``'s lung when given), 0 if none;
    ``min_radius`` the smallest nodule in the image."""
    relevant = [n.radius for n in case.nodules if side is None or n.side == side]
    radius = max(relevant, default=0.0)
    contrast = case.contrast if relevant else 0.0
    return {
        "question_type": question_type,
        "case_id": case_id,
        "n_nodules": len(case.nodules),
        "nodule_radius": radius,
        "min_radius": min((n.radius for n in case.nodules), default=0.0),
        "nodule_contrast": contrast,
        "noise_level": case.noise,
        "cnr": round(contrast / case.noise, 2) if case.noise else None,  # contrast-to-noise
        "radius_bin": radius_bin(radius, size),
        "image_size": size,
        "nodules": [
            {"side": n.side, "x": n.x, "y": n.y, "radius": n.radius} for n in case.nodules
        ],
    }


def item(item_id: str, question: str, answer: str, answer_type: str, images: list[str],
         metadata: dict[str, Any], cluster: str, options: dict[str, str] | None = None,
         image_roles: list[str] | None = None) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "id": item_id,
        "question": question,
        "answer": answer,
        "answer_type": answer_type,
        "options": dict(options or {}),
        "images": images,
    }
    if image_roles:
        obj["image_roles"] = image_roles
    obj["metadata"] = metadata
    obj["cluster"] = cluster
    return obj


def single_image_items(case: Case, case_id: str, image: str, size: int) -> list[dict[str, Any]]:
    """presence_right, presence_left, count and largest_side for one image."""
    out = []
    for side in ("right", "left"):
        present = any(n.side == side for n in case.nodules)
        out.append(item(
            f"{case_id}-presence_{side}", presence_question(side), "yes" if present else "no",
            "yesno", [image], case_metadata(case, case_id, f"presence_{side}", size, side),
            case_id,
        ))
    out.append(item(
        f"{case_id}-count", COUNT_QUESTION, "ABCD"[len(case.nodules)], "mcq", [image],
        case_metadata(case, case_id, "count", size), case_id, COUNT_OPTIONS,
    ))
    if case.nodules:
        largest = max(case.nodules, key=lambda n: n.radius)
        answer = SIDE_LETTER[largest.side]
    else:
        answer = "C"
    out.append(item(
        f"{case_id}-largest_side", LARGEST_QUESTION, answer, "mcq", [image],
        case_metadata(case, case_id, "largest_side", size), case_id, LARGEST_OPTIONS,
    ))
    return out
