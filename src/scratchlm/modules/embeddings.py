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

    def __init__(
        self, vocab_size: int, embed_dim: int, *, padding_idx: int | None = 0, init_std: float = 0.02
    ):
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

    # Pair (a, b) -> x = a * V + b, then two rounds of the MINSTD generator x <- 48271 x mod (2^31 - 1):
    # products stay below 2^47 (no int64 overflow), and the buckets of real text's pairs are as spread
    # as random ones (a plain (a * P + b) mod B is linear and fills far fewer buckets).
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
        x = x % self._MODULUS
        x = (x * self._MULTIPLIER) % self._MODULUS
        return (x * self._MULTIPLIER) % self._MODULUS

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
