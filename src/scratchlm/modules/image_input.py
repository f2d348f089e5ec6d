"""The input layer of a Vision Transformer: patch vectors, their 2-D positions, an optional ``[CLS]``.

``pixels (b, c, H, W) -> (b, [1 +] s, d)``, ``s = (H / p) * (W / p)`` patches::

    x = PatchEmbedding(pixels)       # (b, s, d): the image's "token embedding"
    x = x + P_2d(gh, gw)             # an absolute 2-D positional module, if any
    x = [cls; x]                     # ClassToken, if any (no position of its own)
    x = Dropout(Norm(x))             # Norm: LayerNorm, RMSNorm or none

It is the image counterpart of :class:`~scratchlm.modules.input_layer.InputLayer`: what comes after it
(the Transformer encoder, pooling, the head) is the text classifier's, unchanged. Parts are passed in.
Position information inside attention (``rope_2d``) is not here: the encoder's attention holds it.
"""

from __future__ import annotations

import torch
from torch import nn


class ImageInputLayer(nn.Module):
    def __init__(
        self,
        patch_embedding: nn.Module,
        positional: nn.Module | None = None,
        *,
        class_token: nn.Module | None = None,
        norm: nn.Module | None = None,
        dropout: float = 0.0,
    ):
        super().__init__()
        self.patch_embedding = patch_embedding
        self.positional = positional
        self.class_token = class_token
        self.norm = norm if norm is not None else nn.Identity()
        self.dropout = nn.Dropout(dropout)

    @property
    def num_prefix_tokens(self) -> int:
        """Positions before the patches (1 with a ``[CLS]``)."""
        return 0 if self.class_token is None else 1

    def grid(self, pixels: torch.Tensor) -> tuple[int, int]:
        """``(gh, gw)`` patches of these images."""
        return self.patch_embedding.grid(pixels.shape[-2], pixels.shape[-1])

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        x = self.patch_embedding(pixels)  # (b, s, d)
        if self.positional is not None:
            x = self.positional(x, self.grid(pixels))  # (b, s, d) + (s, d)
        if self.class_token is not None:
            x = self.class_token(x)  # (b, 1 + s, d)
        return self.dropout(self.norm(x))
