"""``replay:PREDICTIONS`` answers from a file of outputs another tool produced.

This is how ``medgauge score`` re-scores external predictions: the file's raw responses go through
exactly the same runner, store, extraction and metrics as a live model's.  The file is JSONL or CSV
with an id column (default ``id``) or, failing that, the question text (``question``), and the raw
response (default ``response``; ``prediction``, ``output``, ``answer_raw``, ``text`` and
``report`` are also recognised).  A sample with no prediction is a request error (reported
apart), not a wrong answer.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, ClassVar

from medgauge.backends.base import Backend, backends
from medgauge.types import MedgaugeError, Request, Response

_RESPONSE_COLUMNS = ("response", "prediction", "output", "answer_raw", "text", "report")


def _normalise_question(text: str) -> str:
    return " ".join(text.lower().split())


@backends.register("replay")
class ReplayBackend(Backend):
    """Answers from a predictions file (JSONL/CSV: id or question, raw response)."""

    kind = "replay"
    option_help: ClassVar[dict[str, str]] = {
        "id_field": "column holding the sample id (default id)",
        "question_field": "column holding the question, used when the id is absent",
        "response_field": "column holding the raw response (default: response, prediction, "
                          "output, answer_raw or text)",
        "concurrency": "requests in flight (default 8)",
    }

    def __init__(self, model: str, options: dict[str, Any] | None = None) -> None:
        options = dict(options or {})
        options.setdefault("concurrency", 8)
        options.setdefault("stop_after_failures", 0)  # a missing prediction is not a dead server
        super().__init__(model, options)
        self.path = Path(model).expanduser()
        self.id_field = str(self.options.pop("id_field", "id"))
        self.response_field = self.options.pop("response_field", None)
        self.question_field = str(self.options.pop("question_field", "question"))
        self.reject_unknown_options("id_field, response_field, question_field, concurrency")
        self.by_id: dict[str, str] = {}
        self.by_question: dict[str, str] = {}
        self.row_of_id: dict[str, str] = {}
        self._load()

    def identity(self) -> str:
        import hashlib

        digest = hashlib.blake2b(self.path.read_bytes(), digest_size=6).hexdigest()
        return f"replay:{self.path.name}@{digest}"

    def display_name(self) -> str:
        return f"replay:{self.path.name}"

    def key_extra(self, request: Request) -> str | None:
        return str(request.meta.get("sample_id"))  # answers are per sample, not per question

    def _rows(self) -> list[tuple[str, dict[str, Any]]]:
        if not self.path.is_file():
            raise MedgaugeError(f"predictions file not found: {self.path}")
        from medgauge.benchmarks.io import open_text, read_jsonl, suffix_of

        if suffix_of(self.path) == ".csv":
            with open_text(self.path, newline="") as fh:
                try:
                    return [(f"{self.path}:{i}", row)
                            for i, row in enumerate(csv.DictReader(fh), 2)]
                except UnicodeDecodeError as exc:
                    raise MedgaugeError(f"{self.path}: not UTF-8 text ({exc.reason})") from None

        return [(f"{self.path}:{n}", row) for n, row in read_jsonl(self.path)]

    def _load(self) -> None:
        rows = self._rows()
        if not rows:
            raise MedgaugeError(f"predictions file is empty: {self.path}")
        columns = set(rows[0][1])
        field = self.response_field or next((c for c in _RESPONSE_COLUMNS if c in columns), None)
        if field is None or field not in columns:
            raise MedgaugeError(f"{self.path}: no response column (looked for "
                                f"{self.response_field or ', '.join(_RESPONSE_COLUMNS)}; "
                                f"columns: {', '.join(sorted(columns))})")
        if self.id_field not in columns and self.question_field not in columns:
            raise MedgaugeError(f"{self.path}: needs an id column ({self.id_field}) or a question "
                                f"column ({self.question_field})")
        for where, row in rows:
            text = row.get(field)
            text = "" if text is None else str(text)
            if self.id_field in row and row[self.id_field] not in (None, ""):
                key = str(row[self.id_field])
                if key in self.by_id:
                    raise MedgaugeError(f"{where}: duplicate id {key!r}")
                self.by_id[key] = text
                self.row_of_id[key] = where
            if row.get(self.question_field):
                self.by_question[_normalise_question(str(row[self.question_field]))] = text

    def unmatched(self, sample_ids: set[str]) -> list[str]:
        """Prediction ids that name no sample of the benchmark (a typo, another split)."""
        return [key for key in self.by_id if key not in sample_ids]

    async def generate(self, request: Request) -> Response:
        sample_id = str(request.meta.get("sample_id"))
        if sample_id in self.by_id:
            return Response(text=self.by_id[sample_id], finish_reason="stop")
        question = _normalise_question(str(request.meta.get("question", "")))
        if question and question in self.by_question:
            return Response(text=self.by_question[question], finish_reason="stop")
        return Response(error=f"no prediction for sample {sample_id} in {self.path.name}")
