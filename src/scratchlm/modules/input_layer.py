"""The input layer: token vectors combined with position information, then dropout.

``ids (b, s) -> (b, s, d)``. Parts are passed in (a token embedding, a positional module), so a
variant is a different part, not a flag.
"""

from __future__ import annotations

import torch
from torch import nn

from scratchlm.modules.embeddings import TokenEmbedding


class InputLayer(nn.Module):
    def __init__(
        self,
        token_embedding: TokenEmbedding,
        positional: nn.Module,
        dropout: float = 0.0,
        bigram_embedding: nn.Module | None = None,
    ):
        super().__init__()
        self.token_embedding = token_embedding
        self.bigram_embedding = bigram_embedding
        self.positional = positional
        self.dropout = nn.Dropout(dropout)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = self.token_embedding(ids)  # (b, s, d)
        if self.bigram_embedding is not None:
            x = x + self.bigram_embedding(ids)  # (b, s, d)
        x = self.positional(x)  # (b, s, d)
        return self.dropout(x)
