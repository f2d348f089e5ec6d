"""Vision Transformer classifier (Dosovitskiy et al. 2021, https://arxiv.org/abs/2010.11929): the image
input layer -> the *same* Transformer encoder, pooling and head as :class:`~scratchlm.models.classifier.TextClassifier`.

``pixels (b, c, H, W) -> logits (b, C)``. Only the input layer differs from the text classifier: patches
instead of token ids, 2-D positions instead of 1-D ones (``model.positional.kind``: ``none``, ``learned``,
``sinusoidal_2d``, ``learned_2d``, or ``rope_2d`` inside attention). The encoder is built by the same
:func:`scratchlm.models.components.encoder` from the same ``model.encoder`` section.
"""

from __future__ import annotations

import torch
from torch import nn

from scratchlm.config import ModelConfig
from scratchlm.models import components
from scratchlm.models.classifier import init_linear_
from scratchlm.modules import ClassificationHead
from scratchlm.modules.class_token import ClassToken
from scratchlm.modules.heads import POOLED_WIDTH, POOLING
from scratchlm.modules.image_input import ImageInputLayer
from scratchlm.modules.patches import PatchEmbedding
from scratchlm.modules.positional_2d import POSITIONAL_2D
from scratchlm.modules.rotary_2d import Rotary2DEmbedding


def image_position_parts(
    cfg: ModelConfig, grid: tuple[int, int]
) -> tuple[nn.Module | None, nn.Module | None]:
    """``(absolute, rope)``: the 2-D positional module for the input layer, or the rotary one for attention."""
    kind = cfg.positional.kind
    if kind == "rope_2d":
        head_dim = cfg.embed_dim // cfg.encoder.num_heads
        prefix = 1 if cfg.patches.cls_token else 0
        return None, Rotary2DEmbedding(
            head_dim, grid, base=cfg.positional.rope_base, num_prefix_tokens=prefix
        )
    if kind == "sinusoidal_2d":
        return POSITIONAL_2D[kind](cfg.embed_dim), None
    if kind in POSITIONAL_2D:
        return POSITIONAL_2D[kind](cfg.embed_dim, grid, cfg.init_std), None
    return None, None  # none


class ImageClassifier(nn.Module):
    def __init__(self, cfg: ModelConfig, *, channels: int, image_size: int, num_classes: int):
        super().__init__()
        self.cfg = cfg
        patch = PatchEmbedding(channels, cfg.embed_dim, cfg.patches.size, kind=cfg.patches.embedding)
        grid = patch.grid(image_size, image_size)
        absolute, self.rope = image_position_parts(cfg, grid)
        self.input = ImageInputLayer(
            patch,
            absolute,
            class_token=ClassToken(cfg.embed_dim) if cfg.patches.cls_token else None,
            norm=components.embedding_norm(cfg),
            dropout=cfg.embedding_dropout,
        )
        self.encoder = components.encoder(cfg, components.PositionParts(rope=self.rope))
        self.pool = POOLING[cfg.pooling]
        self.head = ClassificationHead(
            cfg.embed_dim * POOLED_WIDTH[cfg.pooling], num_classes, dropout=cfg.dropout
        )
        init_linear_(self.encoder, cfg.init_std)
        init_linear_(self.head, cfg.init_std)

    def encode(self, pixels: torch.Tensor) -> torch.Tensor:
        """Contextual vectors ``(b, [1 +] s, d)``."""
        if self.rope is not None:
            self.rope.set_grid(*self.input.grid(pixels))
        return self.encoder(self.input(pixels), None)

    def forward(self, pixels: torch.Tensor, padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        """``padding_mask`` is accepted and ignored: every patch is real."""
        return self.head(self.pool(self.encode(pixels), None))  # (b, C)
