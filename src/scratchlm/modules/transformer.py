"""Transformer encoder, pre-LN (Xiong et al. 2020, https://arxiv.org/abs/2002.04745) or post-LN (BERT).

Pre-LN layer: ``x = x + Drop(Attn(LN(x)))``; ``x = x + Drop(FFN(LN(x)))``; a final LayerNorm closes
the stack. Post-LN layer (:class:`PostNormEncoderLayer`, Vaswani et al. 2017 and BERT):
``x = LN(x + Drop(Attn(x)))``; ``x = LN(x + Drop(FFN(x)))``, and no final norm: the last layer's
output is already normalised. The post-LN variant exists to run BERT-family weights
(:mod:`scratchlm.models.hf_bert`); pre-LN trains more stably from scratch. Shapes: ``x (b, s, d)``, ``padding_mask (b, s)`` True at real tokens, ``h`` heads.

Position information that lives inside attention is a part, not a flag: a rotary embedding is given
to each attention module (``pos_embeddings``), and a relative-position bias module (ALiBi, T5) is
given to the encoder, which computes its ``(h, s, s)`` bias once per forward pass, folds the padding
mask into it and hands the float mask to every layer.
"""

from __future__ import annotations

import torch
from torch import nn

from scratchlm.modules.attention import MultiHeadSelfAttention, additive_attention_mask
from scratchlm.modules.feed_forward import FeedForward


class TransformerEncoderLayer(nn.Module):
    def __init__(
        self,
        attention: nn.Module,
        feed_forward: nn.Module,
        embed_dim: int,
        *,
        dropout: float = 0.0,
        norm_eps: float = 1e-5,
    ):
        super().__init__()
        self.attn_norm = nn.LayerNorm(embed_dim, eps=norm_eps)
        self.attention = attention
        self.ffn_norm = nn.LayerNorm(embed_dim, eps=norm_eps)
        self.feed_forward = feed_forward
        self.dropout = nn.Dropout(dropout)

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor | None = None, *, need_weights: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """``mask``: a boolean padding mask ``(b, s)`` or a float additive one ``(b, h, s, s)``.
        ``need_weights``: also return the attention's softmax weights ``(b, h, s, s)``."""
        a = self.attention(self.attn_norm(x), mask, need_weights=need_weights)
        a, weights = a if need_weights else (a, None)
        x = x + self.dropout(a)
        x = x + self.dropout(self.feed_forward(self.ffn_norm(x)))
        return (x, weights) if need_weights else x


class PostNormEncoderLayer(TransformerEncoderLayer):
    """The same parts, normalised after each residual sum (BERT): ``attn_norm`` follows attention,
    ``ffn_norm`` the feed-forward block."""

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor | None = None, *, need_weights: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        a = self.attention(x, mask, need_weights=need_weights)
        a, weights = a if need_weights else (a, None)
        x = self.attn_norm(x + self.dropout(a))
        x = self.ffn_norm(x + self.dropout(self.feed_forward(x)))
        return (x, weights) if need_weights else x


NORM_POSITIONS = {"pre": TransformerEncoderLayer, "post": PostNormEncoderLayer}


class TransformerEncoder(nn.Module):
    def __init__(
        self,
        layers: list[nn.Module],
        embed_dim: int,
        norm_eps: float = 1e-5,
        *,
        attention_bias: nn.Module | None = None,
        final_norm: bool = True,
    ):
        """``final_norm``: a LayerNorm on the last layer's output (pre-LN needs it; post-LN has none)."""
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.norm = nn.LayerNorm(embed_dim, eps=norm_eps) if final_norm else nn.Identity()
        self.attention_bias = attention_bias  # seq_len -> (h, s, s), shared by all layers

    def forward(
        self, x: torch.Tensor, padding_mask: torch.Tensor | None = None, *, need_weights: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        """``(b, s, d) -> (b, s, d)``; ``need_weights=True`` returns ``(output, weights)`` with one
        ``(b, h, s, s)`` tensor of softmax weights per layer, through the attention's explicit path
        (slower; for plots and inspection)."""
        mask = padding_mask
        if self.attention_bias is not None:
            bias = self.attention_bias(x.shape[1])  # (h, s, s)
            mask = additive_attention_mask(padding_mask, bias, x.dtype)  # (b, h, s, s)
        weights = []
        for layer in self.layers:
            if need_weights:
                x, w = layer(x, mask, need_weights=True)
                weights.append(w)
            else:
                x = layer(x, mask)
        x = self.norm(x)
        return (x, weights) if need_weights else x


def transformer_encoder(
    embed_dim: int,
    num_layers: int,
    num_heads: int,
    ffn_dim: int,
    *,
    dropout: float = 0.1,
    attention_dropout: float = 0.1,
    norm_eps: float = 1e-5,
    rope: nn.Module | None = None,
    attention_bias: nn.Module | None = None,
    norm_position: str = "pre",
) -> TransformerEncoder:
    """An encoder of identical layers (the one-line builder used by models). ``rope`` (one
    :class:`~scratchlm.modules.rotary.RotaryEmbedding`, shared: it holds only a cache) goes into every
    attention module; ``attention_bias`` (ALiBi or T5) into the encoder; ``norm_position``: ``pre``
    (:class:`TransformerEncoderLayer` + a final LayerNorm) or ``post`` (:class:`PostNormEncoderLayer`)."""
    if norm_position not in NORM_POSITIONS:
        raise ValueError(f"unknown norm_position {norm_position!r}; use one of {', '.join(NORM_POSITIONS)}")
    layer_cls = NORM_POSITIONS[norm_position]
    layers = [
        layer_cls(
            MultiHeadSelfAttention(embed_dim, num_heads, dropout=attention_dropout, pos_embeddings=rope),
            FeedForward(embed_dim, ffn_dim, dropout=dropout),
            embed_dim,
            dropout=dropout,
            norm_eps=norm_eps,
        )
        for _ in range(num_layers)
    ]
    return TransformerEncoder(
        layers, embed_dim, norm_eps, attention_bias=attention_bias, final_norm=norm_position == "pre"
    )
