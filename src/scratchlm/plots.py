"""Matplotlib figures written as PNG (Agg backend: no display needed)."""

from __future__ import annotations

import json
from pathlib import Path


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> None:
    import io

    from scratchlm.io import atomic_write_bytes

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120, bbox_inches="tight")
    atomic_write_bytes(path, buf.getvalue())


def training_curves(log_path: str | Path, out: str | Path) -> Path:
    """Training loss and learning rate by step, dev accuracy and macro-F1 by evaluation."""
    plt = _plt()
    records = [
        json.loads(line) for line in Path(log_path).read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    train = [r for r in records if r.get("event") == "train"]
    evals = [r for r in records if r.get("event") == "eval"]
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.8))
    axes[0].plot([r["step"] for r in train], [r["loss"] for r in train], lw=1)
    axes[0].set(title="training loss", xlabel="step", ylabel="cross-entropy")
    axes[1].plot([r["step"] for r in train], [r["lr"] for r in train], lw=1, color="tab:orange")
    axes[1].set(title="learning rate", xlabel="step")
    axes[2].plot([r["step"] for r in evals], [r["dev_accuracy"] for r in evals], marker="o", label="accuracy")
    axes[2].plot([r["step"] for r in evals], [r["dev_macro_f1"] for r in evals], marker="s", label="macro-F1")
    axes[2].set(title="dev", xlabel="step")
    axes[2].legend()
    for ax in axes:
        ax.grid(alpha=0.3)
    out = Path(out)
    _save(fig, out)
    plt.close(fig)
    return out


def confusion_matrix(metrics: dict, out: str | Path, title: str = "") -> Path:
    """Counts with row-normalised colour (rows: true label, columns: predicted)."""
    import numpy as np

    plt = _plt()
    cm = np.asarray(metrics["confusion_matrix"])
    labels = metrics["labels"]
    norm = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    size = max(3.5, 0.6 * len(labels) + 2)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(
                j, i, str(cm[i, j]), ha="center", va="center", color="white" if norm[i, j] > 0.5 else "black"
            )
    ax.set(
        xlabel="predicted",
        ylabel="true",
        title=f"{title} accuracy {metrics['accuracy']:.3f}, macro-F1 {metrics['macro_f1']:.3f}".strip(),
    )
    out = Path(out)
    _save(fig, out)
    plt.close(fig)
    return out
