"""Relative position as an additive attention bias: ALiBi and T5's bucketed bias.

Shapes: ``h`` heads, ``s`` sequence (queries ``i``, keys ``j``). Each module maps a sequence length to
a bias ``(h, s, s)`` that is added to the attention scores ``q_i . k_j / sqrt(hd)`` before the softmax.
:class:`~scratchlm.modules.transformer.TransformerEncoder` computes it once per forward pass, adds the
padding mask (``-inf`` at padded keys, :func:`~scratchlm.modules.attention.additive_attention_mask`)
and gives the float mask to every layer's ``scaled_dot_product_attention``. Nothing is added to the
token vectors.

- :class:`ALiBiBias` — Press et al. 2022, "Train Short, Test Long: Attention with Linear Biases Enables
  Input Length Extrapolation" (https://arxiv.org/abs/2108.12409): ``bias[h, i, j] = -m_h * |i - j|``.
  The paper's model is causal (``j <= i``, bias ``-m_h (i - j)``); an encoder sees both sides, so the
  distance is symmetric, as in MosaicBERT. Slopes ``m_h``: for ``n`` a power of two the geometric
  sequence starting at and with ratio ``2^(-8/n)`` (8 heads: 1/2, 1/4, ..., 1/256); otherwise the
  slopes of the closest smaller power of two ``p``, followed by every other slope of ``2p`` heads
  (:func:`alibi_slopes`, the paper's reference code). No parameters; the bias is a formula, so it
  extrapolates to any length.
- :class:`T5RelativePositionBias` — Raffel et al. 2020, "Exploring the Limits of Transfer Learning
  with a Unified Text-to-Text Transformer", §2.1 (https://arxiv.org/abs/1910.10683): one learned
  scalar per head and *bucket* of the offset ``j - i``. Bidirectional: half the buckets for each
  sign; of those, offsets below ``num_buckets / 4`` get a bucket each, larger ones share buckets
  whose width grows logarithmically up to ``max_distance``; every farther offset falls in the last
  bucket (:func:`t5_relative_position_bucket`, checked against HF ``T5Attention._relative_position_bucket``).
  Longer inputs only add offsets past ``max_distance``, which reuse the last bucket: it extrapolates.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def alibi_slopes(num_heads: int) -> list[float]:
    """The per-head slopes of ALiBi, exactly as the paper's reference implementation."""

    def power_of_2(n: int) -> list[float]:
        start = 2 ** (-(2 ** -(math.log2(n) - 3)))  # = 2^(-8/n)
        return [start * start**i for i in range(n)]

    if math.log2(num_heads).is_integer():
        return power_of_2(num_heads)
    closest = 2 ** math.floor(math.log2(num_heads))
    return power_of_2(closest) + alibi_slopes(2 * closest)[0::2][: num_heads - closest]


def relative_positions(seq_len: int, device: torch.device | None = None) -> torch.Tensor:
    """``rel[i, j] = j - i`` (key position minus query position): ``(s, s)``."""
    pos = torch.arange(seq_len, device=device)
    return pos[None, :] - pos[:, None]


class RelativeBias(nn.Module):
    """A bias that depends on the offset ``j - i`` only: ``forward(seq_len)`` is the square ``(h, s, s)``
    of one whole sequence, :meth:`between` the rectangle of some query and key positions (incremental
    decoding: the new queries against every cached key)."""

    def forward(self, seq_len: int) -> torch.Tensor:
        pos = torch.arange(seq_len, device=self._device())
        return self.between(pos, pos)  # (h, s, s)

    def between(self, query_pos: torch.Tensor, key_pos: torch.Tensor) -> torch.Tensor:
        """``query_pos (sq,), key_pos (sk,)`` -> ``(h, sq, sk)``."""
        return self.bias(key_pos[None, :] - query_pos[:, None])

    def bias(self, rel: torch.Tensor) -> torch.Tensor:
        """``rel (sq, sk)`` offsets ``j - i`` -> ``(h, sq, sk)``."""
        raise NotImplementedError

    def _device(self) -> torch.device:
        raise NotImplementedError


class ALiBiBias(RelativeBias):
    """``seq_len -> bias (h, s, s)`` with ``bias[h, i, j] = -m_h |i - j|``."""

    def __init__(self, num_heads: int):
        super().__init__()
        self.num_heads = num_heads
        self.register_buffer("slopes", torch.tensor(alibi_slopes(num_heads)), persistent=False)  # (h,)

    def bias(self, rel: torch.Tensor) -> torch.Tensor:
        return -self.slopes[:, None, None] * rel.abs().float()  # (h, sq, sk)

    def _device(self) -> torch.device:
        return self.slopes.device

    def extra_repr(self) -> str:
        return f"num_heads={self.num_heads}"


def t5_relative_position_bucket(
    relative_position: torch.Tensor, num_buckets: int = 32, max_distance: int = 128
) -> torch.Tensor:
    """Bidirectional T5 bucket of each offset ``j - i``: integers in ``[0, num_buckets)``."""
    num_buckets //= 2
    buckets = (relative_position > 0).long() * num_buckets  # positive offsets use the upper half
    distance = relative_position.abs()
    max_exact = num_buckets // 2
    is_small = distance < max_exact
    # the other half: log-spaced buckets from max_exact up to max_distance (clamp avoids log(0))
    log_ratio = torch.log(distance.float().clamp_min(1) / max_exact) / math.log(max_distance / max_exact)
    large = max_exact + (log_ratio * (num_buckets - max_exact)).long()
    large = large.clamp_max(num_buckets - 1)
    return buckets + torch.where(is_small, distance, large)


class T5RelativePositionBias(RelativeBias):
    """``seq_len -> bias (h, s, s)``: a learned ``(num_buckets, h)`` table looked up by offset bucket."""

    def __init__(
        self, num_heads: int, *, num_buckets: int = 32, max_distance: int = 128, init_std: float = 0.02
    ):
        super().__init__()
        if num_buckets < 4 or max_distance <= num_buckets // 4:
            raise ValueError(
                f"T5 bias needs num_buckets >= 4 and max_distance > num_buckets // 4, "
                f"got {num_buckets} and {max_distance}"
            )
        self.num_heads = num_heads
        self.num_buckets = num_buckets
        self.max_distance = max_distance
        self.weight = nn.Parameter(torch.empty(num_buckets, num_heads))
        nn.init.normal_(self.weight, std=init_std)

    def bias(self, rel: torch.Tensor) -> torch.Tensor:
        buckets = t5_relative_position_bucket(rel, self.num_buckets, self.max_distance)  # (sq, sk)
        return self.weight[buckets].permute(2, 0, 1)  # (sq, sk, h) -> (h, sq, sk)

    def _device(self) -> torch.device:
        return self.weight.device

    def extra_repr(self) -> str:
        return f"num_heads={self.num_heads}, num_buckets={self.num_buckets}, max_distance={self.max_distance}"
