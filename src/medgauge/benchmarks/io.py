"""File helpers shared by every loader: line-numbered JSONL, JSON, and safe image paths.

Every error names the file and, where it applies, the line or field.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from medgauge.options import as_bool
from medgauge.types import ImageRef, MedgaugeError


def require_file(path: Path, what: str = "file") -> Path:
    if not path.is_file():
        raise MedgaugeError(f"{what} not found: {path}")
    return path


def suffix_of(path: Path) -> str:
    """The lower-case suffix that names the format, looking through ``.gz``
    (``preds.jsonl.gz`` -> ``.jsonl``)."""
    suffixes = [x.lower() for x in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    return suffixes[-1] if suffixes else ""


def open_binary(path: Path) -> IO[bytes]:
    """The file's bytes, gunzipped on the fly when it is gzip-compressed (by its magic bytes,
    whatever its name)."""
    import gzip

    fh = open(path, "rb")
    if fh.peek(2)[:2] == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=fh)  # type: ignore[return-value]
    return fh


def open_text(path: Path, newline: str | None = None) -> IO[str]:
    """UTF-8 text (a leading byte-order mark dropped), gunzipped when compressed."""
    import io

    return io.TextIOWrapper(open_binary(path), encoding="utf-8-sig", newline=newline)


def _loads(text: str | bytes, where: str, what: str = "JSON") -> Any:
    """json.loads with every failure a one-line error naming ``where``: malformed JSON, nesting
    too deep, an integer of thousands of digits, a lone surrogate (not encodable text)."""
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MedgaugeError(f"{where}: malformed {what} ({exc.msg})") from None
    except RecursionError:
        raise MedgaugeError(f"{where}: JSON nested too deeply") from None
    except ValueError as exc:  # e.g. "Exceeds the limit (4300 digits) for integer string"
        raise MedgaugeError(f"{where}: unreadable JSON value ({exc})") from None
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if "\\ud" in text.lower():
        _check_surrogates(obj, where)
    return obj


def _check_surrogates(value: Any, where: str) -> None:
    """Text with a lone surrogate (``"\\ud800"``) cannot be stored or sent: refuse it here."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise MedgaugeError(f"{where}: text holds a lone surrogate escape (invalid "
                                "Unicode)") from None
    elif isinstance(value, dict):
        for k, v in value.items():
            _check_surrogates(k, where)
            _check_surrogates(v, where)
    elif isinstance(value, list):
        for v in value:
            _check_surrogates(v, where)


def read_json(path: Path) -> Any:
    require_file(path)
    with open_binary(path) as fh:
        raw = fh.read()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise MedgaugeError(f"{path}:{line}: not UTF-8 text ({exc.reason})") from None
    try:
        return _loads(text, str(path))
    except MedgaugeError:
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            raise MedgaugeError(f"{path}:{exc.lineno}: malformed JSON ({exc.msg})") from None
        except (RecursionError, ValueError):
            pass
        raise


def read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, object) lazily; blank lines are skipped.  A leading byte-order mark
    is dropped and a gzip-compressed file is read as it is."""
    require_file(path)
    with open_binary(path) as fh:
        for lineno, raw in enumerate(fh, 1):
            where = f"{path}:{lineno}"
            try:
                line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise MedgaugeError(f"{where}: not UTF-8 text ({exc.reason} at byte "
                                    f"{exc.start})") from None
            if not line.strip():
                continue
            obj = _loads(line, where, "JSON line")
            if not isinstance(obj, dict):
                raise MedgaugeError(f"{where}: expected a JSON object")
            yield lineno, obj


def field(obj: dict[str, Any], name: str, where: str) -> Any:
    """obj[name] or an error naming the place (``file:line``) and the missing field."""
    try:
        return obj[name]
    except KeyError:
        raise MedgaugeError(f"{where}: missing field {name!r}") from None


def image_ref(root: Path, relative: str, where: str, role: str | None = None,
              check_exists: bool = True) -> ImageRef:
    """Resolve an image path inside ``root``; refuse paths that escape it."""
    # Checked on the path as written (no symlinks followed): an images folder that links to
    # shared storage, or a Hugging Face snapshot whose files link to blobs, stays allowed,
    # while "../" and absolute paths out of the root are refused.
    base = Path(os.path.normpath(os.path.abspath(root)))
    candidate = Path(os.path.normpath(base / relative))
    if candidate != base and base not in candidate.parents:
        raise MedgaugeError(f"{where}: image path {relative!r} escapes the dataset root {root}")
    if check_exists and not candidate.is_file():
        raise MedgaugeError(f"{where}: image not found: {candidate}")
    return ImageRef(str(candidate), role=role)


# --------------------------------------------------------------------------------------------
# Tables: CSV/TSV, pipe files, parquet and Hugging Face dumps, read lazily with their positions.
# --------------------------------------------------------------------------------------------

_CSV_LIMIT_RAISED = False


def raise_csv_field_limit() -> None:
    """Base64 image cells (GMAI-MMBench) exceed the csv module's 128 KiB default."""
    global _CSV_LIMIT_RAISED
    if not _CSV_LIMIT_RAISED:
        import csv
        import sys

        limit = sys.maxsize
        while True:
            try:
                csv.field_size_limit(limit)
                break
            except OverflowError:  # C long on some platforms
                limit //= 10
        _CSV_LIMIT_RAISED = True


def read_csv(path: Path, delimiter: str = ",",
             fieldnames: list[str] | None = None) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line number, row dict) lazily.  Without ``fieldnames`` the first row is the
    header.  A row with too many or too few cells is an error naming the line."""
    import csv

    require_file(path)
    raise_csv_field_limit()
    with open_text(path, newline="") as fh:
        reader = csv.reader(_decoded(fh, path), delimiter=delimiter)
        header = fieldnames
        if header is None:
            try:
                header = [h.strip() for h in next(reader)]
            except StopIteration:
                return
        for cells in reader:
            lineno = reader.line_num
            if not cells or all(not c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                raise MedgaugeError(
                    f"{path}:{lineno}: expected {len(header)} columns, found {len(cells)}"
                )
            yield lineno, dict(zip(header, cells, strict=True))


def _decoded(lines: IO[str], path: Path) -> Iterator[str]:
    """The lines of a text file, a decoding failure turned into an error naming the line."""
    lineno = 0
    try:
        for lineno, line in enumerate(lines, 1):  # noqa: B007 - used in the error
            yield line
    except UnicodeDecodeError as exc:
        raise MedgaugeError(f"{path}:{lineno + 1}: not UTF-8 text ({exc.reason})") from None


def read_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Yield (line number, stripped line) for non-blank lines."""
    require_file(path)
    with open_text(path) as fh:
        for lineno, line in enumerate(_decoded(fh, path), 1):
            line = line.rstrip("\r\n")
            if line.strip():
                yield lineno, line


def _pyarrow(path: Path) -> Any:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise MedgaugeError(
            f"{path}: reading parquet/arrow files needs pyarrow (pip install 'medgauge[parquet]')"
        ) from None
    import pyarrow as pa

    return pa


def _arrow_batches(path: Path, columns: list[str] | None) -> Iterator[Any]:
    pa = _pyarrow(path)
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(path)
        yield from pf.iter_batches(batch_size=256, columns=columns)
        return
    # Hugging Face ``save_to_disk`` writes Arrow IPC *stream* files; plain .arrow/.feather
    # files are usually the IPC *file* format.  Try both.
    import pyarrow.ipc as ipc

    with pa.memory_map(str(path)) as source:
        try:
            reader = ipc.open_stream(source)
            batches: Iterator[Any] = iter(reader)
        except pa.ArrowInvalid:
            source.seek(0)
            freader = ipc.open_file(source)
            batches = (freader.get_batch(i) for i in range(freader.num_record_batches))
        for batch in batches:
            yield batch.select(columns) if columns else batch


def read_arrow_rows(path: Path, columns: list[str] | None = None
                    ) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (row index, row dict) from a parquet or Arrow file, one batch in memory at a
    time.  ``columns`` limits what is decoded."""
    require_file(path)
    if columns is not None:
        missing = [c for c in columns if c not in table_columns(path)]
        if missing:
            raise MedgaugeError(
                f"{path}: missing column {missing[0]!r} (available: "
                f"{', '.join(table_columns(path))})"
            )
    index = 0
    for batch in _arrow_batches(path, columns):
        for row in batch.to_pylist():
            yield index, row
            index += 1


TABLE_SUFFIXES = (".jsonl", ".json", ".csv", ".tsv", ".parquet", ".arrow")


def read_table(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (where, row) from JSONL, a JSON list (or dict of records), CSV, TSV, parquet or
    Arrow, chosen by suffix.  ``where`` is ``file:line`` or ``file#row``."""
    suffix = suffix_of(path)
    if suffix == ".jsonl":
        for lineno, obj in read_jsonl(path):
            yield f"{path}:{lineno}", obj
    elif suffix == ".json":
        data = read_json(path)
        items = data.items() if isinstance(data, dict) else enumerate(data)
        for key, obj in items:
            if not isinstance(obj, dict):
                raise MedgaugeError(f"{path}[{key}]: expected a JSON object")
            yield f"{path}[{key}]", obj
    elif suffix in (".csv", ".tsv"):
        for lineno, row in read_csv(path, "\t" if suffix == ".tsv" else ","):
            yield f"{path}:{lineno}", row
    elif suffix in (".parquet", ".arrow"):
        for index, row in read_arrow_rows(path):
            yield f"{path}#{index}", row
    else:
        raise MedgaugeError(
            f"{path}: unsupported file type {suffix or '(none)'} "
            f"(use one of {', '.join(TABLE_SUFFIXES)})"
        )


def table_columns(path: Path) -> list[str]:
    """Column names of a table file (JSON/JSONL: every key any record uses)."""
    suffix = suffix_of(path)
    if suffix == ".parquet":
        _pyarrow(path)
        import pyarrow.parquet as pq

        return list(pq.ParquetFile(path).schema_arrow.names)
    if suffix == ".arrow":
        for batch in _arrow_batches(path, None):
            return list(batch.schema.names)
        return []
    # JSON records need not share keys: take the union, in first-seen order (one extra pass).
    seen: dict[str, None] = {}
    for _, row in read_table(path):
        if suffix in (".csv", ".tsv"):
            return list(row)
        seen.update(dict.fromkeys(row))
    return list(seen)


def find_split_files(root: Path, split: str) -> list[Path]:
    """Files of one split of a Hugging Face dump under ``root``.

    Accepts the hub's parquet layout (``data/test-00000-of-00001.parquet``, or
    ``test.parquet``) and ``save_to_disk`` folders (``test/data-00000-of-00001.arrow``, or
    the arrow files directly in ``root``).  ``root`` may also be one parquet/arrow file."""
    if root.is_file():
        return [root]
    found = sorted(
        p for p in root.rglob("*.parquet")
        if p.stem == split or p.stem.startswith(f"{split}-") or p.parent.name == split
    )
    if found:
        return found
    for folder in (root / split, root):
        arrows = sorted(folder.glob("data-*.arrow")) or sorted(folder.glob("*.arrow"))
        if arrows:
            return arrows
    raise MedgaugeError(
        f"no {split!r} split under {root}: expected {split}-*.parquet, {split}.parquet or a "
        f"save_to_disk folder {split}/data-*.arrow"
    )


# --------------------------------------------------------------------------------------------
# Images
# --------------------------------------------------------------------------------------------

IMAGE_MODES = ("check", "lazy", "skip")


def embedded_image(value: Any, where: str, role: str | None = None) -> ImageRef | None:
    """An image stored inside a table cell: a Hugging Face ``Image`` struct
    ``{"bytes", "path"}``, raw bytes, or a base64 string.  None when the cell is empty."""
    import base64

    if value is None:
        return None
    if isinstance(value, dict):
        raw = value.get("bytes")
        if raw is None:
            if value.get("path"):
                raise MedgaugeError(
                    f"{where}: image cell holds only a path ({value['path']!r}), no bytes; "
                    "save the dataset with embedded images"
                )
            return None
        value = raw
    if isinstance(value, (bytes, bytearray, memoryview)):
        return ImageRef(where, b64=base64.b64encode(bytes(value)).decode("ascii"), role=role)
    if isinstance(value, str) and value:
        return ImageRef(where, b64=value, role=role)
    raise MedgaugeError(f"{where}: cannot read image cell of type {type(value).__name__}")


class ImageResolver:
    """Turns relative image paths into ``ImageRef``s under one root, with a mode:

    ``check`` (default) verifies each file exists while loading (error names the item);
    ``lazy`` resolves paths without touching the disk (a missing file fails when sent);
    ``skip`` attaches no images (text-only loading, e.g. when the images are not
    downloaded).  Paths that escape the root are refused in every mode but ``skip``."""

    def __init__(self, root: Path | None, mode: str = "check", what: str = "image folder"):
        if mode not in IMAGE_MODES:
            raise MedgaugeError(f"option images={mode!r}: use one of {', '.join(IMAGE_MODES)}")
        if root is None and mode != "skip":
            raise MedgaugeError(f"no {what} given; set it, or use images=skip to load text only")
        self.root = root
        self.mode = mode

    @property
    def skip(self) -> bool:
        return self.mode == "skip"

    def __call__(self, relative: str, where: str, role: str | None = None) -> ImageRef | None:
        if self.mode == "skip" or self.root is None:
            return None
        if not str(relative).strip():
            raise MedgaugeError(f"{where}: empty image path")
        try:
            return image_ref(self.root, str(relative), where, role=role,
                             check_exists=self.mode == "check")
        except MedgaugeError as exc:
            if "image not found" in str(exc):
                raise MedgaugeError(f"{exc} (use images=lazy or images=skip to load without "
                                    "checking)") from None
            raise

    def many(self, relatives: list[str], where: str) -> tuple[ImageRef, ...]:
        refs = (self(rel, where) for rel in relatives)
        return tuple(r for r in refs if r is not None)


# --------------------------------------------------------------------------------------------
# Answers and options
# --------------------------------------------------------------------------------------------

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def clean_text(value: Any) -> str:
    """str(value) stripped; None becomes ''.  Numbers read from JSON (5) become '5'."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def yesno_or_open(answer: Any) -> tuple[str, str]:
    """(answer, answer_type): "yes"/"no" in any case -> lowercased "yesno"; else "open"."""
    text = clean_text(answer)
    low = text.lower()
    if low in ("yes", "no"):
        return low, "yesno"
    return text, "open"


def parse_inline_choices(text: str, marker: str = "Answer Choices:") -> tuple[str, dict[str, str]]:
    """Split ``stem\\nAnswer Choices: (A) x (B) y ...`` into (stem, {A: x, B: y}).

    Letters are matched in sequence (A, then the first `` (B) `` after it, ...), so an option
    whose own text holds ``(D)`` or ``Rh(D)`` does not start a new option unless it is the next
    letter preceded by a space.  Returns (text, {}) when there is no marker."""
    at = text.rfind(marker)
    if at < 0:
        return text, {}
    stem, tail = text[:at].rstrip(), text[at + len(marker):]
    starts: list[tuple[str, int, int]] = []  # letter, marker start, text start
    pos = 0
    for letter in LETTERS:
        token = f"({letter}) "
        if not starts:
            idx = tail.find(token)
            if idx < 0 or tail[:idx].strip():
                break
        else:
            idx = tail.find(" " + token, pos)
            if idx < 0:
                idx = tail.find("\n" + token, pos)
            if idx < 0:
                break
            idx += 1
        starts.append((letter, idx, idx + len(token)))
        pos = idx + len(token)
    options: dict[str, str] = {}
    for i, (letter, _, begin) in enumerate(starts):
        end = starts[i + 1][1] if i + 1 < len(starts) else len(tail)
        options[letter] = tail[begin:end].strip()
    return stem, options


def strip_letter_prefix(text: str, letter: str) -> str:
    """'A:Left', ' A: Left', 'A. Left', '(A) Left' -> 'Left' (only the given letter)."""
    import re

    return re.sub(rf"^\s*\(?{letter}\s*[:.)]\s*", "", text, count=1).strip()


def options_from(value: Any, where: str) -> dict[str, str]:
    """Options given as a dict {letter: text}, a list of texts, a list of
    ``{"letter", "content"}`` records, or a string holding a JSON/Python list."""
    import ast

    if isinstance(value, str):
        text = value.strip()
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            try:
                value = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                raise MedgaugeError(f"{where}: cannot read options {text[:60]!r}") from None
    if isinstance(value, dict):
        return {clean_text(k).upper(): clean_text(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        if all(isinstance(v, dict) and "letter" in v for v in value):
            return {clean_text(v["letter"]).upper(): clean_text(v.get("content", v.get("text")))
                    for v in value}
        if len(value) > len(LETTERS):
            raise MedgaugeError(f"{where}: {len(value)} options is more than {len(LETTERS)}")
        return {LETTERS[i]: clean_text(v) for i, v in enumerate(value)}
    raise MedgaugeError(f"{where}: options must be a dict or a list, not {type(value).__name__}")


def answer_letter(value: Any, options: dict[str, str], where: str) -> str:
    """The gold letter from a letter ('B', 'b', '(B)', 'B: text', ['B']), a 0-based index is
    NOT guessed here (callers convert), or the option text itself."""
    if isinstance(value, (list, tuple)) and len(value) == 1:
        value = value[0]
    text = clean_text(value)
    cand = text.strip("()").split(":")[0].split(".")[0].strip().upper()
    if cand in options:
        return cand
    matches = [k for k, v in options.items() if v.strip().lower() == text.lower()]
    if len(matches) == 1:
        return matches[0]
    raise MedgaugeError(
        f"{where}: answer {text!r} is neither an option letter ({', '.join(options)}) nor the "
        "text of exactly one option"
    )


def option_bool(value: Any, name: str) -> bool:
    """A benchmark option as a bool (``options.as_bool``)."""
    return as_bool(value, name)


def option_list(value: Any) -> list[str]:
    """A comma-separated string or a list -> list of non-empty stripped strings."""
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    return [str(v).strip() for v in items if str(v).strip()]
