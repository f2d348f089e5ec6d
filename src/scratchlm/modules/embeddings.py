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
