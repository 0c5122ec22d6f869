"""Where a report may be written: never over a store, or any file that is not a previous report,
unless the user says ``--force``."""

from __future__ import annotations

from pathlib import Path

from medgauge.types import MedgaugeError

#: How each format medgauge writes begins (the HTML report names its generator in its head).
_SIGNATURES = {
    "html": ('<!DOCTYPE html>', '<meta name="generator" content="medgauge">'),
    "md": ("| benchmark |", "| model |"),
    "latex": ("\\begin{tabular}",),
    "csv": ("benchmark,model,run_id,",),
}


def check_report_path(out: Path, fmt: str, force: bool) -> None:
    """Raise ``MedgaugeError`` when ``out`` exists and is not a report medgauge wrote earlier
    in format ``fmt`` (a SQLite store above all), unless ``force``."""
    if not out.exists() or force:
        return
    if not out.is_file():
        raise MedgaugeError(f"report output {out} exists and is not a file")
    with open(out, "rb") as fh:
        head = fh.read(4096)
    if head.startswith(b"SQLite format 3\x00"):
        raise MedgaugeError(f"report output {out} is a SQLite store: refusing to overwrite it "
                            "(choose another -o, or add --force)")
    text = head.decode("utf-8", "replace")
    marks = _SIGNATURES.get(fmt, ())
    ok = all(m in text for m in marks) if fmt == "html" else text.startswith(marks)
    if not ok:
        raise MedgaugeError(f"report output {out} exists and is not a previous medgauge {fmt} "
                            "report: refusing to overwrite it (choose another -o, or add "
                            "--force)")
