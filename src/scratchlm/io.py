"""Atomic file and directory writes: readers never see a half-written file, crashes lose nothing.

Every write goes to a temporary sibling first and is renamed into place (``os.replace`` is atomic on
POSIX and Windows within one file system); the file's data is fsynced before the rename, and the parent
directory after it, so the rename itself survives a power cut (POSIX keeps a rename in the directory's
own data, which ``fsync`` of the file does not write).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO


def fsync_directory(path: str | Path) -> None:
    """Make the entries of directory ``path`` (a rename into it) durable. A no-op where directories cannot
    be opened (Windows), whose renames are durable when they return."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems refuse fsync on a directory; nothing more can be done there
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_writer(path: str | Path) -> Iterator[BinaryIO]:
    """A binary file handle whose content appears at ``path`` only when the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        fsync_directory(path.parent)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_writer(path) as fh:
        fh.write(data)


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, ensure_ascii=False, indent=2) + "\n")


def save_tensors(path: str | Path, tensors: dict, metadata: dict[str, str] | None = None) -> None:
    """safetensors file written atomically (tensors made contiguous, CPU)."""
    from safetensors.torch import save

    clean = {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}
    atomic_write_bytes(path, save(clean, metadata=metadata))


def load_tensors(path: str | Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(path))


@contextmanager
def atomic_directory(path: str | Path) -> Iterator[Path]:
    """Build a directory under a temporary name, rename it to ``path`` when the block succeeds.

    An existing ``path`` is replaced only after the new one is complete.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        yield tmp
        fsync_directory(tmp)  # its files' names, before the directory is renamed into place
        if path.exists():
            old = path.with_name(f".{path.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
        fsync_directory(path.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def split_lines(text: str) -> list[str]:
    """The lines of ``text``, split on ``"\\n"`` only (a ``"\\r"`` before it dropped; no empty last line).

    ``str.splitlines`` also splits on U+2028, U+2029, U+0085, form feeds and other separators, which a
    JSON string holds unescaped (``json.dumps(..., ensure_ascii=False)`` writes them as they are): a
    JSONL record, or a vocabulary token, would be cut in two."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def read_json_lines(path: str | Path) -> list[Any]:
    """The records of a JSONL log (``train_log.jsonl``), blank lines skipped. A last line that is not
    valid JSON is dropped: it is what a process killed mid-write leaves. A bad line before the last raises
    ``ValueError`` naming ``path:line``."""
    lines = split_lines(Path(path).read_text(encoding="utf-8"))
    records = []
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            if lineno == len(lines):
                break  # cut short by a kill mid-write: the record was never complete
            raise ValueError(f"{path}:{lineno}: invalid JSON ({exc.msg} at column {exc.colno})") from None
    return records


def print_json(obj) -> None:
    """What a ``--json`` command prints: indented, non-ASCII text as it is."""
    print(json.dumps(obj, ensure_ascii=False, indent=2))
