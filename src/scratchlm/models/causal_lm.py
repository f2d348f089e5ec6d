"""Causal language model: the classifier's input layer and a causal Transformer encoder
(:mod:`scratchlm.models.components`, each position attends to itself and the positions before it) -> the
next token's scores, through the token embedding matrix (tied, ``model.tie_embeddings``) or a matrix of
its own.

``ids (b, s), padding_mask (b, s), targets (b, s)`` with ``-100`` where nothing is predicted (the target
at ``t`` is the token at ``t + 1``) -> ``logits (n, V)`` at the ``n`` predicted positions only.
``segments (b, s)`` (packed texts' numbers) keeps attention inside each text.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from scratchlm.config import ModelConfig
from scratchlm.models import components
from scratchlm.models.classifier import init_linear_
from scratchlm.models.masked_lm import IGNORE
from scratchlm.modules import TokenEmbedding


class CausalLanguageModel(nn.Module):
    def __init__(
        self,
        cfg: ModelConfig,
        *,
        vocab_size: int,
        max_seq_len: int,
        pad_id: int = 0,
    ):
        super().__init__()
        self.cfg = cfg
        self.pad_id = pad_id
        positions = components.position_parts(cfg, max_seq_len)
        self.input = components.input_layer(cfg, positions, vocab_size=vocab_size, pad_id=pad_id)
        self.encoder = components.encoder(cfg, positions, causal=True)
        self.lm_head = None if cfg.tie_embeddings else nn.Linear(cfg.embed_dim, vocab_size, bias=False)
        init_linear_(self.encoder, cfg.init_std)
        if self.lm_head is not None:
            nn.init.normal_(self.lm_head.weight, std=cfg.init_std)

    @property
    def token_embedding(self) -> TokenEmbedding:
        return self.input.token_embedding

    def encode(
        self,
        ids: torch.Tensor,
        padding_mask: torch.Tensor | None = None,
        segments: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Contextual vectors ``(b, s, d)``; position ``t`` has seen tokens ``<= t`` only."""
        if padding_mask is None:
            padding_mask = ids != self.pad_id
        return self.encoder(self.input(ids), padding_mask, segments)

    def output_matrix(self) -> torch.Tensor:
        """``(V, d)``: the token embedding (tied) or the head's own matrix."""
        return self.token_embedding.matrix() if self.lm_head is None else self.lm_head.weight

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
        return picked @ self.output_matrix().t()  # (n, V)

    def loss(
        self,
        ids: torch.Tensor,
        padding_mask: torch.Tensor,
        targets: torch.Tensor,
        segments: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Mean next-token cross-entropy over the predicted positions."""
        logits = self(ids, padding_mask, targets, segments)
        return F.cross_entropy(logits.float(), targets[targets != IGNORE])


def next_token_targets(
    ids: torch.Tensor, padding_mask: torch.Tensor, segments: torch.Tensor | None = None
) -> torch.Tensor:
    """``(b, s)``: the token at ``t + 1`` as the target at ``t`` when both are real and in the same text,
    ``IGNORE`` elsewhere (the last position, before padding, and from one packed text into the next)."""
    targets = torch.full_like(ids, IGNORE)
    valid = padding_mask[:, 1:] & padding_mask[:, :-1]  # (b, s-1)
    if segments is not None:
        valid = valid & (segments[:, 1:] == segments[:, :-1])
    targets[:, :-1] = torch.where(valid, ids[:, 1:], torch.full_like(ids[:, 1:], IGNORE))
    return targets
