"""Token tagger: input layer -> encoder (Transformer, LSTM or GRU) -> dropout -> linear -> per-token tag
scores, read by a softmax per token or by a linear-chain CRF (Huang et al. 2015,
https://arxiv.org/abs/1508.01991; Lample et al. 2016).

``ids (b, s), padding_mask (b, s) -> emissions (b, s, T)``; :meth:`TokenTagger.loss` is the training
objective (mean per real token), :meth:`TokenTagger.decode` the predicted tag ids ``(b, s)``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from scratchlm.config import ModelConfig
from scratchlm.models import components
from scratchlm.models.classifier import init_linear_
from scratchlm.modules import TokenEmbedding
from scratchlm.modules.crf import ConditionalRandomField


class TokenTagger(nn.Module):
    def __init__(
        self,
        cfg: ModelConfig,
        *,
        vocab_size: int,
        num_tags: int,
        max_seq_len: int,
        pad_id: int = 0,
        transition_rules: tuple | None = None,
    ):
        """``transition_rules``: ``(allowed_start, allowed_transitions, allowed_end)`` boolean masks of the
        tag scheme (:meth:`scratchlm.data.schemes.TagScheme.transition_rules`), used by the CRF head."""
        super().__init__()
        self.cfg = cfg
        self.pad_id = pad_id
        positions = components.position_parts(cfg, max_seq_len)
        self.input = components.input_layer(cfg, positions, vocab_size=vocab_size, pad_id=pad_id)
        self.encoder = components.encoder(cfg, positions)
        self.dropout = nn.Dropout(cfg.dropout)
        self.proj = nn.Linear(components.encoder_output_dim(cfg), num_tags)
        self.crf = None
        if cfg.head == "crf":
            start, trans, end = (None, None, None) if transition_rules is None else transition_rules
            self.crf = ConditionalRandomField(
                num_tags,
                allowed_start=None if start is None else torch.tensor(start),
                allowed_transitions=None if trans is None else torch.tensor(trans),
                allowed_end=None if end is None else torch.tensor(end),
            )
        init_linear_(self.encoder, cfg.init_std)
        init_linear_(self.proj, cfg.init_std)

    @property
    def token_embedding(self) -> TokenEmbedding:
        return self.input.token_embedding

    def forward(self, ids: torch.Tensor, padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Tag scores ``(b, s, T)`` (the CRF's emissions, or the softmax's logits)."""
        if padding_mask is None:
            padding_mask = ids != self.pad_id
        h = self.encoder(self.input(ids), padding_mask)  # (b, s, o)
        return self.proj(self.dropout(h))  # (b, s, T)

    def loss(
        self, ids: torch.Tensor, padding_mask: torch.Tensor, tags: torch.Tensor, label_smoothing: float = 0.0
    ) -> torch.Tensor:
        """Mean over real tokens of the cross-entropy (softmax) or of the sequence NLL (CRF)."""
        emissions = self(ids, padding_mask)
        if self.crf is not None:
            return self.crf(emissions.float(), tags, padding_mask).sum() / padding_mask.sum()
        return F.cross_entropy(emissions[padding_mask], tags[padding_mask], label_smoothing=label_smoothing)

    @torch.no_grad()
    def decode(self, ids: torch.Tensor, padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Predicted tag ids ``(b, s)``: Viterbi with a CRF, else the best tag per token. Entries at
        padding positions mean nothing."""
        if padding_mask is None:
            padding_mask = ids != self.pad_id
        emissions = self(ids, padding_mask).float()
        if self.crf is not None:
            return self.crf.decode(emissions, padding_mask)
        return emissions.argmax(-1)
