"""Keras-style model summary: layer, output shape, parameters, totals (from a real forward pass)."""

from __future__ import annotations

import torch
from torch import nn


def summarize(model: nn.Module, example_ids: torch.Tensor, *, max_depth: int = 3) -> str:
    rows: list[tuple[str, str, int]] = []
    hooks = []
    names = {m: n for n, m in model.named_modules()}

    def hook(module, _inputs, output):
        name = names.get(module, "")
        depth = name.count(".") + 1 if name else 0
        if depth > max_depth:
            return
        shape = tuple(output.shape) if torch.is_tensor(output) else "-"
        own = sum(p.numel() for p in module.parameters(recurse=False))
        total = sum(p.numel() for p in module.parameters())
        rows.append((("  " * max(0, depth - 1)) + (name or type(module).__name__) + f" ({type(module).__name__})",
                     str(shape), total if depth == max_depth or not list(module.children()) else own))

    for module in model.modules():
        if module is not model:
            hooks.append(module.register_forward_hook(hook))
    was_training = model.training
    model.eval()
    with torch.no_grad():
        out = model(example_ids)
    model.train(was_training)
    for h in hooks:
        h.remove()
    order = {n: i for i, n in enumerate(names.values())}
    rows.sort(key=lambda r: order.get(r[0].strip().split(" (")[0], 0))
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    w1 = max(len(r[0]) for r in rows) + 2
    w2 = max(14, max(len(r[1]) for r in rows) + 2)
    line = "-" * (w1 + w2 + 14)
    lines = [line, f"{'Layer (type)':<{w1}}{'Output shape':<{w2}}{'Param #':>14}", "=" * len(line)]
    lines += [f"{name:<{w1}}{shape:<{w2}}{params:>14,}" for name, shape, params in rows]
    lines += ["=" * len(line), f"Total params: {total:,}", f"Trainable params: {trainable:,}",
              f"Non-trainable params: {total - trainable:,}",
              f"Output: {tuple(out.shape)} for input {tuple(example_ids.shape)}", line]
    return "\n".join(lines)
