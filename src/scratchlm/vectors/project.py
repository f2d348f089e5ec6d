"""Change the dimension of vectors, only when asked: PCA, a random orthogonal map, or pad/truncate.

Shapes: ``n`` words, ``D`` source dimension, ``d`` target dimension.
- ``pca`` (``d <= D``): centre, keep the ``d`` directions of largest variance (fit on at most
  ``fit_rows`` rows, the most frequent words in most files). The common mean direction is dropped,
  which for word vectors mostly helps (Mu & Viswanath 2018, "All-but-the-Top").
- ``random``: multiply by a ``(D, d)`` matrix with orthonormal columns (``d <= D``) or rows
  (``d > D``) from the QR decomposition of a Gaussian matrix; for ``d >= D`` lengths and angles are
  kept exactly, for ``d < D`` approximately (Johnson-Lindenstrauss).
- ``pad-truncate``: keep the first ``d`` values, or append zeros.
"""

from __future__ import annotations

import numpy as np

from scratchlm.errors import DataError
from scratchlm.vectors.base import Vectors

PROJECTIONS = ("pca", "random", "pad-truncate")


def projection_matrix(
    matrix: np.ndarray, dim: int, method: str, *, seed: int = 0, fit_rows: int = 100_000
) -> tuple[np.ndarray, np.ndarray]:
    """``(mean (D,), W (D, d))`` so that ``(x - mean) @ W`` is the projected vector."""
    source_dim = matrix.shape[1]
    mean = np.zeros(source_dim, np.float32)
    if method == "pca":
        if dim > source_dim:
            raise DataError(
                f"pca cannot raise the dimension from {source_dim} to {dim}; use random or pad-truncate"
            )
        sample = np.asarray(matrix[:fit_rows], dtype=np.float64)
        mean = sample.mean(axis=0).astype(np.float32)
        _, _, vt = np.linalg.svd(sample - mean, full_matrices=False)  # rows of vt: principal directions
        w = vt[:dim].T
        w *= np.where(w[np.abs(w).argmax(axis=0), range(dim)] < 0, -1, 1)  # fix each direction's sign
    elif method == "random":
        g = np.random.default_rng(seed).standard_normal((max(source_dim, dim), min(source_dim, dim)))
        q, r = np.linalg.qr(g)  # q: orthonormal columns
        q *= np.sign(np.diag(r))
        w = q if source_dim >= dim else q.T
    elif method == "pad-truncate":
        w = np.eye(source_dim, dim)
    else:
        raise DataError(f"unknown projection {method!r}; choose from {', '.join(PROJECTIONS)}")
    return mean, w.astype(np.float32)


def project_vectors(vectors: Vectors, dim: int, method: str, *, seed: int = 0) -> Vectors:
    """The same words with ``dim``-dimensional vectors."""
    if dim < 1:
        raise DataError(f"the target dimension must be at least 1, got {dim}")
    mean, w = projection_matrix(vectors.matrix, dim, method, seed=seed)
    out = np.empty((len(vectors), dim), np.float32)
    for start in range(0, len(vectors), 65536):  # blocks: no (n, D) float32 copy of a float16 matrix
        block = np.asarray(vectors.matrix[start : start + 65536], dtype=np.float32)
        out[start : start + 65536] = (block - mean) @ w
    return Vectors(
        list(vectors.words),
        out.astype(vectors.matrix.dtype, copy=False),
        vectors.format,
        vectors.source,
        dict(vectors.skipped),
        vectors.compression,
        _index=vectors._index,
    )
