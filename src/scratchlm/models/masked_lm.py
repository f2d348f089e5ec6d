"""Masked language model: the shared language-model body (:mod:`scratchlm.models.language_model`) -> a
BERT MLM head whose output matrix is the token embedding (tied).

``ids (b, s), padding_mask (b, s), targets (b, s)`` with ``-100`` where nothing is predicted ->
``logits (n, V)`` at the ``n`` predicted positions only.
"""

from __future__ import annotations

import torch

from scratchlm.config import ModelConfig
from scratchlm.models import components
from scratchlm.models.classifier import init_linear_
from scratchlm.models.language_model import IGNORE, LanguageModel
from scratchlm.modules.mlm_head import TiedMaskedLMHead

__all__ = ["IGNORE", "MaskedLanguageModel"]


class MaskedLanguageModel(LanguageModel):
    def __init__(self, cfg: ModelConfig, *, vocab_size: int, max_seq_len: int, pad_id: int = 0):
        super().__init__(cfg, vocab_size=vocab_size, max_seq_len=max_seq_len, pad_id=pad_id)
        if components.encoder_output_dim(cfg) != cfg.embed_dim:
            raise ValueError("a tied MLM head needs the encoder's output width to equal model.embed_dim")
        self.mlm_head = TiedMaskedLMHead(cfg.embed_dim, vocab_size, norm_eps=cfg.norm_eps)
        self.init_weights()

    def init_weights(self) -> None:
        super().init_weights()
        init_linear_(self.mlm_head, self.cfg.init_std)

    def scores(self, picked: torch.Tensor) -> torch.Tensor:
        return self.mlm_head(picked, self.token_embedding.matrix())  # (n, V)
