"""One function per way of making a target token's embedding row from a source's parameters.

Each strategy is ``fn(ctx, todo) -> {target id: row}``: it fills the rows it can among ``todo`` (the
ids no earlier tier filled) and leaves the rest to the next tier (:func:`scratchlm.transplant.build`).

| name          | a target token's row is ...                                                            |
|---------------|----------------------------------------------------------------------------------------|
| `exact`       | the source row of the same string                                                      |
| `normalized`  | the source row of its lowercase, NFKC/width-folded or marker-stripped (``##``, ``▁``, ``Ġ``) form |
| `compose`     | the mean of the pieces the source tokenizer cuts it into (no tokenizer: greedy longest match over the source tokens) |
| `compose_len` | the same, each piece weighted by its length in characters                             |
| `chars`       | a Chinese word (2+ CJK characters): the mean of its characters' rows                   |
| `knn`         | FOCUS/WECHSEL-like: its k nearest overlapping tokens in an auxiliary static vector space (cosine), the source rows of those tokens averaged with ``softmax(cos / temperature)`` weights |
| `sampled`     | a draw from the normal with the source matrix's mean and covariance (HF ``resize_token_embeddings``) |
| `random`      | ``N(0, init_std^2)`` (the source model's ``initializer_range``)                         |

Lookups by name share :mod:`scratchlm.vectors.align`'s tiers (one implementation for vectors and
transplants). "Overlapping tokens" for ``knn`` are the target tokens an earlier content tier
(exact, normalized, compose, chars) already filled, that the auxiliary space also has.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from scratchlm.tokenizers.normalize import normalize_text
from scratchlm.transplant.sources import Source
from scratchlm.vectors.align import TokenLookup, match_token, oov_rows, strip_marker
from scratchlm.vectors.base import Vectors

CONTENT = ("exact", "normalized", "compose", "compose_len", "chars", "knn")
"""Strategies that read the source's rows (the others draw them)."""


@dataclass
class Context:
    target: list[str]  # target vocabulary, by id
    source: Source
    aux: Vectors | None = None  # static vectors for `knn`, covering (some) target tokens
    k: int = 10
    temperature: float = 0.1
    seed: int = 0
    filled: dict[int, tuple[str, np.ndarray]] = field(default_factory=dict)  # id -> (tier, row)
    _lookup: TokenLookup | None = None
    _rng: np.random.Generator | None = None

    @property
    def lookup(self) -> TokenLookup:
        if self._lookup is None:
            self._lookup = TokenLookup(self.source.vectors())
        return self._lookup

    @property
    def rng(self) -> np.random.Generator:
        if self._rng is None:
            self._rng = np.random.default_rng(self.seed)
        return self._rng

    def rows(self, ids: list[int]) -> np.ndarray:
        return np.asarray(self.source.matrix[ids], dtype=np.float32)


Rows = dict[int, np.ndarray]


def exact(ctx: Context, todo: list[int]) -> Rows:
    index = ctx.lookup.index
    return {i: ctx.rows([index[ctx.target[i]]])[0] for i in todo if ctx.target[i] in index}


def normalized(ctx: Context, todo: list[int]) -> Rows:
    out = {}
    for i in todo:
        tok = ctx.target[i]
        core = strip_marker(tok)
        hit = ctx.lookup.direct(tok, ("lower", "nfkc"))
        if hit is None and core is not None:
            hit = ctx.lookup.direct(core, ("exact", "lower", "nfkc"))
        if hit is not None:
            out[i] = ctx.rows([hit[1]])[0]
    return out


def _pieces(ctx: Context, tok: str) -> list[int] | None:
    core = normalize_text(strip_marker(tok) or tok)
    if not core.strip():
        return None
    if ctx.source.tokenize is not None:
        return ctx.source.tokenize(core)
    return ctx.lookup.pieces(core)


def _compose(ctx: Context, todo: list[int], weighted: bool) -> Rows:
    out = {}
    for i in todo:
        ids = _pieces(ctx, ctx.target[i])
        if not ids:
            continue
        rows = ctx.rows(ids)
        if weighted:
            w = np.array(
                [max(1, len(strip_marker(ctx.source.tokens[j]) or ctx.source.tokens[j])) for j in ids]
            )
            out[i] = (w[:, None] * rows).sum(0) / w.sum()
        else:
            out[i] = rows.mean(0)
    return out


def compose(ctx: Context, todo: list[int]) -> Rows:
    return _compose(ctx, todo, weighted=False)


def compose_len(ctx: Context, todo: list[int]) -> Rows:
    return _compose(ctx, todo, weighted=True)


def chars(ctx: Context, todo: list[int]) -> Rows:
    out = {}
    for i in todo:
        hit = match_token(ctx.target[i], ctx.lookup, ("chars",))
        if hit is not None:
            out[i] = ctx.rows(hit[1]).mean(0)
    return out


def _unit(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float32)
    return m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)


def knn(ctx: Context, todo: list[int]) -> Rows:
    if ctx.aux is None:
        from scratchlm.errors import DataError

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
    "compose": compose,
    "compose_len": compose_len,
    "chars": chars,
    "knn": knn,
    "sampled": sampled,
    "random": random,
}
