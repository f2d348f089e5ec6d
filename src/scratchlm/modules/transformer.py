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

A causal encoder (``causal=True``, the causal LM's) lets position ``t`` attend to keys ``<= t`` only, and
``segments (b, s)`` (document numbers of packed sequences) keeps attention inside each document: both
become one boolean mask ``(b, 1, s, s)`` (:func:`attention_allowed`) that SDPA takes as it is.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from scratchlm.modules.attention import MultiHeadSelfAttention, additive_attention_mask
from scratchlm.modules.feed_forward import FeedForward
from scratchlm.modules.kv_cache import KVCache, cached_attention_mask


def attention_allowed(
    padding_mask: torch.Tensor | None,
    seq_len: int,
    *,
    causal: bool = False,
    segments: torch.Tensor | None = None,
    device: torch.device | None = None,
) -> torch.Tensor:
    """Which keys each query may attend to: a boolean mask ``(b, 1, s, s)`` (``(1, 1, s, s)`` without a
    padding mask or segments), True where allowed. Keys must be real tokens (``padding_mask (b, s)``),
    at or before the query (``causal``) and in the query's segment (``segments (b, s)``); a query always
    sees itself, so no row is empty (padded queries would otherwise give NaN)."""
    idx = torch.arange(seq_len, device=device)
    allowed = torch.ones(1, 1, seq_len, seq_len, dtype=torch.bool, device=device)
    if causal:
        allowed = allowed & (idx[None, :] <= idx[:, None])  # (1, 1, s, s): key <= query
    if padding_mask is not None:
        allowed = allowed & padding_mask[:, None, None, :]  # (b, 1, s, s)
    if segments is not None:
        allowed = allowed & (segments[:, None, :, None] == segments[:, None, None, :])
    return allowed | (idx[None, :] == idx[:, None])


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
        self, x: torch.Tensor, mask: torch.Tensor | None = None, *, need_weights: bool = False, **step
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """``mask``: a boolean padding mask ``(b, s)`` or a float additive one ``(b, h, s, s)``.
        ``need_weights``: also return the attention's softmax weights ``(b, h, s, s)``. ``step``:
        ``positions`` and ``cache`` for incremental decoding, handed to the attention."""
        a = self.attention(self.attn_norm(x), mask, need_weights=need_weights, **step)
        a, weights = a if need_weights else (a, None)
        x = x + self.dropout(a)
        x = x + self.dropout(self.feed_forward(self.ffn_norm(x)))
        return (x, weights) if need_weights else x


class PostNormEncoderLayer(TransformerEncoderLayer):
    """The same parts, normalised after each residual sum (BERT): ``attn_norm`` follows attention,
    ``ffn_norm`` the feed-forward block."""

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor | None = None, *, need_weights: bool = False, **step
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        a = self.attention(x, mask, need_weights=need_weights, **step)
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
        causal: bool = False,
        order: list[int] | None = None,
    ):
        """``final_norm``: a LayerNorm on the last layer's output (pre-LN needs it; post-LN has none).
        ``order``: which of ``layers`` runs at each depth (``None``: each once, in turn); a layer listed
        twice shares its parameters across depth (ALBERT)."""
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.order = list(range(len(layers))) if order is None else list(order)
        if any(not 0 <= i < len(layers) for i in self.order):
            raise ValueError(f"order {self.order} names a layer outside 0..{len(layers) - 1}")
        self.norm = nn.LayerNorm(embed_dim, eps=norm_eps) if final_norm else nn.Identity()
        self.attention_bias = attention_bias  # seq_len -> (h, s, s), shared by all layers
        self.causal = causal
        self.activation_checkpointing = False  # recompute each layer in backward (less memory)

    def forward(
        self,
        x: torch.Tensor,
        padding_mask: torch.Tensor | None = None,
        segments: torch.Tensor | None = None,
        *,
        need_weights: bool = False,
        positions: torch.Tensor | None = None,
        cache: KVCache | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        """``(b, s, d) -> (b, s, d)``; ``segments (b, s)``: document numbers of packed sequences (attention
        stays inside each); ``need_weights=True`` returns ``(output, weights)`` with one ``(b, h, s, s)``
        tensor of softmax weights per layer, through the attention's explicit path (slower; for plots and
        inspection). ``positions (s,)`` or ``(b, s)``: each vector's position for a rotary embedding
        (default ``0 .. s-1``); ``cache``: incremental decoding of a causal encoder
        (:meth:`forward_cached`)."""
        if cache is not None:
            return self.forward_cached(x, padding_mask, positions, cache)
        s = x.shape[1]
        mask = padding_mask
        if self.causal or segments is not None:
            mask = attention_allowed(
                padding_mask, s, causal=self.causal, segments=segments, device=x.device
            )  # (b, 1, s, s) bool
        if self.attention_bias is not None:
            bias = self.attention_bias(s)  # (h, s, s)
            if mask is None or mask.dim() == 2:
                mask = additive_attention_mask(mask, bias, x.dtype)  # (b, h, s, s)
            else:
                mask = bias.to(x.dtype).unsqueeze(0).masked_fill(~mask, float("-inf"))  # (b, h, s, s)
        weights = []
        for layer in (self.layers[i] for i in self.order):
            if need_weights:
                x, w = layer(x, mask, need_weights=True)
                weights.append(w)
            elif self.activation_checkpointing and self.training and torch.is_grad_enabled():
                x = checkpoint(layer, x, mask, use_reentrant=False)
            elif positions is not None:
                x = layer(x, mask, positions=positions)
            else:
                x = layer(x, mask)
        x = self.norm(x)
        return (x, weights) if need_weights else x

    def forward_cached(
        self,
        x: torch.Tensor,
        padding_mask: torch.Tensor | None,
        positions: torch.Tensor | None,
        cache: KVCache,
    ) -> torch.Tensor:
        """``s`` new positions ``x (b, s, d)`` after the ``cache.length`` kept ones: their outputs ``(b, s,
        d)``; their keys and values join the cache. ``padding_mask (b, s)``: which new positions are real
        (left-padded prompts); ``positions``: default ``length .. length+s-1``."""
        if not self.causal:
            raise ValueError("a KV cache needs a causal encoder: a bidirectional one rereads every position")
        s = x.shape[1]
        if positions is None:
            positions = torch.arange(cache.length, cache.length + s, device=x.device)
        cache.start(padding_mask, s)
        mask = cached_attention_mask(cache, s, self.attention_bias, x.dtype)
        for depth, i in enumerate(self.order):  # one cache slot per depth (a shared layer has several)
            x = self.layers[i](x, mask, positions=positions, cache=cache.layer(depth))
        cache.advance(s)
        return self.norm(x)

    def new_cache(
        self, batch_size: int, max_len: int, *, dtype: torch.dtype = torch.float32, device=None
    ) -> KVCache:
        """An empty cache for ``batch_size`` rows of at most ``max_len`` positions."""
        return KVCache.for_layers(
            len(self.order), self.layers[0].attention, batch_size, max_len, dtype=dtype, device=device
        )


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
    causal: bool = False,
    activation: str = "gelu",
    unique_layers: int | None = None,
) -> TransformerEncoder:
    """An encoder of identical layers (the one-line builder used by models). ``rope`` (one
    :class:`~scratchlm.modules.rotary.RotaryEmbedding`, shared: it holds only a cache) goes into every
    attention module; ``attention_bias`` (ALiBi or T5) into the encoder; ``norm_position``: ``pre``
    (:class:`TransformerEncoderLayer` + a final LayerNorm) or ``post`` (:class:`PostNormEncoderLayer`);
    ``activation``: the feed-forward block's (``gelu``, ``gelu_tanh``); ``unique_layers``: build only that
    many layers and share them across depth, layer ``i`` running ``i * unique_layers // num_layers``
    (ALBERT's layer groups; ``None``: ``num_layers`` layers of their own)."""
    if norm_position not in NORM_POSITIONS:
        raise ValueError(f"unknown norm_position {norm_position!r}; use one of {', '.join(NORM_POSITIONS)}")
    layer_cls = NORM_POSITIONS[norm_position]
    unique = num_layers if unique_layers is None else unique_layers
    layers = [
        layer_cls(
            MultiHeadSelfAttention(embed_dim, num_heads, dropout=attention_dropout, pos_embeddings=rope),
            FeedForward(embed_dim, ffn_dim, dropout=dropout, activation=activation),
            embed_dim,
            dropout=dropout,
            norm_eps=norm_eps,
        )
        for _ in range(unique)
    ]
    return TransformerEncoder(
        layers,
        embed_dim,
        norm_eps,
        attention_bias=attention_bias,
        final_norm=norm_position == "pre",
        causal=causal,
        order=[i * unique // num_layers for i in range(num_layers)] if unique_layers is not None else None,
    )
