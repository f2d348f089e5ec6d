"""Patch embedding: an image cut into non-overlapping ``p x p`` patches, each patch one vector (the
"token embedding" of an image; Dosovitskiy et al. 2021, "An Image is Worth 16x16 Words", §3.1,
https://arxiv.org/abs/2010.11929).

Shapes: ``b`` batch, ``c`` channels, ``H x W`` pixels, ``p`` patch size, ``gh = H / p`` rows and
``gw = W / p`` columns of patches, ``s = gh * gw`` patches in row-major order (patch ``(r, c)`` at
``r * gw + c``), ``d`` model dim.

One weight ``(d, c, p, p)`` and one bias ``(d,)``, computed two ways that give the same numbers:

- ``conv``: ``Conv2d(c, d, kernel_size=p, stride=p)``, the way ViT implementations write it (timm's
  ``PatchEmbed``);
- ``unfold``: ``F.unfold`` cuts the image into ``(b, c*p*p, s)`` columns (channel slowest, then the
  patch's rows, then its columns: exactly the order of the weight's flattened ``(c, p, p)``), and a
  linear map ``(c*p*p) -> d`` projects each: the paper's "flatten and project" written out.

The state dict is the same for both, so a run trained with one loads with the other.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

PATCH_EMBEDDINGS = ("conv", "unfold")


class PatchEmbedding(nn.Module):
    """``pixels (b, c, H, W) -> (b, s, d)``; :meth:`grid` gives ``(gh, gw)`` for an image size."""

    def __init__(self, channels: int, embed_dim: int, patch_size: int, *, kind: str = "conv"):
        super().__init__()
        if kind not in PATCH_EMBEDDINGS:
            raise ValueError(f"unknown patch embedding {kind!r}; use one of {', '.join(PATCH_EMBEDDINGS)}")
        self.channels, self.embed_dim, self.patch_size, self.kind = channels, embed_dim, patch_size, kind
        self.weight = nn.Parameter(torch.empty(embed_dim, channels, patch_size, patch_size))
        self.bias = nn.Parameter(torch.zeros(embed_dim))
        # as MAE and timm: Xavier-uniform on the flattened (d, c*p*p) matrix, as for a Linear layer
        fan_in, fan_out = channels * patch_size * patch_size, embed_dim
        bound = math.sqrt(6.0 / (fan_in + fan_out))
        nn.init.uniform_(self.weight, -bound, bound)

    def grid(self, height: int, width: int) -> tuple[int, int]:
        """``(gh, gw)`` patches for an ``H x W`` image; an error when a side is not a multiple of ``p``."""
        p = self.patch_size
        if height % p or width % p:
            raise ValueError(
                f"an image of {height}x{width} pixels cannot be cut into {p}x{p} patches (each side must be "
                f"a multiple of {p})"
            )
        return height // p, width // p

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        if pixels.dim() != 4 or pixels.shape[1] != self.channels:
            raise ValueError(f"expected pixels (b, {self.channels}, H, W), got {tuple(pixels.shape)}")
        self.grid(pixels.shape[-2], pixels.shape[-1])
        p = self.patch_size
        if self.kind == "conv":
            x = F.conv2d(pixels, self.weight, self.bias, stride=p)  # (b, d, gh, gw)
            return x.flatten(2).transpose(1, 2)  # (b, s, d)
        cols = F.unfold(pixels, kernel_size=p, stride=p)  # (b, c*p*p, s)
        return cols.transpose(1, 2) @ self.weight.flatten(1).t() + self.bias  # (b, s, c*p*p) @ (c*p*p, d)

    def extra_repr(self) -> str:
        return f"channels={self.channels}, embed_dim={self.embed_dim}, patch_size={self.patch_size}, kind={self.kind}"
