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
from torch import nn

from scratchlm.config import ModelConfig
from scratchlm.models.language_model import IGNORE, LanguageModel
from scratchlm.modules.kv_cache import KVCache


class CausalLanguageModel(LanguageModel):
    def __init__(self, cfg: ModelConfig, *, vocab_size: int, max_seq_len: int, pad_id: int = 0):
        super().__init__(cfg, vocab_size=vocab_size, max_seq_len=max_seq_len, pad_id=pad_id, causal=True)
        self.lm_head = None if cfg.tie_embeddings else nn.Linear(cfg.embed_dim, vocab_size, bias=False)
        self.init_weights()

    def init_weights(self) -> None:
        super().init_weights()
        if self.lm_head is not None:
            nn.init.normal_(self.lm_head.weight, std=self.cfg.init_std)

    def output_matrix(self) -> torch.Tensor:
        """``(V, d)``: the token embedding (tied) or the head's own matrix."""
        return self.token_embedding.matrix() if self.lm_head is None else self.lm_head.weight

    def scores(self, picked: torch.Tensor) -> torch.Tensor:
        return picked @ self.output_matrix().t()  # (n, V)

    def next_token_logits(
        self,
        ids: torch.Tensor,
        padding_mask: torch.Tensor | None = None,
        *,
        positions: torch.Tensor | None = None,
        cache: KVCache | None = None,
    ) -> torch.Tensor:
        """The next token's scores after each row of ``ids (b, s)``, ``(b, V)``: the hidden state of the
        last position only goes through the output matrix. With ``cache``, ``ids`` are the positions after
        the kept ones (a prompt, then one token per step); without, the whole sequence so far."""
        h = self.encode(ids, padding_mask, positions=positions, cache=cache)  # (b, s, d)
        return self.scores(h[:, -1])  # (b, V)

    def new_cache(self, batch_size: int, max_len: int, *, device=None) -> KVCache:
        """An empty KV cache for ``batch_size`` rows of at most ``max_len`` positions (the parameters'
        dtype)."""
        dtype = self.output_matrix().dtype
        return self.encoder.new_cache(batch_size, max_len, dtype=dtype, device=device)


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
