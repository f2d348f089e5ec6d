"""Text classifier: input layer -> pre-LN Transformer encoder -> pooling -> linear head.

``ids (b, s), padding_mask (b, s) -> logits (b, C)``.
"""

from __future__ import annotations

import torch
from torch import nn

from scratchlm.config import ModelConfig
from scratchlm.modules import (
    ClassificationHead,
    HashedBigramEmbedding,
    InputLayer,
    TokenEmbedding,
    transformer_encoder,
)
from scratchlm.modules.heads import POOLED_WIDTH, POOLING
from scratchlm.modules.positional import build_positional


def init_linear_(module: nn.Module, std: float = 0.02) -> None:
    """BERT-style init for every Linear: normal(0, std) weights, zero biases."""
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


class TextClassifier(nn.Module):
    def __init__(
        self, cfg: ModelConfig, *, vocab_size: int, num_classes: int, max_seq_len: int, pad_id: int = 0
    ):
        super().__init__()
        self.cfg = cfg
        self.pad_id = pad_id
        self.input = InputLayer(
            TokenEmbedding(vocab_size, cfg.embed_dim, padding_idx=pad_id, init_std=cfg.init_std),
            build_positional(cfg.positional, cfg.embed_dim, max_seq_len),
            dropout=cfg.embedding_dropout,
            bigram_embedding=HashedBigramEmbedding(
                cfg.bigram_buckets, cfg.embed_dim, vocab_size=vocab_size, pad_id=pad_id
            )
            if cfg.bigram_buckets
            else None,
        )
        self.encoder = transformer_encoder(
            cfg.embed_dim,
            cfg.num_layers,
            cfg.num_heads,
            cfg.ffn_dim,
            dropout=cfg.dropout,
            attention_dropout=cfg.attention_dropout,
            norm_eps=cfg.norm_eps,
        )
        self.pool = POOLING[cfg.pooling]
        self.head = ClassificationHead(
            cfg.embed_dim * POOLED_WIDTH[cfg.pooling], num_classes, dropout=cfg.dropout
        )
        init_linear_(self.encoder, cfg.init_std)
        init_linear_(self.head, cfg.init_std)

    @property
    def token_embedding(self) -> TokenEmbedding:
        return self.input.token_embedding

    def encode(self, ids: torch.Tensor, padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Contextual vectors ``(b, s, d)``."""
        if padding_mask is None:
            padding_mask = ids != self.pad_id
        return self.encoder(self.input(ids), padding_mask)

    def forward(self, ids: torch.Tensor, padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        if padding_mask is None:
            padding_mask = ids != self.pad_id
        h = self.encode(ids, padding_mask)  # (b, s, d)
        return self.head(self.pool(h, padding_mask))  # (b, C)
