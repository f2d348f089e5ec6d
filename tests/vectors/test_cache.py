"""The vectors cache (vectors/cache.py): a word list or matrix that does not fit is a clear error."""

from __future__ import annotations

import pytest

from scratchlm.errors import DataError
from scratchlm.vectors.io import load_vectors


def test_cache_problems(tmp_path, small, write):
    cache = write(tmp_path, small, "cache")
    tokens = cache / "tokens.txt"
    tokens.write_text("\n".join(small.words[:-1]) + "\n", encoding="utf-8")
    with pytest.raises(
        DataError, match=rf"tokens.txt:{len(small.words) - 1}: {len(small.words) - 1} words for"
    ):
        load_vectors(cache)
    matrix = cache / "vectors.safetensors"
    matrix.write_bytes(matrix.read_bytes()[:-10])
    with pytest.raises(DataError, match="does not fit the file"):
        load_vectors(cache)
    matrix.write_bytes(b"\x05\x00\x00\x00\x00\x00\x00\x00{oops")
    with pytest.raises(DataError, match="not a safetensors file"):
        load_vectors(cache)
