"""Vectors test helpers (shared by tests/vectors/ and tests/cli/): small synthetic vectors written in
every format the readers know (the ``small`` and ``write`` fixtures, imported by their conftest.py files),
and the hypothesis pieces the readers' fuzz tests share."""

from __future__ import annotations

import bz2
import gzip
import lzma
from pathlib import Path

import numpy as np
import pytest
from hypothesis import strategies as st

from scratchlm.vectors.base import Vectors
from scratchlm.vectors.binary import write_word2vec_binary
from scratchlm.vectors.cache import write_cache
from scratchlm.vectors.io import write_text

WORDS = [
    "the",
    "king",
    "queen",
    "man",
    "woman",
    "Paris",
    "paris",
    "France",
    "中",
    "国",
    "中文",
    "café",
    "x_1",
]


@pytest.fixture
def small() -> Vectors:
    rng = np.random.default_rng(7)
    matrix = rng.standard_normal((len(WORDS), 6)).astype(np.float32)
    return Vectors(list(WORDS), matrix, "memory", "small")


def write_format(directory: Path, vectors: Vectors, fmt: str, compression: str | None = None) -> Path:
    """Write ``vectors`` as ``fmt`` (word2vec, fasttext, glove, word2vec-binary, npy, cache)."""
    names = {
        "word2vec": "v.txt",
        "fasttext": "v.vec",
        "glove": "v.glove.txt",
        "word2vec-binary": "v.bin",
        "npy": "v.npy",
        "cache": "v.cache",
    }
    path = directory / names[fmt]
    if fmt in ("word2vec", "fasttext", "glove"):
        write_text(path, vectors, header=fmt != "glove")
    elif fmt == "word2vec-binary":
        write_word2vec_binary(path, vectors.words, vectors.matrix)
    elif fmt == "npy":
        np.save(path, np.asarray(vectors.matrix))
        path.with_suffix(".txt").write_text("\n".join(vectors.words) + "\n", encoding="utf-8")
    elif fmt == "cache":
        write_cache(path, vectors)
    if compression:
        opener = {"gzip": gzip.open, "bz2": bz2.open, "xz": lzma.open}[compression]
        packed = path.with_name(path.name + {"gzip": ".gz", "bz2": ".bz2", "xz": ".xz"}[compression])
        with opener(packed, "wb") as fh:
            fh.write(path.read_bytes())
        path.unlink()
        path = packed
    return path


@pytest.fixture
def write():
    return write_format


# -- for the fuzz tests of tests/vectors/test_{io,text,binary}.py --------------------------------------
words = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\n"), min_size=1, max_size=6)


def mutate(data: bytes, ops) -> bytes:
    """``data`` with byte edits ``(insert|delete|replace, position, bytes)`` applied in turn."""
    for op, pos, blob in ops:
        pos = pos % (len(data) + 1)
        if op == "insert":
            data = data[:pos] + blob + data[pos:]
        elif op == "delete":
            data = data[:pos] + data[pos + len(blob) :]
        else:
            data = data[:pos] + blob + data[pos + len(blob) :]
    return data


def tier_source() -> Vectors:
    """Thirteen 4-d vectors with a word for each matching tier (cased and lowercase, a subword marker,
    CJK characters, pieces to compose): the source the matching tests of vectors/ and transplant/ share."""
    words = [
        "the",
        "Apple",
        "apple",
        "wifi",
        "ing",
        "中",
        "国",
        "un",
        "happy",
        "ness",
        "##ness",
        "hello",
        "Berlin",
    ]
    rng = np.random.default_rng(1)
    return Vectors(words, rng.standard_normal((len(words), 4)).astype(np.float32))
