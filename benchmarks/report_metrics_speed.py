"""Time of the report-generation text metrics on the IU X-ray R2Gen test split (590 reports).

Prints the time to build the corpus statistics (pycocoevalcap scorers, one METEOR Java process)
and the time of a 1,000-resample bootstrap from them.  The "model" writes the next study's
report.  Usage: python benchmarks/report_metrics_speed.py [ANNOTATION_JSON]
(default ../shared/data/iu_xray_reports_text_only/r2gen_test_590.json, a list of entries).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from medgauge.metrics.nlg import CocoCorpus


def main(path: Path) -> None:
    entries = json.loads(path.read_text())
    refs = [[e["report"]] for e in entries]
    preds = [entries[(i + 1) % len(entries)]["report"] for i in range(len(entries))]
    start = time.perf_counter()
    corpus = CocoCorpus.build(preds, refs)
    built = time.perf_counter() - start
    start = time.perf_counter()
    boot = corpus.bootstrap(1000, seed=0)
    resampled = time.perf_counter() - start
    print(f"{len(entries)} reports: build {built:.2f} s, 1000-resample bootstrap {resampled:.2f} s")
    for name, value in corpus.corpus.items():
        lo, hi = (float(x) for x in (boot[name].min(), boot[name].max()))
        print(f"  {name:<8} {value:.4f}  resamples {lo:.4f}..{hi:.4f}")


if __name__ == "__main__":
    default = (Path(__file__).resolve().parents[1].parent
               / "shared/data/iu_xray_reports_text_only/r2gen_test_590.json")
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else default)
