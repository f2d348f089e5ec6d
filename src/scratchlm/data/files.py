"""User datasets from jsonl / csv / tsv / Parquet files and saved HF ``datasets`` folders, with errors
that name the file and the line (the row for Parquet and datasets, :mod:`scratchlm.data.table_rows`).

- ``.jsonl``: one JSON object a line with the text and label fields (``data.text_field``,
  ``data.label_field``); blank lines are skipped.
- ``.csv`` / ``.tsv``: a header row naming the columns, then one example a row (quoted fields allowed).
- ``.parquet`` and a folder written by ``datasets``' ``save_to_disk``: columns named like jsonl's fields.
Labels are read as strings (``1`` and ``"1"`` are the same label).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

from scratchlm.data.examples import Example
from scratchlm.errors import DataError
from scratchlm.io import split_lines

FORMATS = (".jsonl", ".csv", ".tsv", ".parquet")


def decode_file(path: Path, expected: str = "a .jsonl, .csv or .tsv file") -> str:
    """The text of a UTF-8 data file (a BOM dropped); every failure is a one-line ``DataError`` naming the
    file (and the line of the first byte that is not UTF-8). ``expected``: what the file should be."""
    if not path.exists():
        raise DataError(f"{path}: file not found")
    if path.is_dir():
        raise DataError(f"{path}: is a directory, expected {expected}")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        lineno = raw[: exc.start].count(b"\n") + 1
        raise DataError(
            f"{path}:{lineno}: bytes that are not UTF-8 ({exc.reason}); re-save the file as UTF-8"
        ) from None


def _label_str(value: object, where: str, field: str) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise DataError(f"{where}: empty label in field {field!r}")
    if isinstance(value, bool) or isinstance(value, (int, str)):
        return str(value).strip()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    raise DataError(f"{where}: label {value!r} in field {field!r} must be a string or an integer")


def _make(
    text: object, label: object, where: str, text_field: str, label_field: str, need_label: bool
) -> Example | None:
    if not isinstance(text, str):
        raise DataError(f"{where}: field {text_field!r} must be a string, got {type(text).__name__}")
    if not text.strip():
        raise DataError(f"{where}: empty text in field {text_field!r}")
    if label is None and not need_label:
        return Example(text, "", where)
    return Example(text, _label_str(label, where, label_field), where)


def _shown(name: str) -> str:
    """A header cell as a message shows it: quoted when it holds a line break or is empty (one line)."""
    return name if name and name.isprintable() else repr(name)


def iter_records(
    path: Path, text: str, required: dict[str, str], optional: tuple[str, ...] = ()
) -> Iterator[tuple[str, dict[str, object]]]:
    """``(where, {field: value})`` for each record of a ``.jsonl``, ``.csv`` or ``.tsv`` file's ``text``
    (blank lines and rows skipped); ``where`` is ``path:line``. ``required`` maps each field that must be
    there to its setting (``text_field``), which the error names; ``optional`` fields are ``None`` when
    absent."""
    suffix = path.suffix.lower()
    names = [*required, *optional]
    if suffix == ".jsonl":
        for lineno, line in enumerate(split_lines(text), 1):
            if not line.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"{where}: invalid JSON ({exc.msg} at column {exc.colno})") from None
            if not isinstance(obj, dict):
                raise DataError(f"{where}: expected a JSON object with {' and '.join(map(repr, required))}")
            for key, setting in required.items():
                if key not in obj:
                    raise DataError(
                        f"{where}: no field {key!r} (fields: {', '.join(obj)}); set data.{setting}"
                    )
            yield where, {key: obj.get(key) for key in names}
        return
    reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t" if suffix == ".tsv" else ",")
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise DataError(f"{path}: empty file (expected a header row)") from None
    for key, setting in required.items():
        if key not in header:
            raise DataError(
                f"{path}:1: no column {key!r} in header ({', '.join(_shown(h) for h in header)}); "
                f"set data.{setting}"
            )
    columns = {key: header.index(key) for key in names if key in header}
    try:
        for row in reader:
            where = f"{path}:{reader.line_num}"
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) != len(header):
                raise DataError(f"{where}: {len(row)} columns, the header has {len(header)}")
            yield where, {key: row[columns[key]] if key in columns else None for key in names}
    except csv.Error as exc:
        raise DataError(f"{path}:{reader.line_num}: malformed {suffix[1:]} ({exc})") from None


def read_examples(
    path: str | Path, *, text_field: str = "text", label_field: str = "label", need_label: bool = True
) -> list[Example]:
    """Read labelled (or, with ``need_label=False``, possibly unlabelled) texts from a user file."""
    from scratchlm.data.table_rows import is_table, table_records

    path = Path(path)
    suffix = path.suffix.lower()
    table = is_table(path)
    if suffix not in FORMATS and not table:
        raise DataError(
            f"{path}: unknown data format {suffix or '(none)'!r}; use one of {', '.join(FORMATS)} "
            "or a folder saved by datasets' save_to_disk"
        )
    required = {text_field: "text_field"} | ({label_field: "label_field"} if need_label else {})
    optional = () if need_label else (label_field,)
    records = (
        table_records(path, required, optional)
        if table
        else iter_records(path, decode_file(path), required, optional)
    )
    examples = [
        _make(rec[text_field], rec[label_field], where, text_field, label_field, need_label)
        for where, rec in records
    ]
    if not examples:
        raise DataError(f"{path}: no examples (the file is empty)")
    return examples


def write_jsonl(path: str | Path, examples: list[Example]) -> None:
    from scratchlm.io import atomic_write_text

    lines = [json.dumps({"text": e.text, "label": e.label}, ensure_ascii=False) for e in examples]
    atomic_write_text(path, "\n".join(lines) + ("\n" if lines else ""))
