"""Dimension changes (vectors/project.py): ``random`` keeps lengths and angles, ``pad-truncate`` cuts,
``pca`` keeps the most variance."""

from __future__ import annotations

import numpy as np

from scratchlm.vectors.base import Vectors
from scratchlm.vectors.project import project_vectors


def test_projections():
    rng = np.random.default_rng(1)
    source = Vectors([f"w{i}" for i in range(13)], rng.standard_normal((13, 4)).astype(np.float32))
    up = project_vectors(source, 8, "random")
    np.testing.assert_allclose(
        np.linalg.norm(up.matrix, axis=1), np.linalg.norm(source.matrix, axis=1), rtol=1e-5
    )
    g_src, g_up = source.matrix @ source.matrix.T, up.matrix @ up.matrix.T
    np.testing.assert_allclose(g_up, g_src, atol=1e-4)  # lengths and angles kept
    cut = project_vectors(source, 2, "pad-truncate")
    np.testing.assert_array_equal(cut.matrix, source.matrix[:, :2])
    pca = project_vectors(source, 2, "pca").matrix
    centred = source.matrix - source.matrix.mean(0)
    assert (
        pca.var(0).sum()
        >= project_vectors(Vectors(source.words, centred), 2, "random").matrix.var(0).sum() - 1e-6
    )
