"""Figures of an image model's input layer: 2-D positional encodings as a grid of similarity maps (as
Dosovitskiy et al. 2021, Fig. 7 center), and the patch embedding's filters (Fig. 7 left: their principal
components)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from scratchlm.viz.plots import _plt, _save


def patch_similarity(encodings: np.ndarray) -> np.ndarray:
    """``(s, d) -> (s, s)``: the cosine similarity of every patch's position vector with every other's
    (an all-zero vector has similarity 0)."""
    norms = np.linalg.norm(encodings, axis=1, keepdims=True)
    unit = np.divide(encodings, norms, out=np.zeros_like(encodings), where=norms > 0)
    return unit @ unit.T


def similarity_grid(sim: np.ndarray, grid: tuple[int, int], out: str | Path, *, title: str) -> Path:
    """A ``gh x gw`` grid of small ``gh x gw`` maps: map ``(r, c)`` shows patch ``(r, c)``'s similarity to
    every patch, on one colour scale."""
    plt = _plt()
    gh, gw = grid
    fig, axes = plt.subplots(gh, gw, figsize=(1.1 * gw + 1.2, 1.1 * gh + 0.6), squeeze=False)
    lo, hi = float(sim.min()), float(sim.max())
    image = None
    for r in range(gh):
        for c in range(gw):
            ax = axes[r][c]
            image = ax.imshow(sim[r * gw + c].reshape(gh, gw), vmin=lo, vmax=hi, cmap="viridis")
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                ax.set_ylabel(str(r), rotation=0, labelpad=8)
            if r == gh - 1:
                ax.set_xlabel(str(c))
    fig.suptitle(title, fontsize=9)
    fig.colorbar(image, ax=axes, shrink=0.8, label="similarity")
    out = Path(out)
    _save(fig, out)
    plt.close(fig)
    return out


def patch_filters(
    weight: np.ndarray, out: str | Path, *, title: str, top: int = 28
) -> tuple[Path, list[float]]:
    """The principal components of the patch embedding's filters ``(d, c, p, p)``: each an image of
    ``p x p`` (grayscale, or RGB rescaled to [0, 1]); returns the share of variance each explains."""
    plt = _plt()
    d, c, p, _ = weight.shape
    flat = weight.reshape(d, c * p * p) - weight.reshape(d, -1).mean(axis=0)
    _, singular, vt = np.linalg.svd(flat, full_matrices=False)
    share = (singular**2 / max(float((singular**2).sum()), 1e-12)).tolist()
    n = min(top, len(vt))
    cols = min(n, 7)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(1.3 * cols, 1.45 * rows + 0.5), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        comp = vt[i].reshape(c, p, p).transpose(1, 2, 0)  # (p, p, c)
        if c == 1:
            ax.imshow(comp[..., 0], cmap="gray")
        else:
            ax.imshow((comp - comp.min()) / max(float(np.ptp(comp)), 1e-12))
        ax.set_title(f"{i + 1}: {100 * share[i]:.0f}%", fontsize=7)
    fig.suptitle(title, fontsize=9)
    out = Path(out)
    _save(fig, out)
    plt.close(fig)
    return out, share[:n]
