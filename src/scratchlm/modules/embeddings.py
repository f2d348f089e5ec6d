"""Token embeddings: the [V, d] matrix that turns ids into the first vectors a model sees.

Shapes: ``b`` batch, ``s`` sequence, ``d`` embedding dim, ``V`` vocabulary size, ``r`` rank, ``T`` token types.

- :class:`TokenEmbedding` — one row per token. Initialisation (:func:`init_embedding_`), an optional
  output scale (``sqrt(d)``, Vaswani et al. 2017 §3.4), pretrained rows (:meth:`TokenEmbedding.load_rows`)
  and frozen rows (:meth:`TokenEmbedding.freeze_rows`: pretrained rows keep their values, new rows train).
  Which rows pretrained vectors give is decided outside the module (``model.init``:
  :mod:`scratchlm.training.init`).
- :class:`FactorizedTokenEmbedding` — ALBERT's factorization (Lan et al. 2020, §3.1,
  https://arxiv.org/abs/1909.11942): ``E = A . B`` with ``A (V, r)`` and ``B (r, d)``, ``V r + r d``
  parameters instead of ``V d``.
- :class:`TokenTypeEmbedding` — BERT's segment embedding: one vector per token type (sentence A/B).
- :class:`HashedBigramEmbedding` — vectors of adjacent-token pairs, hashed into buckets.

In every variant the padding row is zero and gets no gradient (``nn.Embedding(padding_idx=...)``), so
it stays zero in training; in the factorized one ``A``'s padding row is zero, hence ``E``'s.
"""

from __future__ import annotations

import torch
from torch import nn

EMBEDDING_INITS = ("normal", "truncated_normal", "uniform", "xavier", "kaiming", "zeros")
"""Initialisations of an embedding matrix ``W (V, d)``:

- ``normal``: ``N(0, std^2)`` (BERT, std 0.02);
- ``truncated_normal``: ``N(0, std^2)`` cut at ``+-2 std`` (TF BERT's ``truncated_normal_initializer``);
- ``uniform``: ``U(-a, a)``;
- ``xavier``: ``U(-b, b)``, ``b = sqrt(6 / (V + d))`` (Glorot & Bengio 2010, torch's fans of a (V, d) matrix);
- ``kaiming``: ``N(0, 1/d)`` (He et al. 2015 with fan-in ``d`` and the linear gain: the sum of a row's
  squares is about 1, the scale of ``d^-1/2`` init in Transformer LMs);
- ``zeros``: all zero (a model then learns its token vectors from the gradient alone).
"""


@torch.no_grad()
def init_embedding_(
    weight: torch.Tensor, kind: str = "normal", *, std: float = 0.02, a: float = 0.05
) -> torch.Tensor:
    """Fill ``weight (V, d)`` in place with one of :data:`EMBEDDING_INITS`."""
    if kind == "normal":
        return nn.init.normal_(weight, 0.0, std)
    if kind == "truncated_normal":
        return nn.init.trunc_normal_(weight, 0.0, std, -2 * std, 2 * std)
    if kind == "uniform":
        return nn.init.uniform_(weight, -a, a)
    if kind == "xavier":
        return nn.init.xavier_uniform_(weight)
    if kind == "kaiming":
        return nn.init.kaiming_normal_(weight, mode="fan_in", nonlinearity="linear")
    if kind == "zeros":
        return nn.init.zeros_(weight)
    raise ValueError(f"unknown embedding init {kind!r}; valid: {', '.join(EMBEDDING_INITS)}")


class TokenEmbedding(nn.Module):
    """``ids (b, s) -> vectors (b, s, d)``, times ``scale`` (1, or ``sqrt(d)`` with ``embed_scale``).

    The padding row is zero and, through ``nn.Embedding(padding_idx=...)``, never receives a gradient.
    With ``row_freezing=True`` the module has a ``frozen_rows (V,)`` buffer (saved with the weights, so a
    resumed run keeps it): rows marked by :meth:`freeze_rows` pass no gradient to the matrix (their
    gradient is masked to zero in the forward pass), the others train. The optimizer puts embedding
    tables in a group without weight decay, so a frozen row keeps its value exactly.
    """

    def __init__(
        self,
        vocab_size: int,
        embed_dim: int,
        *,
        padding_idx: int | None = 0,
        init: str = "normal",
        init_std: float = 0.02,
        init_a: float = 0.05,
        scale: float = 1.0,
        row_freezing: bool = False,
    ):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=padding_idx)
        self.padding_idx = padding_idx
        self.init = init
        self.init_std = init_std
        self.init_a = init_a
        self.scale = scale
        self.frozen_rows: torch.Tensor | None
        if row_freezing:
            self.register_buffer("frozen_rows", torch.zeros(vocab_size, dtype=torch.bool))
        else:
            self.frozen_rows = None
        self.reset_parameters()

    @property
    def weight(self) -> nn.Parameter:
        return self.embedding.weight

    @property
    def vocab_size(self) -> int:
        return self.embedding.num_embeddings

    @property
    def embed_dim(self) -> int:
        return self.embedding.embedding_dim

    def reset_parameters(self) -> None:
        init_embedding_(self.embedding.weight, self.init, std=self.init_std, a=self.init_a)
        self._zero_padding_row()

    @torch.no_grad()
    def _zero_padding_row(self) -> None:
        if self.padding_idx is not None:
            self.embedding.weight[self.padding_idx].zero_()

    @torch.no_grad()
    def load_rows(self, rows: torch.Tensor, ids: torch.Tensor) -> None:
        """Copy ``rows (n, d)`` into the matrix at ``ids (n,)`` (pretrained vectors); padding stays zero."""
        if rows.shape[-1] != self.embed_dim:
            raise ValueError(f"vectors have dimension {rows.shape[-1]}, the embedding has {self.embed_dim}")
        self.embedding.weight[ids] = rows.to(self.embedding.weight.dtype)
        self._zero_padding_row()

    @torch.no_grad()
    def freeze_rows(self, ids: torch.Tensor) -> None:
        """Give the rows ``ids (n,)`` zero gradient from now on (needs ``row_freezing=True``)."""
        if self.frozen_rows is None:
            raise ValueError("this TokenEmbedding was built without row_freezing=True")
        self.frozen_rows[ids] = True

    def matrix(self) -> torch.Tensor:
        """The token vectors ``(V, d)`` before ``scale`` (for plots and analysis)."""
        return self.embedding.weight

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        weight = self.embedding.weight
        if self.frozen_rows is not None and weight.requires_grad and torch.is_grad_enabled():
            # frozen rows enter the lookup detached: their gradient is zero, the others' unchanged
            weight = torch.where(self.frozen_rows[:, None], weight.detach(), weight)  # (V, d)
        x = nn.functional.embedding(ids, weight, self.padding_idx)  # (b, s, d)
        return x * self.scale if self.scale != 1.0 else x

    def extra_repr(self) -> str:
        scale = f", scale={self.scale:.4g}" if self.scale != 1.0 else ""
        return f"padding_idx={self.padding_idx}, init={self.init}, init_std={self.init_std}{scale}"


class FactorizedTokenEmbedding(nn.Module):
    """``ids (b, s) -> A[ids] . B -> (b, s, d)``, times ``scale``: ALBERT's factorized embedding.

    ``A (V, r)`` is an ``nn.Embedding`` initialised like a token embedding (``init``); ``B (r, d)`` is a
    bias-free ``Linear(r, d)`` initialised ``N(0, 1/r)``, so each row of ``E = A . B`` starts with about
    the scale of ``A``'s rows (``E[v, j] = sum_k A[v, k] B[k, j]``, a sum of ``r`` terms). Pretrained
    ``d``-dimensional vectors have no exact place in ``A``: :meth:`load_rows` refuses them.
    """

    def __init__(
        self,
        vocab_size: int,
        embed_dim: int,
        rank: int,
        *,
        padding_idx: int | None = 0,
        init: str = "normal",
        init_std: float = 0.02,
        init_a: float = 0.05,
        scale: float = 1.0,
    ):
        super().__init__()
        if not 1 <= rank < embed_dim:
            raise ValueError(f"rank must be in [1, embed_dim={embed_dim}) to save parameters, got {rank}")
        self.rank = rank
        self.padding_idx = padding_idx
        self.scale = scale
        self.factors = nn.Embedding(vocab_size, rank, padding_idx=padding_idx)  # A (V, r)
        self.projection = nn.Linear(rank, embed_dim, bias=False)  # B: weight (d, r)
        init_embedding_(self.factors.weight, init, std=init_std, a=init_a)
        nn.init.normal_(self.projection.weight, std=rank**-0.5)
        if padding_idx is not None:
            with torch.no_grad():
                self.factors.weight[padding_idx].zero_()

    @property
    def weight(self) -> nn.Parameter:
        """``A``: the per-token parameters (its padding row is zero)."""
        return self.factors.weight

    @property
    def vocab_size(self) -> int:
        return self.factors.num_embeddings

    @property
    def embed_dim(self) -> int:
        return self.projection.out_features

    def load_rows(self, rows: torch.Tensor, ids: torch.Tensor) -> None:
        raise ValueError(
            f"a factorized embedding (rank {self.rank}) cannot take {rows.shape[-1]}-dimensional pretrained "
            "rows: they have no exact place in A (V, r); use model.embedding_rank: null with pretrained vectors"
        )

    def matrix(self) -> torch.Tensor:
        """``E = A . B``: ``(V, d)``."""
        return self.projection(self.factors.weight)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = self.projection(self.factors(ids))  # (b, s, r) -> (b, s, d)
        return x * self.scale if self.scale != 1.0 else x

    def parameter_saving(self) -> tuple[int, int]:
        """``(parameters, parameters of the full V x d matrix)``."""
        v, d, r = self.vocab_size, self.embed_dim, self.rank
        return v * r + r * d, v * d

    def summary_note(self) -> str:
        used, full = self.parameter_saving()
        v, d, r = self.vocab_size, self.embed_dim, self.rank
        return (
            f"factorized token embedding: A {v} x {r} + B {r} x {d} = {used:,} parameters instead of "
            f"{v} x {d} = {full:,} (saves {full - used:,}, {100 * (full - used) / full:.1f}%)"
        )

    def extra_repr(self) -> str:
        return f"rank={self.rank}, padding_idx={self.padding_idx}" + (
            f", scale={self.scale:.4g}" if self.scale != 1.0 else ""
        )


class TokenTypeEmbedding(nn.Module):
    """``token_type_ids (b, s) -> (b, s, d)``: BERT's segment vectors, ``N(0, std^2)`` init.

    A model given no types uses type 0 everywhere (what BERT does for single sentences).
    """

    def __init__(self, num_types: int, embed_dim: int, init_std: float = 0.02):
        super().__init__()
        self.embedding = nn.Embedding(num_types, embed_dim)
        nn.init.normal_(self.embedding.weight, std=init_std)

    @property
    def num_types(self) -> int:
        return self.embedding.num_embeddings

    def forward(self, token_type_ids: torch.Tensor) -> torch.Tensor:
        return self.embedding(token_type_ids)


class HashedBigramEmbedding(nn.Module):
    """Vectors for adjacent token pairs, hashed into ``num_buckets`` rows: ``ids (b, s) -> (b, s, d)``.

    Position i gets the vector of the pair (token i, token i+1); pairs that touch padding, and the last
    position, get the zero row 0. This is the bigram feature of fastText (Joulin et al. 2017,
    https://arxiv.org/abs/1607.01759) and of Chinese word segmenters, added to the token vectors:
    the encoder sees two-character words directly instead of composing them through attention.
    Zero-initialised, so a model starts exactly as its unigram version and learns pairs that matter.
    """

    # Pair (a, b) -> x = a * V + b, then two rounds of x <- 48271 x mod (2^31 - 1) with a quadratic
    # step between them (see _mix): the buckets of frequent pairs are as spread as a random function's.
    _MODULUS = 2_147_483_647
    _MULTIPLIER = 48_271

    def __init__(self, num_buckets: int, embed_dim: int, *, vocab_size: int, pad_id: int = 0):
        super().__init__()
        if num_buckets < 2:
            raise ValueError(f"num_buckets must be >= 2, got {num_buckets}")
        self.num_buckets = num_buckets
        self.vocab_size = vocab_size
        self.pad_id = pad_id
        self.embedding = nn.Embedding(num_buckets, embed_dim, padding_idx=0)
        nn.init.zeros_(self.embedding.weight)

    def _mix(self, x):
        # MINSTD rounds with a quadratic step between them: x + floor(x^2 / 2^16) breaks linearity (two
        # plain MINSTD rounds are one multiplication, and the dense id grid of frequent pairs collides).
        # Only +, *, // and % on non-negative values below 2^62: Python ints and int64 tensors agree
        # exactly, and ONNX exports it (it has no integer xor; a weaker add-shift step left the grid of
        # frequent pairs filling 30% fewer buckets than random pairs).
        x = x % self._MODULUS
        x = (x * self._MULTIPLIER) % self._MODULUS
        x = (x + x * x // 65536) % self._MODULUS
        x = (x * self._MULTIPLIER) % self._MODULUS
        return x + x // 65536

    def bucket_of(self, left: int, right: int) -> int:
        """The bucket of one pair (the same rule as :meth:`bucket_ids`)."""
        return self._mix(left * self.vocab_size + right) % (self.num_buckets - 1) + 1

    @torch.no_grad()
    def load_pairs(self, pairs: list[tuple[int, int]], rows: torch.Tensor) -> int:
        """Set the rows of token pairs (most important first: a bucket keeps its first pair's vector).
        Returns how many buckets were filled."""
        filled: set[int] = set()
        for (left, right), row in zip(pairs, rows, strict=True):
            bucket = self.bucket_of(left, right)
            if bucket in filled:
                continue
            filled.add(bucket)
            self.embedding.weight[bucket] = row.to(self.embedding.weight.dtype)
        return len(filled)

    def bucket_ids(self, ids: torch.Tensor) -> torch.Tensor:
        left, right = ids[:, :-1], ids[:, 1:]  # (b, s-1)
        buckets = self._mix(left * self.vocab_size + right) % (self.num_buckets - 1) + 1
        buckets = buckets.masked_fill((left == self.pad_id) | (right == self.pad_id), 0)
        return torch.nn.functional.pad(buckets, (0, 1), value=0)  # (b, s)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.embedding(self.bucket_ids(ids))
