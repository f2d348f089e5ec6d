"""Batch inference over a JSONL file: ``scratchlm predict RUN --input IN.jsonl --output OUT.jsonl``
(or a ``.parquet`` file / a saved ``datasets`` folder as the input: each row is a record).

Each input line is a JSON object holding the text under ``text_field`` (other keys are kept and
copied to the output), or a bare JSON string; blank lines are skipped. Each output line is the input
object plus one key, ``prediction``: ``{"label", "score", "probabilities", "truncated"}``, in the
input's order (a gold ``label`` in the input stays as it is, beside the prediction).

The file is checked in full before the model runs (a bad line stops with ``FILE:LINE``); the output
is written to a temporary file beside it and renamed at the end, so a failed or interrupted run
leaves no half-written output.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from scratchlm.errors import DataError
from scratchlm.predict.classify import classify_texts

if TYPE_CHECKING:
    from scratchlm.training.run_dir import LoadedRun

OUTPUT_KEY = "prediction"
MAX_PADDING = 0.25  # passes of similar-length texts (see scratchlm.predict.batching.forward_groups)


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    if not path.exists():
        raise DataError(f"{path}: input file not found")
    if path.is_dir():
        raise DataError(f"{path}: is a directory, expected a JSONL file")
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            try:
                yield lineno, raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise DataError(
                    f"{path}:{lineno}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})"
                ) from None


def _table_records(path: Path, text_field: str) -> Iterator[tuple[int, dict[str, Any], str]]:
    """``(row number, record, text)`` of a Parquet file or saved datasets folder (every column kept)."""
    from scratchlm.data.table_rows import check_columns, table_rows

    for row, record in table_rows(path):
        if row == 1:
            check_columns(path, list(record), {text_field: "text_field (or --text-field)"})
        text, where = record[text_field], f"{path}:row {row}"
        if not isinstance(text, str):
            raise DataError(f"{where}: {text_field!r} is {type(text).__name__}, expected a string")
        if not text.strip():
            raise DataError(f"{where}: the text is empty")
        if OUTPUT_KEY in record:
            raise DataError(f"{where}: the record already has a {OUTPUT_KEY!r} column, which predict writes")
        yield row, record, text


def read_records(path: str | Path, text_field: str) -> Iterator[tuple[int, dict[str, Any], str]]:
    """``(line number, record, text)`` for every non-blank line (a Parquet file or saved datasets
    folder: every row); a bad line raises ``DataError``."""
    from scratchlm.data.table_rows import is_table

    path = Path(path)
    if is_table(path):
        yield from _table_records(path, text_field)
        return
    for lineno, line in _lines(path):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{where}: invalid JSON ({exc.msg} at column {exc.colno})") from None
        if isinstance(value, str):
            record, text = {text_field: value}, value
        elif isinstance(value, dict):
            if text_field not in value:
                keys = ", ".join(repr(k) for k in list(value)[:8]) or "none"
                raise DataError(
                    f"{where}: no {text_field!r} key (keys: {keys}); name the text's key with --text-field"
                )
            record, text = value, value[text_field]
            if not isinstance(text, str):
                raise DataError(f"{where}: {text_field!r} is {type(text).__name__}, expected a string")
        else:
            raise DataError(
                f"{where}: expected a JSON object with a {text_field!r} key or a string, "
                f"got {type(value).__name__}"
            )
        if not text.strip():
            raise DataError(f"{where}: the text is empty")
        if OUTPUT_KEY in record:
            raise DataError(
                f"{where}: the record already has a {OUTPUT_KEY!r} key, which predict writes; "
                "rename it in the input (is this a predict output?)"
            )
        yield lineno, record, text


def count_records(path: str | Path, text_field: str) -> int:
    return sum(1 for _ in read_records(path, text_field))


def _chunks(records: Iterator[tuple[int, dict, str]], size: int) -> Iterator[list[tuple[int, dict, str]]]:
    chunk: list[tuple[int, dict, str]] = []
    for item in records:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def predict_file(
    run: LoadedRun,
    input_path: str | Path,
    output: str | Path | None,
    *,
    batch_size: int,
    text_field: str,
    show_progress: bool = True,
) -> dict[str, Any]:
    """Label every record of ``input_path`` into ``output`` (JSONL; ``None``: stdout). Returns a summary."""
    from scratchlm.training.progress import progress

    input_path = Path(input_path)
    if output is not None and Path(output).resolve() == input_path.resolve():
        raise DataError(f"--output {output} is the input file; choose another path")
    total = count_records(input_path, text_field)
    if total == 0:
        raise DataError(f"{input_path}: no records (every line is blank)")

    start = time.perf_counter()
    labels: Counter[str] = Counter()
    truncated = 0
    tmp: Path | None = None
    if output is None:
        out: IO[str] = sys.stdout
    else:
        target = Path(output)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
        tmp = Path(name)
        out = os.fdopen(fd, "w", encoding="utf-8")
    try:
        bar = progress(total=total, desc="predict", unit="text", enabled=show_progress)
        # chunks of several batches, each sorted by length and cut into passes that pad little
        for chunk in _chunks(read_records(input_path, text_field), batch_size * 8):
            results = classify_texts(run, [text for _, _, text in chunk], batch_size, max_padding=MAX_PADDING)
            for (_, record, _), r in zip(chunk, results, strict=True):
                row = {
                    **record,
                    OUTPUT_KEY: {
                        "label": r["label"],
                        "score": r["score"],
                        "probabilities": r["probabilities"],
                        "truncated": r["truncated"],
                    },
                }
                out.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
                labels[r["label"]] += 1
                truncated += r["truncated"] > 0
            bar.update(len(chunk))
        bar.close()
        if tmp is not None:
            out.close()
            os.replace(tmp, Path(output))  # type: ignore[arg-type]
            tmp = None
        else:
            out.flush()
    finally:
        if tmp is not None:
            out.close()
            tmp.unlink(missing_ok=True)
    seconds = time.perf_counter() - start
    return {
        "records": total,
        "labels": dict(labels),
        "truncated": truncated,
        "seconds": round(seconds, 3),
        "texts_per_second": round(total / seconds, 1) if seconds > 0 else None,
    }
