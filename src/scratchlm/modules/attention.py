"""Multi-head self-attention through ``torch.nn.functional.scaled_dot_product_attention``.

Shapes: ``b`` batch, ``s`` sequence, ``d`` model dim, ``h`` heads, ``hd = d / h`` head dim.

The ``mask`` argument is what SDPA's ``attn_mask`` accepts, in one of two forms:

- a boolean padding mask ``(b, s)``, True at real tokens: padded keys get no attention weight;
- a float additive mask ``(b, h, s, s)`` (or broadcastable to it): added to the scaled scores, ``-inf``
  at keys not attended. Relative-position biases (ALiBi, T5) arrive this way, already combined with
  the padding mask by :func:`additive_attention_mask`.

Rotary position embedding is a part passed in (``pos_embeddings``), applied to queries and keys after
the projection, as in torchtune's ``MultiHeadAttention(pos_embeddings=...)``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def additive_attention_mask(
    padding_mask: torch.Tensor | None, bias: torch.Tensor, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """``bias (h, s, s)`` plus ``-inf`` at padded keys: a float mask ``(b, h, s, s)`` (``(1, h, s, s)``
    without a padding mask)."""
    mask = bias.to(dtype).unsqueeze(0)  # (1, h, s, s)
    if padding_mask is not None:
        mask = mask.masked_fill(~padding_mask[:, None, None, :], float("-inf"))  # (b, h, s, s)
    return mask


def _sdpa_mask(mask: torch.Tensor | None, dtype: torch.dtype) -> torch.Tensor | None:
    if mask is None:
        return None
    if mask.dtype == torch.bool:
        return mask[:, None, None, :] if mask.dim() == 2 else mask  # (b, 1, 1, s)
    return mask.to(dtype)


class MultiHeadSelfAttention(nn.Module):
    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        *,
        dropout: float = 0.0,
        bias: bool = True,
        pos_embeddings: nn.Module | None = None,
    ):
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim {embed_dim} is not divisible by num_heads {num_heads}")
        self.num_heads = num_heads
        self.head_dim = embed_dim // num_heads
        self.qkv = nn.Linear(embed_dim, 3 * embed_dim, bias=bias)
        self.out = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.dropout = dropout
        self.pos_embeddings = pos_embeddings

    def _qkv(
        self, x: torch.Tensor, positions: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        b, s, _ = x.shape
        q, k, v = self.qkv(x).view(b, s, 3, self.num_heads, self.head_dim).unbind(2)  # 3 x (b, s, h, hd)
        q, k, v = (t.transpose(1, 2) for t in (q, k, v))  # (b, h, s, hd)
        if self.pos_embeddings is not None:
            q, k = self.pos_embeddings(q, positions), self.pos_embeddings(k, positions)  # rotated
        return q, k, v

    def forward(
        self,
        x: torch.Tensor,
        mask: torch.Tensor | None = None,
        *,
        need_weights: bool = False,
        positions: torch.Tensor | None = None,
        cache=None,
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """``x (b, s, d) -> (b, s, d)``. ``need_weights=True`` takes the explicit path: the softmax
        weights are computed as a tensor (which SDPA never materialises) and ``(output, weights (b, h,
        s, s))`` is returned; the output equals SDPA's (the tests check it for every mask kind).
        ``positions (s,)`` or ``(b, s)``: where the rotary embedding puts each vector (default ``0 ..
        s-1``); ``cache`` (a :class:`~scratchlm.modules.kv_cache.LayerCache`): the new keys and values are
        kept, and the queries attend to every key kept so far (``mask (b, 1|h, s, T)``)."""
        b, s, d = x.shape
        q, k, v = self._qkv(x, positions)
        if cache is not None:
            k, v = cache.update(k, v)  # (b, h, T, hd): the kept positions and these
        if need_weights:
            weights = self._softmax_weights(q, k, mask)  # (b, h, s, s)
            p = F.dropout(weights, self.dropout, self.training)
            y = p @ v  # (b, h, s, hd)
        else:
            y = F.scaled_dot_product_attention(
                q, k, v, attn_mask=_sdpa_mask(mask, q.dtype), dropout_p=self.dropout if self.training else 0.0
            )  # (b, h, s, hd)
        y = self.out(y.transpose(1, 2).reshape(b, s, d))  # (b, s, d)
        return (y, weights) if need_weights else y

    def _softmax_weights(self, q: torch.Tensor, k: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """``softmax(q k^T / sqrt(hd) + mask)``: what SDPA computes inside, ``(b, h, s, T)``."""
        scores = q @ k.transpose(-1, -2) / self.head_dim**0.5  # (b, h, s, T)
        m = _sdpa_mask(mask, scores.dtype)
        if m is not None:
            scores = scores.masked_fill(~m, float("-inf")) if m.dtype == torch.bool else scores + m
        return scores.softmax(-1)

    @torch.no_grad()
    def attention_weights(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """The softmax weights ``(b, h, s, s)`` alone (for plots; SDPA does not return them)."""
        return self(x, mask, need_weights=True)[1]
