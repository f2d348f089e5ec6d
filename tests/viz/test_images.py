"""Image figures: the similarity matrix, the grid of maps and the filters' principal components as PNGs."""

from __future__ import annotations

import numpy as np

from scratchlm.viz.images import patch_filters, patch_similarity, similarity_grid

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_patch_similarity_is_cosine_and_zero_safe():
    enc = np.array([[1.0, 0.0], [2.0, 0.0], [0.0, 3.0], [0.0, 0.0]])
    sim = patch_similarity(enc)
    assert np.allclose(sim[0], [1, 1, 0, 0]) and np.allclose(sim[3], 0)


def test_figures_are_written(tmp_path):
    grid = similarity_grid(np.eye(6), (2, 3), tmp_path / "g.png", title="t")
    assert grid.read_bytes()[:8] == PNG_MAGIC
    path, share = patch_filters(
        np.random.default_rng(0).normal(size=(16, 3, 2, 2)), tmp_path / "f.png", title="t"
    )
    assert path.read_bytes()[:8] == PNG_MAGIC and len(share) == 12 and abs(sum(share) - 1) < 1e-6
    assert share == sorted(share, reverse=True)
