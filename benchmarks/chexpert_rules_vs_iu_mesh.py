"""Agreement of the rule-based CheXpert labeler with the IU X-ray (OpenI) MeSH problem terms.

The OpenI reports carry MeSH-based "Problems" assigned by human indexers (Demner-Fushman et al.
2016).  For each observation with a matching MeSH term this prints, over all reports with
findings or impression text: how many reports carry the term, the share the labeler marks
positive or uncertain (sensitivity), and the share of reports WITHOUT the term the labeler
leaves not-positive (specificity).  Usage: python benchmarks/chexpert_rules_vs_iu_mesh.py
[DATA_DIR]  (default ../shared/data/iu_xray_reports_text_only).
"""

from __future__ import annotations

import csv
import sys
import time
from pathlib import Path

from medgauge.labelers.chexpert_rules import label_report

MESH = {
    "No Finding": ("normal",),
    "Cardiomegaly": ("Cardiomegaly",),
    "Pleural Effusion": ("Pleural Effusion",),
    "Atelectasis": ("Pulmonary Atelectasis",),
    "Lung Opacity": ("Opacity", "Airspace Disease", "Infiltrate"),
    "Lung Lesion": ("Nodule", "Mass"),
    "Edema": ("Pulmonary Edema",),
    "Pneumonia": ("Pneumonia",),
    "Pneumothorax": ("Pneumothorax",),
    "Fracture": ("Fractures, Bone",),
    "Consolidation": ("Consolidation",),
    "Support Devices": ("Catheters, Indwelling", "Implanted Medical Device"),
}


def main(folder: Path) -> None:
    rows = []
    with open(folder / "indiana_reports.csv", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            text = f"{row['findings']} {row['impression']}".strip()
            if text:
                rows.append(({p.strip() for p in row["Problems"].split(";")}, text))
    start = time.perf_counter()
    labels = [label_report(text) for _, text in rows]
    elapsed = time.perf_counter() - start
    print(f"{len(rows)} reports labelled in {elapsed:.2f} s")
    print(f"{'observation':<20} {'n':>5} {'sensitivity':>11} {'specificity':>11}")
    for obs, terms in MESH.items():
        has = [bool(problems & set(terms)) for problems, _ in rows]
        pos = [lab[obs] in (1, -1) for lab in labels]
        n = sum(has)
        sens = sum(p for p, h in zip(pos, has, strict=True) if h) / max(n, 1)
        spec = sum(not p for p, h in zip(pos, has, strict=True) if not h) / max(len(has) - n, 1)
        print(f"{obs:<20} {n:>5} {sens:>11.3f} {spec:>11.3f}")


if __name__ == "__main__":
    default = Path(__file__).resolve().parents[1].parent / "shared/data/iu_xray_reports_text_only"
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else default)
