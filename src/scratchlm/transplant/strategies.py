"""One function per way of making a target token's embedding row from a source's parameters.

Each strategy is ``fn(ctx, todo) -> {target id: row}``: it fills the rows it can among ``todo`` (the
ids no earlier tier filled) and leaves the rest to the next tier (:func:`scratchlm.transplant.build`).

| name          | a target token's row is ...                                                            |
|---------------|----------------------------------------------------------------------------------------|
| `exact`       | the source row of the same string                                                      |
| `normalized`  | the source row of its lowercase, NFKC/width-folded or marker-stripped (``##``, ``▁``, ``Ġ``) form |
| `chars`       | a Chinese word (2+ CJK characters): the mean of its characters' rows                   |
| `compose`     | the mean of the pieces the source tokenizer cuts it into (no tokenizer: greedy longest match over the source tokens) |
| `compose_len` | the same, each piece weighted by its length in characters                             |
| `knn`         | FOCUS/WECHSEL-like: its k nearest overlapping tokens in an auxiliary static vector space (cosine), the source rows of those tokens averaged with ``softmax(cos / temperature)`` weights |
| `sampled`     | a draw from the normal with the source matrix's mean and covariance (HF ``resize_token_embeddings``) |
| `random`      | ``N(0, init_std^2)`` (the source model's ``initializer_range``)                         |

The first four are the matching tiers of :mod:`scratchlm.vectors.match`, the same code and names
``model.init`` uses. "Overlapping tokens" for ``knn`` are the target tokens an earlier content tier
(exact, normalized, chars, compose) already filled, that the auxiliary space also has.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from scratchlm.errors import DataError
from scratchlm.transplant.sources import Source
from scratchlm.vectors.base import Vectors
from scratchlm.vectors.match import Matcher, strip_marker

CONTENT = ("exact", "normalized", "chars", "compose", "compose_len", "knn")
"""Strategies that read the source's rows (the others draw them)."""
OOV_INITS = ("normal", "uniform", "zeros", "sampled")
"""Ways of drawing rows for tokens no source row matches (:func:`oov_rows`)."""


@dataclass
class Context:
    target: list[str]  # target vocabulary, by id
    source: Source
    aux: Vectors | None = None  # static vectors for `knn`, covering (some) target tokens
    k: int = 10
    temperature: float = 0.1
    seed: int = 0
    filled: dict[int, tuple[str, np.ndarray]] = field(default_factory=dict)  # id -> (tier, row)
    _matcher: Matcher | None = None
    _rng: np.random.Generator | None = None

    @property
    def matcher(self) -> Matcher:
        if self._matcher is None:
            self._matcher = Matcher(self.source.vectors(), self.source.tokenize)
        return self._matcher

    @property
    def rng(self) -> np.random.Generator:
        if self._rng is None:
            self._rng = np.random.default_rng(self.seed)
        return self._rng

    def rows(self, ids: list[int]) -> np.ndarray:
        return np.asarray(self.source.matrix[ids], dtype=np.float32)


Rows = dict[int, np.ndarray]


def _matched(ctx: Context, todo: list[int], tier: str) -> Rows:
    """The rows a matching tier finds: the source row, or the mean of the source rows."""
    find = getattr(ctx.matcher, tier)
    out = {}
    for i in todo:
        ids = find(ctx.target[i])
        if ids:
            rows = ctx.rows(ids)
            out[i] = rows[0] if len(ids) == 1 else rows.mean(0)
    return out


def exact(ctx: Context, todo: list[int]) -> Rows:
    return _matched(ctx, todo, "exact")


def normalized(ctx: Context, todo: list[int]) -> Rows:
    return _matched(ctx, todo, "normalized")


def chars(ctx: Context, todo: list[int]) -> Rows:
    return _matched(ctx, todo, "chars")


def compose(ctx: Context, todo: list[int]) -> Rows:
    return _matched(ctx, todo, "compose")


def compose_len(ctx: Context, todo: list[int]) -> Rows:
    """``compose`` with each piece weighted by its length in characters (its marker apart)."""
    out = {}
    for i in todo:
        ids = ctx.matcher.compose(ctx.target[i])
        if not ids:
            continue
        tokens = ctx.source.tokens
        w = np.array([max(1, len(strip_marker(tokens[j]) or tokens[j])) for j in ids])
        out[i] = (w[:, None] * ctx.rows(ids)).sum(0) / w.sum()
    return out


def _unit(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float32)
    return m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)


def knn(ctx: Context, todo: list[int]) -> Rows:
    if ctx.aux is None:
        raise DataError(
            "strategy knn needs an auxiliary vector space (--aux VECTORS) covering the target tokens"
        )
    aux_index = ctx.aux.index
    anchors = [
        (i, aux_index[ctx.target[i]])
        for i, (tier, _) in sorted(ctx.filled.items())
        if tier in CONTENT and ctx.target[i] in aux_index
    ]
    queries = [(i, aux_index[ctx.target[i]]) for i in todo if ctx.target[i] in aux_index]
    if not anchors or not queries:
        return {}
    anchor_aux = _unit(ctx.aux.matrix[[a for _, a in anchors]])  # (n_a, d_aux)
    anchor_rows = np.stack([ctx.filled[i][1] for i, _ in anchors])  # (n_a, D)
    k = min(ctx.k, len(anchors))
    out = {}
    for start in range(0, len(queries), 1024):
        batch = queries[start : start + 1024]
        sims = _unit(ctx.aux.matrix[[a for _, a in batch]]) @ anchor_aux.T  # (n_q, n_a)
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]  # (n_q, k)
        top_sims = np.take_along_axis(sims, top, axis=1) / ctx.temperature
        w = np.exp(top_sims - top_sims.max(1, keepdims=True))
        w /= w.sum(1, keepdims=True)  # softmax over the k neighbours
        rows = np.einsum("qk,qkd->qd", w, anchor_rows[top])
        out.update({i: rows[n] for n, (i, _) in enumerate(batch)})
    return out


def oov_rows(
    n: int, dim: int, method: str, *, std: float, found: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """``(n, dim)`` float32 rows drawn by ``method`` (:data:`OOV_INITS`); ``sampled`` draws from the
    normal with the mean and covariance of the rows ``found`` (``normal(0, std)`` when fewer than 2)."""
    if method == "normal":
        return rng.normal(0.0, std, (n, dim)).astype(np.float32)
    if method == "uniform":  # same standard deviation as normal(0, std)
        return rng.uniform(-std * 3**0.5, std * 3**0.5, (n, dim)).astype(np.float32)
    if method == "zeros":
        return np.zeros((n, dim), np.float32)
    if method == "sampled":
        if len(found) < 2:
            return rng.normal(0.0, std, (n, dim)).astype(np.float32)
        return rng.multivariate_normal(found.mean(0), np.cov(found.T), n, method="eigh").astype(np.float32)
    raise DataError(f"unknown OOV init {method!r}; choose from {', '.join(OOV_INITS)}")


def sampled(ctx: Context, todo: list[int]) -> Rows:
    rows = oov_rows(
        len(todo), ctx.source.dim, "sampled", std=ctx.source.init_std, found=ctx.source.matrix, rng=ctx.rng
    )
    return dict(zip(todo, rows, strict=True))


def random(ctx: Context, todo: list[int]) -> Rows:
    rows = oov_rows(
        len(todo), ctx.source.dim, "normal", std=ctx.source.init_std, found=ctx.source.matrix, rng=ctx.rng
    )
    return dict(zip(todo, rows, strict=True))


STRATEGIES: dict[str, Callable[[Context, list[int]], Rows]] = {
    "exact": exact,
    "normalized": normalized,
    "chars": chars,
    "compose": compose,
    "compose_len": compose_len,
    "knn": knn,
    "sampled": sampled,
    "random": random,
}
