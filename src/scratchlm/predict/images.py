"""Batched prediction of an image classifier: standardised pixels in, logits and labelled results out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch


@torch.no_grad()
def image_logits(
    model: torch.nn.Module, pixels: Sequence[torch.Tensor], batch_size: int = 128, device: str = "cpu"
) -> torch.Tensor:
    """``(n, C)`` float32 logits on the CPU, in input order, for ``(c, H, W)`` images (eval mode, restored
    after)."""
    was = model.training
    model.eval()
    try:
        rows = [
            model(torch.stack(list(pixels[i : i + batch_size])).to(device)).float().cpu()
            for i in range(0, len(pixels), batch_size)
        ]
    finally:
        model.train(was)
    return torch.cat(rows) if rows else torch.zeros(0, 0)


def labelled(logits: torch.Tensor, labels: list[str]) -> list[dict[str, Any]]:
    """One result per row: ``label``, ``score`` (its probability), ``probabilities`` by label, ``logits``."""
    probs = logits.softmax(-1)
    out = []
    for lg, pr in zip(logits.tolist(), probs.tolist(), strict=True):
        best = max(range(len(pr)), key=pr.__getitem__)
        out.append(
            {
                "label": labels[best],
                "score": round(pr[best], 6),
                "probabilities": {label: round(p, 6) for label, p in zip(labels, pr, strict=True)},
                "logits": [round(v, 6) for v in lg],
            }
        )
    return out
