"""The ``model.patches`` section: how an image becomes a sequence of vectors (``data.task:
image_classification``; docs/images.md). Text tasks ignore it."""

from __future__ import annotations

from dataclasses import dataclass

from scratchlm.config.checks import check_choice, check_positive


@dataclass
class PatchConfig:
    """``model.patches``: the patch embedding of a Vision Transformer and its ``[CLS]`` token."""

    size: int = 2
    """Patch side in pixels: an ``H x W`` image becomes ``(H / size) * (W / size)`` patch vectors;
    ``data.image_size`` must be a multiple of it."""
    embedding: str = "conv"
    """How each patch becomes a vector: ``conv`` (a strided convolution, as timm) or ``unfold`` (cut the
    patches out, flatten each and project it with a linear map, as the ViT paper writes it). The same
    weights and the same numbers either way; a run trained with one loads with the other."""
    cls_token: bool = True
    """Put a learned ``[CLS]`` vector before the patches (``model.pooling: cls`` reads its output);
    ``false``: patches only (pool with ``mean``, ``max`` or ``mean_max``)."""

    def __post_init__(self) -> None:
        check_positive("model.patches.size", self.size)
        check_choice("model.patches.embedding", self.embedding, ("conv", "unfold"))
