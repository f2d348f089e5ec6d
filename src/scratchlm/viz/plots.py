"""Matplotlib figures written as PNG (Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path

from scratchlm.io import read_json_lines


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
    """Training loss and learning rate by step; dev accuracy and macro-F1 (classifier) or span F1,
    precision and recall (tagger) by evaluation."""
    plt = _plt()
    records = read_json_lines(log_path)  # a last line cut short by a kill is skipped
    train = [r for r in records if r.get("event") == "train"]
    evals = [r for r in records if r.get("event") == "eval"]
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.8))
    axes[0].plot([r["step"] for r in train], [r["loss"] for r in train], lw=1)
    axes[0].set(
        title="training loss",
        xlabel="step",
        ylabel="loss per token" if evals and "dev_f1" in evals[0] else "cross-entropy",
    )
    axes[1].plot([r["step"] for r in train], [r["lr"] for r in train], lw=1, color="tab:orange")
    axes[1].set(title="learning rate", xlabel="step")
    # a classifier logs dev accuracy and macro-F1; a tagger dev span F1, precision and recall; seq2seq WER, PER
    for key, marker, label in (
        ("dev_accuracy", "o", "accuracy"),
        ("dev_macro_f1", "s", "macro-F1"),
        ("dev_f1", "o", "F1"),
        ("dev_precision", "^", "precision"),
        ("dev_recall", "v", "recall"),
        ("dev_wer", "o", "WER"),
        ("dev_per", "s", "PER"),
    ):
        if evals and key in evals[0]:
            axes[2].plot([r["step"] for r in evals], [r[key] for r in evals], marker=marker, label=label)
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


def _cosine_by_offset(matrix):
    """``sim[p, k] = cos(M[p], M[p + k])`` for ``p + k < N`` (NaN elsewhere): ``(N, N)``."""
    import numpy as np

    m = np.asarray(matrix, dtype=np.float64)
    unit = m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)
    full = unit @ unit.T  # (N, N)
    n = len(m)
    sim = np.full((n, n), np.nan)
    for k in range(n):
        sim[: n - k, k] = np.diagonal(full, k)
    return sim


def positional_encoding(matrix, out: str | Path, *, kind: str, what: str, bias: bool) -> Path:
    """Heatmap of a positional matrix, and how position ``p`` relates to ``p + k``.

    ``bias=False``: ``matrix`` is ``(N, D)`` vectors; the right panel is the cosine similarity of
    position ``p`` with ``p + k`` against the offset ``k`` (a few ``p`` and the mean over ``p``).
    ``bias=True``: ``matrix`` is an ``(N, N)`` attention bias; the right panel is ``bias[p, p + k]``
    for the middle query ``p``, against the offset ``k`` (negative: keys to the left).
    """
    import numpy as np

    plt = _plt()
    m = np.asarray(matrix, dtype=np.float64)
    n = len(m)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), gridspec_kw={"width_ratios": [1.3, 1]})
    image = axes[0].imshow(m, aspect="auto", cmap="RdBu_r", interpolation="nearest")
    fig.colorbar(image, ax=axes[0], fraction=0.046)
    axes[0].set(
        title=f"{kind}: {what}",
        xlabel="key position" if bias else "dimension",
        ylabel="query position" if bias else "position",
    )
    if bias:
        p = n // 2
        offsets = np.arange(-p, n - p)
        axes[1].plot(offsets, m[p], marker=".", lw=1)
        axes[1].set(title=f"bias of query {p} to key {p} + k", xlabel="offset k", ylabel="bias")
    else:
        sim = _cosine_by_offset(m)
        ks = np.arange(n)
        with np.errstate(all="ignore"):
            mean = np.nanmean(sim, axis=0)
        # the mean underneath: where the curves of all p coincide (rope, sinusoidal) they cover it
        axes[1].plot(ks, mean, lw=4, color="black", alpha=0.3, label="mean over p")
        for p in sorted({0, n // 4, n // 2}):
            axes[1].plot(ks[: n - p], sim[p, : n - p], lw=1, label=f"p = {p}")
        axes[1].set(title="cosine similarity of position p and p + k", xlabel="offset k", ylabel="cosine")
        axes[1].legend(fontsize=8)
    axes[1].grid(alpha=0.3)
    out = Path(out)
    _save(fig, out)
    plt.close(fig)
    return out


def _cjk_font() -> str | None:
    """A font with Chinese glyphs, if matplotlib can find one (else labels may show as boxes)."""
    from matplotlib import font_manager

    for font in font_manager.fontManager.ttflist:
        name = font.name.lower()
        if any(k in name for k in ("cjk", "hei", "song", "wenquanyi", "ming", "kai", "yahei", "pingfang")):
            return font.name
    return None


def cjk_font_note(tokens: list[str], json_gives: str = "the coordinates") -> str | None:
    """What to tell the user when Chinese labels will show as boxes (no CJK font found), else ``None``."""
    if _cjk_font() is not None or not any(ord(c) > 0x2E80 for t in tokens for c in t):
        return None
    return (
        "note: matplotlib found no font with Chinese glyphs, so those labels show as boxes; install "
        f"one (e.g. Noto Sans CJK) for readable labels (--json gives {json_gives})"
    )


def project_2d(vectors, method: str = "pca", *, seed: int = 0):
    """``vectors (n, d) -> (points (n, 2), how)``: scikit-learn PCA, or t-SNE (PCA init, perplexity
    ``min(30, (n - 1) / 3)`` so that small sets work); ``how`` says which, for a title."""
    import numpy as np

    x = np.asarray(vectors, dtype=np.float32)
    if method == "pca":
        from sklearn.decomposition import PCA

        pca = PCA(n_components=2, random_state=seed)
        points = pca.fit_transform(x)
        return points, f"PCA ({100 * pca.explained_variance_ratio_.sum():.0f}% of variance)"
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = min(30.0, max(1.0, (len(x) - 1) / 3))
        points = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(x)
        return points, f"t-SNE (perplexity {perplexity:g})"
    raise ValueError(f"method must be pca or tsne, got {method!r}")


def embedding_points(points, tokens: list[str], out: str | Path, *, title: str) -> Path:
    """A 2-d scatter of token vectors (PCA or t-SNE coordinates), each point labelled with its token."""
    import warnings

    import numpy as np

    plt = _plt()
    xy = np.asarray(points, dtype=np.float64)
    fig, ax = plt.subplots(figsize=(7, 6))
    ax.scatter(xy[:, 0], xy[:, 1], s=12, color="tab:blue")
    font = _cjk_font()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # missing glyphs: the point is still there
        for (x, y), tok in zip(xy, tokens, strict=True):
            ax.annotate(
                tok,
                (x, y),
                fontsize=10,
                xytext=(3, 3),
                textcoords="offset points",
                **({"fontfamily": font} if font else {}),
            )
        ax.set(title=title)
        ax.grid(alpha=0.3)
        out = Path(out)
        _save(fig, out)
    plt.close(fig)
    return out


def attention_heads(weights, tokens: list[str], out: str | Path, *, layers: list[int], title: str) -> Path:
    """A grid of attention heatmaps: one row per layer, one column per head; in each, query positions
    as rows and key positions as columns (each row sums to 1), the tokens as tick labels.

    ``weights``: ``(L, h, s, s)`` for the ``L`` layers numbered ``layers``."""
    import warnings

    import numpy as np

    plt = _plt()
    w = np.asarray(weights, dtype=np.float64)
    num_layers, num_heads, s, _ = w.shape
    cell = min(4.5, max(2.2, 0.22 * s + 1.0))
    fig, axes = plt.subplots(
        num_layers,
        num_heads,
        figsize=(cell * num_heads + 1.2, cell * num_layers + 0.6),
        squeeze=False,
        layout="constrained",
    )
    font = _cjk_font()
    labels = {"fontfamily": font} if font else {}
    if cjk_font_note(tokens):  # Chinese glyphs will be boxes: number the positions so they stay readable
        tokens = [f"{t} {i}" for i, t in enumerate(tokens)]
    size = 9 if s <= 16 else 7 if s <= 32 else 5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # missing glyphs: the cells are still there
        for r, layer in enumerate(layers):
            for c in range(num_heads):
                ax = axes[r][c]
                image = ax.imshow(w[r, c], cmap="viridis", vmin=0, vmax=1, interpolation="nearest")
                ax.set_xticks(range(s), tokens, fontsize=size, rotation=90, **labels)
                ax.set_yticks(range(s), tokens if c == 0 else [""] * s, fontsize=size, **labels)
                ax.set_title(f"layer {layer}, head {c}", fontsize=9)
                if r == num_layers - 1:
                    ax.set_xlabel("key", fontsize=8)
                if c == 0:
                    ax.set_ylabel("query", fontsize=8)
        fig.colorbar(image, ax=axes, shrink=0.8, label="attention weight")
        fig.suptitle(title, fontsize=10)
        out = Path(out)
        _save(fig, out)
    plt.close(fig)
    return out
