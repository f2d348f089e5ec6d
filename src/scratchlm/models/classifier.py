"""Text classifier: input layer -> encoder (pre-LN Transformer, RNN, LSTM or GRU) -> pooling -> linear head
(``C`` softmax outputs, or one sigmoid output for two classes, ``model.head: sigmoid``).

``ids (b, s), padding_mask (b, s) -> logits (b, C)``.
"""

from __future__ import annotations

import torch
from torch import nn

from scratchlm.config import ModelConfig
from scratchlm.models import components
from scratchlm.modules import ClassificationHead, TokenEmbedding
from scratchlm.modules.heads import POOLED_WIDTH, SigmoidHead, pooling


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
        positions = components.position_parts(cfg, max_seq_len)
        self.input = components.input_layer(cfg, positions, vocab_size=vocab_size, pad_id=pad_id)
        self.encoder = components.encoder(cfg, positions)
        enc = cfg.encoder
        self.pool = pooling(cfg.pooling, bidirectional_rnn=enc.recurrent and enc.bidirectional)
        width = components.encoder_output_dim(cfg) * POOLED_WIDTH[cfg.pooling]
        if cfg.head == "sigmoid":
            if num_classes != 2:
                raise ValueError(f"model.head=sigmoid gives two classes, not {num_classes}")
            self.head = SigmoidHead(width, dropout=cfg.dropout)
        else:
            self.head = ClassificationHead(width, num_classes, dropout=cfg.dropout)
        init_linear_(self.encoder, cfg.init_std)
        init_linear_(self.head, cfg.init_std)

    @property
    def token_embedding(self) -> TokenEmbedding:
        """The token embedding (a :class:`~scratchlm.modules.FactorizedTokenEmbedding` with
        ``model.embedding_rank``)."""
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
