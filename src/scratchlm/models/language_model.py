"""What the masked and the causal language model share: the classifier's input layer and encoder
(:mod:`scratchlm.models.components`), and scores over the vocabulary computed only at the positions
that are predicted.

``ids (b, s), padding_mask (b, s), targets (b, s)`` with ``-100`` where nothing is predicted ->
``logits (n, V)`` at the ``n`` predicted positions. ``segments (b, s)`` (packed texts' numbers) keeps
attention inside each text. The parameter names ``input.*`` and ``encoder.*`` are the classifier's and
the tagger's, so a fine-tuning run loads them as they are (:mod:`scratchlm.training.finetune`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from scratchlm.config import ModelConfig
from scratchlm.models import components
from scratchlm.models.classifier import init_linear_
from scratchlm.modules import TokenEmbedding
from scratchlm.modules.mlm_head import IGNORE  # noqa: F401 (models.masked_lm and causal_lm import it from here)

"""Target of positions that are not predicted (``F.cross_entropy``'s ``ignore_index``)."""


class LanguageModel(nn.Module):
    """A subclass adds its output head, then calls :meth:`init_weights`, and says how the picked vectors
    become scores (:meth:`scores`)."""

    def __init__(
        self, cfg: ModelConfig, *, vocab_size: int, max_seq_len: int, pad_id: int = 0, causal: bool = False
    ):
        super().__init__()
        if cfg.input_dim is not None and cfg.input_dim != cfg.embed_dim:
            from scratchlm.errors import ConfigError

            raise ConfigError(
                f"model.input_dim={cfg.input_dim}: a language model scores its outputs (width embed_dim="
                f"{cfg.embed_dim}) against the token embedding, so the two widths must be equal; use null"
            )
        self.cfg = cfg
        self.pad_id = pad_id
        positions = components.position_parts(cfg, max_seq_len)
        self.input = components.input_layer(cfg, positions, vocab_size=vocab_size, pad_id=pad_id)
        self.encoder = (
            components.encoder(cfg, positions, causal=True) if causal else components.encoder(cfg, positions)
        )

    def init_weights(self) -> None:
        """Every Linear of the encoder from normal(0, ``init_std``); a subclass adds its head's."""
        init_linear_(self.encoder, self.cfg.init_std)

    @property
    def token_embedding(self) -> TokenEmbedding:
        return self.input.token_embedding

    def encode(
        self,
        ids: torch.Tensor,
        padding_mask: torch.Tensor | None = None,
        segments: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Contextual vectors ``(b, s, d)``."""
        if padding_mask is None:
            padding_mask = ids != self.pad_id
        x = self.input(ids)
        return self.encoder(x, padding_mask) if segments is None else self.encoder(x, padding_mask, segments)

    def scores(self, picked: torch.Tensor) -> torch.Tensor:
        """``(n, d)`` -> ``(n, V)``."""
        raise NotImplementedError

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
        return self.scores(picked)  # (n, V)

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
