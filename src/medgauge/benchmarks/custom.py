"""``custom``: evaluate your own data from JSONL, JSON, CSV, TSV or parquet.

With no field mapping, a ``.jsonl`` file is read in the canonical layout (see
``benchmarks/canonical.py``).  Otherwise name the columns::

    medgauge run -b custom=mine.csv --opt question=Prompt --opt answer=Gold \\
        --opt choices=A,B,C,D --opt image=path --opt group_by=site,modality

Unmapped fields fall back to columns called ``question``, ``answer``, ``id``, ``options``,
``image``, ``context`` and ``cluster`` when the file has them.  A named column the file lacks is
an error that lists the columns it has.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from medgauge.benchmarks.base import benchmarks
from medgauge.benchmarks.io import (
    IMAGE_MODES,
    LETTERS,
    TABLE_SUFFIXES,
    ImageResolver,
    answer_letter,
    clean_text,
    embedded_image,
    option_list,
    options_from,
    read_table,
    suffix_of,
    table_columns,
)
from medgauge.benchmarks.local import LocalBenchmark
from medgauge.types import YES_NO, ImageRef, MedgaugeError, Sample

ANSWER_TYPES = ("mcq", "yesno", "open", "number")
#: mapping option -> the column used when the option is not given (if the file has it)
DEFAULT_COLUMNS = {"question": "question", "answer": "answer", "id": "id", "options": "options",
                   "image": "image", "context": "context", "cluster": "cluster"}


@benchmarks.register("custom")
class Custom(LocalBenchmark):
    name = "custom"
    layout = (
        "Any JSONL, JSON (list of records), CSV, TSV or parquet file.  A .jsonl with no "
        "mapping is read in the canonical layout (id, question, answer, answer_type, "
        "options, images, image_roles, metadata, cluster, context, labels).  Otherwise map "
        "columns with the options below."
    )
    option_help: ClassVar[dict[str, str]] = {
        "file": "the data file, when the data path is a folder",
        "question": "column with the question (default: question)",
        "answer": "column with the answer: a letter or an option's text for MCQ",
        "options": "column holding the options as a dict {letter: text}, a list of texts, or "
                   "a list of objects (name their keys with option_id/option_text)",
        "option_id": "key of an option object holding its id (a letter, or any id the answer "
                     "uses; options are lettered A, B, ... in their order)",
        "option_text": "key of an option object holding its text",
        "choices": "comma-separated option columns, e.g. A,B,C,D (letters taken from the "
                   "column names when they are single letters, else A, B, ...)",
        "image": "column with one image path (or a list of paths, or embedded image bytes)",
        "images": "comma-separated image columns; or check|lazy|skip to set the image mode",
        "image_mode": "check (default), lazy or skip: see the other loaders' images option",
        "image_root": "folder image paths are relative to (default: the file's folder)",
        "id": "column with a unique item id (default: id, else <file stem>-<row number>)",
        "context": "column with context text placed before the question",
        "cluster": "column grouping items for clustered intervals (e.g. image or patient)",
        "group_by": "comma-separated columns kept as metadata and used for breakdowns",
        "answer_type": "mcq, yesno, open or number (default: inferred per item)",
        "labels": "comma-separated closed labels, e.g. yes,no,maybe (implies yesno)",
    }

    def __init__(self, root: str | Path | None = None, **options: Any) -> None:
        super().__init__(root, **options)
        self.group_by = tuple(option_list(self.opt("group_by")))
        answer_type = self.opt("answer_type")
        if answer_type is not None and answer_type not in ANSWER_TYPES:
            raise MedgaugeError(
                f"benchmark custom: option answer_type={answer_type!r}: use one of "
                f"{', '.join(ANSWER_TYPES)}"
            )

    # -- configuration ---------------------------------------------------------------------
    def _path(self) -> Path:
        assert self.root is not None
        if self.opt("file") is not None or self.root.is_file():
            return self.locate()
        tables = sorted(p for p in self.root.iterdir() if p.suffix.lower() in TABLE_SUFFIXES)
        if len(tables) != 1:
            found = ", ".join(p.name for p in tables) or "none"
            raise MedgaugeError(
                f"benchmark custom: name the data file with file=... ({self.root} holds "
                f"{found})"
            )
        return tables[0]

    def _image_mode(self) -> str:
        images = self.opt("images")
        if isinstance(images, str) and images in IMAGE_MODES:
            return images
        mode = str(self.opt("image_mode", "check"))
        if mode not in IMAGE_MODES:
            raise MedgaugeError(f"benchmark custom: option image_mode={mode!r}: use one of "
                                f"{', '.join(IMAGE_MODES)}")
        return mode

    def _image_columns(self) -> list[str]:
        images = self.opt("images")
        if isinstance(images, str) and images in IMAGE_MODES:
            images = None
        cols = option_list(self.opt("image")) + option_list(images)
        return cols

    def _is_mapped(self) -> bool:
        keys = ("question", "answer", "options", "choices", "image", "id", "context",
                "cluster", "group_by", "answer_type", "labels", "option_id", "option_text")
        return any(self.opt(k) is not None for k in keys) or bool(self._image_columns())

    def _image_root(self, path: Path) -> Path:
        named = self.opt("image_root")
        if named is None:
            return path.parent
        root = Path(str(named)).expanduser()
        return root if root.is_absolute() else path.parent / root

    # -- loading ---------------------------------------------------------------------------
    def samples(self) -> Iterator[Sample]:
        path = self._path()
        if suffix_of(path) == ".jsonl" and not self._is_mapped():
            from medgauge.benchmarks.canonical import read_canonical_jsonl

            yield from read_canonical_jsonl(path, self._image_root(path))
            return
        columns = table_columns(path)
        mapping = self._mapping(path, columns)
        resolve = ImageResolver(self._image_root(path), self._image_mode())
        for number, (where, row) in enumerate(read_table(path), 1):
            yield self._sample(row, where, number, path, mapping, resolve)

    def _mapping(self, path: Path, columns: list[str]) -> dict[str, Any]:
        def check(column: str, option: str) -> str:
            if column not in columns:
                raise MedgaugeError(
                    f"benchmark custom: column {column!r} (option {option}) not found in "
                    f"{path} (available: {', '.join(columns) or 'none'})"
                )
            return column

        mapping: dict[str, Any] = {}
        for key, default in DEFAULT_COLUMNS.items():
            given = self.opt(key)
            if given is not None:
                mapping[key] = check(str(given), key)
            elif default in columns:
                mapping[key] = default
            elif key in ("question", "answer"):
                check(default, key)  # required: raises with the available columns
        mapping["choices"] = [check(c, "choices") for c in option_list(self.opt("choices"))]
        mapping["images"] = [check(c, "image/images") for c in self._image_columns()]
        if not mapping["images"] and "image" in mapping:
            mapping["images"] = [mapping["image"]]
        mapping["group_by"] = [check(c, "group_by") for c in self.group_by]
        return mapping

    def _sample(self, row: dict[str, Any], where: str, number: int, path: Path,
                m: dict[str, Any], resolve: ImageResolver) -> Sample:
        def get(column: str, required: bool = False) -> Any:
            if required and column not in row:
                raise MedgaugeError(f"{where}: missing field {column!r}")
            return row.get(column)

        options: dict[str, str] = {}
        if m["choices"]:
            single = all(len(c) == 1 and c.upper() in LETTERS for c in m["choices"])
            for i, col in enumerate(m["choices"]):
                text = clean_text(get(col))
                if text:
                    options[col.upper() if single else LETTERS[i]] = text
        ids: dict[str, str] = {}
        if not m["choices"] and "options" in m and get(m["options"]) not in (None, "", [], {}):
            value = get(m["options"])
            if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                options, ids = self._object_options(value, f"{where}: {m['options']}")
            else:
                options = options_from(value, f"{where}: {m['options']}")
        labels = tuple(option_list(self.opt("labels"))) or YES_NO
        raw_answer = get(m["answer"], required=True)
        if isinstance(raw_answer, (list, tuple)):
            if len(raw_answer) != 1:
                raise MedgaugeError(f"{where}: {m['answer']}: answer is a list of "
                                    f"{len(raw_answer)} values; give one answer per item")
            raw_answer = raw_answer[0]
        if isinstance(raw_answer, dict):
            raise MedgaugeError(f"{where}: {m['answer']}: answer is an object, not a value")
        if ids and clean_text(raw_answer) in ids:
            raw_answer = ids[clean_text(raw_answer)]
        answer = clean_text(raw_answer)
        kind = self.opt("answer_type") or (
            "yesno" if self.opt("labels") else "mcq" if options else
            "yesno" if answer.lower() in labels else "open")
        if kind == "mcq":
            if not options:
                raise MedgaugeError(f"{where}: answer_type mcq but no options (map options= "
                                    "or choices=)")
            answer = answer_letter(raw_answer, options, where)
        elif kind == "yesno":
            answer = answer.lower()
            if answer not in labels:
                raise MedgaugeError(f"{where}: answer {answer!r} is not one of "
                                    f"{', '.join(labels)} (set labels=...)")
        images: list[ImageRef] = []
        for col in m["images"]:
            images.extend(self._images(get(col), f"{where}: {col}", resolve))
        sid = clean_text(get(m["id"], required=True)) if "id" in m else f"{path.stem}-{number}"
        context = clean_text(get(m["context"])) if "context" in m else ""
        cluster = clean_text(get(m["cluster"])) if "cluster" in m else ""
        return Sample(
            id=sid, question=clean_text(get(m["question"], required=True)), answer=answer,
            answer_type=kind,
            options=options if kind == "mcq" else {}, images=tuple(images),
            metadata={c: row.get(c) for c in m["group_by"]}, context=context or None,
            labels=labels, cluster=cluster or None,
        )

    def _object_options(self, value: list[dict[str, Any]], where: str
                        ) -> tuple[dict[str, str], dict[str, str]]:
        """Options given as objects (``[{"aid": 1, "atext": "..."}]``) -> ({letter: text},
        {id: letter}), with the keys named by option_id/option_text (``letter``/``content``
        or ``text`` when not set)."""
        id_key = self.opt("option_id")
        text_key = self.opt("option_text")
        if id_key is None and text_key is None and all("letter" in v for v in value):
            return options_from(value, where), {}
        if text_key is None:
            keys = ", ".join(dict.fromkeys(k for v in value for k in v))
            raise MedgaugeError(f"{where}: options are objects (keys: {keys}); name the key "
                                "holding the text with option_text= (and the id with "
                                "option_id=)")
        if len(value) > len(LETTERS):
            raise MedgaugeError(f"{where}: {len(value)} options is more than {len(LETTERS)}")
        options: dict[str, str] = {}
        ids: dict[str, str] = {}
        for i, obj in enumerate(value):
            if str(text_key) not in obj:
                raise MedgaugeError(f"{where}: option {i + 1} has no key {text_key!r} "
                                    "(option_text)")
            letter = LETTERS[i]
            if id_key is not None:
                if str(id_key) not in obj:
                    raise MedgaugeError(f"{where}: option {i + 1} has no key {id_key!r} "
                                        "(option_id)")
                ident = clean_text(obj[str(id_key)])
                if len(ident) == 1 and ident.upper() in LETTERS:
                    letter = ident.upper()
                ids[ident] = letter
            options[letter] = clean_text(obj[str(text_key)])
        return options, ids

    @staticmethod
    def _images(value: Any, where: str, resolve: ImageResolver) -> list[ImageRef]:
        if value is None or value == "":
            return []
        values = value if isinstance(value, list) else [value]
        out: list[ImageRef] = []
        for v in values:
            if isinstance(v, str) and not v.startswith(("iVBOR", "/9j/")):  # not base64
                try:
                    ref = resolve(v, where)
                except MedgaugeError as exc:
                    if "escapes the dataset root" not in str(exc):
                        raise
                    raise MedgaugeError(f"{exc} (set image_root=FOLDER to read images from "
                                        "another folder)") from None
            elif resolve.skip:
                ref = None
            else:
                ref = embedded_image(v, where)
            if ref is not None:
                out.append(ref)
        return out
