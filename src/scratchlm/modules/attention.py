"""Multi-head self-attention through ``torch.nn.functional.scaled_dot_product_attention``.

Shapes: ``b`` batch, ``s`` sequence, ``d`` model dim, ``h`` heads, ``hd = d / h`` head dim.
The padding mask is boolean ``(b, s)``, True at real tokens; padded keys get no attention weight.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class MultiHeadSelfAttention(nn.Module):
    def __init__(self, embed_dim: int, num_heads: int, *, dropout: float = 0.0, bias: bool = True):
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim {embed_dim} is not divisible by num_heads {num_heads}")
        self.num_heads = num_heads
        self.head_dim = embed_dim // num_heads
        self.qkv = nn.Linear(embed_dim, 3 * embed_dim, bias=bias)
        self.out = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.dropout = dropout

    def forward(self, x: torch.Tensor, padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        b, s, d = x.shape
        q, k, v = self.qkv(x).view(b, s, 3, self.num_heads, self.head_dim).unbind(2)  # 3 x (b, s, h, hd)
        q, k, v = (t.transpose(1, 2) for t in (q, k, v))  # (b, h, s, hd)
        mask = None if padding_mask is None else padding_mask[:, None, None, :]  # (b, 1, 1, s)
        y = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, dropout_p=self.dropout if self.training else 0.0
        )  # (b, h, s, hd)
        y = y.transpose(1, 2).reshape(b, s, d)  # (b, s, d)
        return self.out(y)

    @torch.no_grad()
    def attention_weights(self, x: torch.Tensor, padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        """The softmax weights ``(b, h, s, s)`` (for plots; SDPA does not return them)."""
        b, s, _ = x.shape
        q, k, _v = self.qkv(x).view(b, s, 3, self.num_heads, self.head_dim).unbind(2)
        scores = torch.einsum("bqhd,bkhd->bhqk", q, k) / self.head_dim**0.5
        if padding_mask is not None:
            scores = scores.masked_fill(~padding_mask[:, None, None, :], float("-inf"))
        return scores.softmax(-1)
