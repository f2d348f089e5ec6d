"""io.py: atomic writes are durable, the rename included (the parent directory is fsynced after it)."""

from __future__ import annotations

import os
import stat

import pytest

from scratchlm import io


@pytest.fixture
def fsynced(monkeypatch):
    """The kinds of what ``os.fsync`` is called on, in order: ``"file"`` or ``"dir"``."""
    kinds: list[str] = []
    real = os.fsync

    def spy(fd):
        kinds.append("dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        return real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    return kinds


@pytest.mark.skipif(os.name == "nt", reason="directories cannot be opened for fsync on Windows")
def test_atomic_write_fsyncs_the_file_then_its_directory(tmp_path, fsynced):
    io.atomic_write_text(tmp_path / "a.txt", "x")
    assert (tmp_path / "a.txt").read_text() == "x"
    assert fsynced == ["file", "dir"]


@pytest.mark.skipif(os.name == "nt", reason="directories cannot be opened for fsync on Windows")
def test_atomic_directory_fsyncs_its_entries_and_the_rename(tmp_path, fsynced):
    with io.atomic_directory(tmp_path / "d") as tmp:
        io.atomic_write_text(tmp / "f", "1")
    assert fsynced == ["file", "dir", "dir", "dir"]  # f, tmp's entry of f, tmp itself, d's rename
    with io.atomic_directory(tmp_path / "d") as tmp:  # replacing an existing directory
        io.atomic_write_text(tmp / "g", "2")
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == ["g"]
    assert fsynced[-1] == "dir"


def test_fsync_directory_of_a_missing_path_is_a_no_op(tmp_path):
    io.fsync_directory(tmp_path / "nothing")


def test_split_lines_on_newline_only():
    assert io.split_lines("a\u2028b\r\nc\u0085d\n\ne\n") == ["a\u2028b", "c\u0085d", "", "e"]
    assert io.split_lines("") == [] and io.split_lines("x") == ["x"]


def test_read_json_lines_drops_a_partial_last_line_only(tmp_path):
    log = tmp_path / "train_log.jsonl"
    log.write_text('{"step": 1}\n{"step": 2, "text": "a\u2028b"}\n{"step": 3, "lo', encoding="utf-8")
    assert io.read_json_lines(log) == [{"step": 1}, {"step": 2, "text": "a\u2028b"}]
    log.write_text('{"step": 1}\n{"ste\n{"step": 3}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"train_log.jsonl:2: invalid JSON"):
        io.read_json_lines(log)
