"""Export stored items to JSONL, CSV or Parquet (chosen by the file extension)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from medgauge.store.sqlite import Store
from medgauge.types import MedgaugeError

COLUMNS = ("run_id", "model", "benchmark", "probe", "sample_id", "variant", "question", "answer",
           "response", "extracted", "status", "invalid", "correct", "value", "error", "confidence",
           "cluster", "request_hash", "scorer", "explanation", "metrics", "metadata")


def spreadsheet_safe(value: Any) -> Any:
    """A CSV cell that spreadsheet apps will not evaluate as a formula (OWASP "CSV injection"):
    text starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a leading ``'``.
    Numbers, booleans and None pass unchanged.  The one function for every CSV medgauge
    writes."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _safe_row(row: dict[str, Any]) -> dict[str, Any]:
    return {k: spreadsheet_safe(v) for k, v in row.items()}


def rows(store: Store, run_ids: list[str]) -> Iterator[dict[str, Any]]:
    for run_id in run_ids:
        run = store.run(run_id)
        for item in store.items(run["run_id"]):
            yield {"run_id": run["run_id"], "model": run["model"], "benchmark": run["benchmark"],
                   "probe": run["probe"], "invalid": item.invalid, "correct": item.correct,
                   **{k: getattr(item, k) for k in COLUMNS if hasattr(type(item), k)
                      and k not in ("invalid", "correct")}}


def export_items(store: Store, run_ids: list[str], out: Path) -> int:
    suffix = out.suffix.lower()
    if suffix not in (".jsonl", ".csv", ".parquet"):
        raise MedgaugeError(f"cannot export to {out}: use a .jsonl, .csv or .parquet file")
    if not out.parent.exists():
        raise MedgaugeError(f"export folder does not exist: {out.parent}")
    n = 0
    if suffix == ".jsonl":
        with open(out, "w", encoding="utf-8") as fh:
            for row in rows(store, run_ids):
                fh.write(json.dumps({k: row[k] for k in COLUMNS}, ensure_ascii=False) + "\n")
                n += 1
        return n
    flat = [{k: (json.dumps(row[k], ensure_ascii=False, sort_keys=True)
                 if k in ("metrics", "metadata") else row[k]) for k in COLUMNS}
            for row in rows(store, run_ids)]
    if suffix == ".csv":
        with open(out, "w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(_safe_row(r) for r in flat)
        return len(flat)
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise MedgaugeError("Parquet export needs pyarrow: pip install 'medgauge[parquet]'"
                            ) from None
    # A fixed schema: files from runs with and without errors concatenate.
    types = {"invalid": pa.bool_(), "correct": pa.bool_(), "confidence": pa.float64(),
             "value": pa.float64()}
    schema = pa.schema([(k, types.get(k, pa.string())) for k in COLUMNS])
    pq.write_table(pa.Table.from_pylist(flat, schema=schema), out)
    return len(flat)


EXTRACTION_COLUMNS = ("sample_id", "response", "extracted", "invalid", "correct", "answer",
                      "error")


def export_extraction(store: Store, run_ids: list[str], out: Path) -> int:
    """Per-item extraction (id, raw response, extracted answer or invalid, correct) to JSONL/CSV."""
    suffix = out.suffix.lower()
    if suffix not in (".jsonl", ".csv"):
        raise MedgaugeError(f"cannot write the extraction to {out}: use .jsonl or .csv")
    records = []
    for row in rows(store, run_ids):
        rec = {k: row[k] for k in EXTRACTION_COLUMNS}
        if rec["invalid"]:
            rec["extracted"] = "invalid"
        records.append(rec)
    with open(out, "w", encoding="utf-8", newline="") as fh:
        if suffix == ".jsonl":
            for rec in records:
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
        else:
            writer = csv.DictWriter(fh, fieldnames=EXTRACTION_COLUMNS)
            writer.writeheader()
            writer.writerows(_safe_row(r) for r in records)
    return len(records)
