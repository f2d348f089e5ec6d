"""Position-wise feed-forward block: ``Linear(d, ffn) -> GELU -> dropout -> Linear(ffn, d)``.

``activation``: ``gelu`` (exact, erf: BERT, ELECTRA, DistilBERT) or ``gelu_tanh`` (the tanh
approximation, Hendrycks & Gimpel 2016, https://arxiv.org/abs/1606.08415; Hugging Face's ``gelu_new``,
ALBERT's)."""

from __future__ import annotations

import torch
from torch import nn

ACTIVATIONS = {"gelu": "none", "gelu_tanh": "tanh"}
"""activation name -> ``nn.GELU(approximate=...)``."""


class FeedForward(nn.Module):
    def __init__(self, embed_dim: int, ffn_dim: int, dropout: float = 0.0, activation: str = "gelu"):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; valid: {', '.join(ACTIVATIONS)}")
        self.up = nn.Linear(embed_dim, ffn_dim)
        self.act = nn.GELU(approximate=ACTIVATIONS[activation])
        self.dropout = nn.Dropout(dropout)
        self.down = nn.Linear(ffn_dim, embed_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down(self.dropout(self.act(self.up(x))))
