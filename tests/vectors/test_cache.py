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


def test_cache_is_checked_as_strictly_as_text(tmp_path, small, write):
    """A cache edited or damaged after it was written: what the text readers refuse is refused here too."""
    import numpy as np
    from safetensors.numpy import save_file

    cache = write(tmp_path, small, "cache")
    tokens = cache / "tokens.txt"
    words = list(small.words)
    tokens.write_text("\n".join([*words[:-1], words[0]]) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=rf"tokens.txt:{len(words)}: the word {words[0]!r} repeats line 1"):
        load_vectors(cache)
    tokens.write_text("\n".join([*words[:-1], " "]) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match="is empty or has spaces around it"):
        load_vectors(cache)
    tokens.write_text("\n".join(words) + "\n", encoding="utf-8")
    matrix = np.array(small.matrix, dtype=np.float32)
    matrix[2, 1] = np.nan
    save_file({"vectors": matrix}, str(cache / "vectors.safetensors"))
    with pytest.raises(DataError, match=rf"the vector of {words[2]!r} \(tokens.txt:3\) holds NaN or inf"):
        load_vectors(cache)
    save_file({"vectors": np.zeros((len(words), 0), np.float32)}, str(cache / "vectors.safetensors"))
    with pytest.raises(DataError, match="has 0 dimensions"):
        load_vectors(cache)
