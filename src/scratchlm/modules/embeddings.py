"""Token embedding: the [V, d] matrix that turns ids into the first vectors a model sees.

Shapes: ``b`` batch, ``s`` sequence, ``d`` embedding dim, ``V`` vocabulary size.
"""

from __future__ import annotations

import torch
from torch import nn


class TokenEmbedding(nn.Module):
    """``ids (b, s) -> vectors (b, s, d)``.

    Initialised from ``normal(0, init_std)``; the padding row is zero and, through
    ``nn.Embedding(padding_idx=...)``, never receives a gradient, so it stays zero in training.
    """

    def __init__(self, vocab_size: int, embed_dim: int, *, padding_idx: int | None = 0, init_std: float = 0.02):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=padding_idx)
        self.padding_idx = padding_idx
        self.init_std = init_std
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
        nn.init.normal_(self.embedding.weight, mean=0.0, std=self.init_std)
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

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.embedding(ids)

    def extra_repr(self) -> str:
        return f"padding_idx={self.padding_idx}, init_std={self.init_std}"


class HashedBigramEmbedding(nn.Module):
    """Vectors for adjacent token pairs, hashed into ``num_buckets`` rows: ``ids (b, s) -> (b, s, d)``.

    Position i gets the vector of the pair (token i, token i+1); pairs that touch padding, and the last
    position, get the zero row 0. This is the bigram feature of fastText (Joulin et al. 2017,
    https://arxiv.org/abs/1607.01759) and of Chinese word segmenters, added to the token vectors:
    the encoder sees two-character words directly instead of composing them through attention.
    Zero-initialised, so a model starts exactly as its unigram version and learns pairs that matter.
    """

    _MULTIPLIER = 1_000_003  # a prime: (a * P + b) spreads pairs over the buckets

    def __init__(self, num_buckets: int, embed_dim: int, *, pad_id: int = 0):
        super().__init__()
        if num_buckets < 2:
            raise ValueError(f"num_buckets must be >= 2, got {num_buckets}")
        self.num_buckets = num_buckets
        self.pad_id = pad_id
        self.embedding = nn.Embedding(num_buckets, embed_dim, padding_idx=0)
        nn.init.zeros_(self.embedding.weight)

    def bucket_ids(self, ids: torch.Tensor) -> torch.Tensor:
        left, right = ids[:, :-1], ids[:, 1:]  # (b, s-1)
        buckets = (left * self._MULTIPLIER + right) % (self.num_buckets - 1) + 1
        buckets = buckets.masked_fill((left == self.pad_id) | (right == self.pad_id), 0)
        return torch.nn.functional.pad(buckets, (0, 1), value=0)  # (b, s)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.embedding(self.bucket_ids(ids))
