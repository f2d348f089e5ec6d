"""Put pretrained vectors into a vocabulary's embedding matrix (exact token matches).

The rows found are rescaled so their standard deviation equals the model's ``init_std``: the encoder
was designed for inputs of that scale, and raw word2vec vectors are about ten times larger.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from scratchlm.errors import DataError


@dataclass
class AlignResult:
    ids: torch.Tensor  # (n,) rows of the vocabulary that were found
    rows: torch.Tensor  # (n, d) their vectors, rescaled
    found: int
    vocab_size: int

    @property
    def coverage(self) -> float:
        return self.found / max(1, self.vocab_size)


def align(vocab_tokens: list[str], tokens: list[str], vectors: np.ndarray, *, target_std: float | None,
          skip: set[int] | None = None) -> AlignResult:
    index = {t: i for i, t in enumerate(tokens)}
    ids, src = [], []
    for i, tok in enumerate(vocab_tokens):
        if skip and i in skip:
            continue
        j = index.get(tok)
        if j is not None:
            ids.append(i)
            src.append(j)
    rows = torch.from_numpy(np.asarray(vectors[src], dtype=np.float32)) if src else torch.zeros(0, vectors.shape[1])
    if target_std is not None and len(src) > 1:
        rows = rows / rows.std().clamp_min(1e-12) * target_std
    return AlignResult(torch.tensor(ids, dtype=torch.long), rows, len(ids), len(vocab_tokens))


def read_vectors_file(path: str | Path) -> tuple[list[str], np.ndarray]:
    """Read ``vectors.safetensors`` (tensor ``vectors`` [n, d]) with ``tokens.txt`` beside it."""
    from safetensors.numpy import load_file

    path = Path(path)
    if path.is_dir():
        path = path / "vectors.safetensors"
    if not path.exists():
        raise DataError(f"{path}: vectors file not found")
    tokens_path = path.with_name("tokens.txt")
    if not tokens_path.exists():
        raise DataError(f"{path}: no tokens.txt beside the vectors file")
    arr = load_file(str(path)).get("vectors")
    if arr is None:
        raise DataError(f"{path}: no tensor named 'vectors'")
    tokens = tokens_path.read_text(encoding="utf-8").split("\n")
    if tokens and tokens[-1] == "":
        tokens.pop()
    if len(tokens) != arr.shape[0]:
        raise DataError(f"{tokens_path}: {len(tokens)} tokens for {arr.shape[0]} vectors")
    return tokens, arr


def write_vectors_file(directory: str | Path, tokens: list[str], vectors: np.ndarray) -> Path:
    from safetensors.numpy import save

    from scratchlm.io import atomic_write_bytes, atomic_write_text

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(directory / "vectors.safetensors", save({"vectors": np.ascontiguousarray(vectors, dtype=np.float32)}))
    atomic_write_text(directory / "tokens.txt", "\n".join(tokens) + "\n")
    return directory / "vectors.safetensors"
