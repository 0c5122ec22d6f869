"""Size and load time of the HTML report for 2 models x 3 benchmarks x ~500 items.

Usage: python benchmarks/report_size.py [--items 500] [--out DIR]
Prints readable lines, then one JSON line with the numbers.  The Chromium load time is the
wall time of ``chromium --headless --dump-dom`` on the report minus the same on a blank page
(so it excludes browser start-up); it is skipped (null) when no Chromium binary is found.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from medgauge.report import write_html_report
from medgauge.report.synthetic import synthetic_runs


def find_chromium() -> str | None:
    env = os.environ.get("MEDGAUGE_CHROMIUM")
    if env:
        return env
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def dump_time(binary: str, url: str, profile: Path) -> float:
    cmd = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={profile}", "--dump-dom", url]
    t0 = time.perf_counter()
    subprocess.run(cmd, capture_output=True, timeout=120, check=True)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=500, help="items per run (default 500)")
    ap.add_argument("--out", type=Path, default=None, help="folder for report.html (temp dir)")
    ap.add_argument("--repeats", type=int, default=3, help="browser loads to take the median of")
    args = ap.parse_args(argv)
    out_dir = args.out or Path(tempfile.mkdtemp(prefix="medgauge-report-"))
    runs = synthetic_runs(n_items=args.items)
    t0 = time.perf_counter()
    page = write_html_report(runs, out_dir / "report.html")
    build_s = time.perf_counter() - t0
    size_mb = page.stat().st_size / 1e6
    print(f"runs: {len(runs)} x {args.items} items -> {page}")
    print(f"report size: {size_mb:.2f} MB, built in {build_s:.2f} s")
    load_s = None
    binary = find_chromium()
    if binary:
        blank = out_dir / "blank.html"
        blank.write_text("<!DOCTYPE html><title>blank</title>", encoding="utf-8")
        profile = out_dir / "chromium-profile"
        base, full = [], []
        for _ in range(max(1, args.repeats)):
            base.append(dump_time(binary, blank.as_uri(), profile))
            full.append(dump_time(binary, page.as_uri(), profile))
        base.sort()
        full.sort()
        load_s = max(0.0, full[len(full) // 2] - base[len(base) // 2])
        print(f"headless Chromium load (median, minus blank page): {load_s:.2f} s")
    else:
        print("no Chromium binary found: load time skipped (apt-get install -y chromium)")
    print(json.dumps({"runs": len(runs), "items_per_run": args.items, "size_mb": round(size_mb, 3),
                      "build_s": round(build_s, 3),
                      "chromium_load_s": None if load_s is None else round(load_s, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
