"""Masked language model: the classifier's input layer and encoder (:mod:`scratchlm.models.components`)
-> a BERT MLM head whose output matrix is the token embedding (tied).

``ids (b, s), padding_mask (b, s), targets (b, s)`` with ``-100`` where nothing is predicted ->
``logits (n, V)`` at the ``n`` predicted positions only. The parameter names ``input.*`` and ``encoder.*``
are the classifier's and the tagger's, so a fine-tuning run loads them as they are
(:mod:`scratchlm.training.finetune`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from scratchlm.config import ModelConfig
from scratchlm.models import components
from scratchlm.models.classifier import init_linear_
from scratchlm.modules import TokenEmbedding
from scratchlm.modules.mlm_head import TiedMaskedLMHead

IGNORE = -100
"""Target of positions that are not predicted (``F.cross_entropy``'s ``ignore_index``)."""


class MaskedLanguageModel(nn.Module):
    def __init__(self, cfg: ModelConfig, *, vocab_size: int, max_seq_len: int, pad_id: int = 0):
        super().__init__()
        self.cfg = cfg
        self.pad_id = pad_id
        positions = components.position_parts(cfg, max_seq_len)
        self.input = components.input_layer(cfg, positions, vocab_size=vocab_size, pad_id=pad_id)
        self.encoder = components.encoder(cfg, positions)
        self.mlm_head = TiedMaskedLMHead(
            components.encoder_output_dim(cfg), vocab_size, norm_eps=cfg.norm_eps
        )
        if components.encoder_output_dim(cfg) != cfg.embed_dim:
            raise ValueError("a tied MLM head needs the encoder's output width to equal model.embed_dim")
        init_linear_(self.encoder, cfg.init_std)
        init_linear_(self.mlm_head, cfg.init_std)

    @property
    def token_embedding(self) -> TokenEmbedding:
        return self.input.token_embedding

    def encode(
        self,
        ids: torch.Tensor,
        padding_mask: torch.Tensor | None = None,
        segments: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Contextual vectors ``(b, s, d)``; ``segments (b, s)``: packed texts' numbers (attention stays
        inside each)."""
        if padding_mask is None:
            padding_mask = ids != self.pad_id
        x = self.input(ids)
        return self.encoder(x, padding_mask) if segments is None else self.encoder(x, padding_mask, segments)

    def forward(
        self,
        ids: torch.Tensor,
        padding_mask: torch.Tensor,
        targets: torch.Tensor,
        segments: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Scores ``(n, V)`` of the ``n`` positions where ``targets != IGNORE`` (row-major order)."""
        h = self.encode(ids, padding_mask, segments)  # (b, s, d)
        picked = h[targets != IGNORE]  # (n, d): the vocabulary projection runs only here
        return self.mlm_head(picked, self.token_embedding.matrix())  # (n, V)

    def loss(
        self,
        ids: torch.Tensor,
        padding_mask: torch.Tensor,
        targets: torch.Tensor,
        segments: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Mean cross-entropy over the predicted positions."""
        logits = self(ids, padding_mask, targets, segments)
        return F.cross_entropy(logits.float(), targets[targets != IGNORE])
