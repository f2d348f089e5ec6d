"""The ``[CLS]`` token of a ViT: one learned vector put before the patch vectors, whose output the
classifier reads (Dosovitskiy et al. 2021, §3.1, eq. 1; BERT's ``[CLS]`` carried over to images).

Shapes: ``x (b, s, d) -> (b, 1 + s, d)``. It is a parameter, not a row of a token table: an image has
no vocabulary. It is added after the patches' positions, so it carries no position of its own (as
timm's ViT with ``no_embed_class=True``); 2-D rotary attention leaves it unrotated. Initialised
normal(0, 1e-6) as in timm.
"""

from __future__ import annotations

import torch
from torch import nn


class ClassToken(nn.Module):
    """``x (b, s, d) -> [cls; x] (b, 1 + s, d)``."""

    def __init__(self, embed_dim: int, init_std: float = 1e-6):
        super().__init__()
        self.token = nn.Parameter(torch.randn(1, 1, embed_dim) * init_std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat((self.token.expand(x.shape[0], -1, -1).to(x.dtype), x), dim=1)
